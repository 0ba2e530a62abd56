//! Exercise 5.5: hello-buffer-config with per-user messages, configured through the my_config
//! map from user space, as chapter 4's Python did.

use std::mem::MaybeUninit;

use anyhow::Context;
use chapter05::ConfigArgs;
use clap::Parser;
use ebpf_support::{Run, c_string};
use libbpf_rs::RingBufferBuilder;
use libbpf_rs::skel::{OpenSkel, SkelBuilder};

ebpf_support::skeleton!(hello_buffer_config);
use hello_buffer_config::HelloBufferConfigSkelBuilder;
use hello_buffer_config::types::data_t;

unsafe impl plain::Plain for data_t {}

/// hello-buffer-config (Learning eBPF, chapter 5, exercise 5): one line per execve, with a
/// message per user from the my_config map.
#[derive(Parser)]
#[command(name = "ch05-5-config-map")]
struct Args {
    #[command(flatten)]
    config: ConfigArgs,
}

fn main() -> std::process::ExitCode {
    ebpf_support::main(&chapter05::HELLO_BUFFER_CONFIG_CORE, |args: Args| {
        let mut object = MaybeUninit::uninit();
        let mut open = HelloBufferConfigSkelBuilder::default().open(&mut object)?;
        let hook = ebpf_support::choose_hook(
            &chapter05::HELLO_BUFFER_CONFIG_CORE,
            &mut open.progs.hello,
            args.config.attach,
        )?;
        let skel = open.load()?;

        // TODO: configure the messages. `args.config.entries()` lists them, (UID, text), root's
        // "Hey root!" first, then each --message UID=TEXT. The eBPF program looks the caller's
        // UID up in the my_config map and sends the message it finds there, or "Hello World".
        // Put each entry into that map (skel.maps.my_config) before the program is attached.

        let _link = ebpf_support::attach_to(hook, &skel.progs.hello)?;
        eprintln!("ch05-5-config-map: attached ({hook}); Ctrl-C to stop");

        let run = Run::new(&args.config.run);
        let _trigger = args.config.trigger.start();
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
