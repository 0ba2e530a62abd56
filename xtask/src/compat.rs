//! The compatibility table: the doctor's findings and the test results of the host and of
//! every kernel lane, composed by `doctor table`.
//!
//! `cargo xtask test` records this run's findings in target/compat/. `cargo xtask compat`
//! commits them to compat/ and writes the table (COMPATIBILITY.md, and the same table in
//! README.md). The test run fails when the committed table no longer follows from the committed
//! findings and the examples' declared needs, or when a lane's kernel now answers differently.
//! The host column is kept but not compared: it depends on the machine that runs the tests.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::lanes::catalogue::LANES;

const README_BEGIN: &str = "<!-- compatibility table: begin -->";
const README_END: &str = "<!-- compatibility table: end -->";

/// This run's findings.
pub fn dir() -> PathBuf {
    crate::root().join("target/compat")
}

/// The committed findings the table is made from.
fn committed_dir() -> PathBuf {
    crate::root().join("compat")
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

/// Adds the outcome of that kernel's tests to its findings.
pub fn record_tests(column: &str, passed: bool) -> Result<()> {
    let path = findings_file(column);
    let mut text = std::fs::read_to_string(&path)
        .with_context(|| format!("no findings in {}", path.display()))?;
    text.push_str(if passed {
        "tests\tpassed\n"
    } else {
        "tests\tfailed\n"
    });
    std::fs::write(path, text)?;
    Ok(())
}

/// The doctor, as built for the host.
fn host_doctor() -> Result<PathBuf> {
    crate::run_status(
        crate::cargo()
            .current_dir(crate::root())
            .args(["build", "--quiet", "-p", "doctor"]),
    )?;
    Ok(crate::root().join("target/debug/doctor"))
}

/// Runs the doctor on this host (through the same runner as the tests, so with the same
/// privileges), recording its findings.
pub fn probe_host() -> Result<()> {
    forget("host")?;
    let doctor = host_doctor()?;
    crate::run_status(
        Command::new(crate::root().join(".cargo/run-as-root"))
            .arg(doctor)
            .arg("--results")
            .arg(findings_file("host")),
    )
}

/// Composes the table from the findings in `from` into `output`.
fn compose(from: &Path, output: &Path) -> Result<()> {
    let mut doctor = Command::new(host_doctor()?);
    doctor.arg("table").arg("--output").arg(output);
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
    crate::run_status(&mut doctor)
}

/// The findings that must not change while the table stays the same: capability and test
/// lines (the exact kernel release changes with every Debian update).
fn stable_findings(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.starts_with("kernel\t"))
        .map(str::to_string)
        .collect()
}

/// Fails when the committed table is stale: it no longer follows from the committed findings
/// and the examples' declared needs, or a lane's kernel answered differently in this run.
pub fn check_fresh() -> Result<()> {
    let regenerated = dir().join("COMPATIBILITY.from-committed.md");
    compose(&committed_dir(), &regenerated)?;
    let table = std::fs::read_to_string(&regenerated)?;
    let committed =
        std::fs::read_to_string(crate::root().join("COMPATIBILITY.md")).unwrap_or_default();
    let readme = std::fs::read_to_string(crate::root().join("README.md"))?;
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
        let now = stable_findings(&findings_file(lane.name));
        let before = stable_findings(&committed_dir().join(format!("{}.txt", lane.name)));
        for line in now.iter().filter(|l| !before.contains(l)) {
            problems.push(format!(
                "{} now finds: {}",
                lane.name,
                line.replace('\t', " ")
            ));
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

/// `cargo xtask compat`: commits the last run's findings and rewrites the table from them.
pub fn write() -> Result<()> {
    std::fs::create_dir_all(committed_dir())?;
    for column in columns() {
        let file = findings_file(column);
        std::fs::copy(&file, committed_dir().join(format!("{column}.txt")))
            .with_context(|| format!("no findings for {column}: run `cargo xtask test` first"))?;
    }
    let path = crate::root().join("COMPATIBILITY.md");
    compose(&committed_dir(), &path)?;
    let table = std::fs::read_to_string(&path)?;
    let readme_path = crate::root().join("README.md");
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
    println!("recorded compat/*.txt and wrote COMPATIBILITY.md and the table in README.md");
    Ok(())
}

#[cfg(test)]
mod tests {
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
