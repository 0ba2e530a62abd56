//! One idempotent set-up step that every entry point runs first. When everything is there
//! it only looks (well under a second); otherwise it installs what is missing.
//!
//! Readers run Debian 11, 12 and 13 and Ubuntu 22.04 and 24.04, whose package names differ:
//! each entry of `PACKAGES` lists the packages that can provide it, and `choose` takes the
//! first one that this machine's apt offers (the tests below hold the names per release).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Result, bail};
use ebpf_support::clang;

use crate::run_status;

/// The mdbook release the book is built with.
pub const MDBOOK_VERSION: &str = "0.5.4";

/// Extras that only some entry points need.
#[derive(Default)]
pub struct Needs {
    pub book: bool,
}

/// Something set-up provides, and the packages that can provide it, best first.
struct Package {
    choices: &'static [Choice],
    why: &'static str,
    /// Set for a tool that only some comparisons use: what goes without it. Where no package
    /// provides it, set-up says so in one line and goes on.
    optional_for: Option<&'static str>,
}

/// A package name, or how to find one among the names apt offers.
#[derive(Clone, Copy)]
enum Choice {
    Exact(&'static str),
    /// The newest `{prefix}N` with N at least `min`, e.g. clang-21 where clang-19 is missing.
    Newest {
        prefix: &'static str,
        min: u32,
    },
    /// Ubuntu's bpftool: `linux-tools-common` has only /usr/sbin/bpftool, a script that runs
    /// /usr/lib/linux-tools/$(uname -r)/bpftool and otherwise prints "WARNING: bpftool not found
    /// for kernel …" and fails; `linux-tools-$(uname -r)` has the real one. A kernel without
    /// such a package (WSL, a custom build) gets no bpftool.
    KernelTools,
}

const PACKAGES: &[Package] = &[
    Package {
        // clang-19 first: the version the compatibility findings were made with.
        choices: &[
            Choice::Exact("clang-19"),
            Choice::Newest {
                prefix: "clang-",
                min: clang::MIN_VERSION,
            },
        ],
        why: "compiles the eBPF programs (src/bpf/*.bpf.c)",
        optional_for: None,
    },
    Package {
        choices: &[
            Choice::Exact("llvm-19"),
            Choice::Newest {
                prefix: "llvm-",
                min: clang::MIN_VERSION,
            },
        ],
        why: "llvm-objdump (llvm-objdump-N), to read eBPF object files by hand",
        optional_for: Some(
            "reading hello.bpf.o by hand with llvm-objdump, as chapter 3's README shows",
        ),
    },
    Package {
        choices: &[Choice::Exact("libelf-dev")],
        why: "libbpf reads ELF objects with libelf",
        optional_for: None,
    },
    Package {
        choices: &[Choice::Exact("zlib1g-dev")],
        why: "libbpf links zlib",
        optional_for: None,
    },
    Package {
        choices: &[Choice::Exact("pkg-config"), Choice::Exact("pkgconf")],
        why: "finds libelf and zlib for libbpf-sys",
        optional_for: None,
    },
    Package {
        choices: &[Choice::Exact("bpftool"), Choice::KernelTools],
        why: "inspects loaded programs and maps",
        optional_for: Some(
            "the comparisons with bpftool in chapters 3 to 6 and exercises ch04-2 and ch05-1",
        ),
    },
    Package {
        choices: &[Choice::Exact("strace")],
        why: "shows the bpf() calls of chapter 4",
        optional_for: Some(
            "chapter 4's comparison of bpf-watch with strace and exercises ch04-1, ch04-2, ch04-8 and ch07-1",
        ),
    },
    Package {
        choices: &[Choice::Exact("iproute2")],
        why: "`ip link … xdp` and `tc` attach programs in chapter 3's exercises",
        optional_for: None,
    },
    Package {
        choices: &[Choice::Exact("openssl")],
        why: "chapter 8's tls-sniff starts a TLS server and client with `openssl s_server`/`s_client`",
        optional_for: None,
    },
    Package {
        // Debian 13 and Ubuntu 24.04 renamed it (64-bit time_t); Debian 11 has only 1.1.
        choices: &[
            Choice::Exact("libssl3t64"),
            Choice::Exact("libssl3"),
            Choice::Exact("libssl1.1"),
        ],
        why: "the libssl whose SSL_write and SSL_read chapter 8's tls-sniff probes",
        optional_for: None,
    },
    Package {
        choices: &[Choice::Exact("graphviz")],
        why: "`dot` draws control-flow graphs",
        optional_for: Some("chapter 6's hello-verifier --cfg drawing and the book's lab pictures"),
    },
    Package {
        choices: &[Choice::Exact("iptables")],
        why: "the benchmarks drop packets with iptables rules beside XDP and an eBPF allow-list",
        optional_for: None,
    },
];

/// Package names, as apt offers them or as dpkg has them installed, on a machine whose kernel
/// is `kernel_release` (`uname -r`).
struct Names<'a> {
    names: &'a BTreeSet<String>,
    kernel_release: &'a str,
}

