//! The user-space side of exercise 2.1: loads src/bpf/hello-buffer.bpf.c, attaches every
//! program by its SEC() name and prints each event as `PID UID COMMAND MESSAGE`.
//! You don't need to change this file: the exercise is in the eBPF program.

use std::mem::MaybeUninit;

use chapter02::event::Data;
use clap::Parser;
use ebpf_support::{Privilege, Run, RunArgs};

ebpf_support::skeleton!(hello_buffer);

/// Print one line per execve event from the exercise's perf buffer.
#[derive(Parser)]
struct Args {
    #[command(flatten)]
    run: RunArgs,
}

fn main() -> std::process::ExitCode {
    ebpf_support::main(Privilege::Tracing, |args: Args| {
        let mut object = MaybeUninit::uninit();
        let builder = hello_buffer::HelloBufferSkelBuilder::default();
        let skel = ebpf_support::load_and_attach(builder, &mut object, &args.run)?;
        eprintln!("{}: attached; Ctrl-C to stop", env!("CARGO_BIN_NAME"));

        let run = Run::new(&args.run);
        ebpf_support::read_perf_buffer(&skel.maps.output, &run, |bytes| {
            if let Some(event) = Data::from_bytes(bytes) {
                println!("{event}");
            }
        })
    })
}
