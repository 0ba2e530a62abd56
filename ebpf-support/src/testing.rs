//! Helpers for tests that run examples on the real kernel: drive them in a pty, trigger events
//! deterministically, and prove that nothing they loaded outlives them.

use std::collections::BTreeSet;
use std::fs::File;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use rexpect::session::PtySession;

pub use rexpect::process::WaitStatus;

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

/// The BPF programs, maps and links a process holds, read from `/proc/PID/fdinfo`.
#[derive(Debug, Default)]
pub struct BpfObjects {
    pub progs: BTreeSet<u32>,
    pub maps: BTreeSet<u32>,
    pub links: BTreeSet<u32>,
}

impl BpfObjects {
    pub fn of_process(pid: u32) -> BpfObjects {
        let mut objects = BpfObjects::default();
        let dir = format!("/proc/{pid}/fdinfo");
        for entry in std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{dir}: {e}"))
            .flatten()
        {
            let Ok(info) = std::fs::read_to_string(entry.path()) else {
                continue;
            };
            for line in info.lines() {
                let Some((key, value)) = line.split_once(':') else {
                    continue;
                };
                let Ok(id) = value.trim().parse::<u32>() else {
                    continue;
                };
                match key {
                    "prog_id" => objects.progs.insert(id),
                    "map_id" => objects.maps.insert(id),
                    "link_id" => objects.links.insert(id),
                    _ => false,
                };
            }
        }
        objects
    }

    /// Those of these objects that still exist in the kernel.
    pub fn still_loaded(&self) -> BpfObjects {
        use libbpf_rs::libbpf_sys as sys;
        let alive = |ids: &BTreeSet<u32>, get: unsafe extern "C" fn(u32) -> i32| {
            ids.iter()
                .copied()
                .filter(|&id| {
                    // SAFETY: a plain bpf(2) wrapper; a returned fd is closed right away.
                    let fd = unsafe { get(id) };
                    if fd >= 0 {
                        unsafe { libc::close(fd) };
                    }
                    fd >= 0 || fd != -libc::ENOENT
                })
                .collect()
        };
        BpfObjects {
            progs: alive(&self.progs, sys::bpf_prog_get_fd_by_id),
            maps: alive(&self.maps, sys::bpf_map_get_fd_by_id),
            links: alive(&self.links, sys::bpf_link_get_fd_by_id),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.progs.is_empty() && self.maps.is_empty() && self.links.is_empty()
    }

    /// Panics unless every object is gone within a few seconds (the kernel frees them after
    /// an RCU grace period, not at the instant the last fd closes).
    pub fn assert_released(&self) {
        assert!(
            !self.progs.is_empty(),
            "no BPF programs were recorded, so the check would prove nothing"
        );
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let left = self.still_loaded();
            if left.is_empty() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "BPF objects left behind after exit: {left:?} (of {self:?})"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// The highest BPF object ids in the kernel at one moment: what is created later gets higher
/// ones, as ids only grow.
#[derive(Clone, Copy, Debug)]
pub struct IdMark {
    prog: u32,
    map: u32,
    link: u32,
}

type GetNextId = unsafe extern "C" fn(u32, *mut u32) -> i32;

/// Every id of one kind of BPF object in the kernel now.
fn all_ids(next: GetNextId) -> Vec<u32> {
    let mut ids = Vec::new();
    let mut id = 0;
    // SAFETY: a plain bpf(2) wrapper writing one u32.
    while unsafe { next(id, &mut id) } == 0 {
        ids.push(id);
    }
    ids
}

/// The ids of programs, maps and links that some process holds open.
fn held_by_processes() -> BpfObjects {
    let mut held = BpfObjects::default();
    for process in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = process.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fdinfo")) else {
            continue;
        };
        if fds.count() == 0 {
            continue;
        }
        let objects = BpfObjects::of_process(pid);
        held.progs.extend(objects.progs);
        held.maps.extend(objects.maps);
        held.links.extend(objects.links);
    }
    held
}

impl IdMark {
    pub fn now() -> IdMark {
        use libbpf_rs::libbpf_sys as sys;
        let max = |next: GetNextId| all_ids(next).into_iter().max().unwrap_or(0);
        IdMark {
            prog: max(sys::bpf_prog_get_next_id),
            map: max(sys::bpf_map_get_next_id),
            link: max(sys::bpf_link_get_next_id),
        }
    }

