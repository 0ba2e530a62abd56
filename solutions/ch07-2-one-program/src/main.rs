//! Exercise 7.2 (solved): of hello.bpf.c's programs, only the raw tracepoint program
//! `raw_tp_exec` is loaded and attached; the others stay in the object, not loaded.

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
        let mut open = HelloSkelBuilder::default().open(&mut object)?;
        // Between open and load, every program but one is told not to load; the skeleton's
        // attach then skips them too.
        for mut program in open.open_object_mut().progs_mut() {
            let keep = program.name() == "raw_tp_exec";
            program.set_autoload(keep);
        }
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
