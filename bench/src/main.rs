//! `cargo xtask bench`: the book's performance claims measured side by side on this machine,
//! and this project's own costs against C. Every figure is a ratio against a baseline measured
//! in the same run; the tables go to the terminal, to Markdown and to JSON.

mod buffers;
mod counters;
mod flood;
mod generator;
mod globals;
mod load;
mod report;
mod rules;
mod stats;
mod xdp;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, ExitCode};
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Parser;
use ebpf_support::Privilege;
use serde_json::json;

use report::CaseResult;

/// Measure the book's performance claims on this machine, each as a ratio to a baseline
/// measured in the same run.
#[derive(Parser)]
#[command(name = "learning-ebpf-bench")]
struct Args {
    /// Fewer and shorter rounds: every case in under two minutes, the figures rougher.
    #[arg(long)]
    quick: bool,
    /// Run only this case (repeat for more): load, buffers, counters, xdp, rules.
    #[arg(long = "case", value_name = "CASE", value_parser = case_name)]
    cases: Vec<String>,
    /// Write the results as JSON here.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Write the tables as Markdown here (what the book's appendix includes).
    #[arg(long, value_name = "FILE")]
    markdown: Option<PathBuf>,
}

/// How long and how often a case measures.
pub struct Settings {
    pub quick: bool,
}

impl Settings {
    /// `full` in a full run, `quick` in a quick one.
    pub fn pick<T>(&self, full: T, quick: T) -> T {
        if self.quick { quick } else { full }
    }
}

/// Progress on stderr, so that a long run shows what it is doing.
pub struct Progress {
    started: Instant,
}

impl Progress {
    pub fn say(&self, message: impl std::fmt::Display) {
        eprintln!(
            "  [{:>5.1}s] {message}",
            self.started.elapsed().as_secs_f64()
        );
    }
}

struct Case {
    name: &'static str,
    title: &'static str,
    run: fn(&Settings, &Progress) -> Result<CaseResult>,
}

const CASES: &[Case] = &[
    Case {
        name: "load",
        title: "Load latency: chapter 2's hello-ring-buffer, Rust loaders against a C libbpf loader",
        run: load::run,
    },
    Case {
        name: "buffers",
        title: "Ring buffer versus perf buffer, batched wake-ups, and ring-buffer consumers in Rust and C",
        run: buffers::run,
    },
    Case {
        name: "counters",
        title: "Map counters: HASH, PERCPU_HASH and a global, from one and two threads",
        run: counters::run,
    },
    Case {
        name: "xdp",
        title: "XDP drop against an iptables drop in the lab",
        run: xdp::run,
    },
    Case {
        name: "rules",
        title: "Rule scaling: an iptables allow-list against an eBPF hash map",
        run: rules::run,
    },
];

fn case_name(name: &str) -> Result<String, String> {
    match CASES.iter().any(|c| c.name == name) {
        true => Ok(name.to_string()),
        false => Err(format!(
            "no case {name}; the cases are {}",
            CASES.iter().map(|c| c.name).collect::<Vec<_>>().join(", ")
        )),
    }
}

fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(args) => args,
        Err(e) if !e.use_stderr() => e.exit(),
        Err(e) => {
            let first = e
                .to_string()
                .lines()
                .next()
                .unwrap_or_default()
                .trim_start_matches("error: ")
                .to_string();
            eprintln!("learning-ebpf-bench: {first} (see --help)");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!(
                "learning-ebpf-bench: {}",
                format!("{e:#}").replace('\n', " ")
            );
            ExitCode::FAILURE
        }
    }
}

