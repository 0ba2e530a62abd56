//! Mutants: each example declares plausible wrong versions of its eBPF program (the GID for
//! the UID, a missing tail call, …). Each one is compiled as the build compiled the real
//! program, and the example's own tests must fail on it. A mutant that passes them shows a test
//! that cannot fail.
//!
//! Nothing is rebuilt for a mutant: the tests run with `ebpf_support::mutant`'s two variables
//! set, and every skeleton of the package then loads the mutant's object instead of its own.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use anyhow::{Context, Result, bail};
use ebpf_support::mutant::{OBJECTS_VAR, PACKAGE_VAR};
use ebpf_support::needs::{Example, Mutant};

/// What became of one mutant.
pub enum Verdict {
    /// One of the example's tests failed on it, as it should: that test's name.
    Caught(String),
    Survived {
        passed: u64,
    },
}

/// What building a package's tests made: its build script's `OUT_DIR`, where the build lists
/// the objects it compiled and how, and its test executables.
pub struct Built {
    out_dir: PathBuf,
    tests: Vec<TestTarget>,
}

/// One test executable, and how `cargo test` selects it (`--test ping`, `--bin ping`, `--lib`).
struct TestTarget {
    selector: Vec<String>,
    executable: PathBuf,
}

/// Builds `package`'s tests in `workspace`.
fn build(workspace: &Path, package: &str) -> Result<Built> {
    let output = crate::workspace::cargo()
        .current_dir(workspace)
        .args([
            "test",
            "--no-run",
            "--message-format=json-render-diagnostics",
        ])
        .args(["-p", package])
        .output()
        .with_context(|| format!("building {package}"))?;
    if !output.status.success() {
        bail!(
            "{package} does not build:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let messages: Vec<serde_json::Value> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .filter(|message: &serde_json::Value| {
            message["package_id"]
                .as_str()
                .is_some_and(|id| package_name(id) == package)
        })
        .collect();
    let out_dir = messages
        .iter()
        .filter(|message| message["reason"] == "build-script-executed")
        .filter_map(|message| message["out_dir"].as_str().map(PathBuf::from))
        .next_back()
        .with_context(|| format!("cargo named no OUT_DIR for {package}'s build script"))?;
    let tests = messages
        .iter()
        .filter(|message| message["reason"] == "compiler-artifact")
        .filter_map(|message| {
            let executable = message["executable"].as_str()?;
            let name = message["target"]["name"].as_str()?;
            let selector = match message["target"]["kind"][0].as_str()? {
                "lib" => vec!["--lib".to_string()],
                kind => vec![format!("--{kind}"), name.to_string()],
            };
            Some(TestTarget {
                selector,
                executable: executable.into(),
            })
        })
        .collect();
    Ok(Built { out_dir, tests })
}

/// The package's name in cargo's package ID: `path+file:///…/chapter08#0.1.0`, or
/// `…/dir#name@0.1.0` where the folder is named otherwise.
fn package_name(id: &str) -> &str {
    let (path, rest) = id.rsplit_once('#').unwrap_or((id, ""));
    match rest.split_once('@') {
        Some((name, _)) => name,
        None => path.rsplit('/').next().unwrap_or(path),
    }
}

/// Compiles `mutant` of `package` (in `workspace`) into `dir`: every object the build made from
/// the mutated file, under the object's own name (see `ebpf_support::build::compile_mutant`,
/// which the program compile-mutant runs for xtask).
/// Returns what building the package's tests made.
pub fn compile(workspace: &Path, package: &str, mutant: &Mutant, dir: &Path) -> Result<Built> {
    let built = build(workspace, package)?;
    let _ = std::fs::remove_dir_all(dir);
    let output = crate::workspace::cargo()
        .current_dir(crate::workspace::root())
        .args([
            "run",
            "--quiet",
            "-p",
            "ebpf-support",
            "--features",
            "build",
        ])
        .args(["--bin", "compile-mutant", "--"])
        .arg(&built.out_dir)
        .args([mutant.file, mutant.from, mutant.to])
        .arg(dir)
        .output()
        .context("running compile-mutant")?;
    if !output.status.success() {
        bail!(
            "mutant {} of {package}: {}",
            mutant.name,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(built)
}

/// The environment that makes `package`'s programs load the objects in `dir`.
pub fn environment(package: &str, dir: &Path) -> [(&'static str, String); 2] {
    [
        (PACKAGE_VAR, package.to_string()),
        (OBJECTS_VAR, dir.display().to_string()),
    ]
}

/// Compiles `mutant` of `example` and runs the example's tests on it, one at a time, until
/// one fails.
pub fn run(example: &Example, mutant: &Mutant) -> Result<Verdict> {
    let root = crate::workspace::root();
    let dir = root.join("target/mutants").join(example.package);
    let built = compile(&root, example.package, mutant, &dir)?;
    let verdict = run_tests(&root, example, &built.tests, &dir);
    let _ = std::fs::remove_dir_all(&dir);
    verdict
}

fn run_tests(root: &Path, example: &Example, tests: &[TestTarget], dir: &Path) -> Result<Verdict> {
    let prefix = example.test_prefix();
    let mut passed = 0;
    for target in tests {
        let listing = std::process::Command::new(&target.executable)
            .args([prefix.as_str(), "--list", "--format=terse"])
            .output()
            .with_context(|| format!("listing the tests of {}", target.executable.display()))?;
        let listing = String::from_utf8_lossy(&listing.stdout);
        for test in listing.lines().filter_map(|l| l.strip_suffix(": test")) {
            let output = crate::workspace::cargo()
                .current_dir(root)
                .args(["test", "-p", example.package])
                .args(&target.selector)
                .args(["--", "--exact", test])
                .envs(environment(example.package, dir))
                // A caught mutant mostly shows as an awaited line that never comes: the real
                // program's lines arrive in milliseconds, so a short wait is enough.
                .env("LEARNING_EBPF_WAIT_SECS", "5")
                .stderr(Stdio::null())
                .output()
                .context("running a test on the mutant")?;
            let log = String::from_utf8_lossy(&output.stdout);
            match crate::libtest::outcomes(&log).as_slice() {
                [(_, true)] => passed += 1,
                [(name, false)] => return Ok(Verdict::Caught(name.clone())),
                _ => bail!("{test} did not run as one test:\n{log}"),
            }
        }
    }
    if passed == 0 {
        bail!("no test of {} ran (none is named {prefix}…)", example.name);
    }
    Ok(Verdict::Survived { passed })
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
                Ok(Verdict::Caught(test)) => {
                    caught += 1;
                    println!("{name}: caught by {test}");
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
