//! Learning eBPF, chapter 2, “Tail Calls” (hello-tail.py): a raw tracepoint program on every
//! syscall entry that tail-calls a handler chosen by syscall number from a program array.

use std::mem::MaybeUninit;
use std::os::fd::{AsFd, AsRawFd};

use anyhow::{Context, anyhow};
use chapter02::syscalls::{TIMER_SYSCALLS, noisy_syscalls};
use clap::Parser;
use ebpf_support::{Run, RunArgs, TracePipe};
use libbpf_rs::skel::{OpenSkel, SkelBuilder};
use libbpf_rs::{MapCore, MapFlags};

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
    ebpf_support::main(&chapter02::HELLO_TAIL, |args: Args| {
        let mut trace_pipe = TracePipe::open()?;

        let mut object = MaybeUninit::uninit();
        let mut open = HelloTailSkelBuilder::default().open(&mut object)?;
        // ANCHOR: rodata
        // Syscall numbers differ per architecture: set the constants before the load, and the
        // verifier sees them as fixed values.
        let rodata = open
            .maps
            .rodata_data
            .as_deref_mut()
            .ok_or_else(|| anyhow!("no .rodata section"))?;
        rodata.timer_create_nr = libc::SYS_timer_create as i32;
        rodata.timer_delete_nr = libc::SYS_timer_delete as i32;
        // ANCHOR_END: rodata
        let skel = open.load()?;

        // ANCHOR: prog_array
        // prog_array[ct.c_int(59)] = ct.c_int(exec_fn.fd): the program array maps a syscall
        // number to the file descriptor of the program to tail-call.
        let routes = [
            (&skel.progs.hello_exec, vec![libc::SYS_execve]),
            (&skel.progs.hello_timer, TIMER_SYSCALLS.to_vec()),
            (&skel.progs.ignore_opcode, noisy_syscalls()),
        ];
        for (handler, syscalls) in routes {
            let fd = handler.as_fd().as_raw_fd();
            for nr in syscalls {
                skel.maps
                    .syscall
                    .update(&(nr as u32).to_ne_bytes(), &fd.to_ne_bytes(), MapFlags::ANY)
                    .with_context(|| format!("adding a handler for syscall {nr}"))?;
            }
        }
        // ANCHOR_END: prog_array

        // ANCHOR: attach
        // b.attach_raw_tracepoint(tp="sys_enter", fn_name="hello")
        let _link = skel
            .progs
            .hello
            .attach_raw_tracepoint("sys_enter")
            .context("attaching to the sys_enter raw tracepoint")?;
        // ANCHOR_END: attach
        eprintln!(
            "hello-tail: attached to raw tracepoint sys_enter; reading trace_pipe, Ctrl-C to stop"
        );

        trace_pipe.print_lines(&Run::new(&args.run))
    })
}
