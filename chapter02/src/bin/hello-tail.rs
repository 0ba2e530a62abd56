//! Learning eBPF, chapter 2, “Tail Calls” (hello-tail.py): a raw tracepoint program on every
//! syscall entry that tail-calls a handler chosen by syscall number from a program array.

use std::mem::MaybeUninit;

use anyhow::{Context, anyhow};
use chapter02::syscalls;
use clap::Parser;
use ebpf_support::{Privilege, Run, RunArgs, TracePipe};
use libbpf_rs::skel::{Skel, SkelBuilder};

ebpf_support::skeleton!(hello_tail);
use hello_tail::HelloTailSkelBuilder;

/// Tail calls from a raw tracepoint on sys_enter (Learning eBPF, chapter 2, “Tail Calls”, hello-tail.py).
///
/// Every syscall runs `hello`, which tail-calls `hello_exec` for execve, `hello_timer` for
/// the timer syscalls and `ignore_opcode` for the noisiest ones; other syscalls print
/// "Another syscall: N". Prints the trace pipe. Syscall numbers come from this
/// architecture's table.
#[derive(Parser)]
#[command(name = "hello-tail")]
struct Args {
    #[command(flatten)]
    run: RunArgs,
}

fn main() -> std::process::ExitCode {
    ebpf_support::main(Privilege::Tracing, |args: Args| {
        let mut trace_pipe = TracePipe::open()?;

        let mut object = MaybeUninit::uninit();
        let mut open = HelloTailSkelBuilder::default().open(&mut object)?;
        let rodata = open
            .maps
            .rodata_data
            .as_deref_mut()
            .ok_or_else(|| anyhow!("no .rodata section"))?;
        rodata.timer_create_nr = libc::SYS_timer_create as i32;
        rodata.timer_delete_nr = libc::SYS_timer_delete as i32;
        let skel = ebpf_support::load(open, &args.run)?;
        syscalls::fill_prog_array(skel.object(), &skel.maps.syscall)?;
        let _link = skel
            .progs
            .hello
            .attach_raw_tracepoint("sys_enter")
            .context("attaching to the sys_enter raw tracepoint")?;
        eprintln!(
            "hello-tail: attached to raw tracepoint sys_enter; reading trace_pipe, Ctrl-C to stop"
        );

        trace_pipe.print_lines(&Run::new(&args.run))
    })
}
