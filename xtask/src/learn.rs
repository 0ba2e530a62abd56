//! `cargo learn`: the reader's way through the exercises, in the spirit of rustlings.
//!
//! Each exercise is a package in exercises/ (its own workspace and target directory): a copy of
//! the chapter's example with TODOs in its loader (src/main.rs), its eBPF program, or both; the
//! solved twin is in solutions/. Both run one check, exercises/checks/NAME.rs, which loads the
//! program on the kernel and tests what the book asks for.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use clap::Subcommand;

#[derive(Subcommand)]
pub enum Learn {
    /// List the exercises with your progress.
    List,
    /// Check an exercise (default: the first one not done yet).
    Check {
        name: Option<String>,
        /// Check the solution instead of your work.
        #[arg(long)]
        solution: bool,
    },
    /// Show the task and a hint for an exercise (default: the first one not done yet).
    Hint { name: Option<String> },
}

/// One exercise, described by its README: `# Title`, a `Book:` line, the task, `## Hint`.
pub struct Exercise {
    pub name: String,
    pub title: String,
    pub readme: String,
}

impl Exercise {
    fn hint(&self) -> &str {
        self.readme
            .split_once("## Hint")
            .map_or("(no hint)", |(_, hint)| hint.trim())
    }

    fn task(&self) -> &str {
        self.readme
            .split_once("## Hint")
            .map_or(self.readme.as_str(), |(task, _)| task)
            .trim()
    }
}

pub fn exercises_dir() -> PathBuf {
    crate::workspace::root().join("exercises")
}

pub fn solutions_dir() -> PathBuf {
    crate::workspace::root().join("solutions")
}

/// Every exercise, in book order (the directory names start with the chapter and number).
pub fn all() -> Result<Vec<Exercise>> {
    let mut list = Vec::new();
    for entry in std::fs::read_dir(exercises_dir())? {
        let path = entry?.path();
        let readme = path.join("README.md");
        if !path.join("Cargo.toml").exists() || !readme.exists() {
            continue;
        }
        let text = std::fs::read_to_string(&readme)?;
        let title = text
            .lines()
            .next()
            .unwrap_or_default()
            .trim_start_matches("# ")
            .to_string();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        list.push(Exercise {
            name,
            title,
            readme: text,
        });
    }
    list.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(list)
}

fn progress_file() -> PathBuf {
    exercises_dir().join("target/learn-progress")
}

