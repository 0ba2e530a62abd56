//! Exercise 4 of Learning eBPF's chapter 5: hello-buffer-config (the chapter's example, with its
//! per-user messages). The exercise is in src/bpf/hello-buffer-config.bpf.c.

use std::mem::MaybeUninit;

use anyhow::Context;
use chapter05::{ConfigArgs, message_bytes};
use clap::Parser;
use ebpf_support::{Run, c_string};
use libbpf_rs::skel::{OpenSkel, SkelBuilder};
use libbpf_rs::{MapCore, MapFlags, RingBufferBuilder};

ebpf_support::skeleton!(hello_buffer_config);
use hello_buffer_config::HelloBufferConfigSkelBuilder;
use hello_buffer_config::types::data_t;

unsafe impl plain::Plain for data_t {}

/// hello-buffer-config (Learning eBPF, chapter 5, exercise 4): one line per execve, with a
/// message per user from the my_config map.
#[derive(Parser)]
#[command(name = "ch05-4-other-layout")]
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

        // One entry per user: the UID's four bytes as the key, a user_msg_t as the value.
        for (uid, text) in args.config.entries() {
            skel.maps
                .my_config
                .update(&uid.to_ne_bytes(), &message_bytes(&text), MapFlags::ANY)
                .with_context(|| format!("writing the message for UID {uid}"))?;
        }

        let _link = ebpf_support::attach_to(hook, &skel.progs.hello)?;
        eprintln!("ch05-4-other-layout: attached ({hook}); Ctrl-C to stop");

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