    /// Objects created since the mark that are still in the kernel although no process holds
    /// them: left attached to a hook without a link, or pinned.
    pub fn left_behind(&self) -> BpfObjects {
        use libbpf_rs::libbpf_sys as sys;
        let held = held_by_processes();
        let orphans = |next: GetNextId, mark: u32, held: &BTreeSet<u32>| {
            all_ids(next)
                .into_iter()
                .filter(|id| *id > mark && !held.contains(id))
                .collect()
        };
        BpfObjects {
            progs: orphans(sys::bpf_prog_get_next_id, self.prog, &held.progs),
            maps: orphans(sys::bpf_map_get_next_id, self.map, &held.maps),
            links: orphans(sys::bpf_link_get_next_id, self.link, &held.links),
        }
    }

    /// Panics if, a few seconds after the run, anything created since the mark is left behind.
    pub fn assert_nothing_left(&self) {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let left = self.left_behind();
            if left.is_empty() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "BPF objects left behind that no process holds: {left:?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

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

    /// Reads lines until one satisfies `wanted`, returning it. Fails after 30 s.
    pub fn expect_line(&mut self, what: &str, wanted: impl FnMut(&str) -> bool) -> String {
        match self.wait_for_line(Duration::from_secs(30), wanted) {
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

pub use crate::EXERCISE_CHECK_FAILED;

/// Fails an exercise check, saying what was expected and what the reader's program did.
#[track_caller]
pub fn exercise_failed(expected: &str, got: &str) -> ! {
    panic!("{EXERCISE_CHECK_FAILED}\n  expected:     {expected}\n  your program: {got}\n");
}

/// How many of `programs` use each map, by map id: programs that share a map show up
/// with a count above one.
pub fn programs_per_map(programs: &BTreeSet<u32>) -> std::collections::BTreeMap<u32, usize> {
    use libbpf_rs::query::{ProgInfoIter, ProgInfoQueryOptions};
    let mut per_map = std::collections::BTreeMap::new();
    for info in ProgInfoIter::with_query_opts(ProgInfoQueryOptions::default().include_map_ids(true))
    {
        if programs.contains(&info.id) {
            for map in info.map_ids {
                *per_map.entry(map).or_insert(0) += 1;
            }
        }
    }
    per_map
}

/// The kernel's own record of what type each of `programs` is, in id order.
pub fn program_types(programs: &BTreeSet<u32>) -> Vec<libbpf_rs::ProgramType> {
    use libbpf_rs::query::ProgInfoIter;
    let mut found: Vec<(u32, libbpf_rs::ProgramType)> = ProgInfoIter::default()
        .filter(|info| programs.contains(&info.id))
        .map(|info| (info.id, info.ty))
        .collect();
    found.sort_by_key(|(id, _)| *id);
    found.into_iter().map(|(_, ty)| ty).collect()
}

/// The kernel's own record of what type each of `maps` is, in id order.
pub fn map_types(maps: &BTreeSet<u32>) -> Vec<libbpf_rs::MapType> {
    use libbpf_rs::query::MapInfoIter;
    let mut found: Vec<(u32, libbpf_rs::MapType)> = MapInfoIter::default()
        .filter(|info| maps.contains(&info.id))
        .map(|info| (info.id, info.ty))
        .collect();
    found.sort_by_key(|(id, _)| *id);
    found.into_iter().map(|(_, ty)| ty).collect()
}

/// The id of the map called `name` among `maps`.
pub fn map_named(maps: &BTreeSet<u32>, name: &str) -> Option<u32> {
    use libbpf_rs::query::MapInfoIter;
    MapInfoIter::default()
        .find(|info| maps.contains(&info.id) && info.name.to_string_lossy() == name)
        .map(|info| info.id)
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
