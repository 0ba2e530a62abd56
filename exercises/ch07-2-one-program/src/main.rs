//! Exercise 7.2: the book's hello.c loads and attaches every program of hello.bpf.c. Change
//! this loader so that it loads and attaches only one of them, the raw tracepoint program
//! `raw_tp_exec`, without removing the others from hello.bpf.c.

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
    package: "ch07-2-one-program",
    name: "ch07-2-one-program",
    privilege: Privilege::Tracing,
    needs: &[Capability::Btf, Capability::Tracefs],
    hook: Hook::RawTracepoint("sched_process_exec"),
    fallbacks: &[],
    mutants: &[],
};

/// Print `NAME: PID COMMAND PATH` for each exec that a loaded program sees.
#[derive(Parser)]
#[command(name = "ch07-2-one-program")]
struct Args {
    #[command(flatten)]
    run: RunArgs,
}

fn main() -> std::process::ExitCode {
    ebpf_support::main(&EXAMPLE, |args: Args| {
        let mut object = MaybeUninit::uninit();
        // TODO: load only `raw_tp_exec`: between open and load, tell libbpf not to load the
        // other programs (each program of the open object can be told so).
        let open = HelloSkelBuilder::default().open(&mut object)?;
        let mut skel = open.load()?;
        // Attaches every loaded program by its section name (hello_bpf__attach()).
        skel.attach().context("attaching the programs")?;
        let programs = skel.object().progs().count();
        eprintln!(
            "ch07-2-one-program: attached ({programs} programs in the object); Ctrl-C to stop"
        );

        let run = Run::new(&args.run);
        let perf = PerfBufferBuilder::new(&skel.maps.output)
            .sample_cb(|_cpu, bytes: &[u8]| {
                let mut data = data_t::default();
                if plain::copy_from_bytes(&mut data, bytes).is_err() || !run.record() {
                    return;
                }
                let name = ["tp", "tp_btf", "raw_tp"]
                    .get(data.source as usize)
                    .unwrap_or(&"?");
                let (command, path) = (c_string(&data.command), c_string(&data.path));
                println!("{name}: {} {command} {path}", data.pid);
            })
            .build()?;
        while !run.finished() {
            perf.poll(run.poll_interval())?;
        }
        Ok(())
    })
}
