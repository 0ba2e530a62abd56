//! ping on the real kernel: its XDP program fed crafted frames (BPF_PROG_TEST_RUN), and the
//! binary in its own lab, with --drop, with --iface, and stopped by signals.

mod frames;

use std::mem::MaybeUninit;
use std::process::{Command, Stdio};
use std::time::Duration;

use ebpf_support::lab::{Lab, Pinger};
use ebpf_support::testing::{self, HeldNamespaces, HostNetwork, Session, Stop, WaitStatus};
use ebpf_support::{Run, RunArgs, TraceLine, TracePipe};
use frames::*;
use libbpf_rs::ProgramInput;
use libbpf_rs::skel::{OpenSkel, SkelBuilder};

mod skel {
    ebpf_support::skeleton!(ping);
    pub use ping::PingSkelBuilder;
}

const PING: &str = env!("CARGO_BIN_EXE_ping");
const XDP_DROP: u32 = 1;
const XDP_PASS: u32 = 2;

/// The `Hello ping` lines among `output`'s lines.
fn hello_lines(output: &str) -> usize {
    output
        .lines()
        .filter_map(TraceLine::parse)
        .filter(|line| line.message == "Hello ping")
        .count()
}

/// Runs the ping program on each frame (with --drop's setting `drop`): the verdicts, and the
/// `Hello ping` lines it wrote meanwhile.
fn test_run(drop: bool, frames: &[Vec<u8>]) -> (Vec<u32>, usize) {
    let mut trace_pipe = TracePipe::open().unwrap();
    let mut object = MaybeUninit::uninit();
    let mut open = skel::PingSkelBuilder::default().open(&mut object).unwrap();
    open.maps
        .rodata_data
        .as_deref_mut()
        .unwrap()
        .drop_echo_requests = drop;
    let skel = open.load().unwrap();
    let verdicts = frames
        .iter()
        .map(|frame| {
            let mut out = vec![0u8; frame.len()];
            let input = ProgramInput {
                data_in: Some(frame),
                data_out: Some(&mut out),
                repeat: 1,
                ..Default::default()
            };
            let verdict = skel.progs.ping.test_run(input).unwrap().return_value;
            assert_eq!(&out, frame, "ping never changes a packet");
            verdict
        })
        .collect();
    let run = Run::new(&RunArgs {
        timeout: Some(Duration::from_millis(500)),
        ..Default::default()
    });
    let mut lines = 0;
    while let Some(line) = trace_pipe.next_line(&run).unwrap() {
        if TraceLine::parse(&line).is_some_and(|l| l.message == "Hello ping") {
            lines += 1;
        }
    }
    (verdicts, lines)
}

mod ping {
    use super::*;

    fn frames() -> Vec<Vec<u8>> {
        let icmp = |icmp_type| {
            ethernet(
                MAC_B,
                MAC_A,
                0x0800,
                &ipv4(IP_A, IP_B, 1, &[], &icmp_echo(icmp_type, 1, 1)),
            )
        };
        vec![
            icmp(8),
            icmp(0),
            ethernet(
                MAC_B,
                MAC_A,
                0x0800,
                &ipv4(IP_A, IP_B, 6, &[], &tcp(1234, 80, 0x02)),
            ),
            ethernet(
                MAC_B,
                MAC_A,
                0x0800,
                &ipv4(IP_A, IP_B, 17, &[], &udp(1234, 53, b"x")),
            ),
            // ARP, and a frame cut short inside the IP header: not ICMP as far as ping knows.
            ethernet(MAC_B, MAC_A, 0x0806, &[0; 28]),
            ethernet(MAC_B, MAC_A, 0x0800, &ipv4(IP_A, IP_B, 1, &[], &[])[..12]),
        ]
    }

    #[test]
    fn test_run_says_hello_for_icmp_only_and_passes_everything() {
        if !testing::ready_for(&chapter08::PING) {
            return;
        }
        let _lock = testing::lock_trace_pipe();
        let (verdicts, lines) = test_run(false, &frames());
        assert_eq!(verdicts, [XDP_PASS; 6]);
        assert_eq!(
            lines, 2,
            "one Hello ping for the request, one for the reply"
        );
    }

    #[test]
    fn test_run_with_drop_drops_echo_requests_only() {
        if !testing::ready_for(&chapter08::PING) {
            return;
        }
        let _lock = testing::lock_trace_pipe();
        let (verdicts, lines) = test_run(true, &frames());
        assert_eq!(
            verdicts,
            [XDP_DROP, XDP_PASS, XDP_PASS, XDP_PASS, XDP_PASS, XDP_PASS]
        );
        assert_eq!(lines, 2);
    }

