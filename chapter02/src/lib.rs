//! Chapter 2 of Learning eBPF: eBPF's "Hello World". The user-space pieces that more than one
//! example (or exercise) uses.

pub mod counts;
pub mod event;
pub mod syscalls;
