//! The catalogue of the verifier's verdicts: for each variant and each kernel measured, whether
//! the verifier accepted it and the key line of its log. The catalogue test records one
//! kernel's verdicts as an insta snapshot (`catalogue-6.18-x86_64`); CATALOGUE.md is generated
//! from the variant list and every snapshot present, so nothing is written twice.

use std::path::Path;

use crate::variants::{VARIANTS, Variant};

/// One line of a kernel's catalogue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    pub variant: String,
    pub accepted: bool,
    pub key: String,
}

/// The major version of the clang that compiled the programs whose verdicts the snapshots hold.
/// The verifier's counts of instructions and states, and some offsets in its messages, follow
/// the compiler's code: another clang (85 instructions instead of 93 with clang 11) gets the
/// same verdicts in messages of the same shape.
pub const SNAPSHOT_CLANG: &str = "19";

/// `snapshot_text` with every number as `N`: what holds across compilers.
pub fn without_numbers(text: &str) -> String {
    let mut out = String::new();
    let mut in_number = false;
    for c in text.chars() {
        if c.is_ascii_digit() {
            if !in_number {
                out.push('N');
            }
            in_number = true;
        } else {
            out.push(c);
            in_number = false;
        }
    }
    out
}

/// For a build with another clang than the snapshots': requires `verdicts` to be this
/// kernel's recorded ones in `dir` with every number left out, and says so on stderr.
pub fn assert_recorded_but_for_numbers(
    dir: &Path,
    kernel: &str,
    clang: &str,
    verdicts: &[Verdict],
) {
    let file = dir.join(format!(
        "verifier__hello_verifier__{}.snap",
        snapshot_name(kernel)
    ));
    let recorded = std::fs::read_to_string(&file).unwrap_or_else(|e| {
        panic!(
            "no snapshot of this kernel's verdicts to compare with ({}): {e}",
            file.display()
        )
    });
    eprintln!(
        "verifier on {kernel}: compiled with clang {clang}, the snapshot's programs with clang \
         {SNAPSHOT_CLANG}: comparing verdicts and messages, not their numbers"
    );
    assert_eq!(
        without_numbers(&snapshot_text(verdicts)),
        without_numbers(&snapshot_text(&parse_snapshot(&recorded)))
    );
}

/// The row of the program as the book leaves it.
pub const UNBROKEN: &str = "unbroken";

/// What the snapshot holds: one line per variant, `NAME | accepted | KEY LINE`.
pub fn snapshot_text(verdicts: &[Verdict]) -> String {
    verdicts
        .iter()
        .map(|v| {
            let verdict = if v.accepted { "accepted" } else { "rejected" };
            format!("{} | {verdict} | {}\n", v.variant, v.key)
        })
        .collect()
}

/// Reads a snapshot file back (insta's header, then `snapshot_text`).
pub fn parse_snapshot(file: &str) -> Vec<Verdict> {
    let body = file.splitn(3, "---\n").nth(2).unwrap_or(file);
    body.lines()
        .filter_map(|line| {
            let mut fields = line.splitn(3, " | ");
            let (variant, verdict, key) = (fields.next()?, fields.next()?, fields.next()?);
            Some(Verdict {
                variant: variant.to_string(),
                accepted: verdict == "accepted",
                key: key.to_string(),
            })
        })
        .collect()
}

/// The kernel the tests run on, as a snapshot names it: `6.18-x86_64`, `6.1-arm64`.
pub fn this_kernel() -> String {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let version: Vec<&str> = release.trim().split(['.', '-']).take(2).collect();
    let arch = match std::env::consts::ARCH {
        "aarch64" => "arm64",
        other => other,
    };
    format!("{}-{arch}", version.join("."))
}

/// The snapshot's name for a kernel.
pub fn snapshot_name(kernel: &str) -> String {
    format!("catalogue-{kernel}")
}

/// Every kernel's snapshot in `dir` (tests/snapshots), oldest kernel first.
pub fn measured(dir: &Path) -> Vec<(String, Vec<Verdict>)> {
    let mut found: Vec<(String, Vec<Verdict>)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            let kernel = name
                .split_once("__catalogue-")?
                .1
                .strip_suffix(".snap")?
                .to_string();
            let text = std::fs::read_to_string(entry.path()).ok()?;
            Some((kernel, parse_snapshot(&text)))
        })
        .collect();
    found.sort_by_key(|(kernel, _)| version_key(kernel));
    found
}

/// `6.1-arm64` sorts before `6.12-x86_64`: by number, then architecture.
fn version_key(kernel: &str) -> (Vec<u32>, String) {
    let (version, arch) = kernel.split_once('-').unwrap_or((kernel, ""));
    let numbers = version.split('.').filter_map(|n| n.parse().ok()).collect();
    (numbers, arch.to_string())
}

fn label(kernel: &str) -> String {
    kernel.replace('-', " ")
}

fn cell(text: &str) -> String {
    format!("`{}`", text.replace('|', "\\|"))
}

fn verdict_word(variant: Option<&Variant>, accepted: bool) -> String {
    let expected = variant.is_none_or(|v| v.loads);
    match (accepted, expected) {
        (true, true) => "loads".into(),
        (false, false) => "rejected".into(),
        (true, false) => "**loads** (the book expects a rejection)".into(),
        (false, true) => "**rejected** (the book expects it to load)".into(),
    }
}

