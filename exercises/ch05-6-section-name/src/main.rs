//! Exercise 6 of Learning eBPF's chapter 5: hello-buffer-config, attached by libbpf from its
//! section name. Rename the section, and this loader has to do what the name did.

use std::mem::MaybeUninit;

use anyhow::Context;
use clap::Parser;
use ebpf_support::{Run, RunArgs, c_string};
use libbpf_rs::RingBufferBuilder;
use libbpf_rs::skel::{OpenSkel, Skel, SkelBuilder};

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
        let open = HelloBufferConfigSkelBuilder::default().open(&mut object)?;
        // TODO: once the section has a name of your own, libbpf cannot tell from it what type
        // of program `hello` is, and the load fails. Say it here, before load.
        let mut skel = open.load()?;
        // TODO: nor where it goes: attach `hello` to the syscalls/sys_enter_execve tracepoint
        // yourself, in place of this call, and keep the link until the end.
        skel.attach().context("attaching by section name")?;
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
