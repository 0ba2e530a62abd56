//! Mutants: each example declares plausible wrong versions of its eBPF program (the GID for
//! the UID, a missing tail call, …). Each one is built in place of the real program, and the
//! example's own tests must fail on it. A mutant that passes them shows a test that cannot
//! fail.

use std::process::Stdio;

use anyhow::{Context, Result, bail};
use ebpf_support::needs::{Example, MUTANT_VARS, Mutant};

/// What became of one mutant.
pub enum Verdict {
    /// The example's tests failed on it, as they should: the names of the failing tests.
    Caught(Vec<String>),
    Survived {
        passed: u64,
    },
}

/// Builds `mutant` of `example` and runs the example's tests on it.
pub fn run(example: &Example, mutant: &Mutant) -> Result<Verdict> {
    let values = [example.package, mutant.file, mutant.from, mutant.to];
    let cargo = |args: &[&str]| {
        let mut command = crate::workspace::cargo();
        command
            .current_dir(crate::workspace::root())
            // The workspace's own build: only the mutated package is rebuilt, and the next
            // ordinary build rebuilds it again (its build script watches these variables).
            .args(["test", "-p", example.package])
            .args(args)
            // A caught mutant mostly shows as an awaited line that never comes: the real
            // program's lines arrive in milliseconds, so a short wait is enough.
            .env("LEARNING_EBPF_WAIT_SECS", "5");
        for (var, value) in MUTANT_VARS.iter().zip(values) {
            command.env(var, value);
        }
        command
    };
    let build = cargo(&["--no-run"])
        .stdout(Stdio::null())
        .output()
        .context("building the mutant")?;
    if !build.status.success() {
        bail!(
            "the mutant does not build: {}",
            String::from_utf8_lossy(&build.stderr).trim()
        );
    }
    let prefix = example.test_prefix();
    let output = cargo(&["--", &prefix])
        .stderr(Stdio::null())
        .output()
        .context("running the tests on the mutant")?;
    let log = String::from_utf8_lossy(&output.stdout);
    let results = crate::libtest::outcomes(&log);
    let failed: Vec<String> = results
        .iter()
        .filter(|(_, passed)| !passed)
        .map(|(name, _)| name.clone())
        .collect();
    let passed = results.iter().filter(|(_, passed)| *passed).count() as u64;
    if results.is_empty() {
        bail!("no test of {} ran (none is named {prefix}…)", example.name);
    }
    if failed.is_empty() {
        return Ok(Verdict::Survived { passed });
    }
    Ok(Verdict::Caught(failed))
}

/// Runs every mutant of every example, printing one line each. Fails if any survives or
/// cannot be run.
pub fn run_all(examples: &[Example]) -> Result<(u64, u64)> {
    let (mut caught, mut problems) = (0, Vec::new());
    for example in examples {
        if example.mutants.is_empty() {
            problems.push(format!(
                "{} {} declares no mutant",
                example.package, example.name
            ));
        }
        for mutant in example.mutants {
            let name = format!(
                "{} {} mutant {}",
                example.package, example.name, mutant.name
            );
            match run(example, mutant) {
                Ok(Verdict::Caught(tests)) => {
                    caught += 1;
                    println!("{name}: caught by {}", tests.join(", "));
                }
                Ok(Verdict::Survived { passed }) => {
                    println!("{name}: SURVIVED ({passed} tests passed on it)");
                    problems.push(format!("{name} survived"));
                }
                Err(e) => {
                    println!("{name}: could not run: {e:#}");
                    problems.push(format!("{name} could not run"));
                }
            }
        }
    }
    let failed = problems.len() as u64;
    if failed > 0 {
        bail!("{}", problems.join("; "));
    }
    Ok((caught, failed))
}

/// `cargo xtask mutants`: the examples are those the workspace's binaries describe.
pub fn command(package: Option<&str>, names: &[String]) -> Result<()> {
    crate::setup::run(crate::setup::Needs::default())?;
    let examples: Vec<Example> = crate::workspace::examples()?
        .into_iter()
        .filter(|e| package.is_none_or(|p| e.package == p))
        .filter(|e| names.is_empty() || names.iter().any(|n| n == e.name))
        .collect();
    if examples.is_empty() {
        bail!("no example matches the package and names given");
    }
    let (caught, _) = run_all(&examples)?;
    println!("{caught} mutants caught");
    Ok(())
}
