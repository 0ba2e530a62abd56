//! The compatibility table: the doctor's findings and the test results of the host and of
//! every kernel lane, composed by `doctor table`.
//!
//! `cargo xtask test` records this run's findings in target/compat/. `cargo xtask compat`
//! commits them to compat/ and writes the table (COMPATIBILITY.md, and the same table in
//! README.md). The test run fails when the committed table no longer follows from the committed
//! findings and the examples' declared needs, or when a lane's kernel now answers differently.
//! The host column is kept but not compared: it depends on the machine that runs the tests,
//! so it names the machine and the date of the run it came from.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use ebpf_support::needs::{Capability, Example};

use crate::lanes::catalogue::LANES;

const README_BEGIN: &str = "<!-- compatibility table: begin -->";
const README_END: &str = "<!-- compatibility table: end -->";

/// This run's findings.
pub fn dir() -> PathBuf {
    crate::workspace::root().join("target/compat")
}

/// The committed findings the table is made from.
fn committed_dir() -> PathBuf {
    crate::workspace::root().join("compat")
}

/// The ways a reader gets a kernel, how, and the columns whose kernels each gives: the rows of
/// the "choose your kernel" table that heads the compatibility table.
fn routes() -> Vec<String> {
    let lanes: Vec<&str> = LANES.iter().map(|l| l.name).collect();
    [
        (
            "Your own Linux",
            "`cargo xtask doctor` tells what your kernel offers; this row is the machine the table was made on",
            "host".to_string(),
        ),
        (
            "Kernel lanes",
            "`cargo xtask vm shell --lane NAME`: stock Debian kernels in QEMU, on any Linux host",
            lanes.join(","),
        ),
        (
            "Lima",
            "`limactl start --name=learning-ebpf lima.yaml`: Debian 12, whose cloud kernel 6.1 has the options of the debian-6.1 lanes' kernel; the VM was not booted here, so its cells are those lanes'",
            "debian-6.1,debian-6.1-arm64".to_string(),
        ),
        (
            "Vagrant",
            "`cd vagrant && vagrant up` (on arm64: `vagrant up bookworm-bento`): Debian 12 and its 6.1 kernel; the VM was not booted here, so its cells are the debian-6.1 lanes'",
            "debian-6.1,debian-6.1-arm64".to_string(),
        ),
    ]
    .into_iter()
    .map(|(name, how, columns)| format!("{name}|{how}|{columns}"))
    .collect()
}

fn columns() -> impl Iterator<Item = &'static str> {
    std::iter::once("host").chain(LANES.iter().map(|l| l.name))
}

/// Where one column's findings go: `host` or a lane's name.
pub fn findings_file(column: &str) -> PathBuf {
    dir().join(format!("{column}.txt"))
}

/// Forgets a column's findings before it is probed again, so a failed run leaves none.
pub fn forget(column: &str) -> Result<()> {
    std::fs::create_dir_all(dir())?;
    let _ = std::fs::remove_file(findings_file(column));
    Ok(())
}

/// Adds to that kernel's findings the outcome of each example's own tests there (examples
/// whose tests did not run there get no line), and where and when the run was made.
pub fn record_tests(
    column: &str,
    examples: &[(&Example, Option<bool>)],
    measured: &str,
) -> Result<()> {
    let path = findings_file(column);
    let mut text = std::fs::read_to_string(&path)
        .with_context(|| format!("no findings in {}", path.display()))?;
    for (example, outcome) in examples {
        if let Some(passed) = outcome {
            let result = if *passed { "passed" } else { "failed" };
            text.push_str(&format!(
                "tested\t{}\t{}\t{result}\n",
                example.package, example.name
            ));
        }
    }
    text.push_str(&format!("measured\t{measured}\n"));
    std::fs::write(path, text)?;
    Ok(())
}

/// Which capabilities a column's findings say the kernel has: `None` for a capability that
/// was never probed there.
pub fn capabilities(column: &str) -> Result<impl Fn(Capability) -> Option<bool>> {
    let path = findings_file(column);
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("no findings in {}", path.display()))?;
    let found: Vec<(String, bool)> = text
        .lines()
        .filter_map(|line| match line.split('\t').collect::<Vec<_>>()[..] {
            ["capability", name, available, ..] => Some((name.to_string(), available == "yes")),
            _ => None,
        })
        .collect();
    Ok(move |capability: Capability| {
        found
            .iter()
            .find(|(name, _)| *name == format!("{capability:?}"))
            .map(|(_, available)| *available)
    })
}

