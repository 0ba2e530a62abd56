//! Exercise 2.1: chapter02's hello-buffer (src/bin/hello-buffer.rs) on the
//! syscalls/sys_enter_execve tracepoint. The exercise is in the eBPF program,
//! src/bpf/hello-buffer.bpf.c; this loader stays as it is.

use std::mem::MaybeUninit;

use anyhow::Context;
use clap::Parser;
use ebpf_support::{ExecTrigger, Run, RunArgs, c_string};
use libbpf_rs::skel::{OpenSkel, SkelBuilder};
use libbpf_rs::{PerfBufferBuilder, TracepointCategory};

ebpf_support::skeleton!(hello_buffer);
use hello_buffer::HelloBufferSkelBuilder;
use hello_buffer::types::data_t;

// `data_t` is generated from the C struct; Plain says any bytes of the right size make one.
unsafe impl plain::Plain for data_t {}

/// Exercise 2.1 of Learning eBPF, chapter 2: hello-buffer with different messages for odd and
/// even process IDs.
///
/// Prints one line per execve: `PID UID COMMAND MESSAGE`.
#[derive(Parser)]
#[command(name = "ch02-1-odd-even")]
struct Args {
    #[command(flatten)]
    trigger: ExecTrigger,
    #[command(flatten)]
    run: RunArgs,
}

fn main() -> std::process::ExitCode {
    ebpf_support::main(&chapter02::HELLO_BUFFER, |args: Args| {
        ebpf_support::tracefs()?;
        let mut object = MaybeUninit::uninit();
        let open = HelloBufferSkelBuilder::default().open(&mut object)?;
        let skel = open.load()?;
        let _link = skel
            .progs
            .hello
            .attach_tracepoint(TracepointCategory::Syscalls, "sys_enter_execve")
            .context("attaching to syscalls/sys_enter_execve")?;
        eprintln!(
            "ch02-1-odd-even: attached (tracepoint syscalls/sys_enter_execve); Ctrl-C to stop"
        );

        let run = Run::new(&args.run);
        let _trigger = args.trigger.start();
        let perf = PerfBufferBuilder::new(&skel.maps.output)
            .sample_cb(|_cpu, bytes: &[u8]| {
                let mut data = data_t::default();
                if plain::copy_from_bytes(&mut data, bytes).is_ok() && run.record() {
                    println!(
                        "{} {} {} {}",
                        data.pid,
                        data.uid,
                        c_string(&data.command),
                        c_string(&data.message)
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
