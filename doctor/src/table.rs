//! The compatibility table: examples and capabilities by kernel, from the findings that the
//! host and each kernel lane recorded in real runs.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result, bail};
use ebpf_support::needs::Capability;

use crate::probes::{Finding, parse};
use crate::{Verdict, examples, verdict};

struct Column {
    title: String,
    findings: Vec<Finding>,
    /// Each example whose tests ran on that kernel: did they all pass?
    tested: BTreeMap<(String, String), bool>,
}

pub fn write(columns: &[String], output: &Path) -> Result<()> {
    let columns: Vec<Column> = columns
        .iter()
        .map(|spec| read_column(spec))
        .collect::<Result<_>>()?;
    let examples = examples()?;
    std::fs::write(output, render(&examples, &columns))
        .with_context(|| format!("writing {}", output.display()))?;
    Ok(())
}

/// `TITLE=FILE`; the file is the doctor's record plus, for each example whose tests ran there,
/// `tested<TAB>PACKAGE<TAB>NAME<TAB>passed|failed`, and for the host `measured<TAB>WHERE`.
fn read_column(spec: &str) -> Result<Column> {
    let Some((title, file)) = spec.split_once('=') else {
        bail!("a column is TITLE=FILE, not {spec}")
    };
    let text = std::fs::read_to_string(file).with_context(|| format!("reading {file}"))?;
    let (kernel, findings) = parse(&text);
    let mut tested = BTreeMap::new();
    let mut measured = None;
    for line in text.lines() {
        match line.split('\t').collect::<Vec<_>>()[..] {
            ["tested", package, name, result] => {
                tested.insert((package.to_string(), name.to_string()), result == "passed");
            }
            ["measured", place] => measured = Some(place.to_string()),
            _ => {}
        }
    }
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
    let measured = measured.map_or_else(String::new, |place| format!("; {place}"));
    Ok(Column {
        title: format!("{title} ({release}, {arch}{measured})"),
        findings,
        tested,
    })
}

fn render(examples: &[ebpf_support::needs::Example], columns: &[Column]) -> String {
    let mut out = String::from(
        "<!-- Written by `cargo xtask compat` from the doctor's findings and the test results of each \
         kernel (compat/*.txt): do not edit. -->\n\n#### Examples\n\n",
    );
    header(&mut out, "Example", columns);
    for example in examples {
        let cells: Vec<String> = columns
            .iter()
            .map(|c| {
                let key = (example.package.to_string(), example.name.to_string());
                let tests = match c.tested.get(&key) {
                    Some(true) => "proven",
                    Some(false) => "TESTS FAILED",
                    None => "not tested there",
                };
                match verdict(example, &c.findings) {
                    // In a lane, a test of such an example proves its one-line refusal.
                    Verdict::DoesNotRun(why) => match c.tested.get(&key) {
                        Some(true) => format!("refuses, as tested: {why}"),
                        Some(false) => format!("TESTS FAILED; not supported: {why}"),
                        None => format!("not supported: {why}"),
                    },
                    Verdict::Unknown(capability) => {
                        format!("unknown: {} was not probed", capability.name())
                    }
                    Verdict::Runs(hook) => format!("{tests} ({})", hook.name()),
                    Verdict::FallsBack { to, because } => {
                        format!("{tests} with the fallback: {to} ({because})")
                    }
                }
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
