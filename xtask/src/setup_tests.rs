//! What set-up installs on each release readers run, from the names each release offers.
//! Each table holds the names that matter to `PACKAGES` and says where they were read.

use super::*;

/// Debian 11 (bullseye): `apt-cache pkgnames` and `apt-cache policy` on bullseye,
/// bullseye-updates and bullseye-security's lists from deb.debian.org, read 2026-12-03
/// through a private apt state folder (nothing installed).
const DEBIAN_11: &[&str] = &[
    "clang",
    "clang-9",
    "clang-11",
    "clang-13",
    "clang-16",
    "clang-19",
    "clang-22",
    "llvm",
    "llvm-9",
    "llvm-11",
    "llvm-13",
    "llvm-16",
    "llvm-19",
    "llvm-22",
    "libelf-dev",
    "zlib1g-dev",
    "pkg-config",
    "pkgconf",
    "bpftool",
    "strace",
    "iproute2",
    "openssl",
    "libssl1.1",
    "graphviz",
    "iptables",
];

/// Debian 12 (bookworm): this machine's apt (bookworm, bookworm-updates, bookworm-security),
/// 2026-12-03.
const DEBIAN_12: &[&str] = &[
    "clang",
    "clang-13",
    "clang-14",
    "clang-15",
    "clang-16",
    "clang-19",
    "clang-22",
    "llvm",
    "llvm-13",
    "llvm-14",
    "llvm-15",
    "llvm-16",
    "llvm-19",
    "llvm-22",
    "libelf-dev",
    "zlib1g-dev",
    "pkg-config",
    "pkgconf",
    "bpftool",
    "strace",
    "iproute2",
    "openssl",
    "libssl3",
    "graphviz",
    "iptables",
];

/// Debian 13 (trixie): as for Debian 11, from trixie's lists. libssl3 is only a name that
/// libssl3t64 provides there.
const DEBIAN_13: &[&str] = &[
    "clang",
    "clang-17",
    "clang-18",
    "clang-19",
    "clang-22",
    "llvm",
    "llvm-17",
    "llvm-18",
    "llvm-19",
    "llvm-22",
    "libelf-dev",
    "zlib1g-dev",
    "pkg-config",
    "pkgconf",
    "bpftool",
    "strace",
    "iproute2",
    "openssl",
    "libssl3t64",
    "graphviz",
    "iptables",
];

/// Ubuntu 22.04 (jammy), from packages.ubuntu.com: clang is clang-14 (llvm-defaults 14),
/// clang-15 is in jammy-updates; bpftool is only a virtual package there, provided by
/// linux-tools-common, and the binary is in linux-tools-$(uname -r).
const UBUNTU_22_04: &[&str] = &[
    "clang",
    "clang-14",
    "clang-15",
    "llvm",
    "llvm-14",
    "llvm-15",
    "libelf-dev",
    "zlib1g-dev",
    "pkg-config",
    "linux-tools-common",
    "linux-tools-generic",
    "linux-tools-5.15.0-91-generic",
    "strace",
    "iproute2",
    "openssl",
    "libssl3",
    "graphviz",
    "iptables",
];
const UBUNTU_22_04_KERNEL: &str = "5.15.0-91-generic";

/// Ubuntu 24.04 (noble), from packages.ubuntu.com: clang is clang-18 (llvm-defaults 18),
/// clang-14 and, in noble-updates, clang-19 are there too; libssl3t64; bpftool as for 22.04.
const UBUNTU_24_04: &[&str] = &[
    "clang",
    "clang-14",
    "clang-18",
    "clang-19",
    "llvm",
    "llvm-14",
    "llvm-18",
    "llvm-19",
    "libelf-dev",
    "zlib1g-dev",
    "pkg-config",
    "linux-tools-common",
    "linux-tools-generic",
    "linux-tools-6.8.0-31-generic",
    "strace",
    "iproute2",
    "openssl",
    "libssl3t64",
    "graphviz",
    "iptables",
];
const UBUNTU_24_04_KERNEL: &str = "6.8.0-31-generic";

