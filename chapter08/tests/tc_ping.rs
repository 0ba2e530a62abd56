//! tc-ping on the real kernel: its three TC programs fed crafted frames (BPF_PROG_TEST_RUN),
//! with the rewritten reply's bytes and checksums checked, and the binary in its lab.

mod frames;

use std::mem::MaybeUninit;
use std::process::{Command, Stdio};
use std::time::Duration;

use ebpf_support::TraceLine;
use ebpf_support::lab::{Lab, Pinger, internet_checksum};
use ebpf_support::testing::{self, HeldNamespaces, HostNetwork, Session, WaitStatus};
use frames::*;
use libbpf_rs::ProgramInput;
use libbpf_rs::skel::{OpenSkel, SkelBuilder};

mod skel {
    ebpf_support::skeleton!(tc);
    pub use tc::TcSkelBuilder;
}

const TC_PING: &str = env!("CARGO_BIN_EXE_tc-ping");
const TC_ACT_OK: u32 = 0;
const TC_ACT_SHOT: u32 = 2;

/// The `[tc] …` messages among `output`'s trace lines.
fn tc_messages(output: &str) -> Vec<String> {
    output
        .lines()
        .filter_map(TraceLine::parse)
        .map(|line| line.message)
        .filter(|message| message.starts_with("[tc] "))
        .collect()
}

/// Runs program `name` of tc.bpf.c once on `frame`, inside a lab namespace of its own (what
/// tc_pingpong clones goes out of that namespace's lo, not the host's): verdict and bytes out.
fn test_run(name: &str, frame: &[u8]) -> (u32, Vec<u8>) {
    // Its trace lines must not reach another test's reader.
    let _lock = testing::lock_trace_pipe();
    let lab = Lab::single().unwrap();
    let mut object = MaybeUninit::uninit();
    let skel = skel::TcSkelBuilder::default()
        .open(&mut object)
        .unwrap()
        .load()
        .unwrap();
    let program = match name {
        "tc_drop" => &skel.progs.tc_drop,
        "tc_drop_ping" => &skel.progs.tc_drop_ping,
        "tc_pingpong" => &skel.progs.tc_pingpong,
        other => panic!("no program {other}"),
    };
    let mut out = vec![0u8; frame.len()];
    let input = ProgramInput {
        data_in: Some(frame),
        data_out: Some(&mut out),
        repeat: 1,
        ..Default::default()
    };
    let verdict = lab
        .node("node")
        .netns
        .run_here(|| program.test_run(input))
        .unwrap()
        .unwrap()
        .return_value;
    (verdict, out)
}

mod tc_ping {
    use super::*;

    #[test]
    fn test_run_pingpong_turns_an_echo_request_into_its_reply_with_valid_checksums() {
        if !testing::ready_for(&chapter08::TC_PING) {
            return;
        }
        let request = echo_request_frame();
        let (verdict, reply) = test_run("tc_pingpong", &request);
        assert_eq!(
            verdict, TC_ACT_SHOT,
            "the original is dropped once its reply is sent"
        );

        // The reply, built here independently: addresses swapped, type 0, checksums anew.
        let icmp = icmp_echo(0, 0x4242, 7);
        let expected = ethernet(MAC_A, MAC_B, 0x0800, &ipv4(IP_B, IP_A, 1, &[], &icmp));
        assert_eq!(reply.len(), expected.len());
        assert_eq!(reply[..6], MAC_A, "destination MAC");
        assert_eq!(reply[6..12], MAC_B, "source MAC");
        let ip = &reply[ETH_HLEN..ETH_HLEN + 20];
        assert_eq!(ip[12..16], IP_B, "source IP");
        assert_eq!(ip[16..20], IP_A, "destination IP");
        assert_eq!(internet_checksum(ip), 0, "the IP header's checksum holds");
        let message = &reply[ETH_HLEN + 20..];
        assert_eq!(message[0], 0, "ICMP type: echo reply");
        assert_eq!(internet_checksum(message), 0, "the ICMP checksum holds");
        assert_eq!(
            u16::from_be_bytes([message[2], message[3]]),
            u16::from_be_bytes([icmp[2], icmp[3]]),
            "ICMP checksum"
        );
        assert_eq!(reply, expected);
    }

    #[test]
    fn test_run_pingpong_passes_everything_else_untouched() {
        if !testing::ready_for(&chapter08::TC_PING) {
            return;
        }
        let reply = ethernet(
            MAC_A,
            MAC_B,
            0x0800,
            &ipv4(IP_B, IP_A, 1, &[], &icmp_echo(0, 1, 1)),
        );
        let udp = ethernet(
            MAC_B,
            MAC_A,
            0x0800,
            &ipv4(IP_A, IP_B, 17, &[], &udp(5000, 53, b"q")),
        );
        for frame in [reply, udp] {
            assert_eq!(test_run("tc_pingpong", &frame), (TC_ACT_OK, frame));
        }
    }

