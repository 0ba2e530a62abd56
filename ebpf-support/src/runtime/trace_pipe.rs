//! tracefs and `trace_pipe`, where `bpf_printk()` output lands (Learning eBPF, chapter 2, “Running Hello World”).
//!
//! `trace_pipe` is one global pipe for every program on the machine, and reading a line
//! consumes it: two readers each see only part of the output.

use std::fs::File;
use std::io::{ErrorKind, Read};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::run::Run;

const TRACEFS: &str = "/sys/kernel/tracing";
/// Where tracefs appears when only debugfs is mounted, as on the book's Ubuntu 5.15.
const DEBUGFS_TRACING: &str = "/sys/kernel/debug/tracing";

/// The tracefs directory, mounting tracefs at /sys/kernel/tracing when it is missing.
pub fn tracefs() -> Result<PathBuf> {
    match std::fs::metadata(Path::new(TRACEFS).join("trace_pipe")) {
        Ok(_) => return Ok(TRACEFS.into()),
        // tracefs is mode 0700: CAP_BPF and CAP_PERFMON do not open it, root does.
        Err(e) if e.kind() == ErrorKind::PermissionDenied => {
            bail!(
                "cannot read {TRACEFS} (permission denied): tracefs is readable by root only; run it with sudo"
            )
        }
        Err(_) => {}
    }
    if Path::new(DEBUGFS_TRACING).join("trace_pipe").exists() {
        return Ok(DEBUGFS_TRACING.into());
    }
    let target = std::ffi::CString::new(TRACEFS)?;
    // SAFETY: plain mount(2) with NUL-terminated strings that outlive the call.
    let rc = unsafe {
        libc::mount(
            c"tracefs".as_ptr(),
            target.as_ptr(),
            c"tracefs".as_ptr(),
            0,
            std::ptr::null(),
        )
    };
    if rc != 0 {
        let error = std::io::Error::last_os_error();
        bail!(
            "tracefs is not mounted and mounting it at {TRACEFS} failed ({error}); \
             run `mount -t tracefs tracefs {TRACEFS}` as root"
        );
    }
    eprintln!("mounted tracefs at {TRACEFS}");
    Ok(TRACEFS.into())
}

/// A non-blocking reader of `trace_pipe` that yields whole lines.
pub struct TracePipe {
    file: File,
    pending: Vec<u8>,
}

impl TracePipe {
    pub fn open() -> Result<Self> {
        let path = tracefs()?.join("trace_pipe");
        let file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&path)
            .with_context(|| format!("opening {}", path.display()))?;
        let mut pipe = TracePipe {
            file,
            pending: Vec::new(),
        };
        pipe.discard_backlog()?;
        Ok(pipe)
    }

    /// Lines that earlier programs wrote and nobody read are still in the pipe; drop them so
    /// that what is printed comes from this run.
    fn discard_backlog(&mut self) -> Result<()> {
        let mut chunk = [0u8; 4096];
        loop {
            match self.file.read(&mut chunk) {
                Ok(0) => return Ok(()),
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e).context("reading trace_pipe"),
            }
        }
    }

    /// Prints every line until the run finishes; each line counts towards `--count`.
    pub fn print_lines(&mut self, run: &Run) -> Result<()> {
        while let Some(line) = self.next_line(run)? {
            println!("{line}");
            run.record();
        }
        Ok(())
    }

    /// The next line, or `None` once `run` has finished.
    pub fn next_line(&mut self, run: &Run) -> Result<Option<String>> {
        loop {
            if run.finished() {
                return Ok(None);
            }
            if let Some(end) = self.pending.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.pending.drain(..=end).collect();
                return Ok(Some(String::from_utf8_lossy(&line[..end]).into_owned()));
            }
            self.wait_readable(run.poll_interval())?;
            let mut chunk = [0u8; 4096];
            match self.file.read(&mut chunk) {
                Ok(n) => self.pending.extend_from_slice(&chunk[..n]),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted) => {}
                Err(e) => return Err(e).context("reading trace_pipe"),
            }
        }
    }

    fn wait_readable(&self, timeout: std::time::Duration) -> Result<()> {
        let mut fd = libc::pollfd {
            fd: self.file.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd for the duration of the call.
        let rc = unsafe { libc::poll(&mut fd, 1, timeout.as_millis() as libc::c_int) };
        if rc < 0 {
            let error = std::io::Error::last_os_error();
            if error.kind() != ErrorKind::Interrupted {
                return Err(error).context("polling trace_pipe");
            }
        }
        Ok(())
    }
}

/// One parsed `trace_pipe` line, e.g.
/// `           bash-5412    [001] d..31 90432.904952: bpf_trace_printk: Hello World`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceLine {
    /// The task's command name, or `<...>` when the tracer did not record it.
    pub comm: String,
    pub pid: u32,
    pub cpu: u32,
    pub message: String,
}

impl TraceLine {
    pub fn parse(line: &str) -> Option<TraceLine> {
        let (head, rest) = line.split_once(" [")?;
        let (cpu, rest) = rest.split_once(']')?;
        // With the record-tgid option on, "(  1234)" follows the pid.
        let task = head.trim_end();
        let task = match task.strip_suffix(')') {
            Some(t) => t.rsplit_once('(')?.0.trim_end(),
            None => task,
        };
        let (comm, pid) = task.trim_start().rsplit_once('-')?;
        let message = match rest.split_once("bpf_trace_printk: ") {
            Some((_, message)) => message,
            None => rest.split_once(": ")?.1,
        };
        Some(TraceLine {
            comm: comm.to_string(),
            pid: pid.parse().ok()?,
            cpu: cpu.trim().parse().ok()?,
            message: message.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::TraceLine;

    #[test]
    fn parses_current_and_book_formats() {
        let current =
            "           <...>-2774    [001] d..31  1234.567890: bpf_trace_printk: Creating a timer";
        assert_eq!(
            TraceLine::parse(current),
            Some(TraceLine {
                comm: "<...>".into(),
                pid: 2774,
                cpu: 1,
                message: "Creating a timer".into()
            })
        );
        let book = "      bash-5412      [001] .... 90432.904952: 0: bpf_trace_printk: Hello World";
        let parsed = TraceLine::parse(book).unwrap();
        assert_eq!(
            (parsed.comm.as_str(), parsed.pid, parsed.message.as_str()),
            ("bash", 5412, "Hello World")
        );
        let tgid = "  my-tool-3-77 (     70) [000] ..... 5.0: bpf_trace_printk: x";
        let parsed = TraceLine::parse(tgid).unwrap();
        assert_eq!((parsed.comm.as_str(), parsed.pid), ("my-tool-3", 77));
        assert_eq!(TraceLine::parse("garbage"), None);
    }
}
