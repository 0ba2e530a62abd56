//! vmlinux.h: every kernel type, dumped from the running kernel's BTF (book chapter 5).
//! The headers are committed per architecture so that builds need neither bpftool nor BTF.

use std::process::Command;

use anyhow::{Context, Result, bail};

pub fn generate() -> Result<()> {
    let arch = std::env::consts::ARCH;
    let dir = crate::root().join("vmlinux").join(arch);
    std::fs::create_dir_all(&dir)?;
    let output = Command::new("bpftool")
        .args([
            "btf",
            "dump",
            "file",
            "/sys/kernel/btf/vmlinux",
            "format",
            "c",
        ])
        .output()
        .context("running bpftool (cargo xtask setup installs it)")?;
    if !output.status.success() {
        bail!(
            "bpftool btf dump failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    let path = dir.join("vmlinux.h");
    std::fs::write(&path, &output.stdout)?;
    println!(
        "wrote {} ({} bytes) from /sys/kernel/btf/vmlinux",
        path.display(),
        output.stdout.len()
    );
    Ok(())
}