/// Runs the chosen cases; false when one of them failed.
fn run(args: &Args) -> Result<bool> {
    ebpf_support::require(Privilege::Tracing)?;
    ebpf_support::require(Privilege::Networking)?;
    // A path that cannot be written fails now, not after minutes of measuring.
    for path in [&args.json, &args.markdown].into_iter().flatten() {
        write(path, "")?;
    }
    let settings = Settings { quick: args.quick };
    let machine = machine();
    println!(
        "# Learning eBPF benchmarks{}\n",
        if args.quick { " (quick)" } else { "" }
    );
    println!("{}\n", machine_line(&machine));
    let chosen: Vec<&Case> = CASES
        .iter()
        .filter(|c| args.cases.is_empty() || args.cases.iter().any(|n| n == c.name))
        .collect();
    let mut markdown = String::new();
    let mut cases_json = Vec::new();
    let mut all_ok = true;
    for (i, case) in chosen.iter().enumerate() {
        eprintln!("[{}/{}] {}", i + 1, chosen.len(), case.title);
        let progress = Progress {
            started: Instant::now(),
        };
        let outcome = (case.run)(&settings, &progress);
        let took = progress.started.elapsed().as_secs_f64();
        let mut text = format!("## {}\n\n", case.title);
        match &outcome {
            Ok(result) => {
                for table in &result.tables {
                    text.push_str(&table.markdown());
                    text.push('\n');
                }
                for target in &result.targets {
                    text.push_str(&format!("- {}\n", target.line()));
                }
            }
            Err(e) => {
                all_ok = false;
                text.push_str(&format!("FAILED: {e:#}\n"));
            }
        }
        println!("{text}");
        std::io::stdout().flush().ok();
        markdown.push_str(&text);
        markdown.push('\n');
        cases_json.push(json!({
            "name": case.name,
            "title": case.title,
            "seconds": took,
            "error": outcome.as_ref().err().map(|e| format!("{e:#}")),
            "tables": outcome.as_ref().map(|r| r.tables.iter().map(|t| t.json()).collect::<Vec<_>>()).unwrap_or_default(),
            "targets": outcome.as_ref().map(|r| r.targets.iter().map(|t| t.json()).collect::<Vec<_>>()).unwrap_or_default(),
        }));
    }
    let document = json!({ "quick": args.quick, "machine": machine, "cases": cases_json });
    if let Some(path) = &args.json {
        write(path, &serde_json::to_string_pretty(&document)?)?;
    }
    if let Some(path) = &args.markdown {
        write(path, &format!("{}\n\n{markdown}", machine_line(&machine)))?;
    }
    Ok(all_ok)
}

fn write(path: &PathBuf, text: &str) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

/// The machine the figures belong to.
fn machine() -> serde_json::Value {
    let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
    let cpu = read("/proc/cpuinfo")
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .and_then(|r| r.split_once(':'))
                .map(|(_, m)| m.trim().to_string())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_string());
    let memory_kib: u64 = read("/proc/meminfo")
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|r| r.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0);
    let date = Command::new("date")
        .arg("+%Y-%m-%d")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    json!({
        "kernel": read("/proc/sys/kernel/osrelease").trim(),
        "arch": std::env::consts::ARCH,
        "cpu": cpu,
        "cores": std::thread::available_parallelism().map_or(1, |n| n.get()),
        "memory_gib": (memory_kib as f64 / 1024.0 / 1024.0).round(),
        "date": date,
    })
}

fn machine_line(machine: &serde_json::Value) -> String {
    format!(
        "Measured on {}, {} cores, {} GiB, Linux {} ({}), {}.",
        machine["cpu"].as_str().unwrap_or("?"),
        machine["cores"],
        machine["memory_gib"],
        machine["kernel"].as_str().unwrap_or("?"),
        machine["arch"].as_str().unwrap_or("?"),
        machine["date"].as_str().unwrap_or("?"),
    )
}

/// A child process that dies with the benchmark (a killed benchmark leaves no loader running).
pub fn child(program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut command = Command::new(program);
    dies_with_us(&mut command);
    command
}

/// Makes the process `command` starts die when the benchmark does (also when it is killed).
pub fn dies_with_us(command: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: prctl is async-signal-safe; it only sets this child's parent-death signal.
    unsafe {
        command.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
}

/// A program built beside this one (`target/debug/NAME`), or one line on how to build it.
pub fn sibling(name: &str) -> Result<PathBuf> {
    let here = std::env::current_exe().context("finding this program")?;
    let path = here.with_file_name(name);
    anyhow::ensure!(
        path.is_file(),
        "{} is not built: run `cargo build --workspace --bins` (cargo xtask bench does)",
        path.display()
    );
    Ok(path)
}

/// A C baseline that this package's build compiled (see `build.rs`).
pub fn c_baseline(name: &str) -> PathBuf {
    PathBuf::from(env!("OUT_DIR")).join(name)
}
