//! An empty Rust program: exec, the dynamic loader and the standard library's start-up before
//! `main` (stdio checked, SIGPIPE ignored, the main thread's stack guard found through
//! /proc/self/maps, a signal stack for stack overflows), and nothing else.

fn main() {}
