//! Check for exercise 8.2: the map `verdicts` counts, per verdict, the packets that ping()
//! judged on the lo of a private lab: echo requests dropped, everything else passed.

use std::mem::MaybeUninit;
use std::net::{Ipv4Addr, UdpSocket};
use std::time::Duration;

use ebpf_support::lab::{Lab, Pinger};
use ebpf_support::testing::{self, exercise_failed};
use libbpf_rs::skel::{OpenSkel, SkelBuilder};
use libbpf_rs::{MapCore, MapFlags};

// The exercise's own program, as the reader changed it.
ebpf_support::skeleton!(verdicts);

const PINGS: u16 = 3;
const DATAGRAMS: u64 = 4;

#[test]
fn each_verdict_is_counted() {
    testing::require_kernel();
    let mut object = MaybeUninit::uninit();
    let skel = verdicts::VerdictsSkelBuilder::default()
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
            .ping(Ipv4Addr::LOCALHOST, seq, Duration::from_millis(300))
            .unwrap()
            .is_some()
        {
            replies += 1;
        }
    }
    let receiver = node
        .netns
        .run(|| UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)))
        .unwrap()
        .unwrap();
    receiver
        .set_read_timeout(Some(Duration::from_secs(1)))
        .unwrap();
    let sender = node
        .netns
        .run(|| UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)))
        .unwrap()
        .unwrap();
    for _ in 0..DATAGRAMS {
        sender
            .send_to(b"hello", receiver.local_addr().unwrap())
            .unwrap();
        receiver
            .recv(&mut [0; 16])
            .expect("a datagram passed on lo");
    }
    assert_eq!(
        replies, 0,
        "the program drops echo requests, so no ping can be answered"
    );

    let counts: Vec<u64> = (0u32..5)
        .map(|verdict| {
            skel.maps
                .verdicts
                .lookup_percpu(&verdict.to_ne_bytes(), MapFlags::ANY)
                .expect("reading the map verdicts")
                .unwrap_or_default()
                .iter()
                .map(|value| u64::from_ne_bytes(value[..8].try_into().unwrap()))
                .sum()
        })
        .collect();
    let expected = [0, u64::from(PINGS), DATAGRAMS, 0, 0];
    if counts != expected {
        exercise_failed(
            &format!(
                "verdicts [XDP_ABORTED, XDP_DROP, XDP_PASS, XDP_TX, XDP_REDIRECT] = {expected:?} after {PINGS} pings and {DATAGRAMS} UDP datagrams"
            ),
            &format!("{counts:?}"),
        );
    }
}