    #[test]
    fn test_run_drop_ping_drops_echo_requests_only() {
        if !testing::ready_for(&chapter08::TC_PING) {
            return;
        }
        let request = echo_request_frame();
        assert_eq!(test_run("tc_drop_ping", &request).0, TC_ACT_SHOT);
        let reply = ethernet(
            MAC_A,
            MAC_B,
            0x0800,
            &ipv4(IP_B, IP_A, 1, &[], &icmp_echo(0, 1, 1)),
        );
        let tcp = ethernet(
            MAC_B,
            MAC_A,
            0x0800,
            &ipv4(IP_A, IP_B, 6, &[], &tcp(5000, 80, 0x02)),
        );
        for frame in [reply, tcp] {
            assert_eq!(test_run("tc_drop_ping", &frame), (TC_ACT_OK, frame));
        }
    }

    #[test]
    fn test_run_drop_drops_every_packet() {
        if !testing::ready_for(&chapter08::TC_PING) {
            return;
        }
        let udp = ethernet(
            MAC_B,
            MAC_A,
            0x0800,
            &ipv4(IP_A, IP_B, 17, &[], &udp(5000, 53, b"q")),
        );
        for frame in [
            echo_request_frame(),
            udp,
            ethernet(MAC_B, MAC_A, 0x0806, &[0; 28]),
        ] {
            assert_eq!(test_run("tc_drop", &frame).0, TC_ACT_SHOT);
        }
    }

    /// The book's promise: ping gets its replies from eBPF. b's kernel ignores pings, so every
    /// reply counted here was made by tc_pingpong.
    #[test]
    fn pingpong_answers_every_ping_from_ebpf_and_leaves_nothing() {
        if !testing::ready_for(&chapter08::TC_PING) {
            return;
        }
        let _lock = testing::lock_trace_pipe();
        let host = HostNetwork::now();
        let mut tc = Session::spawn(
            TC_PING,
            &["--program", "pingpong", "--count", "3", "--timeout", "30"],
        );
        let first = lines_until(&mut tc, "a [tc] line", |l| l.contains("[tc] "));
        let namespaces = testing::held_namespaces(tc.pid);
        assert_eq!(namespaces.len(), 2, "Lab::pair is two namespaces");
        let (status, rest) = tc.finish();
        let output = format!("{first}\n{rest}");
        assert!(
            matches!(status, WaitStatus::Exited(_, 0)),
            "{status:?}: {output}"
        );
        // 10.0.0.2 as the u32 it is in memory on a little-endian machine, as the book prints it.
        let daddr = format!("{:x}", u32::from_ne_bytes(IP_B));
        assert_eq!(
            tc_messages(&output),
            vec![format!("[tc] ICMP request for {daddr} type 8"); 3],
            "{output}"
        );
        for seq in 1..=3 {
            assert!(
                output.contains(&format!("64 bytes from 10.0.0.2: icmp_seq={seq} ")),
                "{output}"
            );
        }
        assert!(
            output.contains(
                "--- 10.0.0.2: 3 echo requests sent, 3 replies received (tc_pingpong) ---"
            ),
            "{output}"
        );
        testing::assert_namespaces_gone(&namespaces);
        host.assert_unchanged();
    }

    #[test]
    fn drop_ping_and_drop_stop_the_replies() {
        if !testing::ready_for(&chapter08::TC_PING) {
            return;
        }
        let _lock = testing::lock_trace_pipe();
        for (program, message, function) in [
            ("drop-ping", "[tc] ICMP request for", "tc_drop_ping"),
            ("drop", "[tc] dropping packet", "tc_drop"),
        ] {
            let tc = Session::spawn(
                TC_PING,
                &["--program", program, "--count", "2", "--timeout", "30"],
            );
            let (status, output) = tc.finish();
            assert!(
                matches!(status, WaitStatus::Exited(_, 0)),
                "{status:?}: {output}"
            );
            let messages = tc_messages(&output);
            assert_eq!(messages.len(), 2, "{output}");
            assert!(messages.iter().all(|m| m.starts_with(message)), "{output}");
            assert!(!output.contains("64 bytes from"), "{output}");
            assert!(
                output.contains(&format!(
                    "--- 10.0.0.2: 2 echo requests sent, 0 replies received ({function}) ---"
                )),
                "{output}"
            );
        }
    }

