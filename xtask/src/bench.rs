//! `cargo xtask bench`: the benchmarks of `bench/` on this machine. The test run runs their quick
//! mode once (`quick_check`), so that a case that stops measuring fails the run; the figures
//! themselves are never compared with a threshold there.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail, ensure};
use serde_json::Value;

use crate::workspace::{cargo, root, run_status};

/// The cases `bench` measures, as its `--case` names them: each must report in a full run.
const CASES: [&str; 5] = ["load", "buffers", "counters", "xdp", "rules"];

pub struct Options {
    pub quick: bool,
    pub cases: Vec<String>,
}

/// `cargo xtask bench`: set-up, then the benchmarks, with their tables in `target/bench/`.
/// A quick run of every case is checked as the test run checks it.
pub fn command(options: &Options) -> Result<()> {
    crate::setup::run(crate::setup::Needs::default())?;
    let (json, markdown) = outputs(options.quick);
    if options.quick && options.cases.is_empty() {
        quick_check()?;
    } else {
        run(options, &json, &markdown)?;
    }
    println!(
        "The tables are in {} and {}.",
        markdown.display(),
        json.display()
    );
    Ok(())
}

fn outputs(quick: bool) -> (PathBuf, PathBuf) {
    let stem = if quick { "quick" } else { "results" };
    let dir = root().join("target/bench");
    (
        dir.join(format!("{stem}.json")),
        dir.join(format!("{stem}.md")),
    )
}

fn run(options: &Options, json: &Path, markdown: &Path) -> Result<()> {
    // The load-latency case starts chapter 2's example, built beside the benchmark.
    crate::workspace::build_examples()?;
    let mut command = cargo();
    command.current_dir(root()).args([
        "run",
        "--quiet",
        "-p",
        "bench",
        "--bin",
        "learning-ebpf-bench",
        "--",
    ]);
    if options.quick {
        command.arg("--quick");
    }
    for case in &options.cases {
        command.args(["--case", case]);
    }
    command
        .arg("--json")
        .arg(json)
        .arg("--markdown")
        .arg(markdown);
    run_status(&mut command)
}

