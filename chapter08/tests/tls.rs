//! tls-sniff on the real kernel: the plaintext of a TLS exchange between openssl's s_client and
//! s_server, read by uprobes on libssl.

use std::collections::BTreeSet;

use ebpf_support::needs::Capability;
use ebpf_support::testing::{self, HostNetwork, Session, Stop, WaitStatus};

const TLS_SNIFF: &str = env!("CARGO_BIN_EXE_tls-sniff");

/// The children (s_server, s_client) of process `pid`.
fn children(pid: u32) -> BTreeSet<u32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

fn gone(pid: u32) -> bool {
    // A zombie still has a /proc entry; its state says so.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|stat| {
            stat.rsplit_once(") ")
                .is_some_and(|(_, rest)| rest.starts_with('Z'))
        })
        .unwrap_or(true)
}

mod tls_sniff {
    use super::*;

    /// A unique line goes over TLS; the client's SSL_write shows it, and its SSL_read shows the
    /// server's answer (the line reversed), both in plain text.
    #[test]
    fn captures_a_known_plaintext_both_ways() {
        if !testing::ready_for(&chapter08::tls::TLS_SNIFF) {
            return;
        }
        let message = format!("secret {} over TLS", std::process::id());
        let reversed: String = message.chars().rev().collect();
        let mut session = Session::spawn(
            TLS_SNIFF,
            &["--message", &message, "--count", "2", "--timeout", "20"],
        );
        let pid = session.pid;
        let attached = session.expect_line("the attach message", |l| l.contains("uprobes on"));
        let helpers = children(pid);
        assert_eq!(helpers.len(), 2, "s_server and s_client: {helpers:?}");
        for helper in &helpers {
            assert!(attached.contains(&helper.to_string()), "{attached}");
        }
        let (status, output) = session.finish();
        assert!(
            matches!(status, WaitStatus::Exited(_, 0)),
            "{status:?}: {output}"
        );
        let events: Vec<&str> = output
            .lines()
            .map(str::trim_end)
            .filter(|l| l.starts_with("WRITE ") || l.starts_with("READ "))
            .collect();
        let len = message.len() + 1;
        let expected_write = format!(" len {len}: \"{message}\\n\"");
        let expected_read = format!(" len {len}: \"{reversed}\\n\"");
        assert_eq!(events.len(), 2, "{output}");
        assert!(
            events[0].starts_with("WRITE openssl ") && events[0].ends_with(&expected_write),
            "{output}"
        );
        assert!(
            events[1].starts_with("READ openssl ") && events[1].ends_with(&expected_read),
            "{output}"
        );
        // Both from the client, one of the processes the example started.
        let client: Vec<&str> = events
            .iter()
            .map(|e| e.split_whitespace().nth(2).unwrap())
            .collect();
        assert_eq!(client[0], client[1], "{output}");
        assert!(helpers.contains(&client[0].parse().unwrap()), "{output}");
        for helper in helpers {
            assert!(gone(helper), "{helper} still runs");
        }
    }

    #[test]
    fn ctrl_c_stops_the_helpers_and_detaches() {
        if !testing::ready_for(&chapter08::tls::TLS_SNIFF) {
            return;
        }
        let host = HostNetwork::now();
        let mut session = Session::spawn(TLS_SNIFF, &[]);
        session.expect_line("a captured write", |l| l.starts_with("WRITE openssl"));
        let helpers = children(session.pid);
        let namespaces = testing::held_namespaces(session.pid);
        assert_eq!(namespaces.len(), 1, "{namespaces:?}");
        let objects = session.objects();
        assert_eq!(
            testing::program_types(&objects.progs),
            [libbpf_rs::ProgramType::Kprobe; 4]
        );
        // Two processes, four probes each: BPF links where the kernel makes perf-event
        // attachments links (5.15+), perf events alone before.
        let links = if ebpf_support::has(Capability::PerfEventLink) {
            8
        } else {
            0
        };
        assert_eq!(objects.links.len(), links, "{objects:?}");
        let (status, output) = session.interrupt();
        assert!(
            matches!(status, WaitStatus::Exited(_, 0)),
            "{status:?}: {output}"
        );
        objects.assert_released();
        for helper in helpers {
            assert!(gone(helper), "{helper} still runs");
        }
        testing::assert_namespaces_gone(&namespaces);
        host.assert_unchanged();
    }

    /// With --all the probes are on the library for every process: a TLS client that the
    /// test starts in a lab of its own shows up too.
    #[test]
    fn all_captures_a_client_it_did_not_start() {
        if !testing::ready_for(&chapter08::tls::TLS_SNIFF) {
            return;
        }
        let mut session = Session::spawn(TLS_SNIFF, &["--all", "--timeout", "30"]);
        let attached = session.expect_line("the attach message", |l| l.contains("uprobes on"));
        assert!(attached.contains("every process"), "{attached}");
        let objects = session.objects();
        // One process ID for all: four probes, links where perf-event attachments are links.
        let links = if ebpf_support::has(Capability::PerfEventLink) {
            4
        } else {
            0
        };
        assert_eq!(objects.links.len(), links, "{objects:?}");

        let mut other = chapter08::tls::TlsPair::start().expect("a TLS pair of the test's own");
        let message = format!("not from a client tls-sniff started {}", std::process::id());
        other
            .send(&message)
            .expect("sending over the test's TLS pair");
        let write = format!("WRITE openssl {} ", other.client_pid());
        let line = session.expect_line("the test's client's write", |l| l.starts_with(&write));
        assert!(line.contains(&message), "{line}");

        let (status, output) = session.interrupt();
        assert!(
            matches!(status, WaitStatus::Exited(_, 0)),
            "{status:?}: {output}"
        );
        objects.assert_released();
    }

    #[test]
    fn stops_cleanly_on_sigterm() {
        if !testing::ready_for(&chapter08::tls::TLS_SNIFF) {
            return;
        }
        let mut session = Session::spawn(TLS_SNIFF, &[]);
        session.expect_line("a captured read", |l| l.starts_with("READ openssl"));
        let helpers = children(session.pid);
        testing::stop_leaving_nothing(session, Stop::Sigterm);
        for helper in helpers {
            assert!(gone(helper), "{helper} still runs");
        }
    }

    #[test]
    fn without_openssl_it_says_so_in_one_line() {
        if !testing::ready_for(&chapter08::tls::TLS_SNIFF) {
            return;
        }
        let output = std::process::Command::new(TLS_SNIFF)
            .env("PATH", "/nonexistent")
            .output()
            .unwrap();
        testing::assert_one_line_error(
            &output,
            "tls-sniff: the openssl command is not installed (`cargo xtask setup` installs it); the example starts a TLS server and client with it",
        );
    }

    #[test]
    fn a_multi_line_message_is_one_line_of_error() {
        if !testing::ready_for(&chapter08::tls::TLS_SNIFF) {
            return;
        }
        let output = std::process::Command::new(TLS_SNIFF)
            .args(["--message", "two\nlines"])
            .output()
            .unwrap();
        testing::assert_one_line_error(
            &output,
            "tls-sniff: --message: one line, please (the server answers line by line)",
        );
    }
}
