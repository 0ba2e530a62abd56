//! packet-parse on the real kernel: its XDP program fed crafted frames of every kind
//! (BPF_PROG_TEST_RUN; IPv6 only this way, since the lab has IPv6 off), and the binary in its lab.

mod frames;

use std::cell::RefCell;
use std::mem::MaybeUninit;
use std::process::Command;
use std::rc::Rc;

use chapter08::packet::{self, ParseSkelBuilder, packet_info};
use ebpf_support::testing::{self, HeldNamespaces, HostNetwork, Session, Stop, WaitStatus};
use frames::*;
use libbpf_rs::skel::{OpenSkel, SkelBuilder};
use libbpf_rs::{ProgramInput, RingBufferBuilder};

const PACKET_PARSE: &str = env!("CARGO_BIN_EXE_packet-parse");
const XDP_PASS: u32 = 2;

/// What the program reports for each frame, one by one.
fn parse_all(frames: &[Vec<u8>]) -> Vec<packet_info> {
    let mut object = MaybeUninit::uninit();
    let skel = ParseSkelBuilder::default()
        .open(&mut object)
        .unwrap()
        .load()
        .unwrap();
    let seen = Rc::new(RefCell::new(Vec::new()));
    let mut builder = RingBufferBuilder::new();
    let sink = Rc::clone(&seen);
    builder
        .add(&skel.maps.packets, move |bytes| {
            sink.borrow_mut()
                .push(packet::read(bytes).expect("a whole packet_info"));
            0
        })
        .unwrap();
    let ring = builder.build().unwrap();
    for frame in frames {
        let mut out = vec![0u8; frame.len()];
        let input = ProgramInput {
            data_in: Some(frame),
            data_out: Some(&mut out),
            repeat: 1,
            ..Default::default()
        };
        let verdict = skel.progs.parse.test_run(input).unwrap().return_value;
        assert_eq!(verdict, XDP_PASS);
        assert_eq!(&out, frame, "parse only reads");
    }
    ring.consume().unwrap();
    let seen = seen.borrow().clone();
    assert_eq!(seen.len(), frames.len(), "one event per frame");
    seen
}

mod packet_parse {
    use super::*;

    #[test]
    fn test_run_parses_ipv4_icmp_tcp_and_udp() {
        if !testing::ready_for(&chapter08::PACKET_PARSE) {
            return;
        }
        // The TCP segment comes after 4 bytes of IP options (a header length of 6 words).
        let options = [0x01, 0x01, 0x01, 0x00];
        let frames = [
            echo_request_frame(),
            ethernet(
                MAC_B,
                MAC_A,
                0x0800,
                &ipv4(IP_A, IP_B, 17, &[], &udp(40000, 7000, b"hello")),
            ),
            ethernet(
                MAC_B,
                MAC_A,
                0x0800,
                &ipv4(IP_A, IP_B, 6, &options, &tcp(40001, 8000, 0x12)),
            ),
        ];
        let lines: Vec<String> = parse_all(&frames).iter().map(packet::describe).collect();
        assert_eq!(
            lines,
            [
                "IPv4 10.0.0.1 > 10.0.0.2: ICMP echo request (type 8, code 0), ttl 64, 66 bytes",
                "IPv4 10.0.0.1:40000 > 10.0.0.2:7000: UDP, ttl 64, 47 bytes",
                "IPv4 10.0.0.1:40001 > 10.0.0.2:8000: TCP [S.], ttl 64, 58 bytes",
            ]
        );
    }

