//! The Debian packages a lane boots from: the kernel package (looked up with apt-cache,
//! downloaded and unpacked, never installed) and, for a foreign architecture, busybox. Also
//! what the host needs installed to boot a lane.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use super::catalogue::{Arch, Kernel, Lane, Suite};

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

/// apt, reading either the host's package lists or those of another Debian release, which live
/// in a private folder under the lanes' cache (nothing system-wide changes) and are removed when
/// this value is dropped.
pub(super) struct Apt {
    options: Vec<String>,
    private: Option<PathBuf>,
}

impl Apt {
    pub(super) fn for_suite(suite: Suite) -> Result<Apt> {
        let Suite::Other(release) = suite else {
            return Ok(Apt {
                options: Vec::new(),
                private: None,
            });
        };
        let dir = cache_dir().join(format!("apt-{release}"));
        let _ = fs::remove_dir_all(&dir);
        let parts = dir.join("sources.list.d");
        fs::create_dir_all(&parts)?;
        fs::create_dir_all(dir.join("lists/partial"))?;
        fs::create_dir_all(dir.join("cache/archives/partial"))?;
        let sources = sources_for(release)?;
        fs::write(parts.join(format!("{release}.sources")), sources)?;
        let options = [
            ("Dir::Etc::sourcelist", "/dev/null".into()),
            ("Dir::Etc::sourceparts", parts),
            ("Dir::State::Lists", dir.join("lists")),
            ("Dir::Cache", dir.join("cache")),
        ]
        .into_iter()
        .flat_map(|(key, value)| ["-o".to_string(), format!("{key}={}", value.display())])
        .collect();
        let apt = Apt {
            options,
            private: Some(dir),
        };
        eprintln!("apt: fetching the {release} package lists into a private folder");
        let mut update = apt.command("apt-get");
        update.args(["update", "-q", "-o", "APT::Sandbox::User=root"]);
        crate::workspace::run_status(&mut update)
            .with_context(|| format!("fetching the {release} package lists"))?;
        Ok(apt)
    }

    fn command(&self, program: &str) -> Command {
        let mut command = Command::new(program);
        command.args(&self.options);
        command
    }

    fn cache_output(&self, args: &[&str]) -> Result<String> {
        let output = self
            .command("apt-cache")
            .args(args)
            .output()
            .context("running apt-cache")?;
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }
}

impl Drop for Apt {
    fn drop(&mut self) {
        if let Some(dir) = &self.private {
            let _ = fs::remove_dir_all(dir);
        }
    }
}

/// The host's Debian apt sources (deb822 `.sources` files), with the host's release name in
/// each suite replaced by `release`: the same archives, another release, and no archive
/// host written into the repository.
fn sources_for(release: &str) -> Result<String> {
    let os_release = fs::read_to_string("/etc/os-release").unwrap_or_default();
    let host = os_release
        .lines()
        .find_map(|l| l.strip_prefix("VERSION_CODENAME="))
        .map(|c| c.trim_matches('"').to_string())
        .filter(|c| !c.is_empty())
        .context("/etc/os-release names no release (VERSION_CODENAME)")?;
    let mut out = String::new();
    for entry in fs::read_dir("/etc/apt/sources.list.d")?.filter_map(|e| e.ok()) {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "sources") {
            out.push_str(&retarget_sources(
                &fs::read_to_string(&path)?,
                &host,
                release,
            ));
        }
    }
    if out.is_empty() {
        bail!(
            "no deb822 source in /etc/apt/sources.list.d names {host}: cannot tell where the {release} \
             packages are"
        );
    }
    Ok(out)
}

/// The stanzas of one deb822 sources file whose suites are `host`'s, moved to `release`.
fn retarget_sources(text: &str, host: &str, release: &str) -> String {
    let mut out = String::new();
    for stanza in text.split("\n\n") {
        let names_host = stanza.lines().any(|l| {
            l.strip_prefix("Suites:").is_some_and(|suites| {
                suites
                    .split_whitespace()
                    .any(|s| s == host || s.starts_with(&format!("{host}-")))
            })
        });
        if !names_host {
            continue;
        }
        for line in stanza.lines().filter(|l| !l.starts_with('#')) {
            match line.strip_prefix("Suites:") {
                Some(suites) => {
                    let suites: Vec<String> = suites
                        .split_whitespace()
                        .map(|s| s.replacen(host, release, 1))
                        .collect();
                    out.push_str(&format!("Suites: {}\n", suites.join(" ")));
                }
                None => out.push_str(&format!("{line}\n")),
            }
        }
        out.push('\n');
    }
    out
}

