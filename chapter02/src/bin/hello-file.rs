//! Learning eBPF's repository, chapter 2 (hello-file.py): every openat() on the machine, with the
//! path it opens, through a perf buffer.

use std::mem::MaybeUninit;

use anyhow::Context;
use clap::Parser;
use ebpf_support::{Run, RunArgs, c_string};
use libbpf_rs::PerfBufferBuilder;
use libbpf_rs::skel::{OpenSkel, Skel, SkelBuilder};

ebpf_support::skeleton!(hello_file);
use hello_file::HelloFileSkelBuilder;
use hello_file::types::file_event_t;

unsafe impl plain::Plain for file_event_t {}

/// Report every openat() with its path (Learning eBPF's repository, chapter 2, hello-file.py).
///
/// Attaches to the syscalls/sys_enter_openat tracepoint and prints one line per call:
/// `PID UID COMMAND DFD PATH`, e.g. `4242 0 cat -100 /etc/hostname` (-100 is AT_FDCWD:
/// a relative path starts at the working directory).
#[derive(Parser)]
#[command(name = "hello-file")]
struct Args {
    #[command(flatten)]
    run: RunArgs,
}

fn main() -> std::process::ExitCode {
    ebpf_support::main(&chapter02::HELLO_FILE, |args: Args| {
        ebpf_support::tracefs()?;
        // ANCHOR: attach
        // TRACEPOINT_PROBE attaches by itself; so does a program whose SEC() names its hook.
        let mut object = MaybeUninit::uninit();
        let open = HelloFileSkelBuilder::default().open(&mut object)?;
        let mut skel = open.load()?;
        skel.attach()
            .context("attaching to syscalls/sys_enter_openat")?;
        // ANCHOR_END: attach
        eprintln!("hello-file: attached (tracepoint syscalls/sys_enter_openat); Ctrl-C to stop");

        let run = Run::new(&args.run);
        let perf = PerfBufferBuilder::new(&skel.maps.output)
            .sample_cb(|_cpu, bytes: &[u8]| {
                let mut event = file_event_t::default();
                if plain::copy_from_bytes(&mut event, bytes).is_ok() && run.record() {
                    println!(
                        "{} {} {} {} {}",
                        event.pid,
                        event.uid,
                        c_string(&event.command),
                        event.dfd,
                        c_string(&event.filename)
                    );
                }
            })
            .lost_cb(|cpu, lost| eprintln!("lost {lost} events on CPU {cpu}"))
            .build()
            .context("opening the perf buffer")?;
        while !run.finished() {
            perf.poll(run.poll_interval())?;
        }
        Ok(())
    })
}