/// The doctor, as built for the host.
fn host_doctor() -> Result<PathBuf> {
    crate::workspace::run_status(
        crate::workspace::cargo()
            .current_dir(crate::workspace::root())
            .args(["build", "--quiet", "-p", "doctor"]),
    )?;
    Ok(crate::workspace::root().join("target/debug/doctor"))
}

/// Runs the doctor on this host (through the same runner as the tests, so with the same
/// privileges), recording its findings.
pub fn probe_host() -> Result<()> {
    forget("host")?;
    let doctor = host_doctor()?;
    crate::workspace::run_status(
        Command::new(crate::workspace::root().join(".cargo/run-as-root"))
            .arg(doctor)
            .arg("--results")
            .arg(findings_file("host")),
    )
}

/// Composes the table from the findings in `from` into `output`.
fn compose(from: &Path, output: &Path) -> Result<()> {
    let mut doctor = Command::new(host_doctor()?);
    doctor.arg("table").arg("--output").arg(output);
    for route in routes() {
        doctor.arg("--route").arg(route);
    }
    for column in columns() {
        let file = from.join(format!("{column}.txt"));
        if !file.exists() {
            bail!(
                "no findings for {column} in {}: a full `cargo xtask test` records them",
                from.display()
            );
        }
        doctor
            .arg("--column")
            .arg(format!("{column}={}", file.display()));
    }
    crate::workspace::run_status(&mut doctor)
}

/// What a kernel answered that must not change while the table stays the same: its
/// capability lines (the exact kernel release changes with every Debian update, and a quick
/// run tests fewer examples than a full one).
fn capability_findings(path: &Path) -> Result<BTreeSet<String>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("no findings in {}", path.display()))?;
    Ok(text
        .lines()
        .filter(|l| l.starts_with("capability\t"))
        .map(str::to_string)
        .collect())
}

/// The examples whose tests ran in a findings file, with their outcome.
fn tested(path: &Path) -> BTreeMap<String, String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|line| match line.split('\t').collect::<Vec<_>>()[..] {
            ["tested", package, name, result] => {
                Some((format!("{package} {name}"), result.to_string()))
            }
            _ => None,
        })
        .collect()
}

/// The examples that `committed` has a result for and this run's `now` has none.
fn fewer_tested(now: &Path, committed: &Path) -> Vec<String> {
    let now = tested(now);
    tested(committed)
        .into_keys()
        .filter(|example| !now.contains_key(example))
        .collect()
}

/// How this run's findings of one lane differ from the committed ones, one line each: a
/// capability answered differently (either way), or an example whose tests ran in both and
/// came out differently.
fn differences(lane: &str, now: &Path, committed: &Path) -> Result<Vec<String>> {
    let (now_found, before) = (capability_findings(now)?, capability_findings(committed)?);
    let show = |line: &String| line.replace('\t', " ");
    let mut problems: Vec<String> = now_found
        .difference(&before)
        .map(|l| format!("{lane} now finds: {}", show(l)))
        .chain(
            before
                .difference(&now_found)
                .map(|l| format!("{lane} no longer finds: {}", show(l))),
        )
        .collect();
    let committed_tests = tested(committed);
    for (example, result) in tested(now) {
        match committed_tests.get(&example) {
            Some(before) if *before == result => {}
            Some(before) => problems.push(format!(
                "{lane}: the tests of {example} {result}, and the table says they {before}"
            )),
            None => problems.push(format!(
                "{lane}: the tests of {example} {result}, and the table has no result for it there"
            )),
        }
    }
    Ok(problems)
}

/// Fails when the committed table is stale: it no longer follows from the committed findings
/// and the examples' declared needs, or a lane's kernel answered differently in this run.
pub fn check_fresh() -> Result<()> {
    let regenerated = dir().join("COMPATIBILITY.from-committed.md");
    compose(&committed_dir(), &regenerated)?;
    let table = std::fs::read_to_string(&regenerated)?;
    let committed = std::fs::read_to_string(crate::workspace::root().join("COMPATIBILITY.md"))
        .unwrap_or_default();
    let readme = std::fs::read_to_string(crate::workspace::root().join("README.md"))?;
    let mut problems = Vec::new();
    if committed != table || readme_table(&readme).map(str::trim) != Some(table.trim()) {
        problems.push(
            "COMPATIBILITY.md or README.md does not match the examples' declared needs".to_string(),
        );
        for line in table.lines().filter(|l| !committed.contains(*l)) {
            problems.push(format!("  expected: {line}"));
        }
    }
    for lane in LANES {
        let committed = committed_dir().join(format!("{}.txt", lane.name));
        match differences(lane.name, &findings_file(lane.name), &committed) {
            Ok(found) => problems.extend(found),
            Err(e) => problems.push(format!("{e:#}")),
        }
    }
    if !problems.is_empty() {
        bail!(
            "the compatibility table is stale; `cargo xtask compat` records this run and rewrites it:\n  {}",
            problems.join("\n  ")
        );
    }
    Ok(())
}