fn done() -> Vec<String> {
    std::fs::read_to_string(progress_file())
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

fn record(name: &str, passed: bool) -> Result<()> {
    let mut names: Vec<String> = done().into_iter().filter(|n| n != name).collect();
    if passed {
        names.push(name.to_string());
    }
    std::fs::create_dir_all(progress_file().parent().unwrap())?;
    std::fs::write(progress_file(), names.join("\n"))?;
    Ok(())
}

fn pick(name: Option<String>) -> Result<Exercise> {
    let exercises = all()?;
    let done = done();
    let wanted = name.unwrap_or_else(|| {
        exercises
            .iter()
            .find(|e| !done.contains(&e.name))
            .map_or_else(String::new, |e| e.name.clone())
    });
    if wanted.is_empty() {
        bail!("every exercise is done: well done!");
    }
    let names: Vec<&str> = exercises.iter().map(|e| e.name.as_str()).collect();
    // Accept the full name, its start (`ch02-1`) or its end (`odd-even`).
    let found = exercises.iter().position(|e| {
        e.name == wanted
            || e.name.starts_with(&format!("{wanted}-"))
            || e.name.ends_with(&format!("-{wanted}"))
    });
    match found {
        Some(i) => Ok(exercises.into_iter().nth(i).unwrap()),
        None => bail!(
            "no exercise named {wanted}; there are: {}",
            names.join(", ")
        ),
    }
}

pub fn run(command: Learn) -> Result<()> {
    match command {
        Learn::List => {
            let done = done();
            let exercises = all()?;
            let finished = exercises.iter().filter(|e| done.contains(&e.name)).count();
            println!(
                "Exercises in {} ({finished}/{} done):",
                exercises_dir().display(),
                exercises.len()
            );
            for e in &exercises {
                let mark = if done.contains(&e.name) {
                    "done"
                } else {
                    "    "
                };
                println!("  [{mark}] {:<24} {}", e.name, e.title);
            }
            println!(
                "\n`cargo learn check NAME` checks one, `cargo learn hint NAME` shows its task and a hint."
            );
            Ok(())
        }
        Learn::Hint { name } => {
            let exercise = pick(name)?;
            println!(
                "{}\n\nYour work: {}/\n\nHint: {}",
                exercise.task(),
                exercises_dir().join(&exercise.name).display(),
                exercise.hint()
            );
            Ok(())
        }
        Learn::Check { name, solution } => {
            crate::setup::run(crate::setup::Needs::default())?;
            let exercise = pick(name)?;
            let workspace = if solution {
                solutions_dir()
            } else {
                exercises_dir()
            };
            println!(
                "Checking {} ({}) on the running kernel…",
                workspace.join(&exercise.name).display(),
                exercise.title
            );
            let outcome = check(&workspace, &exercise.name, true)?;
            // Only a verdict on the reader's program changes their progress.
            if !solution && matches!(outcome, Outcome::Passed | Outcome::NotSolved(_)) {
                record(&exercise.name, outcome == Outcome::Passed)?;
            }
            match outcome {
                Outcome::Passed => {
                    println!(
                        "\n✔ {} passes. `cargo learn list` shows what is next.",
                        exercise.name
                    );
                    Ok(())
                }
                Outcome::NotSolved(_) => {
                    bail!(
                        "{} is not solved yet; `cargo learn hint {}` may help",
                        exercise.name,
                        exercise.name
                    )
                }
                Outcome::CouldNotRun(_) => {
                    bail!(
                        "the check of {} could not run here (see above); this says nothing about your program",
                        exercise.name
                    )
                }
                Outcome::BuildFailed(_) => bail!(
                    "{} does not build; the compiler's messages are above",
                    exercise.name
                ),
            }
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Passed,
    /// The program built and ran, and the check found the asked behaviour missing.
    NotSolved(String),
    /// The check failed for another reason: no root, no tracefs, a program that did not load.
    CouldNotRun(String),
    BuildFailed(String),
}

/// The line every check prints when the behaviour is missing (see ebpf_support::testing).
pub use ebpf_support::EXERCISE_CHECK_FAILED as CHECK_FAILED_MARKER;

/// Builds the package's check, then runs it. With `show`, the compiler's errors, or else the
/// check's own report, are printed when it ends.
pub fn check(workspace: &Path, name: &str, show: bool) -> Result<Outcome> {
    check_with(workspace, name, show, &[])
}

/// `check`, with more environment for the build and the run (the proof uses it to run a
/// broken starter: see `mutants::environment`).
pub fn check_with(
    workspace: &Path,
    name: &str,
    show: bool,
    env: &[(&str, &str)],
) -> Result<Outcome> {
    let manifest = workspace.join("Cargo.toml");
    let (built, output) = output_of(
        crate::workspace::cargo()
            .current_dir(workspace)
            .args([
                "test",
                "--quiet",
                "--message-format=short",
                "--manifest-path",
            ])
            .arg(&manifest)
            .args(["-p", name, "--test", "check", "--no-run"])
            .envs(env.iter().copied()),
        false,
    )?;
    if !built {
        let errors = build_errors(&output);
        if show {
            print!("\n{errors}");
        }
        return Ok(Outcome::BuildFailed(errors));
    }
    let run = output_of(
        crate::workspace::cargo()
            .current_dir(workspace)
            .args(["test", "--manifest-path"])
            .arg(&manifest)
            .args([
                "-p",
                name,
                "--test",
                "check",
                "--",
                "--nocapture",
                "--test-threads=1",
            ])
            .envs(env.iter().copied()),
        show,
    )?;
    Ok(match run {
        (true, _) => Outcome::Passed,
        (false, text) if text.contains(CHECK_FAILED_MARKER) => Outcome::NotSolved(text),
        (false, text) => Outcome::CouldNotRun(text),
    })
}

/// Runs a command, returning whether it succeeded and everything it printed.
fn output_of(command: &mut Command, show: bool) -> Result<(bool, String)> {
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    let output = command
        .output()
        .with_context(|| format!("running {command:?}"))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    if show {
        print!("{}", readable(&text));
    }
    Ok((output.status.success(), text))
}

/// What a failed build has to say to the reader. When a build script failed (clang rejected the
/// eBPF program), only what that script wrote to stderr: cargo prints it, indented, under
/// `--- stderr` at the end of its "failed to run custom build command" error. Otherwise rustc's
/// messages, without cargo's own chatter.
fn build_errors(output: &str) -> String {
    let mut script_stderr = String::new();
    let mut in_stderr = false;
    for line in output.lines() {
        if line.trim() == "--- stderr" {
            in_stderr = true;
        } else if in_stderr && (line.is_empty() || line.starts_with("  ")) {
            script_stderr.push_str(line.strip_prefix("  ").unwrap_or(line));
            script_stderr.push('\n');
        } else {
            in_stderr = false;
        }
    }
    let errors = if script_stderr.trim().is_empty() {
        output
            .lines()
            .filter(|l| !l.starts_with("warning: build failed, waiting for other jobs"))
            .map(|l| format!("{l}\n"))
            .collect()
    } else {
        script_stderr
    };
    format!("{}\n", errors.trim_matches('\n'))
}

/// The check's own report, without cargo's and libtest's framing, when there is one.
fn readable(text: &str) -> String {
    match text.find(CHECK_FAILED_MARKER) {
        Some(start) => {
            let report = &text[start..];
            let cuts = ["\nstack backtrace:", "\nnote:", "\n\nfailures:"];
            let end = cuts
                .iter()
                .filter_map(|cut| report.find(cut))
                .min()
                .unwrap_or(report.len());
            format!("\n{}\n", &report[..end])
        }
        None => text
            .lines()
            .filter(|l| !l.starts_with("     Running") && !l.trim().is_empty())
            .map(|l| format!("{l}\n"))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_build_script_shows_only_its_stderr() {
        // What cargo printed when clang rejected a starter (a `;` deleted).
        let output = "\
error: failed to run custom build command for `ch02-1-odd-even v0.1.0 (/tmp/copy/exercises/ch02-1-odd-even)`
note: To improve backtraces for build dependencies, set the CARGO_PROFILE_TEST_BUILD_OVERRIDE_DEBUG=true environment variable to enable debug information generation.

Caused by:
  process didn't exit successfully: `/tmp/copy/exercises/target/debug/build/ch02-1-odd-even-9240895b339465ce/build-script-build` (exit status: 1)
  --- stdout
  cargo:rerun-if-env-changed=CLANG
  cargo:rerun-if-changed=/tmp/copy/exercises/ch02-1-odd-even/src/bpf
  cargo:rerun-if-changed=/tmp/copy/exercises/ch02-1-odd-even/src/bpf/hello-buffer.bpf.c

  --- stderr
  /tmp/copy/exercises/ch02-1-odd-even/src/bpf/hello-buffer.bpf.c:23:45: error: expected ';' after expression
     23 |         data.pid = bpf_get_current_pid_tgid() >> 32
        |                                                    ^
        |                                                    ;
  1 error generated.
warning: build failed, waiting for other jobs to finish...
";
        assert_eq!(
            build_errors(output),
            "\
/tmp/copy/exercises/ch02-1-odd-even/src/bpf/hello-buffer.bpf.c:23:45: error: expected ';' after expression
   23 |         data.pid = bpf_get_current_pid_tgid() >> 32
      |                                                    ^
      |                                                    ;
1 error generated.
"
        );
    }

    #[test]
    fn a_failed_rust_build_shows_rustc_errors() {
        let output = "\
ch02-1-odd-even/../checks/ch02-1-odd-even.rs:58:22: error[E0308]: mismatched types: expected `u32`, found `&str`
warning: build failed, waiting for other jobs to finish...
error: could not compile `ch02-1-odd-even` (test \"check\") due to 1 previous error
";
        assert_eq!(
            build_errors(output),
            "\
ch02-1-odd-even/../checks/ch02-1-odd-even.rs:58:22: error[E0308]: mismatched types: expected `u32`, found `&str`
error: could not compile `ch02-1-odd-even` (test \"check\") due to 1 previous error
"
        );
    }
}
