//! Exercise 2.3, solved: chapter02's hello-map (src/bin/hello-map.rs), counting every syscall
//! per user ID.

use std::collections::BTreeMap;
use std::mem::MaybeUninit;
use std::time::Duration;

use anyhow::Context;
use chapter02::counts::format_counts;
use clap::Parser;
use ebpf_support::{Run, RunArgs};
use libbpf_rs::skel::{OpenSkel, SkelBuilder};
use libbpf_rs::{MapCore, MapFlags};

ebpf_support::skeleton!(hello_map);
use hello_map::HelloMapSkelBuilder;

/// Exercise 2.3 of Learning eBPF, chapter 2: hello-map on every syscall.
///
/// Prints counter_table every interval, e.g. `ID 0: 3    ID 1000: 1`.
#[derive(Parser)]
#[command(name = "ch02-3-all-syscalls")]
struct Args {
    /// Seconds between two printouts of the map.
    #[arg(long, value_name = "SECS", default_value = "2", value_parser = clap::value_parser!(u64).range(1..))]
    interval: u64,
    #[command(flatten)]
    run: RunArgs,
}

fn main() -> std::process::ExitCode {
    ebpf_support::main(&chapter02::HELLO_MAP, |args: Args| {
        let mut object = MaybeUninit::uninit();
        let open = HelloMapSkelBuilder::default().open(&mut object)?;
        let skel = open.load()?;
        // b.attach_raw_tracepoint(tp="sys_enter", fn_name="hello")
        let _link = skel
            .progs
            .hello
            .attach_raw_tracepoint("sys_enter")
            .context("attaching to the sys_enter raw tracepoint")?;
        eprintln!(
            "ch02-3-all-syscalls: attached; printing counter_table every {}s, Ctrl-C to stop",
            args.interval
        );

        let run = Run::new(&args.run);
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
        Ok(())
    })
}

/// The map's u64 keys and values, from the bytes the kernel copied out.
fn u64_from(bytes: &[u8]) -> anyhow::Result<u64> {
    Ok(u64::from_ne_bytes(
        bytes.try_into().context("expected 8 bytes")?,
    ))
}
