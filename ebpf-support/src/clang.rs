//! Which clang compiles the eBPF programs. The build scripts use it, and so does
//! `cargo xtask setup`, which says which one it found (this module needs nothing but std, so
//! xtask can use it before libelf and the rest are installed).

use std::path::{Path, PathBuf};
use std::process::Command;

/// The oldest clang that builds every chapter here. Measured 2026-12-03 with Debian's own
/// packages (bookworm's clang-13/14, bullseye's clang-9/11 extracted): clang 9 stops at
/// vmlinux.h's `#pragma clang attribute push (__attribute__((preserve_access_index)))`, the
/// CO-RE attribute that came with clang 10; clang 11 (Debian 11's default) compiles all the
/// programs, and chapters 2, 3, 5 and 7's kernel tests pass with its objects. So do chapter 6's,
/// but for the verifier-log snapshot, which records clang 19's code: clang 11's `unbroken`
/// variant gets the same verdict in 85 instructions instead of 93.
pub const MIN_VERSION: u32 = 11;

/// A clang found on this machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clang {
    pub path: PathBuf,
    /// The major version, e.g. 19.
    pub version: u32,
}

impl std::fmt::Display for Clang {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "clang {} at {}", self.version, self.path.display())
    }
}

/// `CLANG` if it is set, otherwise the newest `clang` or `clang-N` on PATH; either way one
/// at least `MIN_VERSION` old, or an error of one line that says what to do.
pub fn find() -> Result<Clang, String> {
    if let Some(clang) = std::env::var_os("CLANG") {
        let path = PathBuf::from(clang);
        let version = version_of(&path).ok_or_else(|| {
            format!(
                "CLANG={} does not run as a clang (`{} --version` gave no clang version)",
                path.display(),
                path.display()
            )
        })?;
        return new_enough(Clang { path, version });
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = on_path(&path)
        .into_iter()
        .filter_map(|path| {
            Some(Clang {
                version: version_of(&path)?,
                path,
            })
        })
        .collect();
    newest(found).and_then(new_enough)
}

/// The newest of the clangs found; on a tie the first (PATH order).
fn newest(found: Vec<Clang>) -> Result<Clang, String> {
    found
        .into_iter()
        .reduce(|best, next| {
            if next.version > best.version {
                next
            } else {
                best
            }
        })
        .ok_or_else(|| {
            format!(
                "no clang found to compile the eBPF programs: run `cargo xtask setup` (it installs \
                 one), or install clang {MIN_VERSION} or newer, or set CLANG=/path/to/clang"
            )
        })
}

fn new_enough(clang: Clang) -> Result<Clang, String> {
    if clang.version >= MIN_VERSION {
        Ok(clang)
    } else {
        Err(format!(
            "{clang} is too old: the eBPF programs need clang {MIN_VERSION} or newer (CO-RE's \
             preserve_access_index); install a newer one (`cargo xtask setup` does), or set \
             CLANG=/path/to/clang"
        ))
    }
}

/// Every `clang` and `clang-N` in the PATH's folders, the first of each name only (as a shell
/// would run it).
fn on_path(path: &std::ffi::OsStr) -> Vec<PathBuf> {
    let mut names = std::collections::BTreeSet::new();
    let mut found = Vec::new();
    for dir in std::env::split_paths(path) {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut here: Vec<PathBuf> = entries
            .filter_map(|entry| entry.ok())
            .filter(|entry| is_clang_name(&entry.file_name().to_string_lossy()))
            .map(|entry| entry.path())
            .collect();
        here.sort();
        for path in here {
            if names.insert(path.file_name().map(|n| n.to_owned())) {
                found.push(path);
            }
        }
    }
    found
}

/// `clang` or `clang-19`, not `clang-format` or `clang-cpp-19`.
fn is_clang_name(name: &str) -> bool {
    match name.strip_prefix("clang") {
        Some("") => true,
        Some(rest) => rest
            .strip_prefix('-')
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())),
        None => false,
    }
}

fn version_of(clang: &Path) -> Option<u32> {
    let output = Command::new(clang).arg("--version").output().ok()?;
    if !output.status.success() {
        return None;
    }
    major_version(&String::from_utf8_lossy(&output.stdout))
}

/// The major version in `clang --version`'s first line: "Debian clang version 14.0.6",
/// "Ubuntu clang version 18.1.3 (1ubuntu1)", "clang version 19.1.7".
fn major_version(version_output: &str) -> Option<u32> {
    let first = version_output.lines().next()?;
    let (_, rest) = first.split_once("clang version ")?;
    rest.split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_major_version_as_each_distribution_prints_it() {
        assert_eq!(
            major_version("Debian clang version 14.0.6\nTarget: x86_64"),
            Some(14)
        );
        assert_eq!(
            major_version("Ubuntu clang version 18.1.3 (1ubuntu1)\nTarget: x86_64"),
            Some(18)
        );
        assert_eq!(major_version("clang version 9.0.1-16.1 \n"), Some(9));
        assert_eq!(major_version("gcc (Debian 12.2.0-14) 12.2.0"), None);
    }

    #[test]
    fn knows_a_clang_by_its_name() {
        for name in ["clang", "clang-11", "clang-19", "clang-21"] {
            assert!(is_clang_name(name), "{name}");
        }
        for name in [
            "clang-format",
            "clang-cpp-19",
            "clang++",
            "clang-",
            "clangd",
            "clang-19-x",
        ] {
            assert!(!is_clang_name(name), "{name}");
        }
    }

    fn clang(path: &str, version: u32) -> Clang {
        Clang {
            path: path.into(),
            version,
        }
    }

    #[test]
    fn takes_the_newest_with_no_upper_bound() {
        let found = vec![
            clang("/usr/bin/clang", 14),
            clang("/usr/bin/clang-19", 19),
            clang("/usr/lib/llvm-21/bin/clang-21", 21),
            clang("/usr/bin/clang-13", 13),
        ];
        assert_eq!(
            newest(found),
            Ok(clang("/usr/lib/llvm-21/bin/clang-21", 21))
        );
    }

    #[test]
    fn refuses_an_old_clang_in_one_line() {
        let old = newest(vec![clang("/usr/bin/clang", 9)]).and_then(new_enough);
        let message = old.unwrap_err();
        assert_eq!(message.lines().count(), 1);
        assert!(
            message.starts_with("clang 9 at /usr/bin/clang is too old"),
            "{message}"
        );
        assert!(message.contains("clang 11 or newer"), "{message}");
        assert_eq!(
            new_enough(clang("/usr/bin/clang-11", 11)),
            Ok(clang("/usr/bin/clang-11", 11))
        );
        assert!(
            newest(Vec::new())
                .unwrap_err()
                .starts_with("no clang found")
        );
    }
}
