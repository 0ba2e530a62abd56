//! Exercise 4.2 (Learning eBPF, chapter 4, “Exercises”): chapter04's hello-buffer-config, as it
//! is. The exercise is to run two of it, so that two maps are called `config`, watch
//! `bpftool map dump name config` under strace (see README.md), and write your findings in
//! answer.txt.

use std::mem::MaybeUninit;

use anyhow::Context;
use chapter04::ConfigArgs;
use clap::Parser;
use ebpf_support::needs::Hook;
use ebpf_support::{Run, c_string};
use libbpf_rs::skel::{OpenSkel, SkelBuilder};
use libbpf_rs::{MapCore, MapFlags, PerfBufferBuilder};

ebpf_support::skeleton!(hello_buffer_config);
ebpf_support::skeleton!(hello_buffer_config_types);
use hello_buffer_config::HelloBufferConfigSkelBuilder;
use hello_buffer_config_types::types::{data_t, user_msg_t};

unsafe impl plain::Plain for data_t {}
unsafe impl plain::Plain for user_msg_t {}

/// Send an event per execve, with a message configured per user ID (Learning eBPF, chapter 4, “The bpf() System Call”, hello-buffer-config.py).
///
/// Prints one line per event: `PID UID COMMAND MESSAGE`, e.g. `37929 0 sudo Hey root!`, or
/// `37933 1 sudo Hello World` for a user with no entry in the config map.
#[derive(Parser)]
#[command(name = "ch04-2-two-configs")]
struct Args {
    #[command(flatten)]
    config: ConfigArgs,
}

fn main() -> std::process::ExitCode {
    ebpf_support::main(&chapter04::HELLO_BUFFER_CONFIG, |args: Args| {
        let execve = &args.config.execve;
        // BTF_LOAD, MAP_CREATE (output, config), PROG_LOAD: all in `load()`.
        let mut object = MaybeUninit::uninit();
        let mut open = HelloBufferConfigSkelBuilder::default().open(&mut object)?;
        let hook = ebpf_support::choose_hook(
            &chapter04::HELLO_BUFFER_CONFIG,
            &mut open.progs.hello,
            execve.attach,
        )?;
        let skel = open.load()?;
        // b["config"][ct.c_int(0)] = ct.create_string_buffer(b"Hey root!"): one
        // BPF_MAP_UPDATE_ELEM per entry, key and value as the kernel's bytes.
        for (uid, text) in chapter04::config_entries(&args.config.messages) {
            let mut value = user_msg_t::default();
            for (byte, c) in value.message.iter_mut().zip(text.bytes()) {
                *byte = c as i8;
            }
            skel.maps
                .config
                .update(
                    &uid.to_ne_bytes(),
                    unsafe { plain::as_bytes(&value) },
                    MapFlags::ANY,
                )
                .with_context(|| format!("writing the message for UID {uid}"))?;
        }

        let _link = match hook {
            Hook::Ksyscall(syscall) => skel
                .progs
                .hello
                .attach_ksyscall(false, syscall)
                .context("attaching the kprobe")?,
            stand_in => ebpf_support::attach_to(stand_in, &skel.progs.hello)?,
        };
        eprintln!("ch04-2-two-configs: attached ({hook}); reading the perf buffer, Ctrl-C to stop");

        let run = Run::new(&execve.run);
        let _trigger = execve.trigger.start();
        // b["output"].open_perf_buffer(print_event): libbpf opens a perf event per CPU and
        // stores its fd in the perf event array (one MAP_UPDATE_ELEM each), then polls them.
        let perf = PerfBufferBuilder::new(&skel.maps.output)
            .sample_cb(|_cpu, bytes: &[u8]| {
                let mut data = data_t::default();
                if plain::copy_from_bytes(&mut data, bytes).is_ok() && run.record() {
                    println!(
                        "{} {} {} {}",
                        data.pid,
                        data.uid,
                        c_string(&data.command),
                        c_string(&data.message)
                    );
                }
            })
            .lost_cb(|cpu, lost| eprintln!("lost {lost} events on CPU {cpu}"))
            .build()
            .context("opening the perf buffer")?;
        while !run.finished() {
            perf.poll(run.poll_interval())?;
        }
        Ok(())
    })
}
