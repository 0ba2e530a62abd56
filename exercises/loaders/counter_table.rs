//! The user-space side of exercises 2.2, 2.3 and 2.5: loads src/bpf/hello-map.bpf.c,
//! attaches every program by its SEC() name and prints `counter_table` every interval as
//! `ID 0: 3<TAB>ID 1000: 1`. You don't need to change this file.

use std::mem::MaybeUninit;
use std::time::Duration;

use chapter02::counts::{format_counts, read_counts};
use clap::Parser;
use ebpf_support::{Privilege, Run, RunArgs};

ebpf_support::skeleton!(hello_map);

/// Print the exercise's counter_table every interval.
#[derive(Parser)]
struct Args {
    /// Seconds between two printouts of the map.
    #[arg(long, value_name = "SECS", default_value = "2", value_parser = clap::value_parser!(u64).range(1..))]
    interval: u64,
    #[command(flatten)]
    run: RunArgs,
}

fn main() -> std::process::ExitCode {
    ebpf_support::main(Privilege::Tracing, |args: Args| {
        let mut object = MaybeUninit::uninit();
        let builder = hello_map::HelloMapSkelBuilder::default();
        let skel = ebpf_support::load_and_attach(builder, &mut object, &args.run)?;
        eprintln!("{}: attached; Ctrl-C to stop", env!("CARGO_BIN_NAME"));

        let run = Run::new(&args.run);
        while run.sleep(Duration::from_secs(args.interval)) {
            println!("{}", format_counts(&read_counts(&skel.maps.counter_table)?));
            run.record();
        }
        Ok(())
    })
}
