//! Bounded runs: every long-running example stops on Ctrl-C, SIGTERM, `--count` or `--timeout`,
//! and returns from `main` normally so that dropping its links and objects detaches everything.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Result;

static STOP_REQUESTED: AtomicBool = AtomicBool::new(false);

/// A signal set of `signals`.
fn signal_set(signals: &[libc::c_int]) -> libc::sigset_t {
    // SAFETY: sigset_t is plain data, filled by sigemptyset/sigaddset before use.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for &signal in signals {
            libc::sigaddset(&mut set, signal);
        }
        set
    }
}

/// Takes SIGINT and SIGTERM in a thread of its own, which sets the flag that
/// `Run::finished` reads; a second one ends a run that does not stop.
///
/// The signals are blocked in every other thread (threads started later inherit the mask;
/// programs they exec start with nothing blocked), and so is SIGCHLD, which `--trigger`'s
/// children send all the time: no poll or read in an example is ever cut short by EINTR,
/// and each loop notices the stop within one `poll_interval`.
pub(crate) fn catch_signals() {
    let stop = signal_set(&[libc::SIGINT, libc::SIGTERM]);
    let blocked = signal_set(&[libc::SIGINT, libc::SIGTERM, libc::SIGCHLD]);
    // SAFETY: changes the calling thread's signal mask; no memory is shared.
    unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &blocked, std::ptr::null_mut()) };
    std::thread::spawn(move || {
        loop {
            let mut signal = 0;
            // SAFETY: waits for one of the blocked signals in `stop`.
            if unsafe { libc::sigwait(&stop, &mut signal) } == 0
                && STOP_REQUESTED.swap(true, Ordering::SeqCst)
            {
                std::process::exit(128 + signal);
            }
        }
    });
}

/// The longest `--timeout`: a year is more than any run needs.
const MAX_TIMEOUT: Duration = Duration::from_secs(365 * 24 * 3600);

/// `--count`, `--timeout` and `--verbose`, flattened into every long-running example.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct RunArgs {
    /// Stop after N events (or N reports, for examples that print periodically).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub count: Option<u64>,
    /// Stop after SECS seconds.
    #[arg(long, value_name = "SECS", value_parser = parse_seconds)]
    pub timeout: Option<Duration>,
    /// Show libbpf's log as it happens (the verifier's log of a rejected program is shown anyway).
    #[arg(long, short)]
    pub verbose: bool,
}

fn parse_seconds(text: &str) -> Result<Duration, String> {
    match text
        .parse::<f64>()
        .ok()
        .and_then(|secs| Duration::try_from_secs_f64(secs).ok())
    {
        Some(duration) if !duration.is_zero() && duration <= MAX_TIMEOUT => Ok(duration),
        _ => Err(format!(
            "`{text}` is not a positive number of seconds (at most a year)"
        )),
    }
}

/// Tracks when a run should end.
pub struct Run {
    deadline: Option<Instant>,
    remaining: Cell<Option<u64>>,
}

impl Run {
    pub fn new(args: &RunArgs) -> Self {
        Run {
            deadline: args
                .timeout
                .and_then(|timeout| Instant::now().checked_add(timeout)),
            remaining: Cell::new(args.count),
        }
    }

    /// True once a signal arrived, the timeout passed or `--count` events were seen.
    pub fn finished(&self) -> bool {
        STOP_REQUESTED.load(Ordering::SeqCst)
            || self.remaining.get() == Some(0)
            || self.deadline.is_some_and(|d| Instant::now() >= d)
    }

    /// Counts one event (or report) towards `--count`. False, and nothing counted, when the
    /// run has already finished: an event that arrives after that is not shown.
    pub fn record(&self) -> bool {
        if self.finished() {
            return false;
        }
        self.remaining
            .set(self.remaining.get().map(|n| n.saturating_sub(1)));
        true
    }

    /// How long the next poll may block: short enough to notice the timeout promptly.
    pub fn poll_interval(&self) -> Duration {
        let slice = Duration::from_millis(100);
        match self.deadline {
            Some(d) => slice.min(d.saturating_duration_since(Instant::now())),
            None => slice,
        }
    }

    /// Sleeps up to `period`, waking early when the run finishes. Returns true if the
    /// whole period passed.
    pub fn sleep(&self, period: Duration) -> bool {
        let end = Instant::now() + period;
        while Instant::now() < end {
            if self.finished() {
                return false;
            }
            std::thread::sleep(
                self.poll_interval()
                    .min(end.saturating_duration_since(Instant::now())),
            );
        }
        !self.finished()
    }
}