fn readme_table(readme: &str) -> Option<&str> {
    let start = readme.find(README_BEGIN)? + README_BEGIN.len();
    let end = readme.find(README_END)?;
    Some(&readme[start..end])
}

/// `cargo xtask compat`: commits the last run's findings (unless `redraw`) and rewrites the
/// table from the committed ones.
pub fn write(redraw: bool) -> Result<()> {
    std::fs::create_dir_all(committed_dir())?;
    if !redraw {
        let mut untested = Vec::new();
        for column in columns() {
            let committed = committed_dir().join(format!("{column}.txt"));
            untested.extend(
                fewer_tested(&findings_file(column), &committed)
                    .into_iter()
                    .map(|example| format!("{column}: {example}")),
            );
        }
        if !untested.is_empty() {
            bail!(
                "the last run did not test what the committed findings have results for, so \
                 recording it would lose them (a quick run tests fewer examples in the lanes: \
                 run `cargo xtask test --full-lanes` first):\n  {}",
                untested.join("\n  ")
            );
        }
    }
    for column in columns().filter(|_| !redraw) {
        let file = findings_file(column);
        std::fs::copy(&file, committed_dir().join(format!("{column}.txt")))
            .with_context(|| format!("no findings for {column}: run `cargo xtask test` first"))?;
    }
    let path = crate::workspace::root().join("COMPATIBILITY.md");
    compose(&committed_dir(), &path)?;
    let table = std::fs::read_to_string(&path)?;
    let readme_path = crate::workspace::root().join("README.md");
    let readme = std::fs::read_to_string(&readme_path)?;
    let (Some(start), Some(end)) = (readme.find(README_BEGIN), readme.find(README_END)) else {
        bail!("README.md has no {README_BEGIN} … {README_END} section");
    };
    let updated = format!(
        "{}\n{}{}",
        &readme[..start + README_BEGIN.len()],
        table,
        &readme[end..]
    );
    std::fs::write(&readme_path, updated)?;
    if !redraw {
        println!("recorded compat/*.txt");
    }
    println!("wrote COMPATIBILITY.md and the table in README.md");
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn findings_are_compared_both_ways_and_tests_where_both_ran() {
        let dir = std::env::temp_dir().join(format!("xtask-compat-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (now, before) = (dir.join("now.txt"), dir.join("before.txt"));
        std::fs::write(
            &before,
            "kernel\t6.1.0-1 x86_64\ncapability\tBtf\tyes\tpresent\n\
             capability\tJit\tyes\tenabled (1)\ntested\tchapter02\thello\tpassed\n\
             tested\tchapter02\thello-map\tpassed\n",
        )
        .unwrap();
        std::fs::write(
            &now,
            "kernel\t6.1.0-2 x86_64\ncapability\tBtf\tyes\tpresent\n\
             tested\tchapter02\thello\tfailed\n",
        )
        .unwrap();
        let problems = super::differences("lane", &now, &before).unwrap();
        assert_eq!(
            problems,
            [
                "lane no longer finds: capability Jit yes enabled (1)",
                "lane: the tests of chapter02 hello failed, and the table says they passed",
            ]
        );
        assert!(super::differences("lane", &dir.join("missing.txt"), &before).is_err());
        assert_eq!(super::fewer_tested(&now, &before), ["chapter02 hello-map"]);
        assert!(super::fewer_tested(&before, &now).is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn finds_the_table_between_the_markers() {
        let readme = format!(
            "intro\n{}\n| a |\n{}\nrest",
            super::README_BEGIN,
            super::README_END
        );
        assert_eq!(super::readme_table(&readme), Some("\n| a |\n"));
        assert_eq!(super::readme_table("no markers"), None);
    }
}