/// What set-up would install on a machine with none of `PACKAGES`, or the entry it cannot
/// provide: required ones as errors, optional ones as `None`.
fn plan(offered: &[&str], kernel_release: &str) -> Vec<Option<Vec<String>>> {
    let names: BTreeSet<String> = offered.iter().map(|n| n.to_string()).collect();
    let offer = Names {
        names: &names,
        kernel_release,
    };
    PACKAGES
        .iter()
        .map(|package| Some(choose(package, &offer)).filter(|chosen| !chosen.is_empty()))
        .collect()
}

fn flat(plan: &[Option<Vec<String>>]) -> Vec<&str> {
    plan.iter()
        .flatten()
        .flatten()
        .map(String::as_str)
        .collect()
}

const EVERYWHERE: &[&str] = &[
    "libelf-dev",
    "zlib1g-dev",
    "pkg-config",
    "strace",
    "iproute2",
    "openssl",
    "graphviz",
    "iptables",
];

fn assert_installs(offered: &[&str], kernel: &str, specific: &[&str]) {
    let plan = plan(offered, kernel);
    assert!(
        plan.iter().all(Option::is_some),
        "something is missing: {plan:?}"
    );
    let mut expected: Vec<&str> = EVERYWHERE.iter().chain(specific).copied().collect();
    expected.sort();
    let mut got = flat(&plan);
    got.sort();
    assert_eq!(got, expected);
}

#[test]
fn debian_11_takes_clang_19_and_libssl1_1() {
    assert_installs(
        DEBIAN_11,
        "5.10.0-35-amd64",
        &["clang-19", "llvm-19", "bpftool", "libssl1.1"],
    );
}

#[test]
fn debian_12_takes_clang_19_not_the_newer_clang_22() {
    assert_installs(
        DEBIAN_12,
        "6.1.0-41-amd64",
        &["clang-19", "llvm-19", "bpftool", "libssl3"],
    );
}

#[test]
fn debian_13_takes_libssl3t64() {
    assert_installs(
        DEBIAN_13,
        "6.12.48-1-amd64",
        &["clang-19", "llvm-19", "bpftool", "libssl3t64"],
    );
}

#[test]
fn ubuntu_22_04_takes_its_newest_clang_and_the_kernels_own_bpftool() {
    assert_installs(
        UBUNTU_22_04,
        UBUNTU_22_04_KERNEL,
        &[
            "clang-15",
            "llvm-15",
            "linux-tools-common",
            "linux-tools-5.15.0-91-generic",
            "libssl3",
        ],
    );
}

#[test]
fn ubuntu_24_04_takes_clang_19_and_the_kernels_own_bpftool() {
    assert_installs(
        UBUNTU_24_04,
        UBUNTU_24_04_KERNEL,
        &[
            "clang-19",
            "llvm-19",
            "linux-tools-common",
            "linux-tools-6.8.0-31-generic",
            "libssl3t64",
        ],
    );
}

#[test]
fn a_kernel_without_linux_tools_goes_without_bpftool_only() {
    // WSL's kernel, say: Ubuntu has no linux-tools package for it.
    let plan = plan(UBUNTU_24_04, "5.15.133.1-microsoft-standard-WSL2");
    let bpftool = PACKAGES
        .iter()
        .position(|p| p.choices.iter().any(|c| matches!(c, Choice::KernelTools)))
        .unwrap();
    assert_eq!(plan[bpftool], None);
    assert!(PACKAGES[bpftool].optional_for.is_some());
    let others = plan.iter().enumerate().filter(|(i, _)| *i != bpftool);
    assert!(others.clone().all(|(_, chosen)| chosen.is_some()));
}

#[test]
fn a_release_whose_clangs_are_all_too_old_has_no_clang() {
    let plan = plan(&["clang", "clang-9", "clang-10", "libelf-dev"], "5.4.0");
    assert_eq!(plan[0], None);
    assert!(PACKAGES[0].optional_for.is_none());
}

#[test]
fn installed_newer_clang_counts_as_present() {
    // A reader who installed clang-21 (apt.llvm.org, say) is not given clang-19 as well.
    let installed: BTreeSet<String> = ["clang-21".to_string()].into();
    let names = Names {
        names: &installed,
        kernel_release: "6.1.0",
    };
    assert_eq!(choose(&PACKAGES[0], &names), ["clang-21"]);
}
