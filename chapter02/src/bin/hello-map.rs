//! Learning eBPF, chapter 2, “Hash Table Map” (hello-map.py): count execve calls per user ID in a
//! hash map that user space reads every two seconds.

use std::collections::BTreeMap;
use std::mem::MaybeUninit;
use std::time::Duration;

use anyhow::Context;
use chapter02::ExecveArgs;
use chapter02::counts::format_counts;
use clap::Parser;
use ebpf_support::Run;
use ebpf_support::needs::Hook;
use libbpf_rs::skel::{OpenSkel, SkelBuilder};
use libbpf_rs::{MapCore, MapFlags};

ebpf_support::skeleton!(hello_map);
use hello_map::HelloMapSkelBuilder;

/// Count execve calls per user ID in a hash map (Learning eBPF, chapter 2, “Hash Table Map”, hello-map.py).
///
/// Attaches to execve like `hello` and prints the map every interval, e.g.
/// `ID 0: 3    ID 1000: 1`. Try `sudo -u nobody ls` in another terminal. With --count N it
/// stops after N printouts.
#[derive(Parser)]
#[command(name = "hello-map")]
struct Args {
    /// Seconds between two printouts of the map.
    #[arg(long, value_name = "SECS", default_value = "2", value_parser = clap::value_parser!(u64).range(1..))]
    interval: u64,
    #[command(flatten)]
    execve: ExecveArgs,
}

fn main() -> std::process::ExitCode {
    ebpf_support::main(&chapter02::HELLO_MAP, |args: Args| {
        let mut object = MaybeUninit::uninit();
        let mut open = HelloMapSkelBuilder::default().open(&mut object)?;
        let hook = ebpf_support::choose_hook(
            &chapter02::HELLO_MAP,
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
        eprintln!(
            "hello-map: attached ({hook}); printing counter_table every {}s, Ctrl-C to stop",
            args.interval
        );

        let run = Run::new(&args.execve.run);
        let _trigger = args.execve.trigger.start();
        // ANCHOR: read
        // for k, v in b["counter_table"].items(): keys and values are the map's raw bytes.
        let counter_table = &skel.maps.counter_table;
        while run.sleep(Duration::from_secs(args.interval)) {
            let mut counts = BTreeMap::new();
            for key in counter_table.keys() {
                // An entry can disappear between the two calls; then there is nothing to show.
                if let Some(value) = counter_table.lookup(&key, MapFlags::ANY)? {
                    counts.insert(u64_from(&key)?, u64_from(&value)?);
                }
            }
            if run.record() {
                println!("{}", format_counts(&counts));
            }
        }
        // ANCHOR_END: read
        Ok(())
    })
}

// ANCHOR: u64_from
/// The map's u64 keys and values, from the bytes the kernel copied out.
fn u64_from(bytes: &[u8]) -> anyhow::Result<u64> {
    Ok(u64::from_ne_bytes(
        bytes.try_into().context("expected 8 bytes")?,
    ))
}
// ANCHOR_END: u64_from
