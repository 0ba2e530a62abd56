//! Learning eBPF, chapter 2, “Perf and Ring Buffer Maps”: hello-buffer.py over a BPF ring buffer
//! (5.8+), the book's recommended replacement for perf buffers: one buffer for all CPUs, so events
//! arrive in order.

use std::mem::MaybeUninit;

use anyhow::Context;
use chapter02::ExecveArgs;
use clap::Parser;
use ebpf_support::needs::Hook;
use ebpf_support::{Run, c_string};
use libbpf_rs::RingBufferBuilder;
use libbpf_rs::skel::{OpenSkel, SkelBuilder};

ebpf_support::skeleton!(hello_ring_buffer);
use hello_ring_buffer::HelloRingBufferSkelBuilder;
use hello_ring_buffer::types::data_t;

unsafe impl plain::Plain for data_t {}

/// Send an event per execve through a BPF ring buffer (Learning eBPF, chapter 2, “Perf and Ring Buffer Maps”, hello-buffer.py).
///
/// Prints one line per event: `PID UID COMMAND MESSAGE`, e.g. `11654 0 node Hello World`.
#[derive(Parser)]
#[command(name = "hello-ring-buffer")]
struct Args {
    #[command(flatten)]
    execve: ExecveArgs,
}

fn main() -> std::process::ExitCode {
    ebpf_support::main(&chapter02::HELLO_RING_BUFFER, |args: Args| {
        let mut object = MaybeUninit::uninit();
        let mut open = HelloRingBufferSkelBuilder::default().open(&mut object)?;
        let hook = ebpf_support::choose_hook(
            &chapter02::HELLO_RING_BUFFER,
            &mut open.progs.hello,
            args.execve.attach,
        )?;
        let skel = open.load()?;
        let _link = match hook {
            Hook::Ksyscall(syscall) => skel
                .progs
                .hello
                .attach_ksyscall(false, syscall)
                .context("attaching the kprobe")?,
            stand_in => ebpf_support::attach_to(stand_in, &skel.progs.hello)?,
        };
        eprintln!("hello-ring-buffer: attached ({hook}); reading the ring buffer, Ctrl-C to stop");

        let run = Run::new(&args.execve.run);
        let _trigger = args.execve.trigger.start();
        // ANCHOR: read
        // One ring for all CPUs. The callback's return value matters: a negative one stops
        // the poll.
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
