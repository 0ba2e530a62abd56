//! Test processes: marked execs by a unique user, and runs of a binary without privileges.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

/// A command name no other process has: at most 15 bytes, the kernel's limit for `comm`.
pub fn unique_comm(tag: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::SeqCst);
    let tag: String = tag.chars().take(6).collect();
    format!("{tag}{:05x}{n:x}", std::process::id() & 0xfffff)
        .chars()
        .take(15)
        .collect()
}

/// A user and group for one test's processes: unique to the test, and never equal to each
/// other, so that a program that reads the GID where it should read the UID is caught.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TestUser {
    pub uid: u32,
    pub gid: u32,
}

impl TestUser {
    pub fn unique() -> TestUser {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = (std::process::id() % 10_000) * 100 + NEXT.fetch_add(1, Ordering::SeqCst) % 100;
        TestUser {
            uid: 2_000_000 + n,
            gid: 3_000_000 + n,
        }
    }
}

/// A process that names itself `comm`, optionally becomes `user`, runs `before_exec` (raw
/// syscalls only: it runs between fork and exec) and then execs `/bin/true`. Returns its pid
/// once it has exited.
pub fn exec_marked(comm: &str, user: Option<TestUser>, before_exec: fn()) -> u32 {
    let name = std::ffi::CString::new(comm).unwrap();
    let mut command = Command::new("/bin/true");
    // SAFETY: only async-signal-safe calls (prctl, setgroups, setgid, setuid, raw syscalls)
    // run in the child.
    unsafe {
        command.pre_exec(move || {
            libc::prctl(libc::PR_SET_NAME, name.as_ptr());
            if let Some(user) = user
                && (libc::setgroups(0, std::ptr::null()) != 0
                    || libc::setgid(user.gid) != 0
                    || libc::setuid(user.uid) != 0)
            {
                return Err(std::io::Error::last_os_error());
            }
            before_exec();
            Ok(())
        });
    }
    let mut child = command.spawn().expect("spawn /bin/true");
    let pid = child.id();
    let status = child.wait().expect("wait for /bin/true");
    assert!(status.success(), "marked exec failed: {status}");
    pid
}

/// Runs `binary` as the unprivileged user `nobody` (from a copy it can reach) and returns
/// what it printed.
pub fn run_as_nobody(binary: &Path, args: &[&str]) -> Output {
    let dir = std::env::temp_dir().join(format!("learning-ebpf-nobody-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let copy: PathBuf = dir.join(binary.file_name().unwrap());
    std::fs::copy(binary, &copy).unwrap();
    let output = Command::new(&copy)
        .args(args)
        .uid(65534)
        .gid(65534)
        .current_dir(&dir)
        .output()
        .expect("run as nobody");
    let _ = std::fs::remove_dir_all(&dir);
    output
}

/// Asserts the one-line error contract: non-zero exit, exactly one line on stderr that
/// contains `expected`, and no panic.
pub fn assert_one_line_error(output: &Output, expected: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success(),
        "expected a failure, got {:?}; stderr: {stderr}",
        output.status
    );
    assert!(!stderr.contains("panicked"), "panicked: {stderr}");
    assert_eq!(
        stderr.lines().count(),
        1,
        "expected one line on stderr, got: {stderr}"
    );
    assert!(
        stderr.contains(expected),
        "expected {expected:?} in: {stderr}"
    );
}

/// A folder of the test's own in the temporary directory, removed with everything in it when
/// dropped: also when the test fails half-way.
pub struct ScratchDir(std::path::PathBuf);

impl ScratchDir {
    /// `NAME-PID` in the temporary directory.
    pub fn new(name: &str) -> ScratchDir {
        let path = std::env::temp_dir().join(format!("{name}-{}", std::process::id()));
        std::fs::create_dir_all(&path).unwrap_or_else(|e| panic!("making {}: {e}", path.display()));
        ScratchDir(path)
    }

    pub fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
