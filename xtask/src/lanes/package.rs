//! The Debian packages a lane boots from: the kernel package (looked up with apt-cache,
//! downloaded and unpacked, never installed) and, for a foreign architecture, busybox. Also
//! what the host needs installed to boot a lane.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use super::catalogue::{Arch, Kernel, Lane};

/// An unpacked Debian kernel.
pub struct KernelFiles {
    pub package: String,
    pub release: String,
    pub image: PathBuf,
    /// The folder the package is unpacked in.
    pub(super) root: PathBuf,
}

/// Where the lanes keep their downloads, unpacked packages and runs.
pub(super) fn cache_dir() -> PathBuf {
    crate::workspace::root().join("target/lanes")
}

/// Installs what booting a lane of `arch` needs on the host (QEMU, busybox, and for arm64 the
/// cross toolchain).
pub(super) fn host_packages(arch: Arch) -> Result<()> {
    crate::setup::lane_packages(arch.rust_name(), arch.target_triple())
}

fn apt_output(args: &[&str]) -> Result<String> {
    let output = Command::new("apt-cache")
        .args(args)
        .output()
        .context("running apt-cache")?;
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

impl Lane {
    /// The kernel package this lane boots today.
    pub fn kernel_package(&self) -> Result<String> {
        let arch = self.arch.debian();
        let qualify = |name: &str| {
            if self.arch.is_host() {
                name.to_string()
            } else {
                format!("{name}:{arch}")
            }
        };
        match self.kernel {
            Kernel::Meta(meta) => {
                let text = apt_output(&["depends", &qualify(meta)])?;
                let image = text
                    .lines()
                    .filter_map(|l| l.trim().strip_prefix("Depends: "))
                    .map(|d| d.trim().trim_end_matches(&format!(":{arch}")).to_string())
                    .find(|d| d.starts_with("linux-image-"))
                    .with_context(|| {
                        format!("apt-cache knows no {meta}: is the package list current?")
                    })?;
                Ok(format!("{image}-unsigned"))
            }
            Kernel::Newest { prefix, suffix } => {
                let text = apt_output(&["pkgnames", prefix])?;
                let mut names: Vec<&str> = text
                    .lines()
                    .filter(|n| n.starts_with(prefix) && n.ends_with(suffix))
                    .collect();
                names.sort_by(|a, b| compare_versions(a, b));
                names.last().map(|n| n.to_string()).with_context(|| {
                    format!(
                        "no {prefix}*{suffix} package: is bookworm-security in the apt sources?"
                    )
                })
            }
        }
    }

    /// Downloads and unpacks the kernel package, once.
    pub fn kernel(&self) -> Result<KernelFiles> {
        let package = self.kernel_package()?;
        let dir = cache_dir().join("kernels").join(&package);
        let done = dir.join(".unpacked");
        if !done.exists() {
            eprintln!("lane {}: downloading {package}", self.name);
            unpack_package(&package, self.arch, &dir)?;
            fs::write(&done, "")?;
        }
        let modules = dir.join("lib/modules");
        let release = fs::read_dir(&modules)
            .with_context(|| format!("{} has no lib/modules", dir.display()))?
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .next()
            .context("no kernel release in lib/modules")?;
        // The lane's name promises a kernel version; the host's package lists decide what the
        // package names resolve to (Debian 12's lists give 6.1 and 6.12).
        let promised = self
            .name
            .trim_start_matches("debian-")
            .trim_end_matches("-arm64");
        if !release.starts_with(&format!("{promised}.")) {
            bail!(
                "lane {} needs a {promised} kernel, but this host's apt lists resolve to {release}: the lanes \
                 use Debian 12 (bookworm and bookworm-security) package lists",
                self.name
            );
        }
        let image = dir.join("boot").join(format!("vmlinuz-{release}"));
        Ok(KernelFiles {
            package,
            release,
            image,
            root: dir,
        })
    }
}

/// Orders Debian package names by the version inside them (6.12.9 before 6.12.107).
fn compare_versions(a: &str, b: &str) -> std::cmp::Ordering {
    let key = |s: &str| -> Vec<u64> {
        s.split(|c: char| !c.is_ascii_digit())
            .filter(|p| !p.is_empty())
            .filter_map(|p| p.parse().ok())
            .collect()
    };
    key(a).cmp(&key(b))
}

/// A static busybox for the lane's architecture: the host's for x86_64, Debian's arm64
/// package (unpacked) for arm64.
pub(super) fn busybox(arch: Arch) -> Result<PathBuf> {
    if arch.is_host() {
        return Ok(PathBuf::from("/bin/busybox"));
    }
    let dir = cache_dir().join(format!("busybox-{}", arch.debian()));
    let binary = dir.join("bin/busybox");
    if !binary.exists() {
        let _ = fs::remove_dir_all(&dir);
        unpack_package("busybox-static", arch, &dir)?;
    }
    Ok(binary)
}

/// What a foreign-architecture guest needs to run the tools the tests compare with (bpftool,
/// strace): their packages and the shared libraries they link to.
const FOREIGN_TOOLS: &[&str] = &["bpftool", "strace", "libc6", "libcap2", "libelf1", "zlib1g"];

/// bpftool and strace for `arch` with their libraries, unpacked into one folder that the guest
/// copies over its root.
pub(super) fn foreign_tools(arch: Arch) -> Result<PathBuf> {
    let dir = cache_dir().join(format!("tools-{}", arch.debian()));
    let complete = dir.join(".complete");
    if !complete.exists() {
        let _ = fs::remove_dir_all(&dir);
        for package in FOREIGN_TOOLS {
            unpack_package(package, arch, &dir)?;
        }
        fs::write(&complete, "")?;
    }
    Ok(dir)
}

/// Downloads a Debian package for `arch` and unpacks it into `dir` (over what is there),
/// without installing it.
fn unpack_package(package: &str, arch: Arch, dir: &Path) -> Result<()> {
    // A fresh folder per download: no .deb left over from an interrupted run can be picked.
    let download = cache_dir().join("downloads").join(package);
    let _ = fs::remove_dir_all(&download);
    fs::create_dir_all(&download)?;
    let wanted = if arch.is_host() {
        package.to_string()
    } else {
        format!("{package}:{}", arch.debian())
    };
    // As root, apt's sandbox user could not write into the cache: download as root.
    let mut apt = Command::new("apt-get");
    apt.args(["download", "-q", "-o", "APT::Sandbox::User=root", &wanted])
        .current_dir(&download);
    crate::workspace::run_status(&mut apt)?;
    let deb = fs::read_dir(&download)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(&format!("{package}_")))
        })
        .with_context(|| format!("apt-get download left no {package}_*.deb"))?;
    fs::create_dir_all(dir)?;
    crate::workspace::run_status(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(dir))?;
    fs::remove_dir_all(&download)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_kernel_packages_by_version() {
        let mut names = [
            "linux-image-6.12.107+deb12-amd64-unsigned",
            "linux-image-6.12.9+deb12-amd64-unsigned",
        ];
        names.sort_by(|a, b| compare_versions(a, b));
        assert_eq!(names[1], "linux-image-6.12.107+deb12-amd64-unsigned");
    }
}