/// The test run's phase: every case in quick mode, then a check that each measured something,
/// that the run left no eBPF program loaded and the statistics sysctl as it found it.
pub fn quick_check() -> Result<()> {
    let before = loaded_programs()?;
    let stats_sysctl = || std::fs::read_to_string("/proc/sys/kernel/bpf_stats_enabled");
    let stats_before = stats_sysctl()?;
    let (json, markdown) = outputs(true);
    let _ = std::fs::remove_file(&json);
    let options = Options {
        quick: true,
        cases: Vec::new(),
    };
    let ran = run(&options, &json, &markdown);
    let text = std::fs::read_to_string(&json)
        .with_context(|| format!("the benchmarks wrote no {}", json.display()))?;
    let results: Value = serde_json::from_str(&text).context("reading the benchmarks' JSON")?;
    check_results(&results)?;
    ran?;
    ensure!(
        stats_sysctl()? == stats_before,
        "kernel.bpf_stats_enabled changed during the benchmarks"
    );
    // Programs are freed once their last reference goes, a moment after the process ends.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let now = loaded_programs()?;
        if now <= before {
            return Ok(());
        }
        if std::time::Instant::now() > deadline {
            bail!(
                "{} more eBPF programs are loaded after the benchmarks than before",
                now - before
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// Every case reported, without an error, tables whose every figure is a finite number
/// and, where a table has a baseline, a ratio for each row; and both targets have a ratio.
fn check_results(results: &Value) -> Result<()> {
    let cases = results["cases"]
        .as_array()
        .context("the results list no cases")?;
    for name in CASES {
        let case = cases
            .iter()
            .find(|c| c["name"] == name)
            .with_context(|| format!("case {name} did not report"))?;
        if let Some(error) = case["error"].as_str() {
            bail!("case {name} failed: {error}");
        }
        let tables = case["tables"].as_array().map_or(&[][..], Vec::as_slice);
        ensure!(!tables.is_empty(), "case {name} reported no table");
        for table in tables {
            check_table(name, table)?;
        }
    }
    let targets: Vec<&Value> = cases
        .iter()
        .flat_map(|c| c["targets"].as_array().map_or(&[][..], Vec::as_slice))
        .collect();
    for wanted in ["time to attach", "ring-buffer consumer"] {
        let target = targets
            .iter()
            .find(|t| t["name"].as_str().is_some_and(|n| n.contains(wanted)))
            .with_context(|| format!("no target about the {wanted}"))?;
        ensure!(
            target["ratio"].as_f64().is_some_and(f64::is_finite),
            "the target {} has no ratio",
            target["name"]
        );
    }
    Ok(())
}

fn check_table(case: &str, table: &Value) -> Result<()> {
    let title = table["title"].as_str().unwrap_or("?");
    let rows = table["rows"].as_array().map_or(&[][..], Vec::as_slice);
    ensure!(!rows.is_empty(), "{case}: table {title:?} has no rows");
    let has_ratio = !table["ratio"].is_null();
    for row in rows {
        let label = row["label"].as_str().unwrap_or("?");
        let values = row["values"].as_array().map_or(&[][..], Vec::as_slice);
        // A cell is empty (null) or a figure; JSON writes a NaN as null, so a figure without a
        // number is one. Differences (one size's cost minus another's) may be negative.
        let figures: Vec<&Value> = values.iter().filter(|v| !v.is_null()).collect();
        ensure!(
            !figures.is_empty(),
            "{case}: {title:?}, row {label:?} measured nothing"
        );
        ensure!(
            figures
                .iter()
                .all(|v| v["median"].as_f64().is_some_and(f64::is_finite)),
            "{case}: {title:?}, row {label:?} has a figure that is not a number: {values:?}"
        );
        ensure!(
            !has_ratio || row["ratio"].as_f64().is_some_and(f64::is_finite),
            "{case}: {title:?}, row {label:?} has no ratio to the baseline"
        );
    }
    Ok(())
}

/// How many eBPF programs the kernel holds now (`BPF_PROG_GET_NEXT_ID`, as bpftool counts).
fn loaded_programs() -> Result<usize> {
    const BPF_PROG_GET_NEXT_ID: libc::c_long = 11;
    let mut count = 0;
    let mut id: u32 = 0;
    loop {
        // bpf_attr for the GET_NEXT_ID commands: start_id, then next_id.
        let mut attr = [id, 0u32, 0, 0];
        // SAFETY: the kernel reads start_id and writes next_id within the 16 bytes given.
        let rc = unsafe {
            libc::syscall(
                libc::SYS_bpf,
                BPF_PROG_GET_NEXT_ID,
                attr.as_mut_ptr(),
                std::mem::size_of_val(&attr),
            )
        };
        if rc != 0 {
            let error = std::io::Error::last_os_error();
            if error.raw_os_error() == Some(libc::ENOENT) {
                return Ok(count);
            }
            bail!("cannot list the loaded eBPF programs: {error}");
        }
        id = attr[1];
        count += 1;
    }
}

/// `cargo xtask bench --build-times`: a clean clone of this checkout's last commit built from
/// nothing, then one example built alone, then rebuilt after an edit of its Rust source and
/// after an edit of its eBPF source. The crates are fetched first, untimed: a reader downloads them once.
pub fn build_times() -> Result<()> {
    crate::setup::run(crate::setup::Needs::default())?;
    let dir = root().join("target/build-times");
    let _ = std::fs::remove_dir_all(&dir);
    let checkout = dir.join("checkout");
    run_status(
        std::process::Command::new("git")
            .args(["clone", "--quiet", "--local"])
            .arg(root())
            .arg(&checkout),
    )?;
    let build = |what: &str, args: &[&str]| -> Result<f64> {
        let started = std::time::Instant::now();
        run_status(
            cargo()
                .current_dir(&checkout)
                .env("CARGO_TARGET_DIR", dir.join("target"))
                .args(args),
        )?;
        let took = started.elapsed().as_secs_f64();
        println!("{what}: {took:.1} s");
        Ok(took)
    };
    let touch = |file: &str| -> Result<()> {
        let path = checkout.join(file);
        let text = std::fs::read_to_string(&path)?;
        std::fs::write(&path, format!("{text}\n")).with_context(|| format!("editing {file}"))
    };
    run_status(cargo().current_dir(&checkout).args(["fetch", "--quiet"]))?;
    let cold = build(
        "cold build of the workspace (cargo build --workspace --bins)",
        &["build", "--quiet", "--workspace", "--bins"],
    )?;
    let example = ["build", "--quiet", "-p", "chapter02", "--bin", "hello"];
    // Built alone, a package resolves its dependencies' features without the rest of the
    // workspace's, so its first build after a workspace build recompiles some of them once.
    build(
        "first build of hello alone after the workspace build",
        &example,
    )?;
    touch("chapter02/src/bin/hello.rs")?;
    let rust = build("rebuild of hello after an edit of hello.rs", &example)?;
    touch("chapter02/src/bpf/hello.bpf.c")?;
    let bpf = build("rebuild of hello after an edit of hello.bpf.c", &example)?;
    println!(
        "ratios to the cold build: {:.3} (Rust edit), {:.3} (eBPF edit)",
        rust / cold,
        bpf / cold
    );
    std::fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn case(name: &str, ratio: Option<f64>, median: f64) -> Value {
        json!({
            "name": name, "error": null,
            "tables": [{"title": "t", "ratio": {"column": "c"}, "rows": [
                {"label": "base", "values": [{"median": median}], "ratio": ratio},
            ]}],
            "targets": [],
        })
    }

    fn results(cases: Vec<Value>) -> Value {
        let mut cases = cases;
        cases[0]["targets"] = json!([
            {"name": "Rust: time to attach / C's", "ratio": 1.05},
            {"name": "Rust ring-buffer consumer / C's", "ratio": 1.01},
        ]);
        json!({ "cases": cases })
    }

    #[test]
    fn complete_results_pass() {
        let all = CASES.iter().map(|n| case(n, Some(1.0), 2.5)).collect();
        check_results(&results(all)).unwrap();
    }

    #[test]
    fn a_missing_case_a_nan_or_a_missing_ratio_fails() {
        let missing: Vec<Value> = CASES[1..].iter().map(|n| case(n, Some(1.0), 2.5)).collect();
        let error = check_results(&results(missing)).unwrap_err().to_string();
        assert!(error.contains("case load"), "{error}");

        let mut nan: Vec<Value> = CASES.iter().map(|n| case(n, Some(1.0), 2.5)).collect();
        nan[2]["tables"][0]["rows"][0]["values"][0]["median"] = json!(null);
        let error = check_results(&results(nan)).unwrap_err().to_string();
        assert!(error.contains("not a number"), "{error}");

        let mut empty: Vec<Value> = CASES.iter().map(|n| case(n, Some(1.0), 2.5)).collect();
        empty[3]["tables"][0]["rows"][0]["values"][0] = json!(null);
        let error = check_results(&results(empty)).unwrap_err().to_string();
        assert!(error.contains("measured nothing"), "{error}");

        let negative = CASES.iter().map(|n| case(n, Some(1.0), -4.0)).collect();
        check_results(&results(negative)).unwrap();

        let no_ratio = CASES.iter().map(|n| case(n, None, 2.5)).collect();
        let error = check_results(&results(no_ratio)).unwrap_err().to_string();
        assert!(error.contains("no ratio"), "{error}");
    }

    #[test]
    fn a_failed_case_fails() {
        let mut all: Vec<Value> = CASES.iter().map(|n| case(n, Some(1.0), 2.5)).collect();
        all[4]["error"] = json!("iptables: not found");
        let error = check_results(&results(all)).unwrap_err().to_string();
        assert!(error.contains("case rules failed: iptables"), "{error}");
    }
}
