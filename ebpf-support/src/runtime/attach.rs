//! The execve hook of chapter 2: the book attaches a kprobe to the execve syscall; where the
//! kernel has no kprobes, the `syscalls/sys_enter_execve` tracepoint fires at the same moment.

use anyhow::{Context, Result, bail};
use libbpf_rs::{Link, OpenProgramMut, ProgramMut};

use super::features::{Feature, has};

/// `--attach`: which hook to use for the execve examples.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum AttachMode {
    /// kprobe where the kernel has kprobes, the tracepoint otherwise.
    Auto,
    /// A kprobe on the execve syscall function (libbpf's ksyscall), as in the book.
    Kprobe,
    /// The syscalls/sys_enter_execve tracepoint.
    Tracepoint,
}

/// The hook actually used, after `Auto` is resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExecveAttach {
    Kprobe,
    Tracepoint,
}

impl AttachMode {
    /// Resolves `Auto` against the running kernel, saying in one line when it falls back, and
    /// refuses a hook the kernel cannot offer before anything is loaded.
    pub fn resolve(self) -> Result<ExecveAttach> {
        let hook = match self {
            AttachMode::Kprobe if !has(Feature::Kprobes) => {
                bail!(
                    "cannot attach a kprobe: {}; try --attach tracepoint",
                    Feature::Kprobes.missing_reason()
                )
            }
            AttachMode::Kprobe => ExecveAttach::Kprobe,
            AttachMode::Tracepoint => ExecveAttach::Tracepoint,
            AttachMode::Auto if has(Feature::Kprobes) => ExecveAttach::Kprobe,
            AttachMode::Auto => {
                eprintln!(
                    "{}: {}; using the syscalls/sys_enter_execve tracepoint instead",
                    super::cli::program_name(),
                    Feature::Kprobes.missing_reason()
                );
                ExecveAttach::Tracepoint
            }
        };
        // libbpf finds a tracepoint's id in tracefs.
        if hook == ExecveAttach::Tracepoint {
            super::trace_pipe::tracefs()?;
        }
        Ok(hook)
    }
}

/// Loads only the program for the chosen hook: the other one stays out of the kernel.
pub fn choose_execve_program(
    hook: ExecveAttach,
    kprobe: &mut OpenProgramMut,
    tracepoint: &mut OpenProgramMut,
) {
    kprobe.set_autoload(hook == ExecveAttach::Kprobe);
    tracepoint.set_autoload(hook == ExecveAttach::Tracepoint);
}

/// Attaches the chosen program by its section name (`ksyscall/execve` or
/// `tp/syscalls/sys_enter_execve`).
pub fn attach_execve(
    hook: ExecveAttach,
    kprobe: &ProgramMut,
    tracepoint: &ProgramMut,
) -> Result<Link> {
    match hook {
        ExecveAttach::Kprobe => kprobe
            .attach()
            .context("attaching the kprobe to the execve syscall"),
        ExecveAttach::Tracepoint => tracepoint
            .attach()
            .context("attaching to the syscalls/sys_enter_execve tracepoint"),
    }
}

impl std::fmt::Display for ExecveAttach {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ExecveAttach::Kprobe => "kprobe on the execve syscall",
            ExecveAttach::Tracepoint => "tracepoint syscalls/sys_enter_execve",
        })
    }
}

/// The options every execve example takes: `--attach`, `--trigger`, `--count`, `--timeout`.
#[derive(Clone, Debug, clap::Args)]
pub struct ExecveArgs {
    /// Which hook to attach to.
    #[arg(long, value_enum, default_value = "auto")]
    pub attach: AttachMode,
    #[command(flatten)]
    pub trigger: super::cli::ExecTrigger,
    #[command(flatten)]
    pub run: super::cli::RunArgs,
}
