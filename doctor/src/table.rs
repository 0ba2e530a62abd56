//! The compatibility table: examples and capabilities by kernel, from the findings that the
//! host and each kernel lane recorded in real runs.

use std::path::Path;

use anyhow::{Context, Result, bail};
use ebpf_support::needs::Capability;

use crate::probes::{Finding, parse};
use crate::{Verdict, examples, verdict};

struct Column {
    title: String,
    findings: Vec<Finding>,
    tests_passed: bool,
}

pub fn write(columns: &[String], output: &Path) -> Result<()> {
    let columns: Vec<Column> = columns
        .iter()
        .map(|spec| read_column(spec))
        .collect::<Result<_>>()?;
    std::fs::write(output, render(&columns))
        .with_context(|| format!("writing {}", output.display()))?;
    Ok(())
}

/// `TITLE=FILE`; the file is the doctor's record plus a `tests<TAB>passed|failed` line.
fn read_column(spec: &str) -> Result<Column> {
    let Some((title, file)) = spec.split_once('=') else {
        bail!("a column is TITLE=FILE, not {spec}")
    };
    let text = std::fs::read_to_string(file).with_context(|| format!("reading {file}"))?;
    let (kernel, findings) = parse(&text);
    let tests_passed = text.lines().any(|l| l == "tests\tpassed");
    // The kernel's major.minor and architecture: stable across Debian's updates of a lane.
    let mut words = kernel.split_whitespace();
    let release: String = words
        .next()
        .unwrap_or("?")
        .split('.')
        .take(2)
        .collect::<Vec<_>>()
        .join(".");
    let arch = words.next().unwrap_or("?");
    Ok(Column {
        title: format!("{title} ({release}, {arch})"),
        findings,
        tests_passed,
    })
}

fn render(columns: &[Column]) -> String {
    let mut out = String::from(
        "<!-- Written by `cargo xtask compat` from the doctor's findings and the test results of each \
         kernel (compat/*.txt): do not edit. -->\n\n#### Examples\n\n",
    );
    header(&mut out, "Example", columns);
    for example in examples() {
        let cells: Vec<String> = columns
            .iter()
            .map(|c| match verdict(&example, &c.findings) {
                Verdict::DoesNotRun(why) => format!("not supported: {why}"),
                _ if !c.tests_passed => "tests failed".to_string(),
                Verdict::Runs(hook) => format!("proven ({})", hook.name()),
                Verdict::FallsBack { to, because } => format!("fallback: {to} ({because})"),
            })
            .collect();
        row(
            &mut out,
            &format!("{} {}", example.package, example.name),
            &cells,
        );
    }
    out.push_str("\n#### Capabilities\n\n");
    header(&mut out, "Capability", columns);
    for capability in Capability::ALL {
        let cells: Vec<String> = columns
            .iter()
            .map(
                |c| match c.findings.iter().find(|f| f.capability == capability) {
                    Some(f) if f.available => "yes".to_string(),
                    Some(f) => format!("no: {}", f.detail),
                    None => "not probed".to_string(),
                },
            )
            .collect();
        row(&mut out, capability.name(), &cells);
    }
    out
}

fn header(out: &mut String, first: &str, columns: &[Column]) {
    let titles: Vec<&str> = columns.iter().map(|c| c.title.as_str()).collect();
    out.push_str(&format!("| {first} | {} |\n", titles.join(" | ")));
    out.push_str(&format!("|---|{}\n", "---|".repeat(columns.len())));
}

fn row(out: &mut String, first: &str, cells: &[String]) {
    let cells: Vec<String> = cells.iter().map(|c| c.replace('|', "\\|")).collect();
    out.push_str(&format!("| {first} | {} |\n", cells.join(" | ")));
}
