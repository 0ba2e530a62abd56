//! vmlinux.h: every kernel type, dumped from a kernel's BTF (book chapter 5). The headers are
//! committed per architecture so that builds need neither bpftool nor BTF.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::lanes;

/// From the running kernel, or from a lane's kernel (the way to get the arm64 header on an
/// x86_64 host).
pub fn generate(lane: Option<&str>) -> Result<()> {
    let (arch, btf) = match lane {
        None => (std::env::consts::ARCH, "/sys/kernel/btf/vmlinux".into()),
        Some(name) => {
            let lane = lanes::find(name)?;
            let run = lanes::run_script(
                &lane,
                "cp /sys/kernel/btf/vmlinux /lane-out/vmlinux.btf\n",
                Duration::from_secs(300),
                "",
            )?;
            if run.status != 0 {
                bail!("could not copy the BTF out of {}", lane.name);
            }
            (lane.arch.rust_name(), run.out_dir.join("vmlinux.btf"))
        }
    };
    write_header(arch, &btf)
}

fn write_header(arch: &str, btf: &Path) -> Result<()> {
    let dir = crate::workspace::root().join("vmlinux").join(arch);
    std::fs::create_dir_all(&dir)?;
    let output = Command::new("bpftool")
        .args(["btf", "dump", "file"])
        .arg(btf)
        .args(["format", "c"])
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
        "wrote {} ({} bytes) from {}",
        path.display(),
        output.stdout.len(),
        btf.display()
    );
    Ok(())
}