    #[test]
    fn test_run_parses_ipv6_icmpv6_tcp_and_udp() {
        if !testing::ready_for(&chapter08::PACKET_PARSE) {
            return;
        }
        // ICMPv6's checksum covers a pseudo-header; the parser does not check it.
        let echo = [128, 0, 0, 0, 0, 1, 0, 1];
        let frames = [
            ethernet(MAC_B, MAC_A, 0x86dd, &ipv6(IP6_A, IP6_B, 58, &echo)),
            ethernet(
                MAC_B,
                MAC_A,
                0x86dd,
                &ipv6(IP6_A, IP6_B, 6, &tcp(40002, 443, 0x11)),
            ),
            ethernet(
                MAC_B,
                MAC_A,
                0x86dd,
                &ipv6(IP6_A, IP6_B, 17, &udp(5353, 53, b"q")),
            ),
        ];
        let infos = parse_all(&frames);
        assert!(
            infos
                .iter()
                .all(|info| info.ip_version == 6 && info.eth_proto == 0x86dd)
        );
        assert_eq!(infos[0].saddr, IP6_A);
        assert_eq!(infos[0].daddr, IP6_B);
        let lines: Vec<String> = infos.iter().map(packet::describe).collect();
        assert_eq!(
            lines,
            [
                "IPv6 fd00::1 > fd00::2: ICMPv6 echo request (type 128, code 0), hop limit 64, 62 bytes",
                "IPv6 [fd00::1]:40002 > [fd00::2]:443: TCP [F.], hop limit 64, 74 bytes",
                "IPv6 [fd00::1]:5353 > [fd00::2]:53: UDP, hop limit 64, 63 bytes",
            ]
        );
    }

    /// Frames cut short stop the parse where the data ends: what was read is reported, and the
    /// verifier's bounds checks are what keeps the program from reading past it.
    #[test]
    fn test_run_stops_at_the_end_of_short_or_foreign_frames() {
        if !testing::ready_for(&chapter08::PACKET_PARSE) {
            return;
        }
        let full = ethernet(
            MAC_B,
            MAC_A,
            0x0800,
            &ipv4(IP_A, IP_B, 6, &[], &tcp(1, 2, 0x02)),
        );
        let frames = [
            ethernet(MAC_B, MAC_A, 0x0806, &[0; 28]),
            full[..ETH_HLEN + 10].to_vec(),
            full[..ETH_HLEN + 20 + 10].to_vec(),
        ];
        let lines: Vec<String> = parse_all(&frames).iter().map(packet::describe).collect();
        assert_eq!(
            lines,
            [
                "ethertype 0x0806, 42 bytes",
                "ethertype 0x0800, 24 bytes",
                "IPv4 10.0.0.1 > 10.0.0.2: protocol 6, ttl 64, 44 bytes",
            ]
        );
    }

