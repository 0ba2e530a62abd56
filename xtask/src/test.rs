//! `cargo xtask test`: the README's test command and what CI runs. Every phase runs even when
//! an earlier one failed; the run ends with the time each phase took and a summary line.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use ebpf_support::needs::Example;

use crate::lanes;
use crate::learn::{self, Outcome};
use crate::libtest::{count_before, example_outcome, outcomes};

#[derive(Default)]
struct Tally {
    passed: u64,
    failed: u64,
    failures: Vec<String>,
    phases: Vec<(String, Duration)>,
}

impl Tally {
    fn step(&mut self, name: &str, result: Result<()>) {
        match result {
            Ok(()) => self.passed += 1,
            Err(e) => {
                eprintln!("xtask test: {name} failed: {e:#}");
                self.failed += 1;
                self.failures.push(name.to_string());
            }
        }
    }

    /// Runs one phase under a heading and notes how long it took.
    fn phase<T>(&mut self, title: &str, body: impl FnOnce(&mut Tally) -> T) -> T {
        println!("\n==== {title} ====");
        let started = Instant::now();
        let result = body(self);
        self.phases.push((title.to_string(), started.elapsed()));
        result
    }
}

/// What `cargo xtask test` runs: everything, or one kernel lane alone; the lanes prove only
/// what the host cannot (plus a smoke test of each chapter), or with `full_lanes` everything.
pub struct Scope {
    /// The lanes to run alone; none means the whole suite.
    pub lane: Vec<String>,
    pub full_lanes: bool,
    /// Write the lanes' new snapshots back into the workspace (see `lanes::tests::prepare`).
    pub record_snapshots: bool,
    /// Run only the lanes' tests whose names start with one of these.
    pub tests: Vec<String>,
}

/// What the host's part of the run found out, for the lanes and the table.
struct HostRun {
    examples: Vec<Example>,
    /// Tests that skipped for want of a privilege or a kernel feature, with the reason.
    skipped: Vec<String>,
}

pub fn run(scope: Scope) -> Result<()> {
    let started = Instant::now();
    let mut tally = Tally::default();
    tally.phase("set-up", |_| {
        crate::setup::run(crate::setup::Needs {
            book: scope.lane.is_empty(),
        })
    })?;
    let (lanes, host) = match scope.lane.is_empty() {
        false => (
            scope
                .lane
                .iter()
                .map(|name| lanes::find(name))
                .collect::<Result<Vec<_>>>()?,
            None,
        ),
        true => {
            // Findings of an earlier run must not stand in for a column that fails now.
            let _ = std::fs::remove_dir_all(crate::compat::dir());
            let host = host_phases(&mut tally);
            (lanes::LANES.to_vec(), host)
        }
    };
    let examples = match &host {
        Some(host) => host.examples.clone(),
        None => crate::workspace::examples()?,
    };
    let only = match scope.full_lanes {
        _ if !scope.tests.is_empty() => Some(scope.tests.clone()),
        true => None,
        // Without this run's host findings (`--lane` alone) the lane runs everything.
        false => lane_scope(&examples).ok(),
    };
    run_lanes(
        &mut tally,
        &lanes,
        &examples,
        only.as_deref(),
        scope.record_snapshots,
    );
    if scope.lane.is_empty() {
        tally.phase("compatibility table", |tally| {
            tally.step(
                "compatibility table is current",
                crate::compat::check_fresh(),
            )
        });
    }

    println!("\nTime per phase:");
    for (phase, took) in &tally.phases {
        println!("  {phase:<40} {:>6.0}s", took.as_secs_f64());
    }
    println!("  {:<40} {:>6.0}s", "all", started.elapsed().as_secs_f64());
    if let Some(host) = host.filter(|h| !h.skipped.is_empty()) {
        println!(
            "\n{} tests skipped, so this run proves nothing for the table:",
            host.skipped.len()
        );
        for skip in &host.skipped {
            println!("  {skip}");
        }
        tally.failures.push("skipped tests".into());
        tally.failed += 1;
    }
    // The line CI reads: test cases plus steps.
    println!("summary: {} passed, {} failed", tally.passed, tally.failed);
    if tally.failed > 0 {
        bail!("failed: {}", tally.failures.join(", "));
    }
    Ok(())
}

/// The test-name prefixes a quick lane run covers: every example whose book hook the host
/// lacks, and a smoke test (the first example) of each chapter whose examples the host proves.
fn lane_scope(examples: &[Example]) -> Result<Vec<String>> {
    let host_has = crate::compat::capabilities("host")?;
    let mut prefixes = Vec::new();
    let mut smoked = Vec::new();
    for example in examples {
        if example.needs_lanes(|c| host_has(c) == Some(true)) {
            prefixes.push(example.test_prefix());
        } else if !smoked.contains(&example.package) {
            smoked.push(example.package);
            prefixes.push(example.test_prefix());
        }
    }
    Ok(prefixes)
}

