//! The benchmarks' eBPF programs, chapter 2's hello-ring-buffer object for the C loader, and the
//! C baselines, linked against the same libbpf that libbpf-rs links.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    ebpf_support::build::skeletons();
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    ebpf_support::build::object_of(&manifest.join("../chapter02/src/bpf/hello-ring-buffer.bpf.c"));
    // libbpf-sys's build script says where its headers are; libbpf.a is beside them.
    let include =
        PathBuf::from(std::env::var("DEP_BPF_INCLUDE").expect("libbpf-sys's include dir"));
    let lib_dir = include.parent().unwrap().to_path_buf();
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    let c_dir = manifest.join("c");
    println!("cargo:rerun-if-changed={}", c_dir.display());
    let mut sources: Vec<PathBuf> = std::fs::read_dir(&c_dir)
        .unwrap_or_else(|e| fail(&format!("cannot read {}: {e}", c_dir.display())))
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|x| x == "c"))
        .collect();
    sources.sort();
    for source in sources {
        let program = source.file_stem().unwrap().to_owned();
        compile_c(&source, &include, &lib_dir, &out_dir.join(program));
    }
}

/// Compiles one C baseline with the system's C compiler at -O2.
fn compile_c(source: &Path, include: &Path, lib_dir: &Path, output: &Path) {
    println!("cargo:rerun-if-changed={}", source.display());
    println!("cargo:rerun-if-env-changed=CC");
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let status = Command::new(&cc)
        .args(["-O2", "-Wall", "-Werror", "-o"])
        .arg(output)
        .arg(source)
        .arg(format!("-I{}", include.display()))
        // Only what a program uses is linked (the empty one links no libelf).
        .args(["-Wl,--as-needed"])
        .arg(lib_dir.join("libbpf.a"))
        .args(["-lelf", "-lz"])
        .status();
    match status {
        Ok(status) if status.success() => {}
        Ok(status) => fail(&format!(
            "{cc} could not compile {} ({status})",
            source.display()
        )),
        Err(e) => fail(&format!("cannot run the C compiler `{cc}`: {e}")),
    }
}

fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    std::process::exit(1)
}