    #[test]
    fn count_shows_the_labs_ping_udp_and_tcp_in_order_and_leaves_nothing() {
        if !testing::ready_for(&chapter08::PACKET_PARSE) {
            return;
        }
        let host = HostNetwork::now();
        // Eight lines: the first round's six frames (ping, datagram, and the TCP connection's
        // four) and the next round's first two, a second later, so that the example is still
        // running when the test looks at its lab.
        let mut parse = Session::spawn(PACKET_PARSE, &["--count", "8", "--timeout", "30"]);
        let first = lines_until(&mut parse, "an ICMP line", |l| l.starts_with("IPv4 "));
        let namespaces = testing::held_namespaces(parse.pid);
        let (status, rest) = parse.finish();
        assert!(
            matches!(status, WaitStatus::Exited(_, 0)),
            "{status:?}: {rest}"
        );
        let output = format!("{first}\n{rest}");
        let lines: Vec<&str> = output.lines().filter(|l| l.starts_with("IPv4 ")).collect();
        assert_eq!(lines.len(), 8, "{output}");
        assert_eq!(
            lines[0],
            "IPv4 10.0.0.1 > 10.0.0.2: ICMP echo request (type 8, code 0), ttl 64, 98 bytes"
        );
        let port = |line: &str| -> String {
            line.split_once("10.0.0.1:")
                .and_then(|(_, rest)| rest.split_once(' '))
                .map(|(port, _)| port.to_string())
                .unwrap_or_else(|| panic!("no source port: {line}"))
        };
        assert_eq!(
            lines[1],
            format!(
                "IPv4 10.0.0.1:{} > 10.0.0.2:7000: UDP, ttl 64, 47 bytes",
                port(lines[1])
            )
        );
        let tcp = port(lines[2]);
        assert_eq!(
            lines[2],
            format!("IPv4 10.0.0.1:{tcp} > 10.0.0.2:8000: TCP [S], ttl 64, 74 bytes")
        );
        // The handshake's last ACK, the data, the client's FIN. The server closes at once: if
        // the data is still unread it resets the connection and a answers nothing; if it was
        // read in time, the server sends a FIN, and a acknowledges it.
        let tcp_rest: Vec<String> = ["[.], ttl 64, 66", "[P.], ttl 64, 71", "[F.], ttl 64, 66"]
            .iter()
            .map(|tail| format!("IPv4 10.0.0.1:{tcp} > 10.0.0.2:8000: TCP {tail} bytes"))
            .collect();
        assert_eq!(lines[3..6], tcp_rest, "{output}");
        let fin_ack = format!("IPv4 10.0.0.1:{tcp} > 10.0.0.2:8000: TCP [.], ttl 64, 66 bytes");
        let second_round = if lines[6] == fin_ack { 7 } else { 6 };
        assert!(
            lines[second_round].contains(": ICMP echo request"),
            "{output}"
        );
        if second_round == 6 {
            assert!(
                lines[7].ends_with(":7000: UDP, ttl 64, 47 bytes"),
                "{output}"
            );
        }
        testing::assert_namespaces_gone(&namespaces);
        host.assert_unchanged();
    }

    #[test]
    fn ctrl_c_detaches_and_releases_everything() {
        if !testing::ready_for(&chapter08::PACKET_PARSE) {
            return;
        }
        let host = HostNetwork::now();
        let mut parse = Session::spawn(PACKET_PARSE, &[]);
        parse.expect_line("a TCP line", |l| l.contains(": TCP ["));
        let objects = parse.objects();
        assert_eq!(
            testing::program_types(&objects.progs),
            [libbpf_rs::ProgramType::Xdp]
        );
        assert!(testing::map_types(&objects.maps).contains(&libbpf_rs::MapType::RingBuf));
        let lab = HeldNamespaces::of(parse.pid);
        let inodes = testing::held_namespaces(parse.pid);
        let links = lab.run("ip", &["-d", "link", "show", "eth0"]).concat();
        assert_eq!(
            links.matches("prog/xdp").count(),
            1,
            "on b's eth0 only: {links}"
        );
        let (status, _) = parse.interrupt();
        assert!(matches!(status, WaitStatus::Exited(_, 0)), "{status:?}");
        let links = lab.run("ip", &["-d", "link", "show", "eth0"]).concat();
        assert!(!links.contains("xdp"), "{links}");
        objects.assert_released();
        drop(lab);
        testing::assert_namespaces_gone(&inodes);
        host.assert_unchanged();
    }

    #[test]
    fn stops_cleanly_on_sigterm() {
        if !testing::ready_for(&chapter08::PACKET_PARSE) {
            return;
        }
        let mut parse = Session::spawn(PACKET_PARSE, &[]);
        parse.expect_line("a UDP line", |l| l.contains(": UDP, "));
        testing::stop_leaving_nothing(parse, Stop::Sigterm);
    }

    #[test]
    fn a_bad_interface_is_one_line() {
        if !testing::ready_for(&chapter08::PACKET_PARSE) {
            return;
        }
        let output = Command::new(PACKET_PARSE)
            .args(["--iface", "no-such-if0"])
            .output()
            .unwrap();
        testing::assert_one_line_error(
            &output,
            "packet-parse: --iface no-such-if0: there is no interface no-such-if0 here (see `ip link`)",
        );
    }
}