    #[test]
    fn count_4_shows_two_lines_per_ping_in_its_own_lab_and_leaves_nothing() {
        if !testing::ready_for(&chapter08::PING) {
            return;
        }
        let _lock = testing::lock_trace_pipe();
        let host = HostNetwork::now();
        let mut ping = Session::spawn(PING, &["--count", "4", "--timeout", "30"]);
        let first = lines_until(&mut ping, "a Hello ping line", |l| {
            l.ends_with("Hello ping")
        });
        let namespaces = testing::held_namespaces(ping.pid);
        assert_eq!(namespaces.len(), 1, "Lab::single is one namespace");
        let (status, rest) = ping.finish();
        let output = format!("{first}\n{rest}");
        assert!(
            matches!(status, WaitStatus::Exited(_, 0)),
            "{status:?}: {output}"
        );
        assert_eq!(hello_lines(&output), 4, "{output}");
        // The book's "ping-26622 [000] d.s11 …: bpf_trace_printk: Hello ping": the packets
        // are handled in the context of the process that sent them, this one (whose name the
        // tracer may not have recorded yet: `<...>`).
        let line = TraceLine::parse(first.lines().last().unwrap()).unwrap();
        assert!(
            ["ping", "<...>"].contains(&line.comm.as_str()) || line.comm.starts_with("ksoftirqd/"),
            "{first}"
        );
        assert!(
            output.contains("64 bytes from 127.0.0.1: icmp_seq=1 "),
            "{output}"
        );
        assert!(
            output.contains("64 bytes from 127.0.0.1: icmp_seq=2 "),
            "{output}"
        );
        assert!(
            output.contains("--- 127.0.0.1: 2 echo requests sent, 2 replies received (XDP_PASS for every packet) ---"),
            "{output}"
        );
        testing::assert_namespaces_gone(&namespaces);
        host.assert_unchanged();
    }

    #[test]
    fn drop_shows_one_line_per_ping_and_the_replies_stop() {
        if !testing::ready_for(&chapter08::PING) {
            return;
        }
        let _lock = testing::lock_trace_pipe();
        let ping = Session::spawn(PING, &["--drop", "--count", "3", "--timeout", "30"]);
        let (status, output) = ping.finish();
        assert!(
            matches!(status, WaitStatus::Exited(_, 0)),
            "{status:?}: {output}"
        );
        assert_eq!(hello_lines(&output), 3, "{output}");
        for seq in 1..=3 {
            assert!(
                output.contains(&format!("no reply from 127.0.0.1: icmp_seq={seq}\n")),
                "{output}"
            );
        }
        assert!(!output.contains("64 bytes from"), "{output}");
        assert!(
            output.contains("--- 127.0.0.1: 3 echo requests sent, 0 replies received (XDP_DROP for echo requests, XDP_PASS for the rest) ---"),
            "{output}"
        );
    }

    /// While it runs, the lab's lo carries the XDP program (iproute2 shows it); Ctrl-C
    /// detaches it before the lab goes, and releases every object.
    #[test]
    fn ctrl_c_detaches_the_program_from_the_labs_lo_and_removes_the_lab() {
        if !testing::ready_for(&chapter08::PING) {
            return;
        }
        let _lock = testing::lock_trace_pipe();
        let host = HostNetwork::now();
        let mut ping = Session::spawn(PING, &[]);
        ping.expect_line("a reply", |l| l.starts_with("64 bytes from 127.0.0.1"));
        let objects = ping.objects();
        assert_eq!(
            testing::program_types(&objects.progs),
            [libbpf_rs::ProgramType::Xdp]
        );
        let program = *objects.progs.iter().next().unwrap();
        let lab = HeldNamespaces::of(ping.pid);
        let link = lab.run("ip", &["-d", "link", "show", "lo"]).concat();
        assert!(link.contains(&format!("prog/xdp id {program}")), "{link}");
        let inodes = testing::held_namespaces(ping.pid);
        let (status, output) = ping.interrupt();
        assert!(
            matches!(status, WaitStatus::Exited(_, 0)),
            "{status:?}: {output}"
        );
        assert!(output.contains(" echo requests sent, "), "{output}");
        let link = lab.run("ip", &["-d", "link", "show", "lo"]).concat();
        assert!(!link.contains("xdp"), "still attached after Ctrl-C: {link}");
        objects.assert_released();
        drop(lab);
        testing::assert_namespaces_gone(&inodes);
        host.assert_unchanged();
    }

    #[test]
    fn stops_cleanly_on_sigterm() {
        if !testing::ready_for(&chapter08::PING) {
            return;
        }
        let _lock = testing::lock_trace_pipe();
        let mut ping = Session::spawn(PING, &["--drop"]);
        ping.expect_line("a Hello ping line", |l| l.ends_with("Hello ping"));
        testing::stop_leaving_nothing(ping, Stop::Sigterm);
    }

    /// --iface attaches where it is told (here the lo of a namespace the test made and pings
    /// in) and sends nothing itself.
    #[test]
    fn iface_attaches_to_that_interface_and_shows_the_readers_pings() {
        if !testing::ready_for(&chapter08::PING) {
            return;
        }
        let _lock = testing::lock_trace_pipe();
        let lab = Lab::single().unwrap();
        let node = lab.node("node");
        let mut child = node
            .netns
            .command(PING)
            .args(["--iface", "lo", "--count", "2", "--timeout", "20"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let pinger = Pinger::new(&node.netns).unwrap();
        // Until the example is attached the pings pass unseen; it stops after two lines.
        let mut seq = 0;
        while child.try_wait().unwrap().is_none() && seq < 100 {
            seq += 1;
            pinger
                .ping(node.iface.ip, seq, Duration::from_millis(200))
                .unwrap();
            std::thread::sleep(Duration::from_millis(200));
        }
        let output = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{output:?}");
        assert_eq!(hello_lines(&stdout), 2, "{stdout}");
        assert!(
            !stdout.contains("echo requests sent"),
            "--iface sends nothing: {stdout}"
        );
    }

    #[test]
    fn a_bad_interface_is_one_line() {
        if !testing::ready_for(&chapter08::PING) {
            return;
        }
        let output = Command::new(PING)
            .args(["--iface", "no-such-if0"])
            .output()
            .unwrap();
        testing::assert_one_line_error(
            &output,
            "ping: --iface no-such-if0: there is no interface no-such-if0 here (see `ip link`)",
        );
    }
}
