//! One idempotent set-up step that every entry point runs first. When everything is there
//! it only looks (well under a second); otherwise it installs what is missing.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Result, bail};

use crate::run_status;

/// The mdbook release the book is built with.
pub const MDBOOK_VERSION: &str = "0.5.4";

/// Extras that only some entry points need.
#[derive(Default)]
pub struct Needs {
    pub book: bool,
}

/// A Debian package and, where another package can stand in on an older release, that one.
struct Package {
    name: &'static str,
    fallback: Option<&'static str>,
    why: &'static str,
}

const PACKAGES: &[Package] = &[
    Package {
        name: "clang-19",
        fallback: Some("clang"),
        why: "compiles the eBPF programs (src/bpf/*.bpf.c)",
    },
    Package {
        name: "llvm-19",
        fallback: Some("llvm"),
        why: "llvm-objdump, to read eBPF object files",
    },
    Package {
        name: "libelf-dev",
        fallback: None,
        why: "libbpf reads ELF objects with libelf",
    },
    Package {
        name: "zlib1g-dev",
        fallback: None,
        why: "libbpf links zlib",
    },
    Package {
        name: "pkg-config",
        fallback: None,
        why: "finds libelf and zlib for libbpf-sys",
    },
    Package {
        name: "bpftool",
        // Ubuntu ships bpftool in linux-tools rather than a package of its own.
        fallback: Some("linux-tools-common"),
        why: "inspects loaded programs and maps; generates vmlinux.h",
    },
    Package {
        name: "strace",
        fallback: None,
        why: "shows the bpf() calls of chapter 4; bpf-watch's tests compare with it",
    },
    Package {
        name: "iproute2",
        fallback: None,
        why: "`ip link … xdp` and `tc` attach programs in chapter 3's exercises",
    },
    Package {
        name: "openssl",
        fallback: None,
        why: "chapter 8's tls-sniff starts a TLS server and client with `openssl s_server`/`s_client`",
    },
    Package {
        // Debian 13 and Ubuntu 24.04 renamed it (64-bit time_t); Debian 12 has libssl3.
        name: "libssl3t64",
        fallback: Some("libssl3"),
        why: "the libssl whose SSL_write and SSL_read chapter 8's tls-sniff probes",
    },
    Package {
        name: "graphviz",
        fallback: None,
        why: "`dot` draws chapter 6's control-flow graphs (hello-verifier --cfg)",
    },
];

pub fn run(needs: Needs) -> Result<()> {
    let started = Instant::now();
    install_packages()?;
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

fn available(package: &str) -> bool {
    Command::new("apt-cache")
        .args(["policy", package])
        .output()
        .is_ok_and(|o| {
            let text = String::from_utf8_lossy(&o.stdout);
            text.contains("Candidate:") && !text.contains("Candidate: (none)")
        })
}

fn install_packages() -> Result<()> {
    if !Path::new("/etc/debian_version").exists() {
        if !tool_present("clang") && !tool_present("clang-19") {
            bail!(
                "this is not Debian or Ubuntu: install clang, llvm, libelf development files, zlib development \
                 files, pkg-config and bpftool with your package manager, then run again"
            );
        }
        return Ok(());
    }
    let missing: Vec<&Package> = PACKAGES
        .iter()
        .filter(|p| !installed(p.name) && !p.fallback.is_some_and(installed))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let names: Vec<&str> = missing.iter().map(|p| p.name).collect();
    if !is_root() {
        for p in &missing {
            eprintln!("setup: missing {}: {}", p.name, p.why);
        }
        bail!(
            "run as root, or install them yourself: sudo apt-get update && sudo apt-get install -y --no-install-recommends {}",
            names.join(" ")
        );
    }
    eprintln!("setup: installing {}", names.join(" "));
    run_status(Command::new("apt-get").args(["update", "-qq"]))?;
    // On releases without the versioned package (clang-19 on Ubuntu 22.04), take the
    // distribution's default one.
    let chosen: Vec<&str> = missing
        .iter()
        .map(|p| match p.fallback {
            Some(fallback) if !available(p.name) => fallback,
            _ => p.name,
        })
        .collect();
    run_status(
        Command::new("apt-get")
            .env("DEBIAN_FRONTEND", "noninteractive")
            .args(["install", "-y", "-qq", "--no-install-recommends"])
            .args(&chosen),
    )
}

fn tool_present(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
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
