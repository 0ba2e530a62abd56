//! `cargo xtask`: everything in this workspace that is not an example.

mod book;
mod learn;
mod setup;
mod test;
mod vmlinux;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "cargo xtask",
    about = "Set-up, tests, exercises and the book of the Learning eBPF companion"
)]
struct Cli {
    #[command(subcommand)]
    command: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Install what this machine lacks (Debian packages, tracefs mount, mdbook). Idempotent.
    Setup {
        /// Also install mdbook, which only building the book needs.
        #[arg(long)]
        book: bool,
    },
    /// Set up, then `cargo run` an example: `cargo xtask run -p chapter02 --bin hello -- --count 3`.
    Run {
        /// Arguments for `cargo run`, then `--`, then the example's own arguments.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, required = true)]
        args: Vec<String>,
    },
    /// The whole test suite: set-up, format, clippy, every test on the kernel, the exercise
    /// proofs and the book.
    Test,
    /// Exercises: list them with your progress, check one, or show a hint (alias: cargo learn).
    #[command(subcommand)]
    Learn(learn::Learn),
    /// Build the book in book/build (checking every {{#include}}).
    Book,
    /// Regenerate vmlinux/<arch>/vmlinux.h from this kernel's BTF with bpftool.
    Vmlinux,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Task::Setup { book } => setup::run(setup::Needs { book }),
        Task::Run { args } => setup::run(setup::Needs::default()).and_then(|()| run_example(&args)),
        Task::Test => test::run(),
        Task::Learn(command) => learn::run(command),
        Task::Book => setup::run(setup::Needs { book: true }).and_then(|()| book::build()),
        Task::Vmlinux => vmlinux::generate(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("xtask: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run_example(args: &[String]) -> Result<()> {
    let status = cargo().arg("run").args(args).current_dir(root()).status()?;
    if !status.success() {
        bail!("cargo run {} failed ({status})", args.join(" "));
    }
    Ok(())
}

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The cargo that runs this xtask, so every step uses the pinned toolchain.
pub fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Runs a command with inherited output, failing if it fails.
pub fn run_status(command: &mut Command) -> Result<()> {
    let status = command
        .status()
        .with_context(|| format!("starting {command:?}"))?;
    if !status.success() {
        bail!("{command:?} failed ({status})");
    }
    Ok(())
}
