//! Pieces shared by the exercise checks (each check includes this file).
#![allow(dead_code)] // each check uses only some of these helpers

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::os::fd::{AsFd, FromRawFd, OwnedFd};
use std::time::Duration;

use chapter02::counts::parse_counts;
use ebpf_support::testing::{Session, exercise_failed};
use libbpf_rs::libbpf_sys;
use libbpf_rs::query::{LinkInfo, LinkTypeInfo, PerfEventType, ProgInfoIter};

/// Starts the exercise's program with `args` and waits until it has attached.
pub fn start(binary: &str, args: &[&str]) -> Session {
    let mut session = Session::spawn(binary, args);
    // A program that does not load or attach is not "not solved": the check could not run,
    // and the exercise proof must not count it as the starter failing for the right reason.
    if let Err(seen) = session.wait_for_line(Duration::from_secs(30), |l| l.contains(": attached"))
    {
        panic!(
            "the program did not load and attach, so nothing could be checked; it printed {seen:#?}"
        );
    }
    session
}

/// Where a link attaches a program, as the kernel reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Hook {
    RawTracepoint(String),
    /// A tracepoint's name without its category: `sys_enter_openat`.
    Tracepoint(String),
    Other(String),
}

impl fmt::Display for Hook {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Hook::RawTracepoint(name) => write!(f, "raw tracepoint {name}"),
            Hook::Tracepoint(name) => write!(f, "tracepoint {name}"),
            Hook::Other(what) => f.write_str(what),
        }
    }
}

/// One link: which program it runs, and where.
#[derive(Clone, Debug)]
pub struct Attachment {
    pub program: String,
    pub program_id: u32,
    pub hook: Hook,
}

impl fmt::Display for Attachment {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{} on {}", self.program, self.hook)
    }
}

/// What each of `links` attaches, read from the kernel's link info.
pub fn attachments(links: &BTreeSet<u32>) -> Vec<Attachment> {
    let names: BTreeMap<u32, String> = ProgInfoIter::default()
        .map(|info| (info.id, info.name.to_string_lossy().into_owned()))
        .collect();
    links
        .iter()
        .filter_map(|&id| {
            // SAFETY: a plain bpf(2) wrapper; the fd it returns is ours to close.
            let fd = unsafe { libbpf_sys::bpf_link_get_fd_by_id(id) };
            if fd < 0 {
                return None;
            }
            // SAFETY: fd is a fresh descriptor that nothing else owns.
            let fd = unsafe { OwnedFd::from_raw_fd(fd) };
            let info = LinkInfo::from_fd(fd.as_fd()).ok()?;
            let hook = match info.info {
                LinkTypeInfo::RawTracepoint(tp) => Hook::RawTracepoint(tp.name),
                LinkTypeInfo::PerfEvent(event) => match event.event_type {
                    PerfEventType::Tracepoint {
                        name: Some(name), ..
                    } => Hook::Tracepoint(name.to_string_lossy().into_owned()),
                    other => Hook::Other(format!("perf event {other:?}")),
                },
                other => Hook::Other(format!("{other:?}")),
            };
            Some(Attachment {
                program: names
                    .get(&info.prog_id)
                    .cloned()
                    .unwrap_or_else(|| format!("program {}", info.prog_id)),
                program_id: info.prog_id,
                hook,
            })
        })
        .collect()
}

/// `2 links: hello on tracepoint sys_enter_execve, hello on tracepoint sys_enter_openat`.
pub fn describe(attachments: &[Attachment]) -> String {
    match attachments {
        [] => "no link: nothing is attached".into(),
        [one] => format!("1 link: {one}"),
        many => format!(
            "{} links: {}",
            many.len(),
            many.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Waits up to 10 s for a counter_table printout that satisfies `wanted`. Otherwise fails the
/// check with `expected`, what `seen` says about the last printout, and that printout.
pub fn wait_for_counts(
    session: &mut Session,
    expected: &str,
    wanted: impl Fn(&BTreeMap<u64, u64>) -> bool,
    seen: impl Fn(&BTreeMap<u64, u64>) -> String,
) -> BTreeMap<u64, u64> {
    let mut last = None;
    let found = session.wait_for_line(Duration::from_secs(10), |line| {
        if !line.starts_with("ID ") && !line.starts_with('(') {
            return false;
        }
        last = Some(line.to_string());
        wanted(&parse_counts(line))
    });
    match (found, last) {
        (Ok(line), _) => parse_counts(&line),
        (Err(_), None) => exercise_failed(expected, "no printout of counter_table within 10 s"),
        (Err(_), Some(line)) => exercise_failed(
            expected,
            &format!(
                "{}; the last printout within 10 s: {}",
                seen(&parse_counts(&line)),
                shorten(&line)
            ),
        ),
    }
}

/// A printout of the whole counter_table can be long: the first entries give the picture.
fn shorten(line: &str) -> String {
    let entries: Vec<&str> = line.split('\t').collect();
    if entries.len() <= 12 {
        return entries.join("  ");
    }
    format!(
        "{}  … ({} entries)",
        entries[..12].join("  "),
        entries.len()
    )
}

/// The count under `key`, or 0.
pub fn count_of(counts: &BTreeMap<u64, u64>, key: impl Into<u64>) -> u64 {
    counts.get(&key.into()).copied().unwrap_or(0)
}
