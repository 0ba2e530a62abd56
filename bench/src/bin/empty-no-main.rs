//! An empty Rust program that skips the standard library's start-up: C's `main` is ours, so
//! `std::rt::lang_start` never runs. Beside `empty.rs`, it shows what that start-up costs.

#![no_main]

#[unsafe(no_mangle)]
pub extern "C" fn main(_argc: i32, _argv: *const *const u8) -> i32 {
    0
}
