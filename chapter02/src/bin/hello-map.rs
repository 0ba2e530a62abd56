//! Learning eBPF, chapter 2, “Hash Table Map” (hello-map.py): count execve calls per user ID in a
//! hash map that user space reads every two seconds.

use std::mem::MaybeUninit;
use std::time::Duration;

use chapter02::counts::{format_counts, read_counts};
use clap::Parser;
use ebpf_support::{ExecveArgs, Privilege, Run};
use libbpf_rs::skel::SkelBuilder;

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
    ebpf_support::main(Privilege::Tracing, |args: Args| {
        let hook = args.execve.attach.resolve()?;

        let mut object = MaybeUninit::uninit();
        let mut open = HelloMapSkelBuilder::default().open(&mut object)?;
        ebpf_support::choose_execve_program(hook, &mut open.progs.hello, &mut open.progs.hello_tp);
        let skel = ebpf_support::load(open, &args.execve.run)?;
        let _link = ebpf_support::attach_execve(hook, &skel.progs.hello, &skel.progs.hello_tp)?;
        eprintln!(
            "hello-map: attached ({hook}); printing counter_table every {}s, Ctrl-C to stop",
            args.interval
        );

        let run = Run::new(&args.execve.run);
        let _trigger = args.execve.trigger.start();
        while run.sleep(Duration::from_secs(args.interval)) {
            println!("{}", format_counts(&read_counts(&skel.maps.counter_table)?));
            run.record();
        }
        Ok(())
    })
}
