//! Helpers for tests that run examples on the real kernel, by concern: whether the kernel is
//! ready, test processes, the pty session, leak checks, a network example's traces, facts read
//! from the kernel, and the exercise checks.

mod exercises;
mod kernel_facts;
mod leaks;
mod network;
mod preconditions;
mod processes;
mod session;

pub use exercises::*;
pub use kernel_facts::*;
pub use leaks::*;
pub use network::*;
pub use preconditions::*;
pub use processes::*;
pub use session::*;

pub use rexpect::process::WaitStatus;
