//! Case 1, load latency: from exec to "attached", and from exec to exit, for chapter 2's
//! hello-ring-buffer object, loaded by a minimal C libbpf program (the baseline), by the
//! plainest libbpf-rs program, and by the chapter's example itself. The three run interleaved,
//! round after round, so that a slow moment of the machine hits all of them alike.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::report::{CaseResult, Column, Ratio, Row, Table, Target, Unit, Value};
use crate::{Progress, Settings};

/// A program and its arguments: a loader of the object, or a program that starts and exits.
struct Loader {
    label: &'static str,
    program: PathBuf,
    args: Vec<String>,
}

impl Loader {
    fn new(label: &'static str, program: PathBuf, args: &[&str]) -> Loader {
        let args = args.iter().map(|a| a.to_string()).collect();
        Loader {
            label,
            program,
            args,
        }
    }
}

const C: &str = "C, libbpf";
const PLAIN: &str = "Rust, plain libbpf-rs";
const EXAMPLE: &str = "Rust, chapter 2's hello-ring-buffer";

fn loaders() -> Result<Vec<Loader>> {
    let object = PathBuf::from(env!("OUT_DIR")).join("hello-ring-buffer.bpf.o");
    Ok(vec![
        Loader::new(
            C,
            crate::c_baseline("c-loader"),
            &[&object.display().to_string()],
        ),
        Loader::new(PLAIN, crate::sibling("bench-plain-loader")?, &[]),
        // Attach, open the ring buffer, and stop at once.
        Loader::new(
            EXAMPLE,
            crate::sibling("hello-ring-buffer")?,
            &["--timeout", "0.000001"],
        ),
    ])
}

/// Programs that start and exit at once: empty ones, and the loaders doing nothing.
fn starters() -> Result<Vec<Loader>> {
    Ok(vec![
        Loader::new("C, empty main", crate::c_baseline("c-empty"), &[]),
        Loader::new("Rust, empty main", crate::sibling("bench-empty")?, &[]),
        Loader::new(
            "Rust, empty, without std's start-up (#![no_main])",
            crate::sibling("bench-empty-no-main")?,
            &[],
        ),
        Loader::new(
            "C loader, --noop",
            crate::c_baseline("c-loader"),
            &["--noop"],
        ),
        Loader::new(
            "plain libbpf-rs loader, --noop",
            crate::sibling("bench-plain-loader")?,
            &["--noop"],
        ),
        Loader::new(
            "hello-ring-buffer --describe",
            crate::sibling("hello-ring-buffer")?,
            &["--describe"],
        ),
    ])
}

/// The times of one run, in milliseconds from just before the exec, and the CPU time the
/// process used (user and system), which other work on the machine disturbs less.
struct Timing {
    attached: Option<f64>,
    exited: f64,
    cpu: f64,
    /// Minor page faults: pages the process touched for the first time.
    faults: f64,
}

