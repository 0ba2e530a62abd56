//! The compatibility table: the doctor's findings and the test results of the host and of
//! every kernel lane, composed by `doctor table`. The committed copy (COMPATIBILITY.md, and
//! the same table in README.md) must match what the last full run produced.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::lanes::LANES;

const README_BEGIN: &str = "<!-- compatibility table: begin -->";
const README_END: &str = "<!-- compatibility table: end -->";

pub fn dir() -> PathBuf {
    crate::root().join("target/compat")
}

/// Where one column's findings go: `host` or a lane's name.
pub fn findings_file(column: &str) -> PathBuf {
    dir().join(format!("{column}.txt"))
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
pub fn host_doctor() -> Result<PathBuf> {
    crate::run_status(
        crate::cargo()
            .current_dir(crate::root())
            .args(["build", "--quiet", "-p", "doctor"]),
    )?;
    Ok(crate::root().join("target/debug/doctor"))
}

/// Runs the doctor on this host, recording its findings.
pub fn probe_host() -> Result<()> {
    std::fs::create_dir_all(dir())?;
    crate::run_status(
        Command::new(host_doctor()?)
            .arg("--results")
            .arg(findings_file("host")),
    )
}

/// Composes the table from every column's findings into target/compat/COMPATIBILITY.md.
pub fn compose() -> Result<PathBuf> {
    let output = dir().join("COMPATIBILITY.md");
    let mut doctor = Command::new(host_doctor()?);
    doctor.arg("table").arg("--output").arg(&output);
    for column in std::iter::once("host").chain(LANES.iter().map(|l| l.name)) {
        let file = findings_file(column);
        if !file.exists() {
            bail!("no findings for {column} yet: run `cargo xtask test` first");
        }
        doctor
            .arg("--column")
            .arg(format!("{column}={}", file.display()));
    }
    crate::run_status(&mut doctor)?;
    Ok(output)
}

/// Fails when the committed table differs from the one this run produced.
pub fn check_fresh() -> Result<()> {
    let generated = std::fs::read_to_string(compose()?)?;
    let committed =
        std::fs::read_to_string(crate::root().join("COMPATIBILITY.md")).unwrap_or_default();
    let readme = std::fs::read_to_string(crate::root().join("README.md"))?;
    let in_readme = readme_table(&readme).unwrap_or_default();
    if committed != generated || in_readme.trim() != generated.trim() {
        bail!(
            "the compatibility table is stale (the examples' needs, or what the kernels offer, changed): \
             review target/compat/COMPATIBILITY.md, then `cargo xtask compat` copies it into COMPATIBILITY.md \
             and README.md"
        );
    }
    Ok(())
}

fn readme_table(readme: &str) -> Option<&str> {
    let start = readme.find(README_BEGIN)? + README_BEGIN.len();
    let end = readme.find(README_END)?;
    Some(&readme[start..end])
}

/// `cargo xtask compat`: writes the last run's table into COMPATIBILITY.md and README.md.
pub fn write() -> Result<()> {
    let table = std::fs::read_to_string(compose()?)?;
    std::fs::write(crate::root().join("COMPATIBILITY.md"), &table)?;
    let path = crate::root().join("README.md");
    let readme = std::fs::read_to_string(&path)?;
    let (Some(start), Some(end)) = (readme.find(README_BEGIN), readme.find(README_END)) else {
        bail!("README.md has no {README_BEGIN} … {README_END} section");
    };
    let updated = format!(
        "{}\n{}{}",
        &readme[..start + README_BEGIN.len()],
        table,
        &readme[end..]
    );
    std::fs::write(&path, updated)?;
    println!("wrote COMPATIBILITY.md and the table in README.md");
    Ok(())
}
