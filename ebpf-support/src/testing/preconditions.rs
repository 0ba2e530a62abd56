//! Whether a test may touch the kernel, and the lock that makes trace_pipe readers take turns.

use std::fs::File;

/// True when this machine can run `example`'s tests: the privileges and the kernel
/// capabilities its description names. A missing one skips the test, or fails it under CI
/// (see `skips`).
///
/// In a kernel lane (`LANE_VARIABLE` set by the lane's script) the kernel is old or new
/// on purpose, so a capability it lacks is not a machine's shortcoming but what the lane is
/// there to show: the test then proves that the example refuses to run, with one line naming
/// what is missing, and returns false.
pub fn ready_for(example: &crate::needs::Example) -> bool {
    let in_lane = std::env::var_os(crate::LANE_VARIABLE).is_some();
    if in_lane && crate::require(example.privilege).is_ok() {
        let lacking = example
            .needs
            .iter()
            .find_map(|&need| crate::missing(need).map(|why| (need, why)));
        if let Some((need, why)) = lacking {
            prove_refusal(example, need, &why);
            return false;
        }
    }
    ready(example.privilege, example.needs)
}

/// Runs `example`'s binary (beside the test's own folder, where cargo puts it) and requires
/// it to stop at once with exit code 1 and one line naming `need`.
fn prove_refusal(example: &crate::needs::Example, need: crate::needs::Capability, why: &str) {
    use std::time::{Duration, Instant};
    let binary = std::env::current_exe()
        .ok()
        .and_then(|test| Some(test.parent()?.parent()?.join(example.name)))
        .filter(|path| path.is_file())
        .unwrap_or_else(|| panic!("cannot find the {} binary beside this test", example.name));
    let mut child = std::process::Command::new(&binary)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {}: {e}", binary.display()));
    let started = Instant::now();
    while child.try_wait().ok().flatten().is_none() {
        if started.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{} lacks {} here ({why}) but did not stop within 30 s",
                example.name,
                need.name()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let expected = format!(
        "{}: {why}: {} needs {}",
        example.name,
        example.name,
        need.name()
    );
    assert!(
        output.status.code() == Some(1) && stderr.trim_end() == expected,
        "{} should refuse with one line, {expected:?}; it gave {:?} and {stderr:?}",
        example.name,
        output.status
    );
    eprintln!(
        "REFUSED, as it should on this kernel: {}: {}",
        std::thread::current().name().unwrap_or("a test"),
        stderr.trim_end()
    );
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

/// True when `tool` runs here. Otherwise the test skips with one line naming `what` (the
/// comparison it makes with the tool) outside CI, and fails under `CI=true`:
/// `testing::tool("bpftool", "chapter 5's comparison of btf-dump with bpftool")`.
pub fn tool(tool: &str, what: &str) -> bool {
    tool_runs(tool)
        || crate::skips::skip_or_fail(&format!(
            "{tool} does not run here, so {what} is disabled (cargo xtask setup installs it where \
             the distribution has a package for it)"
        ))
}

/// For exercise checks that compare with `tool`: without it the check cannot run, and says so
/// in one line (which the exercise proof reads, see `EXERCISE_NEEDS_TOOL`).
pub fn require_tool(tool: &str) {
    if !tool_runs(tool) {
        panic!(
            "{}: {tool} does not run here, so this exercise cannot be checked (cargo xtask setup \
             installs it where the distribution has a package for it)",
            crate::EXERCISE_NEEDS_TOOL
        );
    }
}

/// Runs `tool -V` rather than looking for the file: Ubuntu's /usr/sbin/bpftool is a script
/// that, without the running kernel's own linux-tools package, prints "WARNING: bpftool not
/// found for kernel …" and fails.
fn tool_runs(tool: &str) -> bool {
    std::process::Command::new(tool)
        .arg("-V")
        .stdin(std::process::Stdio::null())
        .output()
        .is_ok_and(|output| {
            output.status.success()
                && ![&output.stdout, &output.stderr]
                    .iter()
                    .any(|text| String::from_utf8_lossy(text).contains("not found for kernel"))
        })
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
