//! The initramfs a lane boots with: busybox, the kernel modules that mounting the host's root
//! needs, and the /init script that runs the lane's script and reports its exit status.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use super::catalogue::{Arch, Lane};
use super::package::{KernelFiles, busybox, foreign_tools};
use crate::cpio::Archive;

/// The marker line that carries the guest script's exit status back to the host: /init
/// prints it, the host reads it on the console.
pub(super) const EXIT_MARKER: &str = "lane-exit-status:";

/// Modules the initramfs loads (with what they depend on), unless the kernel has them built in.
const BOOT_MODULES: &[&str] = &[
    "9pnet_virtio",
    "9p",
    "virtio_pci",
    "overlay",
    "veth",
    "bridge",
    // TC's clsact qdisc and its BPF classifier (chapter 8).
    "sch_ingress",
    "cls_bpf",
];

impl KernelFiles {
    fn modules_dir(&self) -> PathBuf {
        self.root.join("lib/modules").join(&self.release)
    }

    /// `name` → path of every module file, with `-` and `_` treated alike as modprobe does.
    fn module_index(&self) -> Result<HashMap<String, PathBuf>> {
        let mut index = HashMap::new();
        let mut stack = vec![self.modules_dir().join("kernel")];
        while let Some(dir) = stack.pop() {
            for entry in fs::read_dir(&dir)? {
                let path = entry?.path();
                if path.is_dir() {
                    stack.push(path);
                } else if let Some(name) = module_name(&path) {
                    index.insert(name, path);
                }
            }
        }
        Ok(index)
    }

