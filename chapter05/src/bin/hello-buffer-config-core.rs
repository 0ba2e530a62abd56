//! Learning eBPF, chapter 5, “CO-RE Example” (hello-buffer-config.c): the libbpf version of
//! chapter 4's hello-buffer-config. The kernel side is compiled once, against vmlinux.h, and
//! libbpf relocates it to this kernel's struct layouts as it loads (`--verbose` shows it).

use std::mem::MaybeUninit;

use anyhow::Context;
use chapter05::{ConfigArgs, message_bytes};
use clap::Parser;
use ebpf_support::needs::Hook;
use ebpf_support::{Run, c_string};
use libbpf_rs::skel::{OpenSkel, SkelBuilder};
use libbpf_rs::{MapCore, MapFlags, RingBufferBuilder};

// ANCHOR: skeleton
// hello-buffer-config.skel.h: libbpf-cargo generated it from the compiled object, which it
// embeds, as `bpftool gen skeleton` does.
ebpf_support::skeleton!(hello_buffer_config);
use hello_buffer_config::HelloBufferConfigSkelBuilder;
use hello_buffer_config::types::data_t;
// ANCHOR_END: skeleton

unsafe impl plain::Plain for data_t {}

/// Report each execve with its path and a per-user message from a config map (Learning eBPF, chapter 5, “CO-RE Example”, hello-buffer-config.c).
///
/// Attaches a kprobe to the execve syscall, or the syscalls/sys_enter_execve tracepoint where
/// the kernel has no kprobes, and prints one line per exec: `PID UID COMMAND MESSAGE PATH`,
/// e.g. `52442 0 bash Hey root! /usr/bin/ls`. --verbose shows libbpf's log, with its CO-RE
/// relocations.
#[derive(Parser)]
#[command(name = "hello-buffer-config-core")]
struct Args {
    #[command(flatten)]
    config: ConfigArgs,
}

fn main() -> std::process::ExitCode {
    ebpf_support::main(&chapter05::HELLO_BUFFER_CONFIG_CORE, |args: Args| {
        // ANCHOR: open_and_load
        // hello_buffer_config_bpf__open_and_load(), in two steps: between open and load the
        // program's type can still change (where this kernel has no kprobes), and so could
        // the `.data` global `message` (`open.maps.data_data`).
        let mut object = MaybeUninit::uninit();
        let mut open = HelloBufferConfigSkelBuilder::default().open(&mut object)?;
        let hook = ebpf_support::choose_hook(
            &chapter05::HELLO_BUFFER_CONFIG_CORE,
            &mut open.progs.hello,
            args.config.attach,
        )?;
        // libbpf applies the CO-RE relocations here, against /sys/kernel/btf/vmlinux.
        let skel = open.load()?;
        // ANCHOR_END: open_and_load

        // ANCHOR: config
        // What chapter 4's Python did with b["config"][ct.c_int(0)] = …: one bpf() map update
        // per entry, keyed by UID.
        for (uid, text) in args.config.entries() {
            skel.maps
                .my_config
                .update(&uid.to_ne_bytes(), &message_bytes(&text), MapFlags::ANY)
                .with_context(|| format!("writing the message for UID {uid}"))?;
        }
        // ANCHOR_END: config

        // ANCHOR: attach
        // hello_buffer_config_bpf__attach(): libbpf reads the section name, ksyscall/execve,
        // and finds this architecture's execve function (__x64_sys_execve, __arm64_sys_execve).
        let _link = match hook {
            Hook::Ksyscall(syscall) => skel
                .progs
                .hello
                .attach_ksyscall(false, syscall)
                .context("attaching the kprobe")?,
            stand_in => ebpf_support::attach_to(stand_in, &skel.progs.hello)?,
        };
        // ANCHOR_END: attach
        eprintln!(
            "hello-buffer-config-core: attached ({hook}); reading the ring buffer, Ctrl-C to stop"
        );

        let run = Run::new(&args.config.run);
        let _trigger = args.config.trigger.start();
        // ANCHOR: read
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
        // ANCHOR_END: read
        // hello_buffer_config_bpf__destroy() happens as `skel` goes out of scope.
        Ok(())
    })
}
