//! Build-script side: compile every `src/bpf/*.bpf.c` of the calling package with clang and
//! generate a libbpf-rs skeleton for it in `OUT_DIR`.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Clang versions tried, newest first, when neither `CLANG` nor a plain `clang` is given.
const CLANG_CANDIDATES: &[&str] = &[
    "clang-19", "clang-18", "clang-17", "clang-16", "clang-15", "clang",
];

/// Call from `build.rs`: `fn main() { ebpf_support::build::skeletons() }`.
pub fn skeletons() {
    skeletons_with(&[]);
}

/// Like `skeletons`, with more directories for `#include "…"`.
pub fn skeletons_with(include_dirs: &[PathBuf]) {
    if let Err(message) = try_skeletons(include_dirs) {
        // A build script's panic is the only way to stop the build; keep the message readable.
        eprintln!("error: {message}");
        panic!("{message}");
    }
}

fn try_skeletons(include_dirs: &[PathBuf]) -> Result<(), String> {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").map_err(|e| e.to_string())?);
    let out_dir = PathBuf::from(env::var("OUT_DIR").map_err(|e| e.to_string())?);
    let bpf_dir = manifest_dir.join("src/bpf");
    let clang = find_clang()?;
    let include = vmlinux_dir()?;

    println!("cargo:rerun-if-env-changed=CLANG");
    println!("cargo:rerun-if-changed={}", bpf_dir.display());
    println!(
        "cargo:rerun-if-changed={}",
        include.join("vmlinux.h").display()
    );
    let mut clang_args = vec![format!("-I{}", include.display()), "-Wall".to_string()];
    for dir in include_dirs {
        println!("cargo:rerun-if-changed={}", dir.display());
        clang_args.push(format!("-I{}", dir.display()));
    }

    let mut sources: Vec<PathBuf> = std::fs::read_dir(&bpf_dir)
        .map_err(|e| format!("cannot read {}: {e}", bpf_dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .collect();
    sources.sort();
    for path in &sources {
        let file = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if file.ends_with(".h") {
            println!("cargo:rerun-if-changed={}", path.display());
        }
        let Some(stem) = file.strip_suffix(".bpf.c") else {
            continue;
        };
        println!("cargo:rerun-if-changed={}", path.display());
        // The skeleton's module and type names come from the object's file name, so the
        // book's dashed names (hello-buffer.bpf.c) become hello_buffer.
        let name = stem.replace('-', "_");
        libbpf_cargo::SkeletonBuilder::new()
            .source(path)
            .obj(out_dir.join(format!("{name}.bpf.o")))
            .clang(&clang)
            .clang_args(&clang_args)
            .build_and_generate(out_dir.join(format!("{name}.skel.rs")))
            .map_err(|e| format!("{}: {e:#}", path.display()))?;
    }
    Ok(())
}

/// `CLANG` wins; otherwise the newest clang on PATH.
fn find_clang() -> Result<PathBuf, String> {
    if let Some(clang) = env::var_os("CLANG") {
        return Ok(clang.into());
    }
    CLANG_CANDIDATES
        .iter()
        .find(|name| {
            Command::new(name)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .map(PathBuf::from)
        .ok_or_else(|| {
            "no clang found to compile the eBPF programs: run `cargo xtask setup` \
             (it installs clang-19), or set CLANG=/path/to/clang"
                .to_string()
        })
}

/// The `vmlinux.h` for the target architecture, kept in the workspace's `vmlinux/<arch>/`.
fn vmlinux_dir() -> Result<PathBuf, String> {
    let arch = env::var("CARGO_CFG_TARGET_ARCH").map_err(|e| e.to_string())?;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../vmlinux")
        .join(&arch);
    if dir.join("vmlinux.h").is_file() {
        Ok(dir)
    } else {
        Err(format!(
            "no vmlinux.h for {arch} in {}: generate it with `cargo xtask vmlinux`",
            dir.display()
        ))
    }
}
