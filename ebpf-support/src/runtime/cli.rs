//! Command-line pieces shared by every example, and the `main` wrapper that turns any error
//! into one line on stderr and a non-zero exit.

use std::process::{Command, ExitCode, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::{Result, bail};

use crate::needs::Example;

/// `--trigger`: start harmless execs so that execve examples show output without a second terminal.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct ExecTrigger {
    /// Also run /bin/true twice a second, so events appear without a second terminal.
    #[arg(long)]
    pub trigger: bool,
}

impl ExecTrigger {
    /// Starts the exec loop if `--trigger` was given; it stops when the guard is dropped.
    pub fn start(&self) -> Option<TriggerGuard> {
        self.start_with(|| {})
    }

    /// Like `start`, calling `each_round` before each exec (an example that also watches a
    /// function of its own calls it there).
    pub fn start_with(&self, each_round: fn()) -> Option<TriggerGuard> {
        if !self.trigger {
            return None;
        }
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            loop {
                each_round();
                let _ = Command::new("/bin/true").stdin(Stdio::null()).status();
                // Wakes at once when the guard is dropped (the sender goes away).
                if stopped.recv_timeout(Duration::from_millis(500))
                    != Err(RecvTimeoutError::Timeout)
                {
                    return;
                }
            }
        });
        Some(TriggerGuard {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

pub struct TriggerGuard {
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for TriggerGuard {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Writes `line` and a newline to stderr in one write. Rust's stderr is unbuffered, so
/// `eprintln!` with arguments makes a write for each piece: a reader of the pipe (a test, the
/// benchmarks) is woken for each, and two programs' lines can interleave mid-line.
pub(crate) fn say(line: &str) {
    use std::io::Write;
    let _ = std::io::stderr().write_all(format!("{line}\n").as_bytes());
}

/// The example's name, as the reader typed it (`hello-map`), for messages.
pub fn program_name() -> String {
    std::env::args()
        .next()
        .and_then(|arg0| {
            std::path::Path::new(&arg0)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "example".into())
}

/// Parses the command line. `--help` prints and exits 0; a bad argument becomes a one-line
/// error (clap's own report adds a usage block). Also says whether `--verbose` was given.
fn parse_args<T: clap::Parser>() -> Result<(T, bool)> {
    let one_line = |error: clap::Error| {
        use clap::error::ErrorKind;
        if matches!(
            error.kind(),
            ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
        ) {
            error.exit();
        }
        let rendered = error.to_string();
        let first = rendered
            .lines()
            .next()
            .unwrap_or_default()
            .trim_start_matches("error: ");
        anyhow::anyhow!("{first} (see --help)")
    };
    let matches = T::command().try_get_matches().map_err(one_line)?;
    let verbose = matches
        .try_get_one::<bool>("verbose")
        .ok()
        .flatten()
        .copied()
        .unwrap_or(false);
    Ok((T::from_arg_matches(&matches).map_err(one_line)?, verbose))
}

/// Fails, naming the first kernel capability that `example` needs and this kernel lacks.
/// `main` checks the example's own needs; an example that loads another's program checks
/// that one's too.
pub fn require_needs(example: &Example) -> Result<()> {
    for need in example.needs {
        if let Some(reason) = super::kernel::missing(*need) {
            bail!("{reason}: {} needs {}", example.name, need.name());
        }
    }
    Ok(())
}

/// Runs an example: parses its arguments, checks the privileges its description names and the
/// kernel's BTF, catches Ctrl-C and SIGTERM, then runs `body`. Any error becomes
/// `NAME: message` on one line (plus the verifier log, when the kernel rejected a program) and
/// exit code 1. The hidden flag `--describe` prints the description instead.
pub fn main<A: clap::Parser>(example: &Example, body: impl FnOnce(A) -> Result<()>) -> ExitCode {
    if std::env::args().nth(1).as_deref() == Some("--describe") {
        print!("{}", example.describe());
        return ExitCode::SUCCESS;
    }
    // Rust ignores SIGPIPE, so `example | head` would panic on the next print; the shell's
    // usual behaviour (die quietly) is what a reader expects.
    // SAFETY: restoring a signal's default action has no preconditions.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    super::libbpf_log::install();
    let result = parse_args::<A>().and_then(|(args, verbose)| {
        super::privileges::require(example.privilege)?;
        require_needs(example)?;
        if verbose {
            super::libbpf_log::show_everything();
        }
        super::run::catch_signals();
        body(args)
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let explained = super::libbpf_log::explain_load_failure(&error);
            let line = match &explained {
                Some(failure) => failure.to_string(),
                None => format!("{error:#}").replace('\n', " "),
            };
            eprintln!("{}: {line}", program_name());
            if let Some(log) = explained.and_then(|e| e.verifier_log) {
                eprint!("{log}");
            }
            ExitCode::FAILURE
        }
    }
}

/// The index of the host's interface `name`, for `--iface NAME`; an unknown name is one clear
/// line.
pub fn interface_index(name: &str) -> Result<u32> {
    let Ok(c_name) = std::ffi::CString::new(name) else {
        bail!("--iface {name:?}: not an interface name");
    };
    // SAFETY: if_nametoindex reads a NUL-terminated string.
    match unsafe { libc::if_nametoindex(c_name.as_ptr()) } {
        0 => bail!("--iface {name}: there is no interface {name} here (see `ip link`)"),
        ifindex => Ok(ifindex),
    }
}
