//! Kernel lanes: boot stock Debian kernels under QEMU (pure emulation) and run the host-built
//! test binaries inside them, so that what this host's kernel lacks (kprobes, fentry, LSM) is
//! still proven on a real kernel.
//!
//! A lane boots the kernel from Debian's package (downloaded and unpacked, never installed)
//! with a small busybox initramfs that loads the 9p and overlay modules, mounts the host's root
//! read-only over 9p with a tmpfs overlay on top, and runs a script in that root. Output comes
//! back on the serial console; the script's exit status comes back as a marker line.
//!
//! One module per job, each importing only those before it: `catalogue` (the lanes),
//! `package` (Debian's kernel and busybox packages), `image` (the initramfs), `qemu` (booting
//! and the console), `tests` (the chapters' tests in a lane). The lanes record nothing: their
//! callers decide what to do with the outcome.

pub mod catalogue;
mod image;
mod package;
mod qemu;
pub mod tests;

pub use catalogue::{LANES, Lane, find};
pub use qemu::{run_script, shell};