/// Runs the chapters' tests in each lane and records, per lane, the doctor's findings there
/// and each example's outcome for the compatibility table (a failed lane leaves no findings).
/// Every lane is prepared first (kernel download, test build), then they boot side by side as
/// far as the host's cores allow: an x86_64 lane keeps one core busy (one TCG thread), so on
/// this 2-core machine two of them run at once, while an arm64 lane (two threads) runs alone.
fn run_lanes(
    tally: &mut Tally,
    lanes: &[lanes::Lane],
    examples: &[Example],
    only: Option<&[String]>,
    record_snapshots: bool,
) {
    let mut prepared = Vec::new();
    tally.phase("kernel lanes: downloads and builds", |tally| {
        for lane in lanes {
            let _ = crate::compat::forget(lane.name);
            match lanes::tests::prepare(lane, only, record_snapshots) {
                Ok(ready) => prepared.push(ready),
                Err(e) => tally.step(&format!("lane {}", lane.name), Err(e)),
            }
        }
    });
    // Lanes boot side by side while the threads QEMU keeps busy for them fit the host's cores.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let title = format!("kernel lanes, side by side on {cores} cores");
    let results = tally.phase(&title, |_| {
        let free = std::sync::Mutex::new(cores);
        let freed = std::sync::Condvar::new();
        let results = std::sync::Mutex::new(Vec::new());
        std::thread::scope(|scope| {
            for ready in &prepared {
                let (free, freed, results) = (&free, &freed, &results);
                scope.spawn(move || {
                    let need = ready.lane().host_threads().min(cores);
                    let mut available = free.lock().unwrap();
                    while *available < need {
                        available = freed.wait(available).unwrap();
                    }
                    *available -= need;
                    drop(available);
                    let started = Instant::now();
                    let result = ready.boot();
                    let took = started.elapsed();
                    results.lock().unwrap().push((*ready.lane(), result, took));
                    *free.lock().unwrap() += need;
                    freed.notify_all();
                });
            }
        });
        results.into_inner().unwrap()
    });
    for lane in lanes {
        let Some((_, result, took)) = results.iter().find(|(l, ..)| l.name == lane.name) else {
            continue;
        };
        let name = format!("lane {}", lane.name);
        match result
            .as_ref()
            .map_err(|e| anyhow::anyhow!("{e:#}"))
            .and_then(|r| {
                record_lane(lane, examples, r)?;
                Ok(r)
            }) {
            Ok(result) => {
                println!(
                    "{name}: {} passed, {} failed in {:.0}s",
                    result.passed,
                    result.failed,
                    took.as_secs_f64()
                );
                tally.passed += result.passed;
                tally.failed += result.failed;
                if result.failed > 0 {
                    tally.failures.push(name);
                }
            }
            Err(e) => tally.step(&name, Err(e)),
        }
    }
}

/// Checks that `lane` booted the kernel its name promises, and records its findings and each
/// example's outcome there.
fn record_lane(
    lane: &lanes::Lane,
    examples: &[Example],
    result: &lanes::tests::LaneTests,
) -> Result<()> {
    let promised = lane.promised_version();
    match &result.kernel_release {
        Some(release) if release.starts_with(&format!("{promised}.")) => {}
        other => bail!(
            "lane {} booted kernel {}, not a {promised} kernel",
            lane.name,
            other.as_deref().unwrap_or("(none reported)")
        ),
    }
    std::fs::copy(&result.findings, crate::compat::findings_file(lane.name))
        .with_context(|| format!("copying {}", result.findings.display()))?;
    let tested: Vec<(&Example, Option<bool>)> = examples
        .iter()
        .map(|e| (e, example_outcome(&result.outcomes, &e.test_prefix())))
        .collect();
    let release = result.kernel_release.as_deref().unwrap_or_default();
    crate::compat::record_tests(lane.name, &tested, &format!("kernel {release}"))
}

