//! An example driven in a pseudo-terminal, as a reader would run it.

use std::process::Command;
use std::time::{Duration, Instant};

use rexpect::process::WaitStatus;
use rexpect::session::PtySession;

use super::leaks::{BpfObjects, IdMark};

/// An example running in a pseudo-terminal, as a reader would run it. However it ends, the
/// session checks that it left no BPF objects behind.
pub struct Session {
    pty: PtySession,
    pub pid: u32,
    mark: IdMark,
}

impl Session {
    /// Starts `binary args…` in a pty; `exec` through sh keeps the pid, which sh prints first.
    pub fn spawn(binary: &str, args: &[&str]) -> Session {
        let mark = IdMark::now();
        let mut command = Command::new("/bin/sh");
        command
            .arg("-c")
            .arg("echo \"session-pid $$\"; exec \"$0\" \"$@\"")
            .arg(binary)
            .args(args);
        // rexpect's own timeout bounds one read; expect_line and wait_for_line keep reading
        // until their own deadlines.
        let mut pty = rexpect::session::spawn_command(command, Some(500)).expect("spawn in a pty");
        let deadline = Instant::now() + Duration::from_secs(30);
        let (_, pid) = loop {
            match pty.exp_regex(r"session-pid (\d+)") {
                Ok(found) => break found,
                Err(rexpect::error::Error::Timeout { .. }) if Instant::now() < deadline => {}
                Err(e) => panic!("starting {binary}: {e}"),
            }
        };
        let pid = pid
            .trim_start_matches("session-pid ")
            .trim()
            .parse()
            .expect("pid");
        Session { pty, pid, mark }
    }

    /// Reads lines until one satisfies `wanted`, returning it. Fails after 30 s, or after
    /// `$LEARNING_EBPF_WAIT_SECS` (the mutant runs shorten it).
    pub fn expect_line(&mut self, what: &str, wanted: impl FnMut(&str) -> bool) -> String {
        let secs = std::env::var("LEARNING_EBPF_WAIT_SECS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(30);
        match self.wait_for_line(Duration::from_secs(secs), wanted) {
            Ok(line) => line,
            Err(seen) => panic!("timed out waiting for {what}; output so far: {seen:#?}"),
        }
    }

    /// Reads lines until one satisfies `wanted` or `timeout` passes. On timeout (or when the
    /// example exits) returns everything read meanwhile.
    pub fn wait_for_line(
        &mut self,
        timeout: Duration,
        mut wanted: impl FnMut(&str) -> bool,
    ) -> Result<String, Vec<String>> {
        let deadline = Instant::now() + timeout;
        let mut seen = Vec::new();
        while Instant::now() < deadline {
            match self.pty.read_line() {
                Ok(line) => {
                    let line = line.trim_end_matches('\r').to_string();
                    if wanted(&line) {
                        return Ok(line);
                    }
                    seen.push(line);
                }
                Err(rexpect::error::Error::Timeout { .. }) => {}
                Err(e) => {
                    seen.push(format!("({e})"));
                    return Err(seen);
                }
            }
        }
        Err(seen)
    }

    /// The BPF objects the example holds right now.
    pub fn objects(&self) -> BpfObjects {
        BpfObjects::of_process(self.pid)
    }

    /// Presses Ctrl-C and returns how the example exited and what it printed meanwhile.
    pub fn interrupt(mut self) -> (WaitStatus, String) {
        self.pty.send_control('c').expect("send Ctrl-C");
        self.finish()
    }

    /// Sends SIGTERM, as `kill` or a service manager would.
    pub fn terminate(mut self) -> (WaitStatus, String) {
        self.pty
            .process_mut()
            .signal(rexpect::process::Signal::SIGTERM)
            .expect("send SIGTERM");
        self.finish()
    }

    /// Waits (up to a minute) for the example to end by itself (`--count`, `--timeout`).
    pub fn finish(mut self) -> (WaitStatus, String) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let rest = loop {
            match self.pty.exp_eof() {
                Ok(rest) => break rest,
                Err(rexpect::error::Error::Timeout { .. }) if Instant::now() < deadline => {}
                Err(e) => panic!("the example did not exit: {e}"),
            }
        };
        let status = self.pty.process().wait().expect("wait for the example");
        self.mark.assert_nothing_left();
        (status, rest.replace('\r', ""))
    }
}
