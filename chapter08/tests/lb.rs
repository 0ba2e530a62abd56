//! xdp-lb on the real kernel: its program run on crafted packets (BPF_PROG_TEST_RUN), and the
//! example in its lab of four namespaces.

use std::collections::BTreeSet;
use std::mem::MaybeUninit;
use std::net::Ipv4Addr;

use ebpf_support::testing::{self, HeldNamespaces, HostNetwork, Session, Stop, WaitStatus};
use libbpf_rs::skel::{OpenSkel, SkelBuilder};

ebpf_support::skeleton!(lb);
use lb::types::lb_config;

const XDP_LB: &str = env!("CARGO_BIN_EXE_xdp-lb");
const XDP_ABORTED: u32 = 0;
const XDP_PASS: u32 = 2;
const XDP_TX: u32 = 3;

const CLIENT: ([u8; 4], [u8; 6]) = ([172, 17, 0, 4], [2, 0x42, 172, 17, 0, 4]);
const LB: ([u8; 4], [u8; 6]) = ([172, 17, 0, 5], [2, 0x42, 172, 17, 0, 5]);
const BACKENDS: [([u8; 4], [u8; 6]); 2] = [
    ([172, 17, 0, 2], [2, 0x42, 172, 17, 0, 2]),
    ([172, 17, 0, 3], [2, 0x42, 172, 17, 0, 3]),
];

