//! Learning eBPF, chapter 2, “BCC's Hello World” (hello.py): an eBPF program on execve that writes
//! "Hello World" to the trace pipe, and user space that prints the trace pipe.

use std::mem::MaybeUninit;

use clap::Parser;
use ebpf_support::{ExecveArgs, Privilege, Run, TracePipe};
use libbpf_rs::skel::SkelBuilder;

ebpf_support::skeleton!(hello);
use hello::HelloSkelBuilder;

/// Print "Hello World" to the trace pipe on every execve (Learning eBPF, chapter 2, “BCC's Hello World”, hello.py).
///
/// Attaches a kprobe to the execve syscall, or the syscalls/sys_enter_execve tracepoint where
/// the kernel has no kprobes, and prints /sys/kernel/tracing/trace_pipe. Run a command in
/// another terminal (or pass --trigger) to see lines appear.
#[derive(Parser)]
#[command(name = "hello")]
struct Args {
    #[command(flatten)]
    execve: ExecveArgs,
}

fn main() -> std::process::ExitCode {
    ebpf_support::main(Privilege::Tracing, |args: Args| {
        let mut trace_pipe = TracePipe::open()?;
        let hook = args.execve.attach.resolve()?;

        let mut object = MaybeUninit::uninit();
        let mut open = HelloSkelBuilder::default().open(&mut object)?;
        ebpf_support::choose_execve_program(hook, &mut open.progs.hello, &mut open.progs.hello_tp);
        let skel = ebpf_support::load(open, &args.execve.run)?;
        let _link = ebpf_support::attach_execve(hook, &skel.progs.hello, &skel.progs.hello_tp)?;
        eprintln!("hello: attached ({hook}); reading trace_pipe, Ctrl-C to stop");

        let run = Run::new(&args.execve.run);
        let _trigger = args.execve.trigger.start();
        trace_pipe.print_lines(&run)
    })
}
