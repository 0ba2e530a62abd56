//! `doctor`: what the running kernel offers the book's examples, each capability probed the
//! honest way (a real load and attach where that is what the examples do), and what that means
//! for each example: runs, falls back, or does not run.
//!
//! `doctor --results FILE` also records the findings; `doctor table` turns the records of the
//! host and of every kernel lane into the compatibility table.

mod probes;
mod table;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use ebpf_support::needs::{Capability, Example};

use crate::probes::Finding;

/// What this kernel offers the book's examples, and which of them run, fall back or not run.
#[derive(Parser)]
#[command(name = "doctor")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Also write the findings to FILE, for the compatibility table.
    #[arg(long, value_name = "FILE")]
    results: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Compose the compatibility table from the findings of several kernels.
    Table {
        /// A column: its title and the findings file of that kernel, e.g. `debian-6.1=target/x.txt`.
        #[arg(long = "column", value_name = "TITLE=FILE", required = true)]
        columns: Vec<String>,
        /// A way for a reader to get a kernel, and the columns whose kernels it gives, e.g.
        /// `Lima|limactl start ./lima.yaml|debian-6.1,debian-6.1-arm64`: a row of the
        /// "choose your kernel" table that heads the output.
        #[arg(long = "route", value_name = "NAME|HOW|COLUMN,…")]
        routes: Vec<String>,
        /// Where to write the Markdown table.
        #[arg(long, value_name = "FILE")]
        output: PathBuf,
    },
}

/// Every example of every chapter, each described by its own binary beside this one
/// (`target/debug/hello --describe`), so that a new chapter needs no edit here.
pub fn examples() -> anyhow::Result<Vec<Example>> {
    use anyhow::Context;
    let bin_dir = match std::env::var_os("LEARNING_EBPF_BIN_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => std::env::current_exe()?
            .parent()
            .context("the doctor's own folder")?
            .to_path_buf(),
    };
    let root = ebpf_support::catalogue::find_root(&bin_dir).with_context(|| {
        format!(
            "{} is not inside the repository, so the examples cannot be listed",
            bin_dir.display()
        )
    })?;
    ebpf_support::catalogue::examples(&root, &bin_dir).map_err(anyhow::Error::msg)
}

/// What an example does on a kernel with these findings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Runs(Capability),
    FallsBack {
        to: String,
        because: String,
    },
    DoesNotRun(String),
    /// A capability it depends on was never probed on that kernel.
    Unknown(Capability),
}