impl Choice {
    fn pick(self, offer: &Names) -> Vec<String> {
        match self {
            Choice::Exact(name) => [name.to_string()]
                .into_iter()
                .filter(|name| offer.names.contains(name))
                .collect(),
            Choice::Newest { prefix, min } => offer
                .names
                .iter()
                .filter_map(|name| {
                    let version: u32 = name.strip_prefix(prefix)?.parse().ok()?;
                    (version >= min).then_some((version, name))
                })
                .max()
                .map(|(_, name)| vec![name.clone()])
                .unwrap_or_default(),
            Choice::KernelTools => {
                let tools = format!("linux-tools-{}", offer.kernel_release);
                if offer.names.contains(&tools) && offer.names.contains("linux-tools-common") {
                    vec!["linux-tools-common".to_string(), tools]
                } else {
                    Vec::new()
                }
            }
        }
    }
}

/// The packages that provide `package` among `offer`'s names: the first choice found there.
/// Empty when none is.
fn choose(package: &Package, offer: &Names) -> Vec<String> {
    package
        .choices
        .iter()
        .map(|choice| choice.pick(offer))
        .find(|picked| !picked.is_empty())
        .unwrap_or_default()
}

#[cfg(test)]
#[path = "setup_tests.rs"]
mod tests;

pub fn run(needs: Needs) -> Result<()> {
    let started = Instant::now();
    install_packages()?;
    let clang = clang::find().map_err(anyhow::Error::msg)?;
    eprintln!("setup: the eBPF programs compile with {clang}");
    mount_tracefs()?;
    if needs.book {
        install_mdbook()?;
    }
    let took = started.elapsed();
    if took.as_secs() >= 5 {
        eprintln!("setup: done in {:.1}s", took.as_secs_f64());
    }
    Ok(())
}

pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

fn installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .stderr(Stdio::null())
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
}

/// Every package dpkg has installed (one call, rather than one per package).
fn installed_packages() -> BTreeSet<String> {
    let output = Command::new("dpkg-query")
        .args(["-W", "-f=${db:Status-Abbrev} ${Package}\n"])
        .stderr(Stdio::null())
        .output();
    let text = output.map(|o| o.stdout).unwrap_or_default();
    String::from_utf8_lossy(&text)
        .lines()
        .filter_map(|line| line.strip_prefix("ii "))
        .map(|name| name.trim().to_string())
        .collect()
}

/// Every real package apt knows from its current lists (virtual ones, such as Ubuntu's
/// `bpftool`, are not among them).
fn offered_packages() -> BTreeSet<String> {
    let output = Command::new("apt-cache").arg("pkgnames").output();
    let text = output.map(|o| o.stdout).unwrap_or_default();
    String::from_utf8_lossy(&text)
        .lines()
        .map(str::to_string)
        .collect()
}

fn kernel_release() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|release| release.trim().to_string())
        .unwrap_or_default()
}

