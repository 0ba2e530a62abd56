//! Bounded runs: every long-running example stops on Ctrl-C, SIGTERM, `--count` or `--timeout`,
//! and returns from `main` normally so that dropping its links and objects detaches everything.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::cli::RunArgs;

static STOP_REQUESTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    STOP_REQUESTED.store(true, Ordering::SeqCst);
}

/// Catches SIGINT and SIGTERM. No SA_RESTART: a blocking poll or read returns EINTR at once.
/// SA_RESETHAND: a second Ctrl-C takes the default action, for a run that does not stop.
pub(crate) fn install_signal_handlers() {
    for signal in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as usize;
            action.sa_flags = libc::SA_RESETHAND;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(signal, &action, std::ptr::null_mut());
        }
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

    /// Counts one event (or report) towards `--count`.
    pub fn record(&self) {
        self.remaining
            .set(self.remaining.get().map(|n| n.saturating_sub(1)));
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
