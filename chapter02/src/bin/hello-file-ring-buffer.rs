//! Learning eBPF's repository, chapter 2 (hello-file-ring-buffer.py): hello-file over a BPF ring
//! buffer.

use std::mem::MaybeUninit;

use anyhow::Context;
use clap::Parser;
use ebpf_support::{Run, RunArgs, c_string};
use libbpf_rs::RingBufferBuilder;
use libbpf_rs::skel::{OpenSkel, Skel, SkelBuilder};

ebpf_support::skeleton!(hello_file_ring_buffer);
use hello_file_ring_buffer::HelloFileRingBufferSkelBuilder;
use hello_file_ring_buffer::types::file_event_t;

unsafe impl plain::Plain for file_event_t {}

/// Report every openat() with its path, through a ring buffer (Learning eBPF's repository, chapter 2, hello-file-ring-buffer.py).
///
/// Prints one line per call: `PID UID COMMAND DFD PATH`, e.g. `4242 0 cat -100 /etc/hostname`.
#[derive(Parser)]
#[command(name = "hello-file-ring-buffer")]
struct Args {
    #[command(flatten)]
    run: RunArgs,
}

fn main() -> std::process::ExitCode {
    ebpf_support::main(&chapter02::HELLO_FILE_RING_BUFFER, |args: Args| {
        ebpf_support::tracefs()?;
        let mut object = MaybeUninit::uninit();
        let open = HelloFileRingBufferSkelBuilder::default().open(&mut object)?;
        let mut skel = open.load()?;
        skel.attach()
            .context("attaching to syscalls/sys_enter_openat")?;
        eprintln!(
            "hello-file-ring-buffer: attached (tracepoint syscalls/sys_enter_openat); Ctrl-C to stop"
        );

        let run = Run::new(&args.run);
        let mut builder = RingBufferBuilder::new();
        builder.add(&skel.maps.output, |bytes: &[u8]| {
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
            0
        })?;
        let ring = builder.build().context("opening the ring buffer")?;
        while !run.finished() {
            ring.poll(run.poll_interval())?;
        }
        Ok(())
    })
}