fn install_packages() -> Result<()> {
    if !Path::new("/etc/debian_version").exists() {
        if let Err(problem) = clang::find() {
            bail!(
                "this is not Debian or Ubuntu: install clang (at least {}), llvm, libelf development \
                 files, zlib development files, pkg-config and bpftool with your package manager, \
                 then run again ({problem})",
                clang::MIN_VERSION
            );
        }
        return Ok(());
    }
    let kernel_release = kernel_release();
    let installed = installed_packages();
    let installed = Names {
        names: &installed,
        kernel_release: &kernel_release,
    };
    let missing: Vec<&Package> = PACKAGES
        .iter()
        .filter(|p| choose(p, &installed).is_empty())
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    // The lists apt has now tell whether an update can help: an optional tool that they lack
    // is left out without one, so a machine without it does not update on every run.
    let mut offered = offered_packages();
    let worth_updating = missing.iter().any(|p| {
        p.optional_for.is_none()
            || !choose(
                p,
                &Names {
                    names: &offered,
                    kernel_release: &kernel_release,
                },
            )
            .is_empty()
    });
    if worth_updating && is_root() {
        run_status(Command::new("apt-get").args(["update", "-qq"]))?;
        offered = offered_packages();
    }
    let offer = Names {
        names: &offered,
        kernel_release: &kernel_release,
    };
    let mut required = Vec::new();
    let mut optional = Vec::new();
    for package in &missing {
        let chosen = choose(package, &offer);
        let names = choice_names(package, &kernel_release);
        match (package.optional_for, chosen.is_empty()) {
            (None, false) => required.extend(chosen),
            (Some(_), false) => optional.push((package, chosen)),
            (Some(disabled), true) => eprintln!(
                "setup: no package here provides {names} ({}); going on without it, which disables {disabled}",
                package.why
            ),
            (None, true) if !is_root() => bail!(
                "{names} is missing ({}): run `cargo xtask setup` as root, or install it yourself",
                package.why
            ),
            (None, true) => bail!(
                "no package here provides {names} ({}): enable the distribution's main (Debian) \
                 or universe (Ubuntu) component in apt's sources, or install it yourself",
                package.why
            ),
        }
    }
    if !is_root() {
        for (package, chosen) in &optional {
            eprintln!(
                "setup: {} is not installed (as root, set-up installs it); going on without it, which disables {}",
                chosen.join(" "),
                package.optional_for.unwrap_or_default()
            );
        }
        if !required.is_empty() {
            bail!(
                "missing {}: run as root, or install them yourself: sudo apt-get update && sudo \
                 apt-get install -y --no-install-recommends {}",
                required.join(" "),
                required.join(" ")
            );
        }
        return Ok(());
    }
    let to_install: Vec<String> = required
        .into_iter()
        .chain(optional.into_iter().flat_map(|(_, chosen)| chosen))
        .collect();
    if to_install.is_empty() {
        return Ok(());
    }
    eprintln!("setup: installing {}", to_install.join(" "));
    run_status(
        Command::new("apt-get")
            .env("DEBIAN_FRONTEND", "noninteractive")
            .args(["install", "-y", "-qq", "--no-install-recommends"])
            .args(&to_install),
    )
}

/// What `package`'s choices are called, for a message: "bpftool or linux-tools-6.8.0-31-generic".
fn choice_names(package: &Package, kernel_release: &str) -> String {
    let names: Vec<String> = package
        .choices
        .iter()
        .map(|choice| match choice {
            Choice::Exact(name) => name.to_string(),
            Choice::Newest { prefix, min } => format!("{prefix}N (N ≥ {min})"),
            Choice::KernelTools => format!("linux-tools-{kernel_release}"),
        })
        .collect();
    names.join(" or ")
}

fn mount_tracefs() -> Result<()> {
    const TRACEFS: &str = "/sys/kernel/tracing";
    // /proc/self/mountinfo, unlike a look inside, works for users who cannot read tracefs.
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let mounted = mounts.lines().any(|line| {
        let fields: Vec<&str> = line.split(' ').collect();
        let fstype = line
            .split(" - ")
            .nth(1)
            .and_then(|rest| rest.split(' ').next());
        fields.get(4) == Some(&TRACEFS) && fstype == Some("tracefs")
    });
    if mounted {
        return Ok(());
    }
    if !is_root() {
        bail!("tracefs is not mounted: run `sudo mount -t tracefs tracefs {TRACEFS}`");
    }
    eprintln!("setup: mounting tracefs at {TRACEFS}");
    run_status(Command::new("mount").args(["-t", "tracefs", "tracefs", TRACEFS]))
}

