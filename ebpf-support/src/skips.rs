//! What a test does when this machine cannot run it: outside CI it skips with a printed
//! reason (and a line in `$LEARNING_EBPF_SKIP_LOG`, which `cargo xtask test` lists at the end
//! of its run, proving nothing for that run); with `CI=true` it fails instead.

/// True under CI (`CI=true`), where nothing may skip.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Skips (returns false) or, under CI, fails the calling test for `reason`.
pub fn skip_or_fail(reason: &str) -> bool {
    if in_ci() {
        panic!("CI=true, so this is a failure, not a skip: {reason}");
    }
    let test = std::thread::current()
        .name()
        .unwrap_or("a test")
        .to_string();
    eprintln!("SKIPPED {test}: {reason}");
    if let Some(log) = std::env::var_os("LEARNING_EBPF_SKIP_LOG") {
        use std::io::Write;
        if let Ok(mut file) = std::fs::File::options().create(true).append(true).open(log) {
            let _ = writeln!(file, "{test}: {reason}");
        }
    }
    false
}
