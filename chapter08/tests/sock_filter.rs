//! sock-filter on the real kernel: its program run on crafted packets (BPF_PROG_TEST_RUN), and
//! the example on a raw socket in its lab.

use std::mem::MaybeUninit;

use ebpf_support::testing::{self, HostNetwork, Session, Stop, WaitStatus};
use libbpf_rs::skel::{OpenSkel, SkelBuilder};

ebpf_support::skeleton!(sockfilter);

const SOCK_FILTER: &str = env!("CARGO_BIN_EXE_sock-filter");

/// An Ethernet frame carrying an IPv4 packet of `protocol` with 20 bytes of zeros after the
/// IP header (enough for any header the filter could look at).
fn frame(ethertype: u16, protocol: u8) -> Vec<u8> {
    let mut frame = vec![2, 0x42, 10, 0, 0, 2, 2, 0x42, 10, 0, 0, 1];
    frame.extend(ethertype.to_be_bytes());
    frame.extend([0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, protocol, 0, 0]);
    frame.extend([10, 0, 0, 1, 10, 0, 0, 2]);
    frame.extend([0; 20]);
    frame
}

/// What the filter returns for `packet`: how many bytes the socket would get.
fn verdict(skel: &sockfilter::SockfilterSkel, packet: &[u8]) -> u32 {
    let input = libbpf_rs::ProgramInput {
        data_in: Some(packet),
        repeat: 1,
        ..Default::default()
    };
    skel.progs
        .socket_filter
        .test_run(input)
        .unwrap()
        .return_value
}

mod sock_filter {
    use super::*;

    /// BPF_PROG_TEST_RUN: all of a TCP packet is kept (-1, read as the largest length),
    /// nothing of ICMP, UDP or a frame that is not IPv4.
    #[test]
    fn keeps_tcp_and_drops_the_rest() {
        if !testing::ready_for(&chapter08::sock_filter::SOCK_FILTER) {
            return;
        }
        let mut object = MaybeUninit::uninit();
        let skel = sockfilter::SockfilterSkelBuilder::default()
            .open(&mut object)
            .unwrap()
            .load()
            .unwrap();
        assert_eq!(verdict(&skel, &frame(0x0800, 6)), u32::MAX, "TCP");
        assert_eq!(verdict(&skel, &frame(0x0800, 1)), 0, "ICMP");
        assert_eq!(verdict(&skel, &frame(0x0800, 17)), 0, "UDP");
        assert_eq!(verdict(&skel, &frame(0x0806, 6)), 0, "ARP");
    }

    /// In the lab: the socket reads TCP packets both ways, and none of the UDP and ICMP that
    /// cross the same interface.
    #[test]
    fn user_space_reads_tcp_only_and_nothing_is_left() {
        if !testing::ready_for(&chapter08::sock_filter::SOCK_FILTER) {
            return;
        }
        let host = HostNetwork::now();
        let mut session = Session::spawn(SOCK_FILTER, &["--timeout", "2"]);
        session.expect_line("the attach message", |l| {
            l.contains("socket filter attached")
        });
        let namespaces = testing::held_namespaces(session.pid);
        assert_eq!(namespaces.len(), 2, "{namespaces:?}");
        let (status, output) = session.finish();
        assert!(
            matches!(status, WaitStatus::Exited(_, 0)),
            "{status:?}: {output}"
        );
        let got: Vec<&str> = output
            .lines()
            .filter_map(|l| l.strip_prefix("Userspace got data: "))
            .collect();
        assert!(
            got.iter().all(|l| l.starts_with("TCP ")),
            "only TCP: {output}"
        );
        assert!(
            got.iter()
                .any(|l| l.starts_with("TCP 10.0.0.1:") && l.contains("[SYN]")),
            "a's SYN: {output}"
        );
        assert!(
            got.iter()
                .any(|l| l.starts_with("TCP 10.0.0.2:7001 -> 10.0.0.1:") && l.contains("SYN,ACK")),
            "b's SYN-ACK: {output}"
        );
        // Several rounds of TCP, UDP and ICMP went by while the filter was attached.
        let summary = output
            .lines()
            .find(|l| l.starts_with("sent "))
            .unwrap_or_else(|| panic!("no summary: {output}"));
        let rounds: u32 = summary
            .split_whitespace()
            .nth(1)
            .and_then(|n| n.parse().ok())
            .unwrap();
        assert!(rounds >= 2, "{summary}");
        assert!(
            summary.ends_with(&format!(
                "the socket got {} TCP packets and 0 others",
                got.len()
            )),
            "{summary}"
        );
        testing::assert_namespaces_gone(&namespaces);
        host.assert_unchanged();
    }

    #[test]
    fn ctrl_c_releases_the_filter_and_the_lab() {
        if !testing::ready_for(&chapter08::sock_filter::SOCK_FILTER) {
            return;
        }
        let host = HostNetwork::now();
        let mut session = Session::spawn(SOCK_FILTER, &[]);
        session.expect_line("a packet", |l| l.starts_with("Userspace got data: TCP"));
        let objects = session.objects();
        assert_eq!(
            testing::program_types(&objects.progs),
            [libbpf_rs::ProgramType::SocketFilter]
        );
        testing::stop_leaving_nothing(session, Stop::CtrlC);
        host.assert_unchanged();
    }

    #[test]
    fn stops_cleanly_on_sigterm() {
        if !testing::ready_for(&chapter08::sock_filter::SOCK_FILTER) {
            return;
        }
        let mut session = Session::spawn(SOCK_FILTER, &[]);
        session.expect_line("a packet", |l| l.starts_with("Userspace got data: TCP"));
        testing::stop_leaving_nothing(session, Stop::Sigterm);
    }
}