/// The mdbook to use: the one on PATH, or the one `cargo install` put in cargo's bin folder.
pub fn mdbook() -> PathBuf {
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cargo")
        });
    let installed = cargo_home.join("bin/mdbook");
    if installed.exists() {
        installed
    } else {
        PathBuf::from("mdbook")
    }
}

fn install_mdbook() -> Result<()> {
    let version = Command::new(mdbook()).arg("--version").output();
    if version.is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains(MDBOOK_VERSION)) {
        return Ok(());
    }
    eprintln!("setup: installing mdbook {MDBOOK_VERSION} with cargo install (a few minutes, once)");
    run_status(crate::workspace::cargo().args([
        "install",
        "mdbook",
        "--locked",
        "--version",
        MDBOOK_VERSION,
    ]))
}

/// What a foreign-architecture kernel lane's guest needs to run the tools the tests use (bpftool and strace
/// to compare with, iproute2's ip and tc, openssl for chapter 8's TLS): their packages and the
/// shared libraries they link to. They are downloaded and unpacked for the guest
/// (lanes/package.rs), never installed on this machine.
pub const LANE_GUEST_PACKAGES: &[&str] = &[
    "bpftool",
    "strace",
    "iproute2",
    "openssl",
    "libssl3",
    "libbpf1",
    "libbsd0",
    "libmd0",
    "libmnl0",
    "libxtables12",
    "libc6",
    "libcap2",
    "libelf1",
    "zlib1g",
];

/// What booting a lane needs on the host: QEMU for the lane's architecture and a static
/// busybox; for arm64 also the cross toolchain and arm64 libraries to build the tests with.
/// `arch` is Rust's name for the lane's architecture, `target_triple` the target its tests are
/// built for.
pub fn lane_packages(arch: &str, target_triple: &str) -> Result<()> {
    let aarch64 = arch == "aarch64";
    let mut needed = vec!["busybox-static", "xz-utils", "zstd"];
    match arch {
        "x86_64" => needed.push("qemu-system-x86"),
        "aarch64" => {
            needed.extend([
                "qemu-system-arm",
                "gcc-aarch64-linux-gnu",
                "libc6-dev-arm64-cross",
            ]);
            needed.extend(["libelf-dev:arm64", "zlib1g-dev:arm64"]);
        }
        other => bail!("no lane runs on {other}"),
    }
    if aarch64
        && needed.iter().any(|p| !installed(p))
        && is_root()
        && !foreign_architectures().contains("arm64")
    {
        run_status(Command::new("dpkg").args(["--add-architecture", "arm64"]))?;
    }
    install_missing(&needed, "a lane")?;
    if aarch64 {
        let targets = Command::new("rustup")
            .args(["target", "list", "--installed"])
            .output()?;
        if !String::from_utf8_lossy(&targets.stdout).contains(target_triple) {
            eprintln!("setup: adding the Rust target {target_triple}");
            run_status(Command::new("rustup").args(["target", "add", target_triple]))?;
        }
    }
    Ok(())
}

fn foreign_architectures() -> String {
    Command::new("dpkg")
        .arg("--print-foreign-architectures")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}

/// What the check of the reader environments runs: Debian's vagrant for `vagrant validate`, and
/// Python's venv, into which `crate::environments` installs actionlint.
pub fn environment_tools() -> Result<()> {
    install_missing(
        &["vagrant", "python3-venv"],
        "the check of the reader environments",
    )
}

/// Installs those of `packages` that are missing, for `purpose` (named in the messages).
fn install_missing(packages: &[&str], purpose: &str) -> Result<()> {
    let missing: Vec<&str> = packages.iter().copied().filter(|p| !installed(p)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    if !is_root() {
        bail!(
            "{purpose} needs {}: run as root, or install them yourself",
            missing.join(" ")
        );
    }
    eprintln!("setup: installing {} for {purpose}", missing.join(" "));
    run_status(Command::new("apt-get").args(["update", "-qq"]))?;
    run_status(
        Command::new("apt-get")
            .env("DEBIAN_FRONTEND", "noninteractive")
            .args(["install", "-y", "-qq", "--no-install-recommends"])
            .args(&missing),
    )
}
