//! Learning eBPF, chapter 8, “Packet Drops” (hello.bpf.c's `ping()`): an XDP program that
//! writes "Hello ping" to the trace pipe for every ICMP packet an interface receives, and, with
//! --drop, drops the echo requests.

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

/// Say "Hello ping" for every ICMP packet an interface receives (Learning eBPF, chapter 8, “Packet Drops”).
///
/// Attaches the XDP program `ping` to the loopback interface of a private network namespace
/// (nothing of the host's is touched), pings 127.0.0.1 inside it once a second and prints the
/// program's trace lines: two per ping, the echo request and the echo reply, as both pass
/// through lo.
///
/// An XDP program's return value is its verdict on the packet: XDP_PASS (2) hands it on to the
/// kernel's network stack, XDP_DROP (1) throws it away, XDP_TX (3) sends it back out of the
/// interface it came in on, XDP_REDIRECT (4) sends it to another interface, CPU or socket, and
/// XDP_ABORTED (0) drops it as an error (the xdp_exception tracepoint sees it). `ping` returns
/// XDP_PASS, or with --drop XDP_DROP for echo requests: then each ping shows one line and gets
/// no reply.
#[derive(Parser)]
#[command(name = "ping")]
struct Args {
    /// Return XDP_DROP for ICMP echo requests instead of XDP_PASS.
    #[arg(long)]
    drop: bool,
    /// Attach to this interface of the host instead of the lab's lo, and send nothing: ping
    /// through it yourself (e.g. --iface lo, then `ping localhost`).
    #[arg(long, value_name = "NAME")]
    iface: Option<String>,
    #[command(flatten)]
    run: RunArgs,
}

fn main() -> std::process::ExitCode {
    ebpf_support::main(&chapter08::PING, |args: Args| {
        // A bad name is found before anything is loaded or built.
        let host_ifindex = match &args.iface {
            Some(name) => Some(ebpf_support::interface_index(name)?),
            None => None,
        };
        let mut trace_pipe = TracePipe::open()?;

        // ANCHOR: load
        let mut object = MaybeUninit::uninit();
        let mut open = PingSkelBuilder::default().open(&mut object)?;
        // A `const volatile` global lives in .rodata: set before loading, fixed after.
        open.maps
            .rodata_data
            .as_deref_mut()
            .expect("ping.bpf.c has a .rodata")
            .drop_echo_requests = args.drop;
        let skel = open.load()?;
        // ANCHOR_END: load
        let verdict = if args.drop {
            "XDP_DROP for echo requests, XDP_PASS for the rest"
        } else {
            "XDP_PASS for every packet"
        };
        let run = Run::new(&args.run);

        let Some(ifindex) = host_ifindex else {
            // ANCHOR: lab
            let lab = Lab::single().context("building the network lab")?;
            let node = lab.node("node");
            // The kernel looks an ifindex up in the calling thread's namespace, so attach from
            // inside the lab's. The link holds the attachment: dropping it detaches the program.
            let link = node
                .netns
                .run_here(|| skel.progs.ping.attach_xdp(node.iface.ifindex as i32))?
                .context("attaching XDP to the lab's lo")?;
            // ANCHOR_END: lab
            eprintln!(
                "ping: attached XDP to lo of a private network namespace ({verdict}); pinging 127.0.0.1 there once a second, Ctrl-C to stop"
            );
            let pinger = Pinger::new(&node.netns)?;
            let (stop, stopped) = mpsc::channel::<()>();
            let pings = std::thread::spawn(move || {
                chapter08::ping_until_stopped(&pinger, Ipv4Addr::LOCALHOST, &stopped)
            });
            print_trace(&mut trace_pipe, &run, true)?;
            drop(stop);
            let (sent, replies) = pings.join().expect("the ping thread")?;
            println!(
                "--- 127.0.0.1: {sent} echo requests sent, {replies} replies received ({verdict}) ---"
            );
            drop(link);
            return Ok(());
        };

        let _link = skel
            .progs
            .ping
            .attach_xdp(ifindex as i32)
            .with_context(|| format!("attaching XDP to {}", args.iface.unwrap_or_default()))?;
        eprintln!(
            "ping: attached XDP ({verdict}); ping through the interface from another terminal, Ctrl-C to stop"
        );
        print_trace(&mut trace_pipe, &run, false)
    })
}

/// Prints the program's "Hello ping" lines until the run finishes; each one counts towards
/// --count. In the lab, only lines of this process's own traffic.
fn print_trace(trace_pipe: &mut TracePipe, run: &Run, only_ours: bool) -> anyhow::Result<()> {
    while let Some(line) = trace_pipe.next_line(run)? {
        let Some(parsed) = TraceLine::parse(&line) else {
            continue;
        };
        if parsed.message == "Hello ping" && (!only_ours || chapter08::traced_here(&parsed)) {
            println!("{line}");
            run.record();
        }
    }
    Ok(())
}