/// CATALOGUE.md: an overview (variant × kernel), then each variant with what each kernel said
/// and why the verifier is right.
pub fn markdown(measured: &[(String, Vec<Verdict>)]) -> String {
    let find = |verdicts: &[Verdict], name: &str| -> Option<Verdict> {
        verdicts.iter().find(|v| v.variant == name).cloned()
    };
    let mut out = String::from(
        "<!-- Generated from chapter06/src/variants.rs and the catalogue snapshots in \
         chapter06/tests/snapshots by `UPDATE_CATALOGUE=1 cargo test -p chapter06 --test verifier \
         catalogue`. Do not edit. -->\n\n",
    );
    let kernels: Vec<String> = measured.iter().map(|(k, _)| label(k)).collect();
    out.push_str(&format!(
        "Kernels measured: {}.\n\n| Variant | Book | {} |\n|---|---|{}\n",
        if kernels.is_empty() {
            "none yet".to_string()
        } else {
            kernels.join(", ")
        },
        kernels.join(" | "),
        "---|".repeat(kernels.len())
    ));
    let names = std::iter::once((UNBROKEN, None)).chain(VARIANTS.iter().map(|v| (v.name, Some(v))));
    for (name, variant) in names.clone() {
        let cells: Vec<String> = measured
            .iter()
            .map(|(_, verdicts)| match find(verdicts, name) {
                Some(v) if v.accepted => "loads".to_string(),
                Some(_) => "rejected".to_string(),
                None => "not measured".to_string(),
            })
            .collect();
        out.push_str(&format!(
            "| [`{name}`](#{name}) | {} | {} |\n",
            variant.map_or("the book's program", |v| v.book),
            cells.join(" | ")
        ));
    }
    for (name, variant) in names {
        out.push_str(&format!("\n### {name}\n\n"));
        match variant {
            Some(v) => out.push_str(&format!(
                "{}. Book: “{}” (`{}`). The book expects the verifier to {}.\n\n",
                capitalise(v.change),
                v.book,
                v.program,
                if v.loads { "accept it" } else { "reject it" }
            )),
            None => out.push_str(
                "The program as the book leaves it: both kprobe_exec and xdp_hello load. The key \
                 line is kprobe_exec's summary.\n\n",
            ),
        }
        out.push_str("| Kernel | Verdict | What the verifier says |\n|---|---|---|\n");
        for (kernel, verdicts) in measured {
            match find(verdicts, name) {
                Some(v) => out.push_str(&format!(
                    "| {} | {} | {} |\n",
                    label(kernel),
                    verdict_word(variant, v.accepted),
                    cell(&v.key)
                )),
                None => out.push_str(&format!("| {} | not measured | |\n", label(kernel))),
            }
        }
        if let Some(v) = variant {
            out.push_str(&format!("\nWhy the verifier is right: {}\n", v.why));
        }
    }
    out
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Markers around the catalogue in the chapter's README.
pub const README_START: &str = "<!-- catalogue:start -->";
pub const README_END: &str = "<!-- catalogue:end -->";

/// `readme` with the text between the markers replaced by `catalogue`.
pub fn in_readme(readme: &str, catalogue: &str) -> Option<String> {
    let (before, rest) = readme.split_once(README_START)?;
    let (_, after) = rest.split_once(README_END)?;
    Some(format!(
        "{before}{README_START}\n{catalogue}{README_END}{after}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_left_out_for_another_compiler() {
        assert_eq!(
            without_numbers("unbroken | accepted | processed 93 insns (limit 1000000) off=-12\n"),
            "unbroken | accepted | processed N insns (limit N) off=-N\n"
        );
    }

    #[test]
    fn a_snapshot_reads_back() {
        let verdicts = vec![
            Verdict {
                variant: "unbroken".into(),
                accepted: true,
                key: "processed 5 insns".into(),
            },
            Verdict {
                variant: "missing-license".into(),
                accepted: false,
                key: "a | b".into(),
            },
        ];
        let file = format!(
            "---\nsource: chapter06/tests/verifier.rs\nexpression: text\n---\n{}",
            snapshot_text(&verdicts)
        );
        assert_eq!(parse_snapshot(&file), verdicts);
    }

    #[test]
    fn kernels_sort_by_version() {
        let mut kernels = vec![
            "6.18-x86_64",
            "6.1-x86_64",
            "5.10-x86_64",
            "6.1-arm64",
            "6.12-x86_64",
        ];
        kernels.sort_by_key(|k| version_key(k));
        assert_eq!(
            kernels,
            [
                "5.10-x86_64",
                "6.1-arm64",
                "6.1-x86_64",
                "6.12-x86_64",
                "6.18-x86_64"
            ]
        );
    }

    #[test]
    fn findings_are_marked() {
        let measured = vec![(
            "6.18-x86_64".to_string(),
            vec![Verdict {
                variant: "kprobe-as-xdp".into(),
                accepted: true,
                key: "processed 1 insns".into(),
            }],
        )];
        let text = markdown(&measured);
        assert!(
            text.contains(
                "| 6.18 x86_64 | **loads** (the book expects a rejection) | `processed 1 insns` |"
            ),
            "{text}"
        );
        assert!(text.contains("| 6.18 x86_64 | not measured | |"), "{text}");
    }

    #[test]
    fn the_readme_gets_the_catalogue_between_its_markers() {
        let readme = format!("# A\n{README_START}\nold\n{README_END}\nend\n");
        assert_eq!(
            in_readme(&readme, "new\n").unwrap(),
            format!("# A\n{README_START}\nnew\n{README_END}\nend\n")
        );
    }
}
