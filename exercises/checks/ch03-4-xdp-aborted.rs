//! Check for exercise 3.4: hello returns XDP_ABORTED, and no packet gets through the interface
//! it is attached to, in a private lab of two namespaces (never a real interface).

use std::mem::MaybeUninit;
use std::net::UdpSocket;
use std::time::Duration;

use ebpf_support::lab::Lab;
use ebpf_support::testing::{self, exercise_failed};
use libbpf_rs::skel::{OpenSkel, SkelBuilder};

// The exercise's own program, as the reader changed it.
ebpf_support::skeleton!(hello);

const DATAGRAMS: u32 = 10;

#[test]
fn no_packet_gets_through_an_aborting_program() {
    testing::require_kernel();
    let mut object = MaybeUninit::uninit();
    let skel = hello::HelloSkelBuilder::default()
        .open(&mut object)
        .expect("opening the exercise's program")
        .load()
        .expect("loading the exercise's program");

    let lab = Lab::pair().expect("building the lab");
    let (a, b) = (lab.node("a"), lab.node("b"));
    let _link = b
        .netns
        .run_here(|| skel.progs.hello.attach_xdp(b.iface.ifindex as i32))
        .unwrap()
        .expect("attaching the exercise's program to b's eth0");
    let receiver = b
        .netns
        .run(|| UdpSocket::bind((b.iface.ip, 7000)))
        .unwrap()
        .unwrap();
    receiver
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let sender = a
        .netns
        .run(|| UdpSocket::bind((a.iface.ip, 0)))
        .unwrap()
        .unwrap();
    for _ in 0..DATAGRAMS {
        sender.send_to(b"hello", (b.iface.ip, 7000)).unwrap();
    }
    let mut arrived = 0;
    while receiver.recv(&mut [0; 16]).is_ok() {
        arrived += 1;
    }
    let counter = skel.maps.bss_data.as_deref().unwrap().counter;
    // The program must have seen every packet, or nothing was tested.
    assert_eq!(
        counter as u32, DATAGRAMS,
        "the program ran {counter} times for {DATAGRAMS} datagrams, so the check could not run"
    );

    // The kernel runs the program once more on a made-up packet (BPF_PROG_TEST_RUN) and
    // reports its verdict.
    let packet = [0u8; 64];
    let input = libbpf_rs::ProgramInput {
        data_in: Some(&packet),
        ..Default::default()
    };
    let verdict = skel
        .progs
        .hello
        .test_run(input)
        .expect("BPF_PROG_TEST_RUN")
        .return_value;
    if verdict != 0 || arrived != 0 {
        exercise_failed(
            &format!(
                "the verdict XDP_ABORTED (0), and none of {DATAGRAMS} datagrams from a arriving at b"
            ),
            &format!("the verdict {verdict}, and {arrived} of {DATAGRAMS} datagrams arrived"),
        );
    }
}
