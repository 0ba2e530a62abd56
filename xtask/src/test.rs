//! `cargo xtask test`: the README's test command and what CI runs. Every step runs even when
//! an earlier one failed, and the last line sums up.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, bail};

use crate::lanes;
use crate::learn::{self, Outcome};
use crate::libtest::count_before;

#[derive(Default)]
struct Tally {
    passed: u64,
    failed: u64,
    failures: Vec<String>,
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
}

/// What `cargo xtask test` runs: everything, or one kernel lane alone.
pub struct Scope {
    pub lane: Option<String>,
}

pub fn run(scope: Scope) -> Result<()> {
    let started = Instant::now();
    crate::setup::run(crate::setup::Needs {
        book: scope.lane.is_none(),
    })?;
    let mut tally = Tally::default();
    let lanes = match &scope.lane {
        Some(name) => vec![lanes::find(name)?],
        None => {
            // Findings of an earlier run must not stand in for a column that fails now.
            let _ = std::fs::remove_dir_all(crate::compat::dir());
            host_steps(&mut tally);
            lanes::LANES.to_vec()
        }
    };
    for lane in &lanes {
        section(&format!("kernel lane {}", lane.name));
        match test_lane(lane) {
            Ok(result) => {
                println!(
                    "lane {}: {} passed, {} failed",
                    lane.name, result.passed, result.failed
                );
                tally.passed += result.passed;
                tally.failed += result.failed;
                if result.failed > 0 {
                    tally.failures.push(format!("lane {}", lane.name));
                }
            }
            Err(e) => tally.step(&format!("lane {}", lane.name), Err(e)),
        }
    }
    if scope.lane.is_none() {
        section("compatibility table");
        tally.step(
            "compatibility table is current",
            crate::compat::check_fresh(),
        );
    }

    println!(
        "\nxtask test finished in {:.0}s",
        started.elapsed().as_secs_f64()
    );
    // The line CI reads: test cases plus steps.
    println!("summary: {} passed, {} failed", tally.passed, tally.failed);
    if tally.failed > 0 {
        bail!("failed: {}", tally.failures.join(", "));
    }
    Ok(())
}

/// Runs the chapters' tests in `lane` and records the doctor's findings there and the tests'
/// outcome for the compatibility table (a failed run leaves no findings).
fn test_lane(lane: &lanes::Lane) -> Result<lanes::tests::LaneTests> {
    crate::compat::forget(lane.name)?;
    let result = lanes::tests::run(lane)?;
    std::fs::copy(&result.findings, crate::compat::findings_file(lane.name))
        .with_context(|| format!("copying {}", result.findings.display()))?;
    crate::compat::record_tests(lane.name, result.failed == 0)?;
    Ok(result)
}

/// Everything that runs on the host: format, clippy, the tests, the doctor, the exercise
/// proofs, the book.
fn host_steps(tally: &mut Tally) {
    let workspaces = [
        crate::root(),
        learn::exercises_dir(),
        learn::solutions_dir(),
    ];
    section("format");
    for workspace in &workspaces {
        let result = crate::run_status(
            crate::cargo()
                .current_dir(workspace)
                .args(["fmt", "--all", "--check"]),
        );
        tally.step("cargo fmt --check", result);
    }
    section("clippy");
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
            crate::run_status(crate::cargo().current_dir(workspace).args(clippy)),
        );
    }
    section("tests on the kernel");
    let result = cargo_test(
        tally,
        crate::cargo()
            .current_dir(crate::root())
            .args(["test", "--workspace"]),
    );
    let passed = result.is_ok();
    tally.step("cargo test --workspace", result);
    section("doctor");
    let result =
        crate::compat::probe_host().and_then(|()| crate::compat::record_tests("host", passed));
    tally.step("doctor on this host", result);
    section("exercise proofs");
    let result = prove_exercises(tally);
    tally.step("exercise proofs", result);
    section("book");
    tally.step("book", crate::book::build());
}

fn section(title: &str) {
    println!("\n==== {title} ====");
}

/// Runs cargo test, echoing its output and adding its per-binary results to the tally.
fn cargo_test(tally: &mut Tally, command: &mut Command) -> Result<()> {
    command.stdout(Stdio::piped());
    let mut child = command.spawn().context("starting cargo test")?;
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line?;
        println!("{line}");
        if let Some(rest) = line.strip_prefix("test result: ") {
            tally.passed += count_before(rest, " passed");
            tally.failed += count_before(rest, " failed");
        }
    }
    let status = child.wait()?;
    if !status.success() {
        bail!("cargo test failed ({status})");
    }
    Ok(())
}

/// Every check must fail on its starter because the asked behaviour is missing (not because
/// it does not build) and pass on its solution.
fn prove_exercises(tally: &mut Tally) -> Result<()> {
    let exercises = learn::all()?;
    if exercises.is_empty() {
        bail!("no exercises found in exercises/");
    }
    for exercise in &exercises {
        let name = &exercise.name;
        let verdict = prove(name);
        match verdict {
            Ok(()) => tally.passed += 1,
            Err(why) => {
                eprintln!("{name}: {why}");
                tally.failed += 1;
                tally.failures.push(format!("exercise {name}"));
            }
        }
    }
    Ok(())
}

/// One exercise: the starter must be reported "not solved" by its check, and the solution
/// must pass the same check.
fn prove(name: &str) -> Result<(), String> {
    match learn::check(&learn::exercises_dir(), name, false).map_err(|e| format!("{e:#}"))? {
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
        }
        Outcome::CouldNotRun(text) => {
            return Err(format!("starter failed for another reason:\n{text}"));
        }
        Outcome::BuildFailed(text) => return Err(format!("starter does not build:\n{text}")),
        Outcome::Passed => {
            return Err("starter passes its check, so the check proves nothing".into());
        }
    }
    match learn::check(&learn::solutions_dir(), name, false).map_err(|e| format!("{e:#}"))? {
        Outcome::Passed => {
            println!("{name}: solution passes its check");
            Ok(())
        }
        other => Err(format!("solution does not pass: {other:?}")),
    }
}
