//! The kernel's own accounting of eBPF programs: `run_cnt` and `run_time_ns`, which it keeps
//! only while run-time statistics are on.
//!
//! They are switched on with the `BPF_ENABLE_STATS` command, not with the
//! `kernel.bpf_stats_enabled` sysctl: the command's file descriptor holds them on, and when it
//! closes (also when the process is killed) they go off by themselves. The sysctl is never
//! written, so there is nothing to restore.

use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};

use anyhow::{Result, bail};

const SYSCTL: &str = "/proc/sys/kernel/bpf_stats_enabled";

/// Run-time statistics are on while this lives.
pub struct RunTimeStats {
    _fd: OwnedFd,
}

impl RunTimeStats {
    pub fn enable() -> Result<RunTimeStats> {
        // SAFETY: a plain syscall wrapper; it returns a new descriptor or a negative errno.
        let fd = unsafe { libbpf_sys::bpf_enable_stats(libbpf_sys::BPF_STATS_RUN_TIME) };
        if fd < 0 {
            let error = std::io::Error::from_raw_os_error(-fd);
            bail!(
                "cannot turn on the kernel's eBPF run-time statistics (BPF_ENABLE_STATS, 5.8+): {error}"
            );
        }
        // SAFETY: the descriptor is new and ours.
        Ok(RunTimeStats {
            _fd: unsafe { OwnedFd::from_raw_fd(fd) },
        })
    }
}

/// The sysctl as it reads now (`0` or `1`): the benchmarks show that it is the same after a
/// run as before.
pub fn sysctl() -> String {
    std::fs::read_to_string(SYSCTL)
        .map_or_else(|e| format!("unreadable: {e}"), |s| s.trim().to_string())
}

/// How often a program ran, and the nanoseconds it spent, as the kernel counted them.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RunStats {
    pub runs: u64,
    pub nanos: u64,
}

impl RunStats {
    pub fn of(program: impl AsFd) -> Result<RunStats> {
        // SAFETY: bpf_prog_info is plain data that the kernel fills up to `len` bytes.
        let mut info: libbpf_sys::bpf_prog_info = unsafe { std::mem::zeroed() };
        let mut len = std::mem::size_of_val(&info) as u32;
        // SAFETY: `info` and `len` describe a writable buffer of that size.
        let rc = unsafe {
            libbpf_sys::bpf_prog_get_info_by_fd(program.as_fd().as_raw_fd(), &mut info, &mut len)
        };
        if rc != 0 {
            bail!(
                "cannot read the program's statistics: {}",
                std::io::Error::from_raw_os_error(-rc)
            );
        }
        Ok(RunStats {
            runs: info.run_cnt,
            nanos: info.run_time_ns,
        })
    }

    /// What happened between `earlier` and this reading.
    pub fn since(self, earlier: RunStats) -> RunStats {
        RunStats {
            runs: self.runs.saturating_sub(earlier.runs),
            nanos: self.nanos.saturating_sub(earlier.nanos),
        }
    }

    pub fn nanos_per_run(self) -> Option<f64> {
        (self.runs > 0).then(|| self.nanos as f64 / self.runs as f64)
    }
}
