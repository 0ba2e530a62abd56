//! Whether a test may touch the kernel, and the lock that makes trace_pipe readers take turns.

use std::fs::File;

/// True when this machine can run `example`'s tests: the privileges and the kernel
/// capabilities its description names. Outside CI a missing one skips the test with a
/// printed reason (and a line in `$LEARNING_EBPF_SKIP_LOG`, which `cargo xtask test` lists at
/// the end of its run); with `CI=true` it fails the test instead.
pub fn ready_for(example: &crate::needs::Example) -> bool {
    ready(example.privilege, example.needs)
}

/// `ready_for`, for tests of something other than an example (the doctor, say).
pub fn ready(privilege: crate::Privilege, needs: &[crate::needs::Capability]) -> bool {
    let problem = if crate::require(privilege).is_err() {
        Some("not running as root (CAP_BPF and CAP_PERFMON are needed)".to_string())
    } else {
        needs
            .iter()
            .find_map(|need| crate::missing(*need).map(|why| format!("{}: {why}", need.name())))
    };
    let Some(reason) = problem else {
        return true;
    };
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("CI=true, so this is a failure, not a skip: {reason}");
    }
    let test = std::thread::current()
        .name()
        .unwrap_or("a test")
        .to_string();
    eprintln!("SKIPPED {test}: {reason}");
    if let Some(log) = std::env::var_os("LEARNING_EBPF_SKIP_LOG") {
        use std::io::Write;
        if let Ok(mut file) = File::options().create(true).append(true).open(log) {
            let _ = writeln!(file, "{test}: {reason}");
        }
    }
    false
}

/// For exercise checks: a check that cannot run must not look like a pass, so a missing
/// privilege or feature always fails it.
pub fn require_kernel() {
    let problem = if crate::require(crate::Privilege::Tracing).is_err() {
        Some("run the check as root (cargo learn uses sudo when it is there)".to_string())
    } else {
        crate::tracefs().err().map(|e| format!("{e:#}"))
    };
    if let Some(problem) = problem {
        panic!("cannot check this exercise here: {problem}");
    }
}

/// Serialises the tests that read `trace_pipe`: every line goes to exactly one reader, so two
/// readers at once would each miss lines. Works across test processes (flock).
pub struct TracePipeLock(#[allow(dead_code)] File);

pub fn lock_trace_pipe() -> TracePipeLock {
    let path = std::env::temp_dir().join("learning-ebpf-trace_pipe.lock");
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .expect("lock file");
    // SAFETY: flock on a file descriptor we own; released when the file is closed.
    let rc = unsafe { libc::flock(std::os::fd::AsRawFd::as_raw_fd(&file), libc::LOCK_EX) };
    assert_eq!(rc, 0, "flock {}", path.display());
    TracePipeLock(file)
}