impl Lane {
    /// The kernel package this lane boots today.
    pub fn kernel_package(&self) -> Result<String> {
        self.kernel_package_with(&Apt::for_suite(self.suite)?)
    }

    fn kernel_package_with(&self, apt: &Apt) -> Result<String> {
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
                let text = apt.cache_output(&["depends", &qualify(meta)])?;
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
                let text = apt.cache_output(&["pkgnames", prefix])?;
                // `-amd64-unsigned` also ends `…-cloud-amd64-unsigned`: the part between
                // prefix and suffix is a version (`0-46`, `57+deb12`), never a flavour.
                let mut names: Vec<&str> = text
                    .lines()
                    .filter(|n| {
                        n.strip_prefix(prefix)
                            .and_then(|rest| rest.strip_suffix(suffix))
                            .is_some_and(|version| {
                                version
                                    .split('-')
                                    .all(|part| part.starts_with(|c: char| c.is_ascii_digit()))
                            })
                    })
                    .collect();
                names.sort_by(|a, b| compare_versions(a, b));
                names.last().map(|n| n.to_string()).with_context(|| {
                    format!(
                        "no {prefix}*{suffix} package in the {:?} package lists",
                        self.suite
                    )
                })
            }
        }
    }

    /// Downloads and unpacks the kernel package, once.
    pub fn kernel(&self) -> Result<KernelFiles> {
        let apt = Apt::for_suite(self.suite)?;
        let package = self.kernel_package_with(&apt)?;
        let dir = cache_dir().join("kernels").join(&package);
        let done = dir.join(".unpacked");
        if !done.exists() {
            eprintln!("lane {}: downloading {package}", self.name);
            unpack_package(&apt, &package, self.arch, &dir)?;
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
                "lane {} needs a {promised} kernel, but the {:?} apt lists resolve to {release}: the lanes \
                 use Debian 12 (bookworm and bookworm-security) package lists, and bullseye's for 5.10",
                self.name,
                self.suite
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
        unpack_package(&Apt::for_suite(Suite::Host)?, "busybox-static", arch, &dir)?;
    }
    Ok(binary)
}

/// bpftool and strace for `arch` with their libraries, unpacked into one folder that the guest
/// copies over its root.
pub(super) fn foreign_tools(arch: Arch) -> Result<PathBuf> {
    let dir = cache_dir().join(format!("tools-{}", arch.debian()));
    // The marker holds the package list, so that a longer list unpacks again.
    let complete = dir.join(".complete");
    let wanted = crate::setup::LANE_GUEST_PACKAGES.join(" ");
    if fs::read_to_string(&complete).ok().as_deref() != Some(wanted.as_str()) {
        let _ = fs::remove_dir_all(&dir);
        let apt = Apt::for_suite(Suite::Host)?;
        for package in crate::setup::LANE_GUEST_PACKAGES {
            unpack_package(&apt, package, arch, &dir)?;
        }
        fs::write(&complete, &wanted)?;
    }
    Ok(dir)
}

/// Downloads a Debian package for `arch` and unpacks it into `dir` (over what is there),
/// without installing it.
fn unpack_package(apt: &Apt, package: &str, arch: Arch, dir: &Path) -> Result<()> {
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
    let mut get = apt.command("apt-get");
    get.args(["download", "-q", "-o", "APT::Sandbox::User=root", &wanted])
        .current_dir(&download);
    crate::workspace::run_status(&mut get)?;
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
    fn moves_the_hosts_sources_to_another_release() {
        let text = "Types: deb\n# a comment\nURIs: http://mirror/debian\nSuites: bookworm bookworm-updates\n\
                    Components: main\n\nTypes: deb\nURIs: http://mirror/debian-security\n\
                    Suites: bookworm-security\nComponents: main\n\nTypes: deb\nURIs: http://other\n\
                    Suites: nodistro\nComponents: main\n";
        let moved = retarget_sources(text, "bookworm", "bullseye");
        assert_eq!(
            moved,
            "Types: deb\nURIs: http://mirror/debian\nSuites: bullseye bullseye-updates\nComponents: main\n\n\
             Types: deb\nURIs: http://mirror/debian-security\nSuites: bullseye-security\nComponents: main\n\n"
        );
    }

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