fn time_run(loader: &Loader, expect_attach: bool) -> Result<Timing> {
    let started = Instant::now();
    let mut child = crate::child(&loader.program)
        .args(&loader.args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {}", loader.program.display()))?;
    let mut attached = None;
    let mut said = Vec::new();
    for line in BufReader::new(child.stderr.take().unwrap()).lines() {
        let line = line?;
        if attached.is_none() && line.contains(": attached") {
            attached = Some(ms(started.elapsed()));
        }
        said.push(line);
    }
    let (status, usage) = wait_with_usage(child)?;
    let exited = ms(started.elapsed());
    if status != 0 || (expect_attach && attached.is_none()) {
        bail!(
            "{} {} failed (wait status {status}): {}",
            loader.label,
            loader.args.join(" "),
            said.join(" / ")
        );
    }
    let millis = |t: libc::timeval| t.tv_sec as f64 * 1e3 + t.tv_usec as f64 / 1e3;
    Ok(Timing {
        attached,
        exited,
        cpu: millis(usage.ru_utime) + millis(usage.ru_stime),
        faults: usage.ru_minflt as f64,
    })
}

/// Reaps `child` with wait4(2), which also reports what it used: CPU time, page faults.
fn wait_with_usage(child: std::process::Child) -> Result<(i32, libc::rusage)> {
    let mut status = 0;
    // SAFETY: rusage is plain data that wait4 fills.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for our own child, writing into the two locals.
    let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    if pid < 0 {
        bail!("waiting for a loader: {}", std::io::Error::last_os_error());
    }
    Ok((status, usage))
}

/// Lets the kernel finish what the previous run left to it: a program, its maps and its
/// link are freed after the process has gone (RCU callbacks, work queues), and that work
/// would otherwise slow down whichever run comes next.
fn settle() {
    std::thread::sleep(Duration::from_millis(30));
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

pub fn run(settings: &Settings, progress: &Progress) -> Result<CaseResult> {
    let loaders = loaders()?;
    let starters = starters()?;
    let rounds = settings.pick(40, 8);
    // The first runs read the binaries and the kernel's BTF from disk: not what is measured.
    for loader in &loaders {
        time_run(loader, true)?;
    }
    let mut attach = vec![Vec::new(); loaders.len()];
    let mut exit = vec![Vec::new(); loaders.len()];
    let mut cpu = vec![Vec::new(); loaders.len()];
    let mut load_faults = vec![Vec::new(); loaders.len()];
    let mut start = vec![Vec::new(); starters.len()];
    let mut faults = vec![Vec::new(); starters.len()];
    for round in 0..rounds {
        if round % 10 == 0 {
            progress.say(format!("round {}/{rounds}", round + 1));
        }
        // Each round starts with another loader, so that none always follows the same one.
        for k in 0..loaders.len() {
            let i = (round + k) % loaders.len();
            settle();
            let timing = time_run(&loaders[i], true)?;
            attach[i].push(timing.attached.unwrap_or_default());
            exit[i].push(timing.exited);
            cpu[i].push(timing.cpu);
            load_faults[i].push(timing.faults);
        }
        for k in 0..starters.len() {
            let i = (round + k) % starters.len();
            settle();
            let timing = time_run(&starters[i], false)?;
            start[i].push(timing.exited);
            faults[i].push(timing.faults);
        }
    }
    let latency = Table {
        title: format!(
            "Exec to attached and exec to exit, medians of {rounds} interleaved runs (25th–75th percentile)"
        ),
        row_heading: "loader".into(),
        columns: vec![
            Column::new("exec → attached", Unit::Milliseconds),
            Column::new("exec → exit", Unit::Milliseconds),
            Column::new("CPU time, exec to exit", Unit::Milliseconds),
            Column::new("page faults", Unit::Count),
        ],
        rows: loaders
            .iter()
            .enumerate()
            .map(|(i, l)| {
                Row::new(
                    l.label,
                    vec![
                        Some(Value::of(&attach[i])),
                        Some(Value::of(&exit[i])),
                        Some(Value::of(&cpu[i])),
                        Some(Value::of(&load_faults[i])),
                    ],
                )
            })
            .collect(),
        ratio: Some(Ratio::to_first_row(0, false)),
        notes: vec![
            "Each loader opens the same object (chapter02/src/bpf/hello-ring-buffer.bpf.c, compiled once more with the chapter's clang arguments), gives the program the tracepoint stand-in where the kernel has no kprobes, loads it, attaches it, says so on stderr, opens the ring buffer and exits. Exec to exit includes detaching: the kernel waits for an RCU grace period before a tracepoint's program is gone.".into(),
        ],
    };
    let before_main = before_main_table(&starters, &start, &faults)?;
    let mut targets = Vec::new();
    for label in [EXAMPLE, PLAIN] {
        if let Some(ratio) = latency.ratio_of(label) {
            targets.push(Target {
                name: format!("{label}: time to attach / C's"),
                ratio,
                limit: 1.10,
                at_most: true,
            });
        }
    }
    Ok(CaseResult {
        tables: vec![latency, before_main],
        targets,
    })
}

/// What starting a program costs before `main`, and why: the libraries and relocations of the
/// dynamic loader (glibc's `LD_DEBUG=statistics`), and the system calls made in all (strace,
/// where it is installed).
fn before_main_table(
    starters: &[Loader],
    times: &[Vec<f64>],
    faults: &[Vec<f64>],
) -> Result<Table> {
    let mut rows = Vec::new();
    for ((starter, times), faults) in starters.iter().zip(times).zip(faults) {
        let statistics = crate::child(&starter.program)
            .args(&starter.args)
            .env("LD_DEBUG", "statistics")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .output()
            .with_context(|| format!("starting {}", starter.program.display()))?;
        let statistics = String::from_utf8_lossy(&statistics.stderr);
        let number = |key: &str| -> Option<f64> {
            statistics
                .lines()
                .find_map(|l| l.split_once(key).map(|(_, rest)| rest))
                .and_then(|rest| {
                    rest.trim_start_matches(':')
                        .split_whitespace()
                        .next()?
                        .parse()
                        .ok()
                })
        };
        // The dynamic loader lists the libraries and stops before running anything.
        let libraries = crate::child(&starter.program)
            .env("LD_TRACE_LOADED_OBJECTS", "1")
            .stdin(Stdio::null())
            .output()
            .with_context(|| format!("starting {}", starter.program.display()))?;
        let libraries = String::from_utf8_lossy(&libraries.stdout)
            .lines()
            .filter(|l| l.contains("=>"))
            .count();
        let relocations =
            number("number of relocations").zip(number("number of relative relocations"));
        rows.push(Row::new(
            starter.label,
            vec![
                Some(Value::of(times)),
                Some(Value::of(faults)),
                system_calls(starter).map(Value::single),
                Some(Value::single(libraries as f64)),
                relocations.map(|(symbols, relative)| Value::single(symbols + relative)),
                number("total startup time in dynamic loader").map(Value::single),
            ],
        ));
    }
    Ok(Table {
        title: "Before main: starting a program and exiting at once".into(),
        row_heading: "program".into(),
        columns: vec![
            Column::new("exec → exit", Unit::Milliseconds),
            Column::new("page faults", Unit::Count),
            Column::new("system calls", Unit::Count),
            Column::new("shared libraries", Unit::Count),
            Column::new("relocations", Unit::Count),
            Column::new("dynamic loader, CPU cycles", Unit::Count),
        ],
        rows,
        ratio: Some(Ratio::to_first_row(0, false)),
        notes: vec![
            "Rust's programs link one more library (libgcc_s, the unwinder its standard library needs), carry more relocations, which Rust's linker settings bind at start (`-z now`), and run the standard library's start-up before `main`: a poll of the three standard descriptors, SIGPIPE ignored, the main thread's stack bounds read from /proc/self/maps for the stack-overflow guard, and an alternate signal stack with SIGSEGV and SIGBUS handlers, which are taken down again at exit. The `#![no_main]` row skips that start-up. Each page a process touches first costs a page fault, which is dear in a virtual machine; a relocation also writes to the page it patches.".into(),
        ],
    })
}

/// How many system calls a run makes, counted by `strace -c` (None without strace).
fn system_calls(starter: &Loader) -> Option<f64> {
    let summary =
        std::env::temp_dir().join(format!("learning-ebpf-bench-strace-{}", std::process::id()));
    let status = crate::child("strace")
        .args(["-f", "-c", "-o"])
        .arg(&summary)
        .arg(&starter.program)
        .args(&starter.args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    let text = std::fs::read_to_string(&summary).unwrap_or_default();
    let _ = std::fs::remove_file(&summary);
    status.ok().filter(|s| s.success())?;
    // "100.00    0.000142           2        48         1 total": the calls column.
    let total = text.lines().find(|l| l.trim_end().ends_with(" total"))?;
    let fields: Vec<&str> = total.split_whitespace().collect();
    fields.get(3)?.parse().ok()
}
