//! Learning eBPF, chapter 8, exercise 2: a loader for ping() with --drop's verdicts that reads,
//! once a second, how many packets got each verdict (the xdp-tutorial's packet counters).

use std::mem::MaybeUninit;
use std::net::{Ipv4Addr, UdpSocket};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use ebpf_support::lab::{Lab, Pinger};
use ebpf_support::{Run, RunArgs};
use libbpf_rs::skel::{OpenSkel, SkelBuilder};
use libbpf_rs::{MapCore, MapFlags};

ebpf_support::skeleton!(verdicts);
use verdicts::VerdictsSkelBuilder;

const VERDICTS: [&str; 5] = [
    "XDP_ABORTED",
    "XDP_DROP",
    "XDP_PASS",
    "XDP_TX",
    "XDP_REDIRECT",
];

/// Count packets per XDP verdict (Learning eBPF, chapter 8, exercise 2).
///
/// Attaches `ping` from src/bpf/verdicts.bpf.c to the lo of a private network namespace, where
/// it drops echo requests and passes everything else; pings 127.0.0.1 and sends a UDP datagram
/// there once a second, and prints the map `verdicts` once a second (each report counts
/// towards --count).
#[derive(Parser)]
#[command(name = "ch08-2-verdict-counts")]
struct Args {
    #[command(flatten)]
    run: RunArgs,
}

fn main() -> std::process::ExitCode {
    ebpf_support::main(&chapter08::PING, |args: Args| {
        let mut object = MaybeUninit::uninit();
        let skel = VerdictsSkelBuilder::default().open(&mut object)?.load()?;
        let lab = Lab::single().context("building the network lab")?;
        let node = lab.node("node");
        let _link = node
            .netns
            .run_here(|| skel.progs.ping.attach_xdp(node.iface.ifindex as i32))?
            .context("attaching XDP to the lab's lo")?;
        eprintln!(
            "attached XDP to lo of a private network namespace; pinging 127.0.0.1 there, Ctrl-C to stop"
        );
        let receiver = node
            .netns
            .run(|| UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)))??;
        let sender = node
            .netns
            .run(|| UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)))??;
        let pinger = Pinger::new(&node.netns)?;
        let (stop, stopped) = mpsc::channel::<()>();
        let pings = std::thread::spawn(move || {
            chapter08::ping_until_stopped(&pinger, Ipv4Addr::LOCALHOST, &stopped)
        });
        let run = Run::new(&args.run);
        while run.sleep(Duration::from_secs(1)) {
            sender.send_to(b"hello", receiver.local_addr()?)?;
            let counts: Vec<String> = VERDICTS
                .iter()
                .enumerate()
                .map(|(verdict, name)| {
                    let key = (verdict as u32).to_ne_bytes();
                    // One value per CPU: the packets each CPU counted.
                    let total: u64 = skel
                        .maps
                        .verdicts
                        .lookup_percpu(&key, MapFlags::ANY)
                        .ok()
                        .flatten()
                        .unwrap_or_default()
                        .iter()
                        .map(|value| u64::from_ne_bytes(value[..8].try_into().unwrap()))
                        .sum();
                    format!("{name} {total}")
                })
                .collect();
            println!("verdicts: {}", counts.join(", "));
            run.record();
        }
        drop(stop);
        pings.join().expect("the ping thread")?;
        Ok(())
    })
}