    fn builtin(&self) -> Vec<String> {
        fs::read_to_string(self.modules_dir().join("modules.builtin"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| module_name(Path::new(l)))
            .collect()
    }

    /// The modules to load for `wanted`, dependencies first, as (name, uncompressed bytes).
    fn modules_for(&self, wanted: &[&str]) -> Result<Vec<(String, Vec<u8>)>> {
        let index = self.module_index()?;
        let builtin = self.builtin();
        let mut ordered: Vec<(String, Vec<u8>)> = Vec::new();
        fn visit(
            name: &str,
            index: &HashMap<String, PathBuf>,
            builtin: &[String],
            ordered: &mut Vec<(String, Vec<u8>)>,
        ) -> Result<()> {
            let name = name.replace('-', "_");
            if builtin.contains(&name) || ordered.iter().any(|(n, _)| *n == name) {
                return Ok(());
            }
            let path = index
                .get(&name)
                .with_context(|| format!("module {name} is neither built in nor shipped"))?;
            let bytes = read_module(path)?;
            for dependency in module_depends(&bytes) {
                visit(&dependency, index, builtin, ordered)?;
            }
            ordered.push((name, bytes));
            Ok(())
        }
        for name in wanted {
            visit(name, &index, &builtin, &mut ordered)?;
        }
        Ok(ordered)
    }
}

/// `…/9pnet_virtio.ko.xz` → `9pnet_virtio`.
fn module_name(path: &Path) -> Option<String> {
    let file = path.file_name()?.to_str()?;
    let stem = file
        .strip_suffix(".ko")
        .or_else(|| file.strip_suffix(".ko.xz"))
        .or_else(|| file.strip_suffix(".ko.zst"))?;
    Some(stem.replace('-', "_"))
}

/// A module's bytes, decompressed: busybox's insmod takes plain ELF only.
fn read_module(path: &Path) -> Result<Vec<u8>> {
    let name = path.to_string_lossy();
    let tool = if name.ends_with(".xz") {
        Some("xz")
    } else if name.ends_with(".zst") {
        Some("zstd")
    } else {
        None
    };
    match tool {
        None => Ok(fs::read(path)?),
        Some(tool) => {
            let output = Command::new(tool)
                .arg("-dc")
                .arg(path)
                .output()
                .with_context(|| format!("running {tool}"))?;
            if !output.status.success() {
                bail!("{tool} -dc {name} failed");
            }
            Ok(output.stdout)
        }
    }
}

/// The `depends=` entry of a module's `.modinfo` section.
fn module_depends(bytes: &[u8]) -> Vec<String> {
    let needle = b"\0depends=";
    bytes
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|at| {
            let rest = &bytes[at + needle.len()..];
            let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
            String::from_utf8_lossy(&rest[..end])
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// The guest's /init: load modules, build the overlay root, run the script in it, report its
/// exit status and power off.
fn init_script(arch: Arch, foreign_tools: Option<&Path>, interactive: bool) -> String {
    let workspace = crate::workspace::root();
    let workspace = workspace.display();
    // An arm64 guest cannot run the host's x86_64 /usr/bin, so busybox stands in for it, and
    // Debian's arm64 tools (bpftool, strace, iproute2, openssl), with their libraries, are
    // copied over it. Each busybox link is removed first: busybox's cp would write through it,
    // over busybox itself.
    let arm64_userland = match foreign_tools {
        None => String::new(),
        Some(tools) => format!(
            "for dir in /root/usr/bin /root/usr/sbin; do\n\
                 mount -t tmpfs tmpfs $dir\n\
                 cp /bin/busybox $dir/busybox\n\
                 for applet in $(/bin/busybox --list); do [ $applet = busybox ] || ln -sf busybox $dir/$applet; done\n\
             done\n\
             tools=/root{tools}\n\
             for lib in lib usr/lib; do [ -d $tools/$lib ] && cp -af $tools/$lib/. /root/usr/lib/; done\n\
             for dir in bin sbin; do for from in $tools/$dir $tools/usr/$dir; do [ -d $from ] || continue\n\
                 for tool in $from/*; do rm -f /root/usr/$dir/${{tool##*/}}; cp -a $tool /root/usr/$dir/; done\n\
             done; done\n",
            tools = tools.display()
        ),
    };
    let run = if interactive {
        let shell = if arch.is_host() {
            "/bin/bash"
        } else {
            "/bin/sh"
        };
        // cttyhack makes the console the shell's controlling terminal, so Ctrl-C works.
        format!(
            "echo 'lane shell: {workspace} is the workspace; examples need no sudo here; `exit` powers off'\n\
             setsid cttyhack chroot /root /bin/sh -c 'cd {workspace} && HOME=/root exec {shell} -i'\n"
        )
    } else {
        "chroot /root /bin/sh /lane-out/run.sh\n".to_string()
    };
    format!(
        r#"#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for module in $(cat /modules/order); do
    insmod /modules/$module.ko || echo "lane: insmod $module failed"
done
fail() {{ echo "{EXIT_MARKER} 125 ($1)"; poweroff -f; }}
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144 hostroot /host || fail "mounting the host's root over 9p failed"
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 laneout /lane-out || fail "mounting the output folder failed"
mount -t tmpfs tmpfs /rw
mkdir -p /rw/upper /rw/work
mount -t overlay overlay -o lowerdir=/host,upperdir=/rw/upper,workdir=/rw/work /root || fail "the overlay root failed"
mount -t proc proc /root/proc
mount -t sysfs sysfs /root/sys
mount -t devtmpfs devtmpfs /root/dev
mkdir -p /root/dev/pts
mount -t devpts -o newinstance,ptmxmode=0666 devpts /root/dev/pts
ln -sf pts/ptmx /root/dev/ptmx
mount -t tracefs tracefs /root/sys/kernel/tracing
mount -t bpf bpf /root/sys/fs/bpf
mount -t securityfs securityfs /root/sys/kernel/security
mount -t tmpfs tmpfs /root/run
mkdir -p /root/lane-out
mount --bind /lane-out /root/lane-out
{arm64_userland}{run}echo "{EXIT_MARKER} $?"
sync
poweroff -f
"#
    )
}

/// Builds the initramfs for one boot.
pub(super) fn initramfs(
    lane: &Lane,
    kernel: &KernelFiles,
    interactive: bool,
    path: &Path,
) -> Result<()> {
    let mut archive = Archive::default();
    for dir in [
        "bin", "proc", "sys", "dev", "host", "lane-out", "rw", "root", "modules",
    ] {
        archive.dir(dir);
    }
    let foreign_tools = if lane.arch.is_host() {
        None
    } else {
        Some(foreign_tools(lane.arch)?)
    };
    archive.file(
        "init",
        0o755,
        init_script(lane.arch, foreign_tools.as_deref(), interactive).as_bytes(),
    );
    archive.file("bin/busybox", 0o755, &fs::read(busybox(lane.arch)?)?);
    let modules = kernel.modules_for(BOOT_MODULES)?;
    let order: Vec<&str> = modules.iter().map(|(name, _)| name.as_str()).collect();
    archive.file("modules/order", 0o644, order.join("\n").as_bytes());
    for (name, bytes) in &modules {
        archive.file(&format!("modules/{name}.ko"), 0o644, bytes);
    }
    fs::write(path, archive.finish())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_module_dependencies_from_modinfo() {
        let modinfo = b"\0license=GPL\0depends=9pnet,netfs\0intree=Y\0name=9p\0";
        assert_eq!(
            module_depends(modinfo),
            vec!["9pnet".to_string(), "netfs".to_string()]
        );
        assert!(module_depends(b"\0depends=\0name=virtio\0").is_empty());
        assert_eq!(
            module_name(Path::new("kernel/fs/9p/9p.ko.xz")).as_deref(),
            Some("9p")
        );
        assert_eq!(
            module_name(Path::new("kernel/net/9pnet-virtio.ko")).as_deref(),
            Some("9pnet_virtio")
        );
    }
}
