//! Whether a test may touch the kernel, and the lock that makes trace_pipe readers take turns.

use std::fs::File;

/// True when this machine can run `example`'s tests: the privileges and the kernel
/// capabilities its description names. A missing one skips the test, or fails it under CI
/// (see `skips`).
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
    match problem {
        None => true,
        Some(reason) => crate::skips::skip_or_fail(&reason),
    }
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