pub fn verdict(example: &Example, findings: &[Finding]) -> Verdict {
    let find = |c: Capability| findings.iter().find(|f| f.capability == c);
    let depends_on = example
        .needs
        .iter()
        .copied()
        .chain(std::iter::once(example.hook.capability()));
    if let Some(unprobed) = depends_on.into_iter().find(|&c| find(c).is_none()) {
        return Verdict::Unknown(unprobed);
    }
    let missing = |c: Capability| {
        find(c)
            .filter(|f| !f.available)
            .map(|f| format!("{}: {}", c.name(), f.detail))
    };
    if let Some(reason) = example.needs.iter().find_map(|c| missing(*c)) {
        return Verdict::DoesNotRun(reason);
    }
    let book = example.hook.capability();
    let Some(hook_missing) = missing(book) else {
        return Verdict::Runs(book);
    };
    match example
        .fallbacks
        .iter()
        .find(|stand_in| missing(stand_in.capability()).is_none())
    {
        Some(stand_in) => Verdict::FallsBack {
            to: stand_in.to_string(),
            because: hook_missing,
        },
        None => Verdict::DoesNotRun(hook_missing),
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if e.use_stderr() => {
            let text = e.to_string();
            eprintln!(
                "doctor: {}",
                text.lines()
                    .next()
                    .unwrap_or_default()
                    .trim_start_matches("error: ")
            );
            return ExitCode::FAILURE;
        }
        Err(e) => e.exit(),
    };
    let result = match cli.command {
        Some(Command::Table {
            columns,
            routes,
            output,
        }) => table::write(&columns, &routes, &output),
        None => report(cli.results),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("doctor: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn report(results: Option<PathBuf>) -> anyhow::Result<()> {
    let kernel = probes::kernel();
    let findings = probes::all();
    println!("Kernel: {kernel}\n");
    let privileged = [Capability::CapBpf, Capability::CapPerfmon]
        .iter()
        .all(|c| findings.iter().any(|f| f.capability == *c && f.available));
    if !privileged {
        println!(
            "Not running as root: most probes below fail for that reason alone. Run `sudo doctor` (or `cargo xtask doctor`).\n"
        );
    }
    println!(
        "{:<31} {:<5} How it was probed, and what it found",
        "Capability", "Here"
    );
    for f in &findings {
        println!(
            "{:<31} {:<5} {}: {}",
            f.capability.name(),
            if f.available { "yes" } else { "no" },
            f.how,
            f.detail
        );
    }
    println!("\nExamples");
    let mut elsewhere = false;
    let examples = examples().unwrap_or_else(|e| {
        println!("  (none listed: {e:#})");
        Vec::new()
    });
    for example in examples {
        let line = match verdict(&example, &findings) {
            Verdict::Runs(hook) => format!("runs ({})", hook.name()),
            Verdict::FallsBack { to, because } => {
                elsewhere = true;
                format!("falls back to the {to} ({because})")
            }
            Verdict::DoesNotRun(why) => {
                elsewhere = true;
                format!("does not run here ({why})")
            }
            Verdict::Unknown(capability) => {
                format!("unknown ({} was not probed)", capability.name())
            }
        };
        println!("  {:<10} {:<24} {line}", example.package, example.name);
    }
    println!("\nWhat it means:");
    for f in findings.iter().filter(|f| !f.available) {
        println!("  no {}: {}", f.capability.name(), f.capability.meaning());
    }
    if elsewhere {
        println!(
            "\nTo run the book's own attach types, open a shell on a Debian kernel that has them (no VM manager \
             needed):\n  cargo xtask vm shell --lane debian-6.12"
        );
    }
    if let Some(path) = results {
        std::fs::write(&path, probes::record(&kernel, &findings))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ebpf_support::needs::Capability as C;

    fn findings(missing: &[C]) -> Vec<Finding> {
        C::ALL
            .iter()
            .map(|&capability| Finding {
                capability,
                available: !missing.contains(&capability),
                how: String::new(),
                detail: "attach failed: ENOENT".into(),
            })
            .collect()
    }

    use ebpf_support::needs::{Hook, Privilege};

    const HELLO: Example = Example {
        package: "chapter02",
        name: "hello",
        privilege: Privilege::Tracing,
        needs: &[C::Btf, C::Tracefs],
        hook: Hook::Ksyscall("execve"),
        fallbacks: &[Hook::Tracepoint("syscalls", "sys_enter_execve")],
        mutants: &[],
    };

    #[test]
    fn runs_falls_back_or_does_not_run() {
        assert_eq!(verdict(&HELLO, &findings(&[])), Verdict::Runs(C::Ksyscall));
        assert_eq!(
            verdict(&HELLO, &findings(&[C::Ksyscall])),
            Verdict::FallsBack {
                to: "tracepoint syscalls/sys_enter_execve".into(),
                because: "ksyscall kprobe: attach failed: ENOENT".into()
            }
        );
        assert_eq!(
            verdict(&HELLO, &findings(&[C::Ksyscall, C::Tracepoint])),
            Verdict::DoesNotRun("ksyscall kprobe: attach failed: ENOENT".into())
        );
        assert_eq!(
            verdict(&HELLO, &findings(&[C::Btf])),
            Verdict::DoesNotRun("BTF: attach failed: ENOENT".into())
        );
        let unprobed: Vec<Finding> = findings(&[])
            .into_iter()
            .filter(|f| f.capability != C::Ksyscall)
            .collect();
        assert_eq!(verdict(&HELLO, &unprobed), Verdict::Unknown(C::Ksyscall));
    }
}
