//! Learning eBPF, chapter 2, “Perf and Ring Buffer Maps” (hello-buffer.py): the kernel sends an
//! event per execve through a perf buffer, and user space prints it. Nothing goes to the trace
//! pipe.

use std::mem::MaybeUninit;

use anyhow::Context;
use chapter02::ExecveArgs;
use clap::Parser;
use ebpf_support::needs::Hook;
use ebpf_support::{Run, c_string};
use libbpf_rs::PerfBufferBuilder;
use libbpf_rs::skel::{OpenSkel, SkelBuilder};

// ANCHOR: types
ebpf_support::skeleton!(hello_buffer);
use hello_buffer::HelloBufferSkelBuilder;
use hello_buffer::types::data_t;

// `data_t` is generated from the C struct; Plain says any bytes of the right size make one.
unsafe impl plain::Plain for data_t {}
// ANCHOR_END: types

/// Send an event per execve through a perf buffer (Learning eBPF, chapter 2, “Perf and Ring Buffer Maps”, hello-buffer.py).
///
/// Prints one line per event: `PID UID COMMAND MESSAGE`, e.g. `11654 0 node Hello World`.
#[derive(Parser)]
#[command(name = "hello-buffer")]
struct Args {
    #[command(flatten)]
    execve: ExecveArgs,
}

fn main() -> std::process::ExitCode {
    ebpf_support::main(&chapter02::HELLO_BUFFER, |args: Args| {
        let mut object = MaybeUninit::uninit();
        let mut open = HelloBufferSkelBuilder::default().open(&mut object)?;
        let hook = ebpf_support::choose_hook(
            &chapter02::HELLO_BUFFER,
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
        eprintln!("hello-buffer: attached ({hook}); reading the perf buffer, Ctrl-C to stop");

        let run = Run::new(&args.execve.run);
        let _trigger = args.execve.trigger.start();
        // ANCHOR: read
        // b["output"].open_perf_buffer(print_event): one callback per event, whichever CPU's
        // ring it came from, and one when the kernel had to drop events because a ring was full.
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
        // while True: b.perf_buffer_poll()
        while !run.finished() {
            perf.poll(run.poll_interval())?;
        }
        // ANCHOR_END: read
        Ok(())
    })
}