/// The one's-complement sum of 16-bit big-endian words, folded: a header whose checksum is
/// right sums to 0xffff.
fn ones_complement_sum(chunks: &[&[u8]]) -> u16 {
    let bytes: Vec<u8> = chunks.concat();
    let mut sum: u32 = bytes
        .chunks(2)
        .map(|pair| u32::from(u16::from_be_bytes([pair[0], *pair.get(1).unwrap_or(&0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum as u16
}

/// A frame from `from` to `to`: Ethernet, IPv4 and TCP (with a payload) or UDP, with correct
/// checksums.
fn frame(
    from: ([u8; 4], [u8; 6]),
    to: ([u8; 4], [u8; 6]),
    protocol: u8,
    source_port: u16,
    syn: bool,
) -> Vec<u8> {
    let payload = b"GET / HTTP/1.0\r\n\r\n";
    let mut transport = Vec::new();
    transport.extend(source_port.to_be_bytes());
    transport.extend(8080u16.to_be_bytes());
    if protocol == 6 {
        transport.extend(1000u32.to_be_bytes()); // sequence number
        transport.extend(0u32.to_be_bytes()); // acknowledgement number
        transport.push(5 << 4); // header length: 5 words
        transport.push(if syn { 0x02 } else { 0x18 }); // SYN, or PSH+ACK
        transport.extend(64240u16.to_be_bytes()); // window
        transport.extend([0, 0, 0, 0]); // checksum, urgent pointer
    } else {
        transport.extend(((8 + payload.len()) as u16).to_be_bytes());
        transport.extend([0, 0]);
    }
    transport.extend(payload);
    let check_at = if protocol == 6 { 16 } else { 6 };
    let pseudo = [
        &from.0[..],
        &to.0[..],
        &[0, protocol],
        &(transport.len() as u16).to_be_bytes(),
    ]
    .concat();
    let check = !ones_complement_sum(&[&pseudo, &transport]);
    transport[check_at..check_at + 2].copy_from_slice(&check.to_be_bytes());

    let mut ip = vec![0x45, 0];
    ip.extend(((20 + transport.len()) as u16).to_be_bytes());
    ip.extend([0x12, 0x34, 0x40, 0, 64, protocol, 0, 0]);
    ip.extend(from.0);
    ip.extend(to.0);
    let check = !ones_complement_sum(&[&ip]);
    ip[10..12].copy_from_slice(&check.to_be_bytes());

    [&to.1[..], &from.1[..], &[0x08, 0x00], &ip, &transport].concat()
}

/// The program, loaded with the lab's addresses as xdp-lb writes them.
fn load(object: &mut MaybeUninit<libbpf_rs::OpenObject>) -> lb::LbSkel<'_> {
    let ip = u32::from_ne_bytes;
    let mut open = lb::LbSkelBuilder::default().open(object).unwrap();
    open.maps.rodata_data.as_deref_mut().unwrap().addresses = lb_config {
        client_ip: ip(CLIENT.0),
        lb_ip: ip(LB.0),
        backend_ip: BACKENDS.map(|b| ip(b.0)),
        client_mac: CLIENT.1,
        lb_mac: LB.1,
        backend_mac: BACKENDS.map(|b| b.1),
    };
    open.load().unwrap()
}

/// Runs the program once on `packet`: its verdict and the packet as it left.
fn run(skel: &lb::LbSkel, packet: &[u8]) -> (u32, Vec<u8>) {
    let mut out = vec![0u8; packet.len() + 256];
    let input = libbpf_rs::ProgramInput {
        data_in: Some(packet),
        data_out: Some(&mut out),
        repeat: 1,
        ..Default::default()
    };
    let output = skel.progs.xdp_load_balancer.test_run(input).unwrap();
    let data = output.data.expect("the packet after the program").to_vec();
    (output.return_value, data)
}

/// Both checksums of a rewritten IPv4/TCP frame hold.
fn assert_checksums_valid(frame: &[u8]) {
    let ip = &frame[14..34];
    assert_eq!(
        ones_complement_sum(&[ip]),
        0xffff,
        "IP checksum of {ip:02x?}"
    );
    let tcp = &frame[34..];
    let pseudo = [&ip[12..20], &[0, 6], &(tcp.len() as u16).to_be_bytes()].concat();
    assert_eq!(
        ones_complement_sum(&[&pseudo, tcp]),
        0xffff,
        "TCP checksum of {tcp:02x?}"
    );
}

fn addresses(frame: &[u8]) -> (&[u8], &[u8], Ipv4Addr, Ipv4Addr) {
    let ip = |at: usize| Ipv4Addr::new(frame[at], frame[at + 1], frame[at + 2], frame[at + 3]);
    (&frame[0..6], &frame[6..12], ip(26), ip(30))
}

mod xdp_lb {
    use super::*;

    /// BPF_PROG_TEST_RUN: a client's SYN to the load balancer leaves again (XDP_TX) for a
    /// backend, from the load balancer, with both checksums right; over many connections both
    /// backends are picked.
    #[test]
    fn a_client_packet_goes_to_a_backend_with_valid_checksums() {
        if !testing::ready_for(&chapter08::lb::XDP_LB) {
            return;
        }
        let mut object = MaybeUninit::uninit();
        let skel = load(&mut object);
        let mut picked = BTreeSet::new();
        for port in 40000..40064 {
            let packet = frame(CLIENT, LB, 6, port, true);
            let (verdict, out) = run(&skel, &packet);
            assert_eq!(verdict, XDP_TX);
            assert_eq!(out.len(), packet.len());
            let (dst_mac, src_mac, src_ip, dst_ip) = addresses(&out);
            let backend = BACKENDS
                .iter()
                .position(|b| Ipv4Addr::from(b.0) == dst_ip)
                .unwrap_or_else(|| panic!("sent to {dst_ip}, no backend"));
            assert_eq!(dst_mac, BACKENDS[backend].1);
            assert_eq!(src_mac, LB.1);
            assert_eq!(src_ip, Ipv4Addr::from(LB.0));
            // Nothing but the addresses and the checksums changed.
            assert_eq!(out[34..50], packet[34..50], "TCP ports and numbers");
            assert_eq!(out[52..], packet[52..], "TCP payload");
            assert_checksums_valid(&out);
            picked.insert(backend);
        }
        // Each backend has one chance in 2^63 of never being picked.
        assert_eq!(picked, BTreeSet::from([0, 1]), "backends picked");
    }

    /// The rest of a connection goes where its SYN went.
    #[test]
    fn a_connection_stays_on_its_backend() {
        if !testing::ready_for(&chapter08::lb::XDP_LB) {
            return;
        }
        let mut object = MaybeUninit::uninit();
        let skel = load(&mut object);
        for port in 41000..41008 {
            let (_, syn) = run(&skel, &frame(CLIENT, LB, 6, port, true));
            let backend = addresses(&syn).3;
            for _ in 0..8 {
                let (verdict, data) = run(&skel, &frame(CLIENT, LB, 6, port, false));
                assert_eq!(verdict, XDP_TX);
                assert_eq!(addresses(&data).3, backend, "port {port}");
                assert_checksums_valid(&data);
            }
        }
    }

    /// A backend's answer goes back to the client, from the load balancer.
    #[test]
    fn a_backend_packet_goes_back_to_the_client() {
        if !testing::ready_for(&chapter08::lb::XDP_LB) {
            return;
        }
        let mut object = MaybeUninit::uninit();
        let skel = load(&mut object);
        for backend in BACKENDS {
            let packet = frame(backend, LB, 6, 8080, false);
            let (verdict, out) = run(&skel, &packet);
            assert_eq!(verdict, XDP_TX);
            let (dst_mac, src_mac, src_ip, dst_ip) = addresses(&out);
            assert_eq!(
                (dst_mac, src_mac, src_ip, dst_ip),
                (
                    &CLIENT.1[..],
                    &LB.1[..],
                    Ipv4Addr::from(LB.0),
                    Ipv4Addr::from(CLIENT.0)
                )
            );
            assert_checksums_valid(&out);
        }
    }

    /// Not TCP: passed on untouched. Too short to parse: aborted.
    #[test]
    fn other_packets_pass_and_short_ones_abort() {
        if !testing::ready_for(&chapter08::lb::XDP_LB) {
            return;
        }
        let mut object = MaybeUninit::uninit();
        let skel = load(&mut object);
        let udp = frame(CLIENT, LB, 17, 40000, false);
        assert_eq!(run(&skel, &udp), (XDP_PASS, udp.clone()));
        let mut arp = udp.clone();
        arp[12..14].copy_from_slice(&[0x08, 0x06]);
        assert_eq!(run(&skel, &arp), (XDP_PASS, arp.clone()));
        let tcp = frame(CLIENT, LB, 6, 40000, true);
        assert_eq!(run(&skel, &tcp[..30]).0, XDP_ABORTED, "IP header cut short");
        assert_eq!(
            run(&skel, &tcp[..40]).0,
            XDP_ABORTED,
            "TCP header cut short"
        );
    }

    /// The example in its lab: every request is answered, by both backends between them, and
    /// the report adds up.
    #[test]
    fn count_requests_are_answered_by_both_backends_and_leave_nothing() {
        if !testing::ready_for(&chapter08::lb::XDP_LB) {
            return;
        }
        let host = HostNetwork::now();
        let mut session = Session::spawn(XDP_LB, &["--count", "20", "--timeout", "30"]);
        session.expect_line("the attach message", |l| l.contains("attached XDP"));
        let namespaces = testing::held_namespaces(session.pid);
        // client, lb, two backends and the switch
        assert_eq!(namespaces.len(), 5, "{namespaces:?}");
        let (status, output) = session.finish();
        assert!(
            matches!(status, WaitStatus::Exited(_, 0)),
            "{status:?}: {output}"
        );
        let answers: Vec<&str> = output
            .lines()
            .filter_map(|l| l.trim_end().split_once(": answered by ").map(|(_, b)| b))
            .collect();
        assert_eq!(answers.len(), 20, "{output}");
        let a = answers.iter().filter(|b| **b == "backend-a").count();
        let b = answers.iter().filter(|b| **b == "backend-b").count();
        assert_eq!(a + b, 20, "{output}");
        assert!(a > 0 && b > 0, "both backends answer: {output}");
        assert!(
            output.contains(&format!("backend-a: {a} of 20, backend-b: {b} of 20")),
            "{output}"
        );
        testing::assert_namespaces_gone(&namespaces);
        host.assert_unchanged();
    }

    /// iproute2 agrees: inside the lab, the lb's eth0 (and no other node's) runs the example's
    /// program in generic mode.
    #[test]
    fn ip_link_shows_the_program_on_the_lbs_eth0_in_generic_mode() {
        if !testing::ready_for(&chapter08::lb::XDP_LB) {
            return;
        }
        let mut session = Session::spawn(XDP_LB, &[]);
        session.expect_line("a first answer", |l| {
            l.starts_with("request 1: answered by")
        });
        let objects = session.objects();
        let with_xdp: Vec<String> = HeldNamespaces::of(session.pid)
            .run("ip", &["-d", "link", "show"])
            .into_iter()
            .filter(|links| links.contains("xdp"))
            .collect();
        assert_eq!(with_xdp.len(), 1, "{with_xdp:#?}");
        let links = &with_xdp[0];
        // The lb's MAC address: 02:42 and 172.17.0.5.
        assert!(links.contains("link/ether 02:42:ac:11:00:05"), "{links}");
        assert!(links.contains("xdpgeneric"), "{links}");
        let id = links
            .split_once("prog/xdp id ")
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .and_then(|id| id.parse::<u32>().ok())
            .unwrap_or_else(|| panic!("no program id in {links}"));
        assert!(
            objects.progs.contains(&id),
            "{id} is not the example's: {objects:?}"
        );
        let (status, output) = session.interrupt();
        assert!(
            matches!(status, WaitStatus::Exited(_, 0)),
            "{status:?}: {output}"
        );
    }

    #[test]
    fn stops_cleanly_on_sigterm() {
        if !testing::ready_for(&chapter08::lb::XDP_LB) {
            return;
        }
        let mut session = Session::spawn(XDP_LB, &[]);
        session.expect_line("a first answer", |l| {
            l.starts_with("request 1: answered by")
        });
        testing::stop_leaving_nothing(session, Stop::Sigterm);
    }

    #[test]
    fn ctrl_c_detaches_and_removes_the_lab() {
        if !testing::ready_for(&chapter08::lb::XDP_LB) {
            return;
        }
        let host = HostNetwork::now();
        let mut session = Session::spawn(XDP_LB, &[]);
        session.expect_line("a second answer", |l| {
            l.starts_with("request 2: answered by")
        });
        let objects = session.objects();
        assert_eq!(
            testing::program_types(&objects.progs),
            [libbpf_rs::ProgramType::Xdp]
        );
        testing::stop_leaving_nothing(session, Stop::CtrlC);
        host.assert_unchanged();
    }
}
