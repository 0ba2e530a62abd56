//! Learning eBPF, chapter 2, “BCC's Hello World” (hello.py): an eBPF program on execve that writes
//! "Hello World" to the trace pipe, and user space that prints the trace pipe.

use std::mem::MaybeUninit;

use anyhow::Context;
use chapter02::ExecveArgs;
use clap::Parser;
use ebpf_support::needs::Hook;
use ebpf_support::{Run, TracePipe};
use libbpf_rs::skel::{OpenSkel, SkelBuilder};

// ANCHOR: skeleton
ebpf_support::skeleton!(hello);
use hello::HelloSkelBuilder;
// ANCHOR_END: skeleton

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
    ebpf_support::main(&chapter02::HELLO, |args: Args| {
        let mut trace_pipe = TracePipe::open()?;

        // ANCHOR: load
        // BPF(text=program): the C was compiled by `cargo build`, and the skeleton embeds it.
        let mut object = MaybeUninit::uninit();
        let mut open = HelloSkelBuilder::default().open(&mut object)?;
        let hook = ebpf_support::choose_hook(
            &chapter02::HELLO,
            &mut open.progs.hello,
            args.execve.attach,
        )?;
        let skel = open.load()?;
        // ANCHOR_END: load

        // ANCHOR: attach
        let _link = match hook {
            // b.attach_kprobe(event=b.get_syscall_fnname("execve"), fn_name="hello")
            Hook::Ksyscall(syscall) => skel
                .progs
                .hello
                .attach_ksyscall(false, syscall)
                .context("attaching the kprobe")?,
            stand_in => ebpf_support::attach_to(stand_in, &skel.progs.hello)?,
        };
        // ANCHOR_END: attach
        eprintln!("hello: attached ({hook}); reading trace_pipe, Ctrl-C to stop");

        // ANCHOR: trace_print
        // b.trace_print()
        let run = Run::new(&args.execve.run);
        let _trigger = args.execve.trigger.start();
        trace_pipe.print_lines(&run)
        // ANCHOR_END: trace_print
    })
}
