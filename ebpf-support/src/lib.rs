//! Plumbing shared by every example of the Learning eBPF companion.
//!
//! Examples use the `runtime` modules: privilege checks, tracefs and `trace_pipe`, kernel feature
//! probes, signal handling and the `--count`/`--timeout` bounds. Tests add `testing`, and build
//! scripts use `build` to turn `src/bpf/*.bpf.c` into libbpf-rs skeletons.

#[cfg(feature = "build")]
pub mod build;

pub mod catalogue;
pub mod clang;
pub mod mutant;
pub mod needs;
pub mod skips;

#[cfg(feature = "lab")]
pub mod lab;

#[cfg(feature = "runtime")]
mod runtime;
#[cfg(feature = "runtime")]
pub use runtime::*;

#[cfg(feature = "testing")]
pub mod testing;

/// The line that tells `cargo learn` (and the exercise proof) that a check failed because the
/// asked behaviour is missing, not because something else broke.
pub const EXERCISE_CHECK_FAILED: &str = "EXERCISE CHECK FAILED";

/// The line that tells the exercise proof that a check could not run because a tool it
/// compares with (bpftool, strace) does not run on this machine: outside CI the proof skips
/// that exercise, saying so; under CI it fails.
pub const EXERCISE_NEEDS_TOOL: &str = "EXERCISE NEEDS A TOOL";

/// The environment variable a kernel lane's script sets (to the lane's name) for the tests it
/// runs: there a capability the kernel lacks is what the lane shows, and tests prove the
/// example's refusal instead (see `testing::ready_for`).
pub const LANE_VARIABLE: &str = "LEARNING_EBPF_LANE";

/// Includes the skeleton that `build::skeletons()` generated for `src/bpf/NAME.bpf.c`
/// (dashes in NAME become underscores), e.g. `skeleton!(hello_buffer)`.
#[macro_export]
macro_rules! skeleton {
    ($name:ident) => {
        #[allow(clippy::all, unsafe_op_in_unsafe_fn, dead_code, non_camel_case_types)]
        mod $name {
            include!(concat!(env!("OUT_DIR"), "/", stringify!($name), ".skel.rs"));
        }
    };
}