    /// While it runs, b's eth0 has a clsact qdisc with the program as a direct-action ingress
    /// filter (tc shows both); after Ctrl-C both are gone even from the lab, which the test
    /// keeps alive to look, and every object is released.
    #[test]
    fn ctrl_c_removes_the_filter_and_the_qdisc() {
        if !testing::ready_for(&chapter08::TC_PING) {
            return;
        }
        let _lock = testing::lock_trace_pipe();
        let host = HostNetwork::now();
        let mut tc = Session::spawn(TC_PING, &["--program", "drop-ping"]);
        tc.expect_line("a [tc] line", |l| l.contains("[tc] ICMP request"));
        let objects = tc.objects();
        let types = testing::program_types(&objects.progs);
        assert_eq!(
            types,
            vec![libbpf_rs::ProgramType::SchedCls; 3],
            "tc.bpf.c's three programs"
        );
        let lab = HeldNamespaces::of(tc.pid);
        let inodes = testing::held_namespaces(tc.pid);
        let qdiscs = lab.run("tc", &["qdisc", "show", "dev", "eth0"]).concat();
        assert_eq!(qdiscs.matches("qdisc clsact").count(), 1, "{qdiscs}");
        let filters = lab
            .run("tc", &["filter", "show", "dev", "eth0", "ingress"])
            .concat();
        assert!(
            filters.contains("tc_drop_ping") && filters.contains("direct-action"),
            "{filters}"
        );
        let (status, output) = tc.interrupt();
        assert!(
            matches!(status, WaitStatus::Exited(_, 0)),
            "{status:?}: {output}"
        );
        let qdiscs = lab.run("tc", &["qdisc", "show", "dev", "eth0"]).concat();
        assert!(!qdiscs.contains("clsact"), "{qdiscs}");
        let filters = lab
            .run("tc", &["filter", "show", "dev", "eth0", "ingress"])
            .concat();
        assert!(!filters.contains("bpf"), "{filters}");
        objects.assert_released();
        drop(lab);
        testing::assert_namespaces_gone(&inodes);
        host.assert_unchanged();
    }

    #[test]
    fn stops_cleanly_on_sigterm() {
        if !testing::ready_for(&chapter08::TC_PING) {
            return;
        }
        let _lock = testing::lock_trace_pipe();
        let mut tc = Session::spawn(TC_PING, &[]);
        tc.expect_line("a reply", |l| l.starts_with("64 bytes from 10.0.0.2"));
        let objects = tc.objects();
        let lab = HeldNamespaces::of(tc.pid);
        let (status, _) = tc.terminate();
        assert!(matches!(status, WaitStatus::Exited(_, 0)), "{status:?}");
        let qdiscs = lab.run("tc", &["qdisc", "show", "dev", "eth0"]).concat();
        assert!(!qdiscs.contains("clsact"), "{qdiscs}");
        objects.assert_released();
    }

    /// --iface attaches to the ingress of the interface named (here b's eth0 of a lab the test
    /// made, entered before the start), sends nothing, and removes the qdisc it added.
    #[test]
    fn iface_attaches_there_and_removes_its_qdisc() {
        if !testing::ready_for(&chapter08::TC_PING) {
            return;
        }
        let _lock = testing::lock_trace_pipe();
        let lab = Lab::pair().unwrap();
        let (a, b) = (lab.node("a"), lab.node("b"));
        let mut child = b
            .netns
            .command(TC_PING)
            .args([
                "--iface",
                "eth0",
                "--program",
                "drop-ping",
                "--count",
                "2",
                "--timeout",
                "20",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let pinger = Pinger::new(&a.netns).unwrap();
        // A ping every 200 ms until the example has seen two (answered ones take microseconds:
        // the pause keeps the pings coming for as long as it takes the example to attach).
        let mut seq = 0;
        while child.try_wait().unwrap().is_none() && seq < 100 {
            seq += 1;
            pinger
                .ping(b.iface.ip, seq, Duration::from_millis(200))
                .unwrap();
            std::thread::sleep(Duration::from_millis(200));
        }
        let output = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{output:?}");
        assert_eq!(tc_messages(&stdout).len(), 2, "{stdout}{stderr}");
        let qdiscs = b
            .netns
            .command("tc")
            .args(["qdisc", "show", "dev", "eth0"])
            .output()
            .unwrap();
        let qdiscs = String::from_utf8_lossy(&qdiscs.stdout);
        assert!(!qdiscs.contains("clsact"), "{qdiscs}");
        // Pings pass again.
        assert!(
            pinger
                .ping(b.iface.ip, 1000, Duration::from_secs(1))
                .unwrap()
                .is_some()
        );
    }

    #[test]
    fn a_bad_interface_is_one_line() {
        if !testing::ready_for(&chapter08::TC_PING) {
            return;
        }
        let output = Command::new(TC_PING)
            .args(["--iface", "no-such-if0"])
            .output()
            .unwrap();
        testing::assert_one_line_error(
            &output,
            "tc-ping: --iface no-such-if0: there is no interface no-such-if0 here (see `ip link`)",
        );
    }
}
