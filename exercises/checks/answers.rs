//! Pieces shared by the checks of the tour exercises (each includes this file): the reader's
//! answers file, the chapter's example that the reader looked at, and the kernel's own names for
//! program and map types.
#![allow(dead_code)] // each check uses only some of these helpers

use std::ffi::CStr;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The answers file's text: `NAME.txt` as the reader wrote it, or, where there is none, what
/// `NAME.sh` beside it prints when run with `PROGRAM` set to `program` (the solutions find
/// what they state with bpftool and strace, because the numbers depend on the compiler and
/// the kernel).
pub fn answers_text(file: &str, program: &str) -> String {
    if Path::new(file).exists() {
        return std::fs::read_to_string(file).unwrap_or_else(|e| panic!("reading {file}: {e}"));
    }
    // The solutions' scripts read what they state with bpftool.
    ebpf_support::testing::require_tool("bpftool");
    let script = Path::new(file).with_extension("sh");
    let output = Command::new("sh")
        .arg(&script)
        .env("PROGRAM", program)
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", script.display()));
    assert!(
        output.status.success(),
        "{} failed: {}",
        script.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The `key: value` lines of an answers text, in order, without comments and blank values.
pub fn answers(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter(|line| !line.trim_start().starts_with('#'))
        .filter_map(|line| line.split_once(':'))
        .map(|(key, value)| (key.trim().to_string(), value.trim().to_string()))
        .filter(|(_, value)| !value.is_empty())
        .collect()
}

/// Every answer for `key`.
pub fn all(answers: &[(String, String)], key: &str) -> Vec<String> {
    answers
        .iter()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v.clone())
        .collect()
}

/// The repository's root: starters and solutions sit two folders below it.
fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A chapter's `binary`, as `cargo run -p PACKAGE --bin BINARY` builds it in the repository's
/// own workspace (a no-op when it is built already): the program a tour exercise looks at.
pub fn chapter_binary(package: &str, binary: &str) -> String {
    let root = repository();
    let status = Command::new(env!("CARGO"))
        .current_dir(&root)
        .args(["build", "--quiet", "-p", package, "--bin", binary])
        .env_remove("CARGO_TARGET_DIR")
        .status()
        .expect("running cargo build");
    assert!(status.success(), "building {package}'s {binary}");
    root.join("target/debug")
        .join(binary)
        .to_string_lossy()
        .into_owned()
}

/// libbpf's name for a program type, as bpftool prints it (`raw_tracepoint`).
pub fn program_type_name(ty: libbpf_rs::ProgramType) -> String {
    // SAFETY: libbpf returns a static string, or NULL.
    let name = unsafe { libbpf_rs::libbpf_sys::libbpf_bpf_prog_type_str(ty as u32) };
    assert!(!name.is_null(), "libbpf knows no name for {ty:?}");
    // SAFETY: a NUL-terminated static string.
    unsafe { CStr::from_ptr(name) }
        .to_string_lossy()
        .into_owned()
}

/// libbpf's name for a map type, as bpftool prints it (`prog_array`).
pub fn map_type_name(ty: libbpf_rs::MapType) -> String {
    // SAFETY: as above.
    let name = unsafe { libbpf_rs::libbpf_sys::libbpf_bpf_map_type_str(ty as u32) };
    assert!(!name.is_null(), "libbpf knows no name for {ty:?}");
    // SAFETY: a NUL-terminated static string.
    unsafe { CStr::from_ptr(name) }
        .to_string_lossy()
        .into_owned()
}
