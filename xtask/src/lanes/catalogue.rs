//! The lanes there are: a name, an architecture and which Debian kernel each boots.

use anyhow::{Context, Result};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arch {
    X86_64,
    Aarch64,
}

impl Arch {
    /// Rust's name, as in `CARGO_CFG_TARGET_ARCH` and target triples.
    pub fn rust_name(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::Aarch64 => "aarch64",
        }
    }

    /// Debian's name for the architecture.
    pub(super) fn debian(self) -> &'static str {
        match self {
            Arch::X86_64 => "amd64",
            Arch::Aarch64 => "arm64",
        }
    }

    pub fn target_triple(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64-unknown-linux-gnu",
            Arch::Aarch64 => "aarch64-unknown-linux-gnu",
        }
    }

    pub fn is_host(self) -> bool {
        self.rust_name() == std::env::consts::ARCH
    }
}

/// Which Debian kernel a lane boots. The ABI number in the package name changes with every
/// security update, so it is looked up at run time.
#[derive(Clone, Copy, Debug)]
pub(super) enum Kernel {
    /// What a meta-package (linux-image-amd64) currently depends on.
    Meta(&'static str),
    /// The newest package named `PREFIX<version>SUFFIX`.
    Newest {
        prefix: &'static str,
        suffix: &'static str,
    },
}

/// Which Debian release's package lists a lane's kernel comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Suite {
    /// The host's own apt lists (Debian 12: bookworm and bookworm-security).
    Host,
    /// Another release, such as `bullseye`: its lists are fetched into a private folder at run
    /// time, from the archive locations in the host's own apt sources, and removed afterwards.
    Other(&'static str),
}

#[derive(Clone, Copy, Debug)]
pub struct Lane {
    pub name: &'static str,
    pub arch: Arch,
    pub(super) kernel: Kernel,
    pub(super) suite: Suite,
}

pub const LANES: &[Lane] = &[
    Lane {
        name: "debian-6.1",
        arch: Arch::X86_64,
        kernel: Kernel::Meta("linux-image-amd64"),
        suite: Suite::Host,
    },
    Lane {
        name: "debian-6.12",
        arch: Arch::X86_64,
        kernel: Kernel::Newest {
            prefix: "linux-image-6.12.",
            suffix: "+deb12-amd64-unsigned",
        },
        suite: Suite::Host,
    },
    Lane {
        name: "debian-6.1-arm64",
        arch: Arch::Aarch64,
        kernel: Kernel::Meta("linux-image-arm64"),
        suite: Suite::Host,
    },
    Lane {
        name: "debian-6.12-arm64",
        arch: Arch::Aarch64,
        kernel: Kernel::Newest {
            prefix: "linux-image-6.12.",
            suffix: "+deb12-arm64-unsigned",
        },
        suite: Suite::Host,
    },
    // The book's era (Debian 11). Its verifier speaks differently, and bpf is not in its
    // default LSM list, so LSM programs attach there but never run.
    Lane {
        name: "debian-5.10",
        arch: Arch::X86_64,
        kernel: Kernel::Newest {
            prefix: "linux-image-5.10.",
            suffix: "-amd64-unsigned",
        },
        suite: Suite::Other("bullseye"),
    },
];

impl Lane {
    /// The kernel version the lane's name promises: `debian-6.12-arm64` → `6.12`.
    pub fn promised_version(&self) -> &'static str {
        self.name
            .trim_start_matches("debian-")
            .split('-')
            .next()
            .unwrap_or_default()
    }
}

pub fn find(name: &str) -> Result<Lane> {
    LANES
        .iter()
        .copied()
        .find(|l| l.name == name)
        .with_context(|| {
            let names: Vec<&str> = LANES.iter().map(|l| l.name).collect();
            format!("no lane named {name}; the lanes are {}", names.join(", "))
        })
}
