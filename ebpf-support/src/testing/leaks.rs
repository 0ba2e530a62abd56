//! Proof that nothing an example loaded outlives it: the objects it held are gone, and no object
//! created since it started is left that no process holds (pinned, or attached without a link).

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

/// The BPF programs, maps and links a process holds, read from `/proc/PID/fdinfo`.
#[derive(Debug, Default)]
pub struct BpfObjects {
    pub progs: BTreeSet<u32>,
    pub maps: BTreeSet<u32>,
    pub links: BTreeSet<u32>,
}

impl BpfObjects {
    pub fn of_process(pid: u32) -> BpfObjects {
        let dir = format!("/proc/{pid}/fdinfo");
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{dir}: {e}"));
        Self::from_fdinfo(entries)
    }

    /// Those of a process that may exit while it is read: nothing, once it is gone.
    fn of_any_process(pid: u32) -> BpfObjects {
        match std::fs::read_dir(format!("/proc/{pid}/fdinfo")) {
            Ok(entries) => Self::from_fdinfo(entries),
            Err(_) => BpfObjects::default(),
        }
    }

    fn from_fdinfo(entries: std::fs::ReadDir) -> BpfObjects {
        let mut objects = BpfObjects::default();
        for entry in entries.flatten() {
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
        let objects = BpfObjects::of_any_process(pid);
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
