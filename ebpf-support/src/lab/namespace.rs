//! Anonymous network namespaces, held by nothing but a file descriptor.

use std::ffi::OsStr;
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::process::Command;
use std::sync::Arc;
use std::thread::{self, JoinHandle};

use super::rtnetlink::{Rtnetlink, context};

/// The calling thread's own network namespace.
const THIS_THREAD: &str = "/proc/thread-self/ns/net";

/// A network namespace that exists only as long as this value (and whatever runs inside it):
/// it has no name, nothing is mounted for it under `/run/netns`, so `ip netns list` never shows
/// it, and the kernel deletes it, with every veth and bridge inside, soon after the last file
/// descriptor closes, also when the process is killed with SIGKILL.
///
/// A new namespace has its loopback up and IPv6 off, so that no router solicitation or
/// multicast report adds packets that an example would count.
///
/// Four ways in: [`run`](Self::run) a closure in a fresh thread or [`run_here`](Self::run_here)
/// in the calling thread, [`spawn`](Self::spawn) a thread that stays, or start a
/// [`command`](Self::command) inside. Whatever is made inside stays there: a socket opened in
/// the namespace sends and receives there from any thread (and keeps the namespace alive until
/// it is closed).
pub struct Namespace {
    file: Arc<File>,
    inode: u64,
}

impl Namespace {
    pub fn new() -> io::Result<Namespace> {
        // unshare moves only the calling thread, so a short-lived thread makes the namespace
        // and hands back a descriptor of it; the process itself never leaves its own.
        let file = thread::spawn(|| -> io::Result<File> {
            // SAFETY: unshare(2) changes only this thread, which ends right after.
            if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
                let error = io::Error::last_os_error();
                let what = if error.kind() == io::ErrorKind::PermissionDenied {
                    "creating a network namespace (the lab needs root: CAP_SYS_ADMIN and CAP_NET_ADMIN)"
                } else {
                    "creating a network namespace"
                };
                return Err(context(what)(error));
            }
            let file = File::open(THIS_THREAD)?;
            quieten().map_err(context("turning IPv6 off in a lab namespace"))?;
            let mut rtnetlink = Rtnetlink::open()?;
            let lo = rtnetlink.ifindex("lo")?;
            rtnetlink.set_up(lo)?;
            Ok(file)
        })
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
        let inode = file.metadata()?.ino();
        Ok(Namespace {
            file: Arc::new(file),
            inode,
        })
    }

    /// The namespace behind `path`, e.g. `/proc/PID/fd/N` of another process's lab.
    #[cfg(test)]
    pub(crate) fn open(path: impl AsRef<std::path::Path>) -> io::Result<Namespace> {
        let file = File::open(path)?;
        let inode = file.metadata()?.ino();
        Ok(Namespace {
            file: Arc::new(file),
            inode,
        })
    }

    /// The namespace's inode number, as in `net:[4026532000]` under `/proc/PID/ns/net`.
    pub fn inode(&self) -> u64 {
        self.inode
    }

    /// Runs `f` in a fresh thread inside this namespace and returns what it returned.
    pub fn run<T: Send>(&self, f: impl FnOnce() -> T + Send) -> io::Result<T> {
        thread::scope(|scope| {
            scope
                .spawn(|| {
                    enter(&self.file)?;
                    Ok(f())
                })
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        })
    }

    /// Runs `f` in the calling thread, moved into this namespace for the call and back out
    /// after it. For work on values that cannot go to another thread, such as a libbpf-rs
    /// program that attaches to an interface of the namespace (`attach_xdp(ifindex)`, a
    /// `TcHook`): the kernel looks the ifindex up in the namespace of the calling thread.
    pub fn run_here<T>(&self, f: impl FnOnce() -> T) -> io::Result<T> {
        let home = File::open(THIS_THREAD)?;
        enter(&self.file)?;
        let _back = GoBack(home);
        Ok(f())
    }

    /// Starts a thread inside this namespace, e.g. a server for the other end of the lab.
    pub fn spawn<T, F>(&self, f: F) -> io::Result<JoinHandle<T>>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        // A new thread starts in the namespace of the thread that creates it.
        self.run(|| thread::spawn(f))
    }

    /// A command that runs inside this namespace (it enters between fork and exec), e.g.
    /// `ping`, or an example given `--iface eth0`.
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut command = Command::new(program);
        // The command holds the namespace too, so it can start even after the lab is gone.
        let file = Arc::clone(&self.file);
        // SAFETY: setns(2) is a plain system call, safe between fork and exec.
        unsafe { command.pre_exec(move || enter(&file)) };
        command
    }
}

impl AsFd for Namespace {
    /// For what takes a namespace by descriptor, e.g. libbpf-rs's `attach_netns`.
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.file.as_fd()
    }
}

impl std::fmt::Debug for Namespace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "net:[{}]", self.inode)
    }
}

/// Moves the calling thread into the namespace of `file`.
fn enter(file: &File) -> io::Result<()> {
    // SAFETY: setns(2) on a descriptor we hold; it changes only the calling thread.
    if unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Takes the calling thread back to the namespace of its file when dropped.
struct GoBack(File);

impl Drop for GoBack {
    fn drop(&mut self) {
        if let Err(error) = enter(&self.0) {
            // Going on in the lab's namespace would send the caller's traffic to the wrong place.
            eprintln!("cannot leave a lab's network namespace: {error}");
            std::process::abort();
        }
    }
}

/// IPv6 off in the calling thread's namespace: `/proc/sys/net` shows the namespace of the
/// thread that opens it. A kernel without IPv6 has nothing to turn off.
fn quieten() -> io::Result<()> {
    for scope in ["all", "default"] {
        let path = format!("/proc/sys/net/ipv6/conf/{scope}/disable_ipv6");
        match std::fs::write(&path, "1") {
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            other => other?,
        }
    }
    Ok(())
}
