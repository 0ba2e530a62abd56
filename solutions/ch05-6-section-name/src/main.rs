//! Exercise 6 of Learning eBPF's chapter 5 (solved): hello-buffer-config in a section whose
//! name libbpf does not know, so the loader sets the program type and attaches it itself.

use std::mem::MaybeUninit;

use anyhow::Context;
use clap::Parser;
use ebpf_support::{Run, RunArgs, c_string};
use libbpf_rs::skel::{OpenSkel, SkelBuilder};
use libbpf_rs::{ProgramType, RingBufferBuilder, TracepointCategory};

ebpf_support::skeleton!(hello_buffer_config);
use hello_buffer_config::HelloBufferConfigSkelBuilder;
use hello_buffer_config::types::data_t;

unsafe impl plain::Plain for data_t {}

/// hello-buffer-config (Learning eBPF, chapter 5, exercise 6): one line per execve, from the
/// syscalls/sys_enter_execve tracepoint.
#[derive(Parser)]
#[command(name = "ch05-6-section-name")]
struct Args {
    #[command(flatten)]
    trigger: ebpf_support::ExecTrigger,
    #[command(flatten)]
    run: RunArgs,
}

fn main() -> std::process::ExitCode {
    ebpf_support::main(&chapter05::HELLO_BUFFER_CONFIG_CORE, |args: Args| {
        let mut object = MaybeUninit::uninit();
        let mut open = HelloBufferConfigSkelBuilder::default().open(&mut object)?;
        // SEC("hello_execve") names no program type: say it before load.
        open.progs.hello.set_prog_type(ProgramType::Tracepoint);
        let skel = open.load()?;
        // Nor a hook: attach it by hand.
        let _link = skel
            .progs
            .hello
            .attach_tracepoint(
                TracepointCategory::Custom("syscalls".into()),
                "sys_enter_execve",
            )
            .context("attaching to the tracepoint")?;
        eprintln!("ch05-6-section-name: attached; Ctrl-C to stop");

        let run = Run::new(&args.run);
        let _trigger = args.trigger.start();
        let mut builder = RingBufferBuilder::new();
        builder.add(&skel.maps.output, |bytes: &[u8]| {
            let mut data = data_t::default();
            if plain::copy_from_bytes(&mut data, bytes).is_ok() && run.record() {
                println!(
                    "{} {} {} {} {}",
                    data.pid,
                    data.uid,
                    c_string(&data.command),
                    c_string(&data.message),
                    c_string(&data.path)
                );
            }
            0
        })?;
        let ring = builder.build().context("opening the ring buffer")?;
        while !run.finished() {
            ring.poll(run.poll_interval())?;
        }
        Ok(())
    })
}
