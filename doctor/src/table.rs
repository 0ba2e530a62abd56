//! The compatibility table: examples and capabilities by kernel, from the findings that the
//! host and each kernel lane recorded in real runs.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result, bail};
use ebpf_support::needs::Capability;

use crate::probes::{Finding, parse};
use crate::{Verdict, examples, verdict};

struct Column {
    /// `host` or the lane's name.
    name: String,
    title: String,
    /// The kernel's release and architecture, as the doctor read them.
    release: String,
    arch: String,
    findings: Vec<Finding>,
    /// Each example whose tests ran on that kernel: did they all pass?
    tested: BTreeMap<(String, String), bool>,
}

/// A way for a reader to get a kernel: its name, how to take it, and the columns whose kernels
/// it gives.
struct Route {
    name: String,
    how: String,
    columns: Vec<String>,
}

pub fn write(columns: &[String], routes: &[String], output: &Path) -> Result<()> {
    let columns: Vec<Column> = columns
        .iter()
        .map(|spec| read_column(spec))
        .collect::<Result<_>>()?;
    let routes: Vec<Route> = routes
        .iter()
        .map(|spec| read_route(spec, &columns))
        .collect::<Result<_>>()?;
    let examples = examples()?;
    let mut text = String::from(
        "<!-- Written by `cargo xtask compat` from the doctor's findings and the test results of each \
         kernel (compat/*.txt): do not edit. -->\n\n",
    );
    if !routes.is_empty() {
        text.push_str(&render_routes(&examples, &columns, &routes));
    }
    text.push_str(&render(&examples, &columns));
    std::fs::write(output, text).with_context(|| format!("writing {}", output.display()))?;
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
    let release = series(words.next().unwrap_or("?"));
    let arch = words.next().unwrap_or("?");
    let measured = measured.map_or_else(String::new, |place| format!("; {place}"));
    Ok(Column {
        name: title.to_string(),
        title: format!("{title} ({release}, {arch}{measured})"),
        release: kernel.split_whitespace().next().unwrap_or("?").to_string(),
        arch: arch.to_string(),
        findings,
        tested,
    })
}

