//! Learning eBPF, chapter 4, “Ring Buffers” (hello-ring-buffer-config.py): hello-buffer-config over
//! a BPF ring buffer (5.8+). Under strace: one MAP_CREATE of type RINGBUF, no perf_event_open per
//! CPU, and epoll instead of ppoll.

use std::mem::MaybeUninit;

use anyhow::Context;
use chapter04::ConfigArgs;
use clap::Parser;
use ebpf_support::needs::Hook;
use ebpf_support::{Run, c_string};
use libbpf_rs::skel::{OpenSkel, SkelBuilder};
use libbpf_rs::{MapCore, MapFlags, RingBufferBuilder};

ebpf_support::skeleton!(hello_ring_buffer_config);
ebpf_support::skeleton!(hello_buffer_config_types);
use hello_buffer_config_types::types::{data_t, user_msg_t};
use hello_ring_buffer_config::HelloRingBufferConfigSkelBuilder;

unsafe impl plain::Plain for data_t {}
unsafe impl plain::Plain for user_msg_t {}

/// Send an event per execve through a ring buffer, with a message configured per user ID (Learning eBPF, chapter 4, “Ring Buffers”, hello-ring-buffer-config.py).
///
/// Prints one line per event: `PID UID COMMAND MESSAGE`, e.g. `37929 0 sudo Hey root!`, or
/// `37933 1 sudo Hello World` for a user with no entry in the config map.
#[derive(Parser)]
#[command(name = "hello-ring-buffer-config")]
struct Args {
    #[command(flatten)]
    config: ConfigArgs,
}

fn main() -> std::process::ExitCode {
    ebpf_support::main(&chapter04::HELLO_RING_BUFFER_CONFIG, |args: Args| {
        let execve = &args.config.execve;
        // ANCHOR: load
        // BTF_LOAD, MAP_CREATE (output, config), PROG_LOAD: all in `load()`.
        let mut object = MaybeUninit::uninit();
        let mut open = HelloRingBufferConfigSkelBuilder::default().open(&mut object)?;
        let hook = ebpf_support::choose_hook(
            &chapter04::HELLO_RING_BUFFER_CONFIG,
            &mut open.progs.hello,
            execve.attach,
        )?;
        let skel = open.load()?;
        // ANCHOR_END: load

        // ANCHOR: config
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
        // ANCHOR_END: config

        let _link = match hook {
            Hook::Ksyscall(syscall) => skel
                .progs
                .hello
                .attach_ksyscall(false, syscall)
                .context("attaching the kprobe")?,
            stand_in => ebpf_support::attach_to(stand_in, &skel.progs.hello)?,
        };
        eprintln!(
            "hello-ring-buffer-config: attached ({hook}); reading the ring buffer, Ctrl-C to stop"
        );

        let run = Run::new(&execve.run);
        let _trigger = execve.trigger.start();
        // ANCHOR: read
        // b["output"].open_ring_buffer(print_event), then b.ring_buffer_poll(): libbpf waits
        // on one epoll fd for the one ring, where the perf buffer polls a ring per CPU.
        let mut builder = RingBufferBuilder::new();
        builder.add(&skel.maps.output, |bytes: &[u8]| {
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
            0
        })?;
        let ring = builder.build().context("opening the ring buffer")?;
        while !run.finished() {
            ring.poll(run.poll_interval())?;
        }
        // ANCHOR_END: read
        Ok(())
    })
}
