//! The workspace and the cargo that builds it: the leaf that every other module of xtask uses.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use anyhow::{Context, Result, bail};

/// The repository this xtask works on: the one around the current directory, found at run time.
/// (Where xtask was compiled says nothing: a copied checkout can reuse the original's build.)
/// Without one, xtask stops with a one-line error.
pub fn root() -> PathBuf {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| {
        let here = std::env::current_dir().unwrap_or_default();
        ebpf_support::catalogue::find_root(&here).unwrap_or_else(|| {
            eprintln!(
                "xtask: {} is not inside the Learning eBPF repository \
                 (no folder above it has a workspace Cargo.toml, exercises/ and xtask/): \
                 run cargo from inside your checkout",
                here.display()
            );
            std::process::exit(1)
        })
    })
    .clone()
}

/// Builds every chapter's binaries.
pub fn build_examples() -> Result<()> {
    run_status(
        cargo()
            .current_dir(root())
            .args(["build", "--quiet", "--workspace", "--bins"]),
    )
}

/// Every example of every chapter, as its own binary describes it (see
/// `ebpf_support::catalogue`).
pub fn examples() -> Result<Vec<ebpf_support::needs::Example>> {
    build_examples()?;
    ebpf_support::catalogue::examples(&root(), &root().join("target/debug"))
        .map_err(anyhow::Error::msg)
}

/// The cargo that runs this xtask, so every step uses the pinned toolchain.
pub fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Runs a command with inherited output, failing if it fails.
pub fn run_status(command: &mut Command) -> Result<()> {
    let status = command
        .status()
        .with_context(|| format!("starting {command:?}"))?;
    if !status.success() {
        bail!("{command:?} failed ({status})");
    }
    Ok(())
}
