//! Exercise 7.4: chapter 7's tracepoint program on execve, plus a program of your own on
//! another tracepoint (the TODO is in src/bpf/hello.bpf.c). This loader loads every program of
//! hello.bpf.c, attaches each by its section name, and prints one line per event.

use std::mem::MaybeUninit;

use anyhow::Context;
use clap::Parser;
use ebpf_support::needs::{Capability, Example, Hook, Privilege};
use ebpf_support::{Run, RunArgs, c_string};
use libbpf_rs::PerfBufferBuilder;
use libbpf_rs::skel::{OpenSkel, Skel, SkelBuilder};

ebpf_support::skeleton!(hello);
use hello::HelloSkelBuilder;
use hello::types::data_t;

unsafe impl plain::Plain for data_t {}

const EXAMPLE: Example = Example {
    package: "ch07-4-other-tracepoint",
    name: "ch07-4-other-tracepoint",
    privilege: Privilege::Tracing,
    needs: &[Capability::Btf, Capability::Tracefs],
    hook: Hook::Tracepoint("syscalls", "sys_enter_execve"),
    fallbacks: &[],
    mutants: &[],
};

/// Print `execve: PID COMMAND PATH` for every execve, and `exit: PID COMMAND` for the events of
/// your program on another tracepoint.
#[derive(Parser)]
#[command(name = "ch07-4-other-tracepoint")]
struct Args {
    #[command(flatten)]
    run: RunArgs,
}

fn main() -> std::process::ExitCode {
    ebpf_support::main(&EXAMPLE, |args: Args| {
        let mut object = MaybeUninit::uninit();
        let mut skel = HelloSkelBuilder::default().open(&mut object)?.load()?;
        // Every program, attached by its section name (hello_bpf__attach()).
        skel.attach().context("attaching the programs")?;
        let programs = skel.object().progs().count();
        eprintln!("ch07-4-other-tracepoint: attached ({programs} programs); Ctrl-C to stop");

        let run = Run::new(&args.run);
        let perf = PerfBufferBuilder::new(&skel.maps.output)
            .sample_cb(|_cpu, bytes: &[u8]| {
                let mut data = data_t::default();
                if plain::copy_from_bytes(&mut data, bytes).is_err() || !run.record() {
                    return;
                }
                let command = c_string(&data.command);
                match data.source {
                    0 => println!("execve: {} {command} {}", data.pid, c_string(&data.path)),
                    1 => println!("exit: {} {command}", data.pid),
                    other => println!("source {other}: {} {command}", data.pid),
                }
            })
            .build()?;
        while !run.finished() {
            perf.poll(run.poll_interval())?;
        }
        Ok(())
    })
}
