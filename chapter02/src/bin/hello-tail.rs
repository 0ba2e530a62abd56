//! Book §2.1, hello-tail.py: a raw tracepoint program on every syscall entry that tail-calls
//! a handler chosen by syscall number from a program array.

use std::mem::MaybeUninit;
use std::os::fd::{AsFd, AsRawFd};

use anyhow::{Context, Result, anyhow};
use chapter02::syscalls;
use clap::Parser;
use ebpf_support::{Privilege, Run, RunArgs, TracePipe};
use libbpf_rs::skel::{Skel, SkelBuilder};
use libbpf_rs::{MapCore, MapFlags};

ebpf_support::skeleton!(hello_tail);
use hello_tail::{HelloTailSkel, HelloTailSkelBuilder};

/// Tail calls from a raw tracepoint on sys_enter (Learning eBPF §2.1, hello-tail.py).
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
    ebpf_support::main(|| {
        let args: Args = ebpf_support::parse_args()?;
        ebpf_support::require(Privilege::Tracing)?;
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
        fill_prog_array(&skel)?;
        let _link = skel
            .progs
            .hello
            .attach()
            .context("attaching to the sys_enter raw tracepoint")?;
        eprintln!(
            "hello-tail: attached to raw tracepoint sys_enter; reading trace_pipe, Ctrl-C to stop"
        );

        trace_pipe.print_lines(&Run::new(&args.run))
    })
}

/// Puts each handler's file descriptor into the `syscall` program array at its syscall
/// numbers: the user-space half of `bpf_tail_call()`.
fn fill_prog_array(skel: &HelloTailSkel) -> Result<()> {
    for route in syscalls::routes() {
        let program = skel
            .object()
            .progs()
            .find(|p| p.name() == route.handler)
            .ok_or_else(|| anyhow!("no program {} in hello-tail.bpf.c", route.handler))?;
        let fd = program.as_fd().as_raw_fd();
        for nr in route.syscalls {
            let key = (nr as u32).to_ne_bytes();
            skel.maps
                .syscall
                .update(&key, &fd.to_ne_bytes(), MapFlags::ANY)
                .with_context(|| format!("adding {} for syscall {nr}", route.handler))?;
        }
    }
    Ok(())
}
