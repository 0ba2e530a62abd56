//! Check for exercise 8.1: ping() writes "Hello ping: echo request" for each echo request and
//! "Hello ping: echo reply" for each reply, seen on the lo of a private lab while it pings.

use std::mem::MaybeUninit;
use std::net::Ipv4Addr;
use std::time::Duration;

use ebpf_support::lab::{Lab, Pinger};
use ebpf_support::testing::{self, exercise_failed};
use ebpf_support::{Run, RunArgs, TraceLine, TracePipe};
use libbpf_rs::skel::{OpenSkel, SkelBuilder};

// The exercise's own program, as the reader changed it.
ebpf_support::skeleton!(ping);

const PINGS: u16 = 2;

#[test]
fn echo_requests_and_replies_get_their_own_messages() {
    testing::require_kernel();
    let _lock = testing::lock_trace_pipe();
    let mut trace_pipe = TracePipe::open().expect("opening trace_pipe");
    let mut object = MaybeUninit::uninit();
    let skel = ping::PingSkelBuilder::default()
        .open(&mut object)
        .expect("opening the exercise's program")
        .load()
        .expect("loading the exercise's program");
    let lab = Lab::single().expect("building the lab");
    let node = lab.node("node");
    let _link = node
        .netns
        .run_here(|| skel.progs.ping.attach_xdp(node.iface.ifindex as i32))
        .unwrap()
        .expect("attaching the exercise's program to the lab's lo");
    let pinger = Pinger::new(&node.netns).expect("a raw ICMP socket in the lab");
    let mut replies = 0;
    for seq in 1..=PINGS {
        if pinger
            .ping(Ipv4Addr::LOCALHOST, seq, Duration::from_secs(1))
            .unwrap()
            .is_some()
        {
            replies += 1;
        }
    }
    let run = Run::new(&RunArgs {
        timeout: Some(Duration::from_millis(500)),
        ..Default::default()
    });
    let mut messages = Vec::new();
    while let Some(line) = trace_pipe.next_line(&run).unwrap() {
        if let Some(line) = TraceLine::parse(&line)
            && line.message.starts_with("Hello ping")
            && chapter08::traced_here(&line)
        {
            messages.push(line.message);
        }
    }
    let expected: Vec<&str> =
        ["Hello ping: echo request", "Hello ping: echo reply"].repeat(PINGS as usize);
    if messages != expected || replies != PINGS {
        exercise_failed(
            &format!("{expected:?} for {PINGS} pings, and every ping answered"),
            &format!("{messages:?}, and {replies} of {PINGS} pings answered"),
        );
    }
}
