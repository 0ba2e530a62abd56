#!/usr/bin/env bash
# From a bare Debian or Ubuntu to a machine that runs this repository: the one provisioning
# script. Lima (lima.yaml), Vagrant (vagrant/Vagrantfile) and the GitHub workflows run it;
# everything past what cargo itself needs is `cargo xtask setup` (xtask/src/setup.rs), which
# `cargo xtask test` runs too. Idempotent: run it again and it only looks.
#
# Usage, as root:  xtask/bootstrap.sh [USER]
# USER (default: the user sudo was called by, else root) gets rustup and the toolchain of
# rust-toolchain.toml in their home; VM provisioning runs as root, the reader logs in as USER.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
    echo "bootstrap: run me as root (sudo $0 $(id -un))" >&2
    exit 1
fi
repo=$(cd "$(dirname "$0")/.." && pwd)
user=${1:-${SUDO_USER:-root}}
home=$(getent passwd "$user" | cut -d: -f6)
if [ -z "$home" ]; then
    echo "bootstrap: no user $user" >&2
    exit 1
fi

# What cargo needs to build xtask: a linker and libc headers, and TLS to reach crates.io;
# curl fetches rustup, git lists the tracked files for the tests.
needed=(ca-certificates curl gcc libc6-dev git)
missing=()
for package in "${needed[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' ||
        missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "bootstrap: installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Everything else runs as USER, so that rustup and the build in target/ belong to them.
as_user() {
    runuser -u "$user" -- env HOME="$home" PATH="$home/.cargo/bin:$PATH" "$@"
}
if [ ! -x "$home/.cargo/bin/rustup" ]; then
    echo "bootstrap: installing rustup for $user"
    curl --proto '=https' --tlsv1.2 -sSf https://static.rust-lang.org/rustup/rustup-init.sh |
        as_user sh -s -- -y --quiet --profile minimal --default-toolchain none
fi
cd "$repo"
# With no name, rustup installs the toolchain that rust-toolchain.toml names.
# (rustup before 1.28 wants a name here, but installs that toolchain on `rustup show`.)
as_user rustup toolchain install 2>/dev/null || as_user rustup show >/dev/null
as_user cargo build --quiet --package xtask
# `cargo xtask setup`, run as root because it installs packages; built above as USER.
"$repo/target/debug/xtask" setup
echo "bootstrap: done; as $user, try: cargo xtask run -p chapter02 --bin hello -- --trigger --count 5"
