//! hello-xdp on the real kernel: in its own lab, and with --iface inside a lab the test makes.

use std::collections::BTreeSet;
use std::io::Read;
use std::net::UdpSocket;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ebpf_support::TraceLine;
use ebpf_support::lab::Lab;
use ebpf_support::testing::{self, Session, WaitStatus};

const HELLO_XDP: &str = env!("CARGO_BIN_EXE_hello-xdp");

/// The host's interfaces, by name, and `ip -o link` as iproute2 prints it.
fn host_links() -> (BTreeSet<String>, String) {
    let names = std::fs::read_dir("/sys/class/net")
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let ip = Command::new("ip").args(["-o", "link"]).output().unwrap();
    (names, String::from_utf8(ip.stdout).unwrap())
}

/// The `Hello World N` messages among `output`'s trace lines.
fn hello_messages(output: &str) -> Vec<String> {
    output
        .lines()
        .filter_map(TraceLine::parse)
        .map(|line| line.message)
        .filter(|message| message.starts_with("Hello World "))
        .collect()
}

mod hello_xdp {
    use super::*;

    #[test]
    fn count_shows_each_packet_of_its_lab_with_the_counter_and_leaves_nothing() {
        if !testing::ready_for(&chapter03::HELLO_XDP) {
            return;
        }
        let _lock = testing::lock_trace_pipe();
        let before = host_links();
        let hello = Session::spawn(HELLO_XDP, &["--count", "4", "--timeout", "30"]);
        let (status, output) = hello.finish();
        assert!(
            matches!(status, WaitStatus::Exited(_, 0)),
            "{status:?}: {output}"
        );
        assert_eq!(
            hello_messages(&output),
            [
                "Hello World 0",
                "Hello World 1",
                "Hello World 2",
                "Hello World 3"
            ],
            "{output}"
        );
        // The counter in .bss counted every datagram the lab's a sent to b, no more.
        let last = output.lines().last().unwrap_or_default();
        let (sent, counter) = last
            .strip_prefix("sent ")
            .and_then(|rest| rest.split_once(" datagrams; counter = "))
            .unwrap_or_else(|| panic!("no final report: {output}"));
        assert_eq!(sent, counter, "{output}");
        assert!(sent.parse::<u32>().unwrap() >= 4, "{output}");
        // No interface of the host was made or changed.
        assert_eq!(host_links(), before);
    }

    #[test]
    fn the_kernel_holds_an_xdp_program_and_its_global_maps_until_ctrl_c() {
        if !testing::ready_for(&chapter03::HELLO_XDP) {
            return;
        }
        let _lock = testing::lock_trace_pipe();
        let mut hello = Session::spawn(HELLO_XDP, &[]);
        hello.expect_line("a Hello World line", |l| l.ends_with("Hello World 1"));
        let objects = hello.objects();
        assert_eq!(
            testing::program_types(&objects.progs),
            [libbpf_rs::ProgramType::Xdp]
        );
        // The global variable and the format string: two array maps, named after the object
        // (libbpf keeps 8 characters of `hello_bpf`).
        assert!(testing::map_named(&objects.maps, "hello_bp.bss").is_some());
        assert!(testing::map_named(&objects.maps, "hello_bp.rodata").is_some());
        assert_eq!(
            testing::map_types(&objects.maps),
            [libbpf_rs::MapType::Array, libbpf_rs::MapType::Array]
        );
        hello.expect_line("a counter report", |l| l.starts_with("counter = "));
        let (status, _) = hello.interrupt();
        assert!(matches!(status, WaitStatus::Exited(_, 0)), "{status:?}");
        objects.assert_released();
    }

    #[test]
    fn stops_cleanly_on_sigterm() {
        if !testing::ready_for(&chapter03::HELLO_XDP) {
            return;
        }
        let _lock = testing::lock_trace_pipe();
        let mut hello = Session::spawn(HELLO_XDP, &[]);
        hello.expect_line("a Hello World line", |l| l.ends_with("Hello World 0"));
        let objects = hello.objects();
        let (status, _) = hello.terminate();
        assert!(matches!(status, WaitStatus::Exited(_, 0)), "{status:?}");
        objects.assert_released();
    }

    /// --iface attaches where it is told, here the lo of a namespace the test made, and
    /// passes every packet on (XDP_PASS).
    #[test]
    fn iface_attaches_to_that_interface_and_passes_its_packets() {
        if !testing::ready_for(&chapter03::HELLO_XDP) {
            return;
        }
        let _lock = testing::lock_trace_pipe();
        let lab = Lab::single().unwrap();
        let node = lab.node("node");
        let receiver = node
            .netns
            .run(|| UdpSocket::bind(("127.0.0.1", 0)))
            .unwrap()
            .unwrap();
        receiver.set_nonblocking(true).unwrap();
        let target = receiver.local_addr().unwrap();
        let sender = node
            .netns
            .run(|| UdpSocket::bind(("127.0.0.1", 0)))
            .unwrap()
            .unwrap();
        let mut child = node
            .netns
            .command(HELLO_XDP)
            .args(["--iface", "lo", "--count", "3", "--timeout", "20"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (mut sent, mut received) = (0, 0);
        let deadline = Instant::now() + Duration::from_secs(25);
        while child.try_wait().unwrap().is_none() && Instant::now() < deadline {
            sender.send_to(b"hello", target).unwrap();
            sent += 1;
            std::thread::sleep(Duration::from_millis(100));
            while receiver.recv(&mut [0; 16]).is_ok() {
                received += 1;
            }
        }
        let status = child.wait().unwrap();
        let mut output = String::new();
        child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut output)
            .unwrap();
        assert!(status.success(), "{status:?}: {output}");
        assert_eq!(
            hello_messages(&output)[..3],
            ["Hello World 0", "Hello World 1", "Hello World 2"],
            "{output}"
        );
        assert_eq!(received, sent, "XDP_PASS lets every datagram through");
    }

    #[test]
    fn a_bad_interface_is_one_line() {
        if !testing::ready_for(&chapter03::HELLO_XDP) {
            return;
        }
        let output = Command::new(HELLO_XDP)
            .args(["--iface", "no-such-if0"])
            .output()
            .unwrap();
        testing::assert_one_line_error(
            &output,
            "hello-xdp: --iface no-such-if0: there is no interface no-such-if0 here (see `ip link`)",
        );
    }
}