/// Everything that runs on the host: format, clippy, the tests, the doctor, the exercise
/// proofs, the mutants, the book. `None` when the tests did not run far enough to describe
/// the examples.
fn host_phases(tally: &mut Tally) -> Option<HostRun> {
    let workspaces = [
        crate::workspace::root(),
        learn::exercises_dir(),
        learn::solutions_dir(),
    ];
    tally.phase("format and clippy", |tally| {
        for workspace in &workspaces {
            let result = crate::workspace::run_status(
                crate::workspace::cargo()
                    .current_dir(workspace)
                    .args(["fmt", "--all", "--check"]),
            );
            tally.step("cargo fmt --check", result);
        }
        for workspace in &workspaces {
            let clippy = [
                "clippy",
                "--workspace",
                "--all-targets",
                "--quiet",
                "--",
                "-D",
                "warnings",
            ];
            tally.step(
                "cargo clippy",
                crate::workspace::run_status(
                    crate::workspace::cargo()
                        .current_dir(workspace)
                        .args(clippy),
                ),
            );
        }
    });
    tally.phase("build", |tally| {
        tally.step(
            "cargo build",
            crate::workspace::run_status(
                crate::workspace::cargo()
                    .current_dir(crate::workspace::root())
                    .args(["test", "--workspace", "--no-run", "--quiet"]),
            ),
        )
    });
    let skip_log = crate::workspace::root().join("target/skipped-tests.txt");
    let _ = std::fs::remove_file(&skip_log);
    let log = tally.phase("tests on this kernel", |tally| {
        let result = cargo_test(
            tally,
            crate::workspace::cargo()
                .current_dir(crate::workspace::root())
                .env("LEARNING_EBPF_SKIP_LOG", &skip_log)
                .args(["test", "--workspace"]),
        );
        match result {
            Ok((passed, log)) => {
                let failed = (!passed).then(|| anyhow::anyhow!("some tests failed"));
                tally.step("cargo test --workspace", failed.map_or(Ok(()), Err));
                Some((passed, log))
            }
            Err(e) => {
                tally.step("cargo test --workspace", Err(e));
                None
            }
        }
    });
    let skipped: Vec<String> = std::fs::read_to_string(&skip_log)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect();
    let examples = match crate::workspace::examples() {
        Ok(examples) => examples,
        Err(e) => {
            tally.step("describing the examples", Err(e));
            return None;
        }
    };
    tally.phase("doctor", |tally| {
        let results = outcomes(log.as_ref().map_or("", |(_, log)| log));
        let tested: Vec<(&Example, Option<bool>)> = examples
            .iter()
            // A run with skips proves nothing.
            .map(|e| (e, example_outcome(&results, &e.test_prefix())))
            .filter(|(_, outcome)| skipped.is_empty() || *outcome == Some(false))
            .collect();
        let result = crate::compat::probe_host()
            .and_then(|()| crate::compat::record_tests("host", &tested, &this_machine()));
        tally.step("doctor on this host", result);
    });
    tally.phase("exercise proofs", |tally| {
        let result = prove_exercises(tally);
        tally.step("exercise proofs", result);
    });
    tally.phase("mutants", |tally| {
        if !log.as_ref().is_some_and(|(passed, _)| *passed) || !skipped.is_empty() {
            tally.step(
                "mutants",
                Err(anyhow::anyhow!(
                    "not run: the tests must pass, with nothing skipped, before a failure on a mutant means anything"
                )),
            );
            return;
        }
        match crate::mutants::run_all(&examples) {
            Ok((caught, _)) => tally.passed += caught,
            Err(e) => tally.step("mutants", Err(e)),
        }
    });
    tally.phase("book", |tally| tally.step("book", crate::book::build()));
    tally.phase("benchmarks, quick", |tally| {
        tally.step("benchmarks, quick", crate::bench::quick_check())
    });
    tally.phase("reader environments", |tally| {
        crate::environments::check(|name, result| tally.step(name, result))
    });
    Some(HostRun { examples, skipped })
}

/// The machine and the date of this run, for the host column of the table.
fn this_machine() -> String {
    let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
    let host = read("/proc/sys/kernel/hostname");
    let date = Command::new("date")
        .arg("+%Y-%m-%d")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    format!("measured on {}, {}", host.trim(), date.trim())
}

/// Runs cargo test, echoing its output and adding its per-binary results to the tally.
/// Returns whether it passed, and the output, whose per-test lines tell which examples passed.
fn cargo_test(tally: &mut Tally, command: &mut Command) -> Result<(bool, String)> {
    command.stdout(Stdio::piped());
    let mut child = command.spawn().context("starting cargo test")?;
    let mut log = String::new();
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line?;
        println!("{line}");
        if let Some(rest) = line.strip_prefix("test result: ") {
            tally.passed += count_before(rest, " passed");
            tally.failed += count_before(rest, " failed");
        }
        log.push_str(&line);
        log.push('\n');
    }
    let status = child.wait()?;
    Ok((status.success(), log))
}

