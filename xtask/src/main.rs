//! `cargo xtask`: everything in this workspace that is not an example.

mod bench;
mod book;
mod compat;
mod cpio;
mod environments;
mod lanes;
mod learn;
mod libtest;
mod mutants;
mod setup;
mod test;
mod vmlinux;
mod workspace;

use std::process::ExitCode;

use anyhow::{Result, bail};

use crate::workspace::{cargo, root, run_status};
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
    /// The whole test suite: set-up, format, clippy, every test on this kernel, the exercise
    /// proofs, the book, the benchmarks (quick), then every chapter's tests again in each kernel lane.
    Test {
        /// Run only the tests of this kernel lane (see `cargo xtask vm list`); repeat it for
        /// more than one.
        #[arg(long)]
        lane: Vec<String>,
        /// Run every example's tests in the lanes, not only what the host cannot prove (and a
        /// smoke test of each chapter): what `cargo xtask compat` should record.
        #[arg(long)]
        full_lanes: bool,
        /// In the lanes, let insta write the snapshots the tests take and copy them back into
        /// the workspace: for a kernel that has no snapshots yet. Review them with `git diff`.
        #[arg(long)]
        record_snapshots: bool,
        /// In the lanes, run only the tests whose names start with this (`hello_verifier::`);
        /// repeat it for more.
        #[arg(long = "tests")]
        tests: Vec<String>,
    },
    /// Build each example's declared mutants and prove that its tests fail on each.
    Mutants {
        /// Only the examples of this package (`-p chapter08`).
        #[arg(short, long)]
        package: Option<String>,
        /// Only this example (`--example ping`); repeat it for more.
        #[arg(long)]
        example: Vec<String>,
    },
    /// Exercises: list them with your progress, check one, or show a hint (alias: cargo learn).
    #[command(subcommand)]
    Learn(learn::Learn),
    /// Build the book in book/build (checking every {{#include}}).
    Book,
    /// Regenerate vmlinux/<arch>/vmlinux.h from this kernel's BTF with bpftool.
    Vmlinux {
        /// Take the BTF of a lane's kernel instead (e.g. debian-6.12-arm64 for the arm64 header).
        #[arg(long)]
        lane: Option<String>,
    },
    /// What this kernel offers the book's examples, each capability probed for real.
    Doctor,
    /// Copy the compatibility table of the last full `cargo xtask test` into COMPATIBILITY.md
    /// and README.md.
    Compat {
        /// Keep the committed findings and only draw the table again from them (after a
        /// change to how the table is drawn).
        #[arg(long)]
        redraw: bool,
    },
    /// Check lima.yaml, vagrant/Vagrantfile and the GitHub workflows with their own tools, and
    /// that only the set-up code names packages (a phase of `cargo xtask test`).
    Environments,
    /// The book's performance claims measured on this machine, each as a ratio to a baseline
    /// run alongside (tables in target/bench/).
    Bench {
        /// Fewer and shorter rounds: all five cases in under two minutes (what the test run does).
        #[arg(long)]
        quick: bool,
        /// Only this case: load, buffers, counters, xdp or rules; repeat it for more.
        #[arg(long = "case", value_name = "CASE")]
        cases: Vec<String>,
        /// Instead of the cases: time a cold build of a clean clone, and the rebuild of one
        /// example after an edit (what the README records).
        #[arg(long, conflicts_with_all = ["quick", "cases"])]
        build_times: bool,
    },
    /// Kernel lanes: stock Debian kernels booted in QEMU, where the tests run too.
    #[command(subcommand)]
    Vm(Vm),
}

#[derive(Subcommand)]
enum Vm {
    /// Open a shell in a lane, with this workspace at the same path: run the examples there
    /// on a kernel that has kprobes, fentry and LSM.
    Shell {
        #[arg(long, default_value = "debian-6.12")]
        lane: String,
        /// More for the kernel's command line: `--kernel-args lsm=capability,yama,apparmor,bpf`
        /// makes LSM programs run on 5.10.
        #[arg(long, default_value = "")]
        kernel_args: String,
    },
    /// Run one shell command line in a lane, e.g. `cargo xtask vm run --lane debian-6.1 -- uname -a`.
    Run {
        #[arg(long, default_value = "debian-6.12")]
        lane: String,
        /// More for the kernel's command line, as for `vm shell`.
        #[arg(long, default_value = "")]
        kernel_args: String,
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, required = true)]
        command: Vec<String>,
    },
    /// List the lanes and the kernel package each boots today.
    List,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Task::Setup { book } => setup::run(setup::Needs { book }),
        Task::Run { args } => setup::run(setup::Needs::default()).and_then(|()| run_example(&args)),
        Task::Test {
            lane,
            full_lanes,
            record_snapshots,
            tests,
        } => test::run(test::Scope {
            lane,
            full_lanes,
            record_snapshots,
            tests,
        }),
        Task::Mutants { package, example } => mutants::command(package.as_deref(), &example),
        Task::Learn(command) => learn::run(command),
        Task::Book => setup::run(setup::Needs { book: true }).and_then(|()| book::build()),
        Task::Vmlinux { lane } => vmlinux::generate(lane.as_deref()),
        Task::Vm(vm) => run_vm(vm),
        Task::Doctor => setup::run(setup::Needs::default()).and_then(|()| {
            // The doctor lists the examples that the chapters' binaries describe.
            workspace::build_examples()?;
            run_status(
                cargo()
                    .current_dir(root())
                    .args(["run", "--quiet", "-p", "doctor"]),
            )
        }),
        Task::Compat { redraw } => compat::write(redraw),
        Task::Environments => environments::run(),
        Task::Bench {
            build_times: true, ..
        } => bench::build_times(),
        Task::Bench { quick, cases, .. } => bench::command(&bench::Options { quick, cases }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("xtask: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run_vm(vm: Vm) -> Result<()> {
    setup::run(setup::Needs::default())?;
    match vm {
        Vm::Shell { lane, kernel_args } => lanes::shell(&lanes::find(&lane)?, &kernel_args),
        Vm::Run {
            lane,
            kernel_args,
            command,
        } => {
            let lane = lanes::find(&lane)?;
            // The words form one shell command line, as with `sh -c`.
            let script = format!("cd '{}'\n{}\n", root().display(), command.join(" "));
            let run = lanes::run_script(
                &lane,
                &script,
                std::time::Duration::from_secs(30 * 60),
                &kernel_args,
            )?;
            if run.status != 0 {
                eprintln!(
                    "xtask: the command exited with status {} in {}",
                    run.status, lane.name
                );
                std::process::exit(run.status);
            }
            Ok(())
        }
        Vm::List => {
            for lane in lanes::LANES {
                let kernel = lane.kernel_package().unwrap_or_else(|e| format!("({e:#})"));
                println!("{:<20} {:<8} {kernel}", lane.name, lane.arch.rust_name());
            }
            Ok(())
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
