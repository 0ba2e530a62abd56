//! Proof that a networking example kept to its lab: the host's interfaces and qdiscs are as
//! they were, and the lab's namespaces are gone once the example is.

use std::collections::BTreeSet;
use std::fs::File;
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::process::Command;
use std::time::{Duration, Instant};

/// The host's interfaces and qdiscs as iproute2 prints them (`ip -d link`, `tc qdisc`).
#[derive(Debug, PartialEq, Eq)]
pub struct HostNetwork {
    pub links: String,
    pub qdiscs: String,
}

impl HostNetwork {
    pub fn now() -> HostNetwork {
        let run = |program: &str, args: &[&str]| {
            let output = Command::new(program)
                .args(args)
                .output()
                .unwrap_or_else(|e| panic!("{program}: {e}"));
            assert!(output.status.success(), "{program} {args:?}: {output:?}");
            String::from_utf8(output.stdout).unwrap()
        };
        HostNetwork {
            links: run("ip", &["-d", "link"]),
            qdiscs: run("tc", &["qdisc"]),
        }
    }

    /// Fails unless the host's interfaces and qdiscs are exactly as in `self`.
    pub fn assert_unchanged(&self) {
        assert_eq!(
            &HostNetwork::now(),
            self,
            "the host's interfaces or qdiscs changed"
        );
    }
}

/// The inode of the network namespace behind a `/proc` link such as `net:[4026532000]`.
fn net_inode(link: &std::path::Path) -> Option<u64> {
    let target = std::fs::read_link(link).ok()?;
    target
        .to_str()?
        .strip_prefix("net:[")?
        .strip_suffix(']')?
        .parse()
        .ok()
}

/// The network namespaces that process `pid` holds open by descriptor (a lab's namespaces),
/// other than the one it runs in.
pub fn held_namespaces(pid: u32) -> BTreeSet<u64> {
    let own = net_inode(format!("/proc/{pid}/ns/net").as_ref());
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|entry| net_inode(&entry.path()))
                .filter(|inode| Some(*inode) != own)
                .collect()
        })
        .unwrap_or_default()
}

/// Every network namespace some process holds, as its own, a thread's, or by descriptor.
fn namespaces_in_use() -> BTreeSet<u64> {
    let mut inodes = BTreeSet::new();
    for process in std::fs::read_dir("/proc").unwrap().flatten() {
        let path = process.path();
        if let Ok(tasks) = std::fs::read_dir(path.join("task")) {
            inodes.extend(
                tasks
                    .flatten()
                    .filter_map(|task| net_inode(&task.path().join("ns/net"))),
            );
        }
        if let Ok(fds) = std::fs::read_dir(path.join("fd")) {
            inodes.extend(fds.flatten().filter_map(|fd| net_inode(&fd.path())));
        }
    }
    inodes
}

/// Fails unless, within a few seconds, no process holds any of `namespaces` any more (the
/// kernel then deletes them, with their interfaces, qdiscs and XDP programs).
pub fn assert_namespaces_gone(namespaces: &BTreeSet<u64>) {
    assert!(!namespaces.is_empty(), "no lab namespaces to check");
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let left: Vec<u64> = namespaces_in_use()
            .intersection(namespaces)
            .copied()
            .collect();
        if left.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "lab namespaces still held: {left:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// How a test stops an example: as a reader would (Ctrl-C), or as a service manager would.
#[derive(Clone, Copy, Debug)]
pub enum Stop {
    CtrlC,
    Sigterm,
}

/// Stops a networking example and proves that it leaves nothing behind: it exits 0, every BPF
/// object it held is released, and its lab's namespaces are gone. Returns what it printed on
/// the way out.
pub fn stop_leaving_nothing(session: super::Session, stop: Stop) -> String {
    let namespaces = held_namespaces(session.pid);
    let objects = session.objects();
    let (status, output) = match stop {
        Stop::CtrlC => session.interrupt(),
        Stop::Sigterm => session.terminate(),
    };
    assert!(
        matches!(status, super::WaitStatus::Exited(_, 0)),
        "{stop:?}: {status:?}: {output}"
    );
    objects.assert_released();
    assert_namespaces_gone(&namespaces);
    output
}

/// The namespaces an example's lab holds, opened by the test so that they outlive the example:
/// what the example left in them can then be inspected after it exits.
pub struct HeldNamespaces(pub Vec<File>);

impl HeldNamespaces {
    pub fn of(pid: u32) -> HeldNamespaces {
        let inodes = held_namespaces(pid);
        assert!(!inodes.is_empty(), "process {pid} holds no lab namespace");
        let mut files = Vec::new();
        for entry in std::fs::read_dir(format!("/proc/{pid}/fd"))
            .unwrap()
            .flatten()
        {
            let Ok(target) = std::fs::read_link(entry.path()) else {
                continue;
            };
            let target = target.to_string_lossy().into_owned();
            if inodes
                .iter()
                .any(|inode| target == format!("net:[{inode}]"))
                && !files.iter().any(|(t, _): &(String, File)| *t == target)
                && let Ok(file) = File::open(entry.path())
            {
                files.push((target, file));
            }
        }
        HeldNamespaces(files.into_iter().map(|(_, file)| file).collect())
    }

    /// `program args…` run inside each namespace: its stdout, one string per namespace.
    pub fn run(&self, program: &str, args: &[&str]) -> Vec<String> {
        self.0
            .iter()
            .map(|netns| {
                let fd = netns.as_raw_fd();
                let mut command = Command::new(program);
                command.args(args);
                // SAFETY: setns(2) is a plain system call, safe between fork and exec.
                unsafe {
                    command.pre_exec(move || {
                        if libc::setns(fd, libc::CLONE_NEWNET) != 0 {
                            return Err(std::io::Error::last_os_error());
                        }
                        Ok(())
                    })
                };
                let output = command.output().unwrap();
                String::from_utf8_lossy(&output.stdout).into_owned()
                    + &String::from_utf8_lossy(&output.stderr)
            })
            .collect()
    }
}
