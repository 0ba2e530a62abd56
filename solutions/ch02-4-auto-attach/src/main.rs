//! Exercise 2.4, solved: chapter02's hello-tail (src/bin/hello-tail.rs), with hello attached by
//! its section name instead of by a call that names the tracepoint.

use std::mem::MaybeUninit;
use std::os::fd::{AsFd, AsRawFd};

use anyhow::{Context, anyhow};
use chapter02::syscalls::{TIMER_SYSCALLS, noisy_syscalls};
use clap::Parser;
use ebpf_support::{Run, RunArgs, TracePipe};
use libbpf_rs::skel::{OpenSkel, Skel, SkelBuilder};
use libbpf_rs::{MapCore, MapFlags};

ebpf_support::skeleton!(hello_tail);
use hello_tail::HelloTailSkelBuilder;

/// Exercise 2.4 of Learning eBPF, chapter 2: hello-tail, attached by its section name.
///
/// Every syscall runs `hello`, which tail-calls `hello_exec` for execve, `hello_timer` for
/// the timer syscalls and `ignore_opcode` for the noisiest ones; other syscalls print
/// "Another syscall: N". Prints the trace pipe.
#[derive(Parser)]
#[command(name = "ch02-4-auto-attach")]
struct Args {
    #[command(flatten)]
    run: RunArgs,
}

fn main() -> std::process::ExitCode {
    ebpf_support::main(&chapter02::HELLO_TAIL, |args: Args| {
        let mut trace_pipe = TracePipe::open()?;

        let mut object = MaybeUninit::uninit();
        let mut open = HelloTailSkelBuilder::default().open(&mut object)?;
        // Syscall numbers differ per architecture: set the constants before the load, and the
        // verifier sees them as fixed values.
        let rodata = open
            .maps
            .rodata_data
            .as_deref_mut()
            .ok_or_else(|| anyhow!("no .rodata section"))?;
        rodata.timer_create_nr = libc::SYS_timer_create as i32;
        rodata.timer_delete_nr = libc::SYS_timer_delete as i32;
        let mut skel = open.load()?;

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

        // No b.attach_raw_tracepoint(): libbpf attaches each program whose section names its
        // hook. The tail-call targets' sections name none, so they stay unattached.
        skel.attach()
            .context("attaching hello by its section name")?;
        eprintln!("ch02-4-auto-attach: attached; reading trace_pipe, Ctrl-C to stop");

        trace_pipe.print_lines(&Run::new(&args.run))
    })
}
