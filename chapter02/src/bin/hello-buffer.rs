//! Learning eBPF, chapter 2, “Perf and Ring Buffer Maps” (hello-buffer.py): the kernel sends an
//! event per execve through a perf buffer, and user space prints it. Nothing goes to the trace
//! pipe.

use std::mem::MaybeUninit;

use chapter02::event::Data;
use clap::Parser;
use ebpf_support::{ExecveArgs, Privilege, Run};
use libbpf_rs::skel::SkelBuilder;

ebpf_support::skeleton!(hello_buffer);
use hello_buffer::HelloBufferSkelBuilder;

/// Send an event per execve through a perf buffer (Learning eBPF, chapter 2, “Perf and Ring Buffer Maps”, hello-buffer.py).
///
/// Prints one line per event: `PID UID COMMAND MESSAGE`, e.g. `11654 0 node Hello World`.
#[derive(Parser)]
#[command(name = "hello-buffer")]
struct Args {
    #[command(flatten)]
    execve: ExecveArgs,
}

fn main() -> std::process::ExitCode {
    ebpf_support::main(Privilege::Tracing, |args: Args| {
        let hook = args.execve.attach.resolve()?;

        let mut object = MaybeUninit::uninit();
        let mut open = HelloBufferSkelBuilder::default().open(&mut object)?;
        ebpf_support::choose_execve_program(hook, &mut open.progs.hello, &mut open.progs.hello_tp);
        let skel = ebpf_support::load(open, &args.execve.run)?;
        let _link = ebpf_support::attach_execve(hook, &skel.progs.hello, &skel.progs.hello_tp)?;
        eprintln!("hello-buffer: attached ({hook}); reading the perf buffer, Ctrl-C to stop");

        let run = Run::new(&args.execve.run);
        let _trigger = args.execve.trigger.start();
        ebpf_support::read_perf_buffer(&skel.maps.output, &run, |bytes| {
            if let Some(event) = Data::from_bytes(bytes) {
                println!("{event}");
            }
        })
    })
}