/// Every check must fail on its starter because the asked behaviour is missing (not because
/// it does not build, load or attach) and pass on its solution. And the proof itself must
/// reject a starter that the verifier rejects.
fn prove_exercises(tally: &mut Tally) -> Result<()> {
    let exercises = learn::all()?;
    if exercises.is_empty() {
        bail!("no exercises found in exercises/");
    }
    for exercise in &exercises {
        let name = &exercise.name;
        match prove(name) {
            Ok(()) => tally.passed += 1,
            Err(why)
                if why.starts_with(ebpf_support::EXERCISE_NEEDS_TOOL)
                    && !ebpf_support::skips::in_ci() =>
            {
                println!("SKIPPED exercise {name}: {why}");
            }
            Err(why) => {
                eprintln!("{name}: {why}");
                tally.failed += 1;
                tally.failures.push(format!("exercise {name}"));
            }
        }
    }
    tally.step(
        "the proof rejects a starter that does not load",
        proof_rejects_a_starter_that_does_not_load(),
    );
    Ok(())
}

/// One exercise: the starter must be reported "not solved" by its check, and the solution
/// must pass the same check.
fn prove(name: &str) -> Result<(), String> {
    prove_starter(name, &[])?;
    match learn::check(&learn::solutions_dir(), name, false).map_err(|e| format!("{e:#}"))? {
        Outcome::Passed => {
            println!("{name}: solution passes its check");
            Ok(())
        }
        Outcome::CouldNotRun(text) if needed_tool(&text).is_some() => {
            Err(needed_tool(&text).unwrap_or_default())
        }
        other => Err(format!("solution does not pass: {other:?}")),
    }
}

/// The line of a check's output that says it needs a tool this machine lacks.
fn needed_tool(text: &str) -> Option<String> {
    text.lines()
        .find(|l| l.starts_with(ebpf_support::EXERCISE_NEEDS_TOOL))
        .map(str::to_string)
}

fn prove_starter(name: &str, env: &[(&str, &str)]) -> Result<(), String> {
    match learn::check_with(&learn::exercises_dir(), name, false, env)
        .map_err(|e| format!("{e:#}"))?
    {
        Outcome::NotSolved(text) => {
            let reason: Vec<&str> = text
                .lines()
                .skip_while(|l| !l.contains(learn::CHECK_FAILED_MARKER))
                .skip(1)
                .take(2)
                .collect();
            println!(
                "{name}: starter fails its check as it should:\n  {}",
                reason.join("\n  ").trim()
            );
            Ok(())
        }
        Outcome::CouldNotRun(text) if needed_tool(&text).is_some() => {
            Err(needed_tool(&text).unwrap_or_default())
        }
        Outcome::CouldNotRun(text) => Err(format!(
            "the check could not run on the starter (it must build, load and attach, then miss the asked behaviour):\n{}",
            text.lines()
                .rev()
                .take(12)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect::<Vec<_>>()
                .join("\n")
        )),
        Outcome::BuildFailed(text) => Err(format!("starter does not build:\n{text}")),
        Outcome::Passed => Err("starter passes its check, so the check proves nothing".into()),
    }
}

/// Runs exercise 2.1's starter with a change the verifier rejects (a read past the event on
/// the stack) and requires the proof to fail on it as "could not run".
fn proof_rejects_a_starter_that_does_not_load() -> Result<()> {
    const NAME: &str = "ch02-1-odd-even";
    let send = "bpf_perf_event_output(ctx, &output, BPF_F_CURRENT_CPU, &data, sizeof(data));";
    let broken =
        "bpf_perf_event_output(ctx, &output, BPF_F_CURRENT_CPU, &data, sizeof(data) + 64);";
    let mutant = ebpf_support::needs::Mutant {
        name: "reads-past-the-event",
        file: "hello-buffer.bpf.c",
        from: send,
        to: broken,
    };
    let dir = crate::workspace::root().join("target/mutants").join(NAME);
    let exercises = learn::exercises_dir();
    crate::mutants::compile(&exercises, NAME, &mutant, &dir)
        .map_err(|e| anyhow::anyhow!("{e:#}"))?;
    let environment = crate::mutants::environment(NAME, &dir);
    let env: Vec<(&str, &str)> = environment
        .iter()
        .map(|(var, value)| (*var, value.as_str()))
        .collect();
    let proof = prove_starter(NAME, &env);
    let _ = std::fs::remove_dir_all(&dir);
    match proof {
        Err(why) if why.starts_with("the check could not run") => {
            println!("a starter the verifier rejects fails the proof, as it should");
            Ok(())
        }
        Err(why) => bail!("the broken starter failed the proof for another reason: {why}"),
        Ok(()) => {
            bail!("a starter the verifier rejects was counted as failing for the right reason")
        }
    }
}
