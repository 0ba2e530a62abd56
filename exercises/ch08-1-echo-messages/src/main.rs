//! Learning eBPF, chapter 8, exercise 1: ping's loader (chapter 8, “Packet Drops”). Attaches
//! the XDP program `ping` to the lo of a private network namespace, pings 127.0.0.1 there once
//! a second, and prints the program's trace lines.

use std::mem::MaybeUninit;
use std::net::Ipv4Addr;
use std::sync::mpsc;

use anyhow::Context;
use clap::Parser;
use ebpf_support::lab::{Lab, Pinger};
use ebpf_support::{Run, RunArgs, TraceLine, TracePipe};
use libbpf_rs::skel::{OpenSkel, SkelBuilder};

ebpf_support::skeleton!(ping);
use ping::PingSkelBuilder;

/// Say which kind of ICMP packet went by (Learning eBPF, chapter 8, exercise 1).
///
/// Attaches `ping` from src/bpf/ping.bpf.c to the lo of a private network namespace, pings
/// 127.0.0.1 there once a second and prints the program's "Hello ping…" lines.
#[derive(Parser)]
#[command(name = "ch08-1-echo-messages")]
struct Args {
    #[command(flatten)]
    run: RunArgs,
}

fn main() -> std::process::ExitCode {
    ebpf_support::main(&chapter08::PING, |args: Args| {
        let mut trace_pipe = TracePipe::open()?;
        let mut object = MaybeUninit::uninit();
        let skel = PingSkelBuilder::default().open(&mut object)?.load()?;
        let lab = Lab::single().context("building the network lab")?;
        let node = lab.node("node");
        let _link = node
            .netns
            .run_here(|| skel.progs.ping.attach_xdp(node.iface.ifindex as i32))?
            .context("attaching XDP to the lab's lo")?;
        eprintln!(
            "attached XDP to lo of a private network namespace; pinging 127.0.0.1 there, Ctrl-C to stop"
        );
        let pinger = Pinger::new(&node.netns)?;
        let (stop, stopped) = mpsc::channel::<()>();
        let pings = std::thread::spawn(move || {
            chapter08::ping_until_stopped(&pinger, Ipv4Addr::LOCALHOST, &stopped)
        });
        let run = Run::new(&args.run);
        while let Some(line) = trace_pipe.next_line(&run)? {
            if TraceLine::parse(&line)
                .is_some_and(|l| l.message.starts_with("Hello ping") && chapter08::traced_here(&l))
            {
                println!("{line}");
                run.record();
            }
        }
        drop(stop);
        pings.join().expect("the ping thread")?;
        Ok(())
    })
}
