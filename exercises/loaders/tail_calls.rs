//! The user-space side of exercise 2.4: loads src/bpf/hello-tail.bpf.c, fills the program
//! array, asks libbpf to attach every program whose SEC() names its hook, and prints the
//! trace pipe. Unlike chapter02's hello-tail, nothing here names the tracepoint: that is
//! the point of the exercise. You don't need to change this file.

use std::mem::MaybeUninit;

use anyhow::{Context, anyhow};
use chapter02::syscalls;
use clap::Parser;
use ebpf_support::{Privilege, Run, RunArgs, TracePipe};
use libbpf_rs::skel::{Skel, SkelBuilder};

ebpf_support::skeleton!(hello_tail);

/// Tail calls on every syscall, attached by section name.
#[derive(Parser)]
struct Args {
    #[command(flatten)]
    run: RunArgs,
}

fn main() -> std::process::ExitCode {
    ebpf_support::main(Privilege::Tracing, |args: Args| {
        let mut trace_pipe = TracePipe::open()?;

        let mut object = MaybeUninit::uninit();
        let mut open = hello_tail::HelloTailSkelBuilder::default().open(&mut object)?;
        let rodata = open
            .maps
            .rodata_data
            .as_deref_mut()
            .ok_or_else(|| anyhow!("no .rodata section"))?;
        rodata.timer_create_nr = libc::SYS_timer_create as i32;
        rodata.timer_delete_nr = libc::SYS_timer_delete as i32;
        let mut skel = ebpf_support::load(open, &args.run)?;
        syscalls::fill_prog_array(skel.object(), &skel.maps.syscall)?;
        // libbpf attaches each program whose SEC() says where; others are left alone.
        skel.attach().context("attaching the eBPF programs")?;
        eprintln!("{}: attached; Ctrl-C to stop", env!("CARGO_BIN_NAME"));

        trace_pipe.print_lines(&Run::new(&args.run))
    })
}
