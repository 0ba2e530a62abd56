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

/// One way to run the object: how to load it, and how to start the same binary doing nothing.
struct Loader {
    label: &'static str,
    program: PathBuf,
    load: Vec<String>,
    noop: Vec<String>,
}

fn loaders() -> Result<Vec<Loader>> {
    let object = PathBuf::from(env!("OUT_DIR")).join("hello-ring-buffer.bpf.o");
    Ok(vec![
        Loader {
            label: "C, libbpf",
            program: crate::c_baseline("c-loader"),
            load: vec![object.display().to_string()],
            noop: vec!["--noop".into()],
        },
        Loader {
            label: "Rust, plain libbpf-rs",
            program: crate::sibling("bench-plain-loader")?,
            load: vec![],
            noop: vec!["--noop".into()],
        },
        Loader {
            label: "Rust, chapter 2's hello-ring-buffer",
            program: crate::sibling("hello-ring-buffer")?,
            // Attach, open the ring buffer, and stop at once.
            load: vec!["--timeout".into(), "0.000001".into()],
            noop: vec!["--describe".into()],
        },
    ])
}

/// The times of one run, in milliseconds from just before the exec.
struct Timing {
    attached: Option<f64>,
    exited: f64,
}

fn time_run(loader: &Loader, args: &[String], expect_attach: bool) -> Result<Timing> {
    let started = Instant::now();
    let mut child = crate::child(&loader.program)
        .args(args)
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
    let status = child.wait()?;
    let exited = ms(started.elapsed());
    if !status.success() || (expect_attach && attached.is_none()) {
        bail!(
            "{} {} failed ({status}): {}",
            loader.label,
            args.join(" "),
            said.join(" / ")
        );
    }
    Ok(Timing { attached, exited })
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

pub fn run(settings: &Settings, progress: &Progress) -> Result<CaseResult> {
    let loaders = loaders()?;
    let rounds = settings.pick(40, 8);
    // The first runs read the binaries and the kernel's BTF from disk: not what is measured.
    for loader in &loaders {
        time_run(loader, &loader.load, true)?;
    }
    let mut attach = vec![Vec::new(); loaders.len()];
    let mut exit = vec![Vec::new(); loaders.len()];
    let mut startup = vec![Vec::new(); loaders.len()];
    for round in 0..rounds {
        if round % 10 == 0 {
            progress.say(format!("round {}/{rounds}", round + 1));
        }
        for (i, loader) in loaders.iter().enumerate() {
            let timing = time_run(loader, &loader.load, true)?;
            attach[i].push(timing.attached.unwrap_or_default());
            exit[i].push(timing.exited);
            startup[i].push(time_run(loader, &loader.noop, false)?.exited);
        }
    }
    let latency = Table {
        title: format!("Exec to attached and exec to exit, medians of {rounds} interleaved runs (25th–75th percentile)"),
        row_heading: "loader".into(),
        columns: vec![
            Column::new("exec → attached", Unit::Milliseconds),
            Column::new("exec → exit", Unit::Milliseconds),
            Column::new("exec → exit, doing nothing", Unit::Milliseconds),
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
                        Some(Value::of(&startup[i])),
                    ],
                )
            })
            .collect(),
        ratio: Some(Ratio { column: 0, baseline: 0, higher_is_better: false }),
        notes: vec![
            "Each loader opens the same object (compiled once more from chapter02/src/bpf/hello-ring-buffer.bpf.c with the chapter's clang arguments), gives the program the tracepoint stand-in where the kernel has no kprobes, loads it, attaches it, says so on stderr, opens the ring buffer and exits. \"Doing nothing\" starts the same binary with `--noop` (`--describe` for the example): what exec, the dynamic loader and the language runtime cost before any eBPF work.".into(),
        ],
    };
    let before_main = before_main_table(&loaders)?;
    let mut targets = Vec::new();
    for label in [
        "Rust, chapter 2's hello-ring-buffer",
        "Rust, plain libbpf-rs",
    ] {
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

/// What the dynamic loader does before `main`, as glibc's `LD_DEBUG=statistics` counts it.
fn before_main_table(loaders: &[Loader]) -> Result<Table> {
    let mut rows = Vec::new();
    for loader in loaders {
        let output = crate::child(&loader.program)
            .args(&loader.noop)
            .env("LD_DEBUG", "statistics")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .output()
            .with_context(|| format!("starting {}", loader.program.display()))?;
        let text = String::from_utf8_lossy(&output.stderr);
        let number = |key: &str| -> Option<Value> {
            text.lines()
                .find_map(|l| l.split_once(key).map(|(_, rest)| rest))
                .and_then(|rest| {
                    rest.trim_start_matches(':')
                        .split_whitespace()
                        .next()?
                        .parse::<f64>()
                        .ok()
                })
                .map(Value::single)
        };
        let size = std::fs::metadata(&loader.program)?.len() as f64 / (1024.0 * 1024.0);
        rows.push(Row::new(
            loader.label,
            vec![
                Some(Value::single(size)),
                number("number of relocations"),
                number("number of relative relocations"),
                number("total startup time in dynamic loader"),
            ],
        ));
    }
    Ok(Table {
        title: "Before main: the binaries as the dynamic loader sees them (LD_DEBUG=statistics)"
            .into(),
        row_heading: "loader".into(),
        columns: vec![
            Column::new("binary, MiB", Unit::Count),
            Column::new("symbol relocations", Unit::Count),
            Column::new("relative relocations", Unit::Count),
            Column::new("dynamic loader, cycles", Unit::Count),
        ],
        rows,
        ratio: Some(Ratio {
            column: 3,
            baseline: 0,
            higher_is_better: false,
        }),
        notes: vec![],
    })
}