/// `2, 3, 4, 6` as `2–4, 6`.
fn ranges(numbers: &[u32]) -> String {
    let mut runs: Vec<(u32, u32)> = Vec::new();
    for &n in numbers {
        match runs.last_mut() {
            Some((_, end)) if *end + 1 == n => *end = n,
            _ => runs.push((n, n)),
        }
    }
    runs.iter()
        .map(|&(start, end)| match end - start {
            0 => start.to_string(),
            1 => format!("{start}, {end}"),
            _ => format!("{start}–{end}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A release's major.minor: `6.1` of `6.1.0-57-amd64`.
fn series(release: &str) -> String {
    release.split('.').take(2).collect::<Vec<_>>().join(".")
}

/// `NAME|HOW|COLUMN,COLUMN`.
fn read_route(spec: &str, columns: &[Column]) -> Result<Route> {
    let [name, how, names] = spec.split('|').collect::<Vec<_>>()[..] else {
        bail!("a route is NAME|HOW|COLUMN,…, not {spec}")
    };
    let names: Vec<String> = names.split(',').map(str::to_string).collect();
    if let Some(missing) = names
        .iter()
        .find(|n| !columns.iter().any(|c| &c.name == *n))
    {
        bail!("route {name} names the column {missing}, which is not given");
    }
    Ok(Route {
        name: name.to_string(),
        how: how.to_string(),
        columns: names,
    })
}

/// The "choose your kernel" table: for each route, its kernels and architectures, and how
/// each chapter fares on them, from the same verdicts and test results as the tables below.
fn render_routes(
    examples: &[ebpf_support::needs::Example],
    columns: &[Column],
    routes: &[Route],
) -> String {
    let mut out = String::from(
        "#### Choose your kernel\n\n| Route | How | Kernel | Architectures | Chapters |\n|---|---|---|---|---|\n",
    );
    for route in routes {
        let chosen: Vec<&Column> = route
            .columns
            .iter()
            .filter_map(|name| columns.iter().find(|c| &c.name == name))
            .collect();
        let distinct = |values: Vec<String>| {
            let mut seen: Vec<String> = Vec::new();
            for value in values {
                if !seen.contains(&value) {
                    seen.push(value);
                }
            }
            seen.join(", ")
        };
        let series = distinct(chosen.iter().map(|c| series(&c.release)).collect());
        let releases = distinct(chosen.iter().map(|c| c.release.clone()).collect());
        let kernels = format!("{series} (measured on {releases})");
        let arches = distinct(chosen.iter().map(|c| c.arch.clone()).collect());
        let summaries: Vec<(String, String)> = chosen
            .iter()
            .map(|c| (c.name.clone(), chapters_summary(examples, c)))
            .collect();
        // Kernels that fare alike share one entry.
        let mut groups: Vec<(Vec<String>, String)> = Vec::new();
        for (name, summary) in summaries {
            match groups.iter_mut().find(|(_, s)| *s == summary) {
                Some((names, _)) => names.push(name),
                None => groups.push((vec![name], summary)),
            }
        }
        let chapters = match &groups[..] {
            [(_, summary)] => summary.clone(),
            _ => groups
                .iter()
                .map(|(names, summary)| format!("{}: {summary}", names.join(", ")))
                .collect::<Vec<_>>()
                .join("; "),
        };
        row(
            &mut out,
            &route.name,
            &[route.how.clone(), kernels, arches, chapters],
        );
    }
    out.push('\n');
    out
}

/// How each chapter fares on one kernel: "fully" when every example runs on its book hook
/// and its tests passed there; "with fallbacks" when some need their fallback; and the
/// examples that the kernel cannot run, or whose tests did not pass there.
fn chapters_summary(examples: &[ebpf_support::needs::Example], column: &Column) -> String {
    let mut chapters: BTreeMap<&str, Vec<&ebpf_support::needs::Example>> = BTreeMap::new();
    for example in examples {
        chapters.entry(example.package).or_default().push(example);
    }
    let (mut fully, mut fallbacks, mut others) = (Vec::new(), Vec::new(), Vec::new());
    // Chapters by number, so that lists read as ranges.
    for (package, examples) in &chapters {
        let number: u32 = package
            .trim_start_matches("chapter")
            .parse()
            .unwrap_or_default();
        let mut fell_back = false;
        let mut missing = Vec::new();
        for example in examples {
            let key = (example.package.to_string(), example.name.to_string());
            let proven = column.tested.get(&key) == Some(&true);
            match verdict(example, &column.findings) {
                Verdict::Runs(_) if proven => {}
                Verdict::FallsBack { .. } if proven => fell_back = true,
                Verdict::DoesNotRun(_) => missing.push(format!("{} (refused)", example.name)),
                _ => missing.push(format!("{} (not proven)", example.name)),
            }
        }
        if !missing.is_empty() {
            others.push(format!("{number} but for {}", missing.join(", ")));
        } else if fell_back {
            fallbacks.push(number);
        } else {
            fully.push(number);
        }
    }
    let mut parts = Vec::new();
    if !fully.is_empty() {
        parts.push(format!("fully: {}", ranges(&fully)));
    }
    if !fallbacks.is_empty() {
        parts.push(format!("with fallbacks: {}", ranges(&fallbacks)));
    }
    parts.extend(others);
    parts.join("; ")
}

fn render(examples: &[ebpf_support::needs::Example], columns: &[Column]) -> String {
    let mut out = String::from("#### Examples\n\n");
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

#[cfg(test)]
mod tests {
    #[test]
    fn chapter_lists_read_as_ranges() {
        assert_eq!(super::ranges(&[2, 3, 4, 5, 6, 7, 8]), "2–8");
        assert_eq!(super::ranges(&[2, 3, 6, 7, 8]), "2, 3, 6–8");
        assert_eq!(super::ranges(&[3, 8]), "3, 8");
        assert_eq!(super::ranges(&[]), "");
    }
}
