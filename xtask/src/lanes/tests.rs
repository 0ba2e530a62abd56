//! The chapters' tests in a lane: build their test binaries (and the doctor) for the lane's
//! architecture on the host, run them in the guest, and read back what came of them.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use super::catalogue::{Arch, Lane};
use super::package::host_packages;
use super::qemu::run_script;
use crate::libtest::count_before;

/// The example packages (chapter02, chapter03, …), whose tests run in the lanes.
fn chapter_packages() -> Result<Vec<String>> {
    let mut names: Vec<String> = fs::read_dir(crate::workspace::root())?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| {
            n.starts_with("chapter") && crate::workspace::root().join(n).join("Cargo.toml").exists()
        })
        .collect();
    names.sort();
    Ok(names)
}

/// Builds the chapters' test binaries for `arch` and returns (package dir, executable) pairs.
fn build_tests(arch: Arch) -> Result<TestBuild> {
    let mut cargo = crate::workspace::cargo();
    cargo.current_dir(crate::workspace::root()).args([
        "test",
        "--no-run",
        "--message-format=json-render-diagnostics",
    ]);
    for package in chapter_packages()? {
        cargo.args(["-p", &package]);
    }
    // The doctor (its tests, and its binary for the compatibility table) runs in the lanes too.
    cargo.args(["-p", "doctor"]);
    if !arch.is_host() {
        let triple = arch.target_triple();
        let env_triple = triple.replace('-', "_");
        cargo
            .args(["--target", triple])
            .env(
                format!("CARGO_TARGET_{}_LINKER", env_triple.to_uppercase()),
                "aarch64-linux-gnu-gcc",
            )
            .env(format!("CC_{env_triple}"), "aarch64-linux-gnu-gcc")
            .env("PKG_CONFIG_ALLOW_CROSS", "1")
            .env("PKG_CONFIG_PATH", "/usr/lib/aarch64-linux-gnu/pkgconfig");
    }
    let output = cargo
        .stderr(Stdio::inherit())
        .output()
        .context("building the tests")?;
    if !output.status.success() {
        bail!("building the tests for {} failed", arch.rust_name());
    }
    // Each compiler-artifact message of a test target names its executable and package.
    let mut tests = Vec::new();
    let mut doctor = None;
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        // A test executable is built with the test profile ("profile":{…"test":true}); the
        // target's own "test" flag only says whether `cargo test` would test it.
        let is_test = line
            .split_once("\"profile\":{")
            .and_then(|(_, profile)| profile.split('}').next())
            .is_some_and(|profile| profile.contains("\"test\":true"));
        if !is_test {
            let doctor_binary =
                line.contains("\"kind\":[\"bin\"],\"crate_types\":[\"bin\"],\"name\":\"doctor\"");
            if doctor_binary {
                doctor = json_string(line, "executable");
            }
            continue;
        }
        let (Some(executable), Some(manifest)) = (
            json_string(line, "executable"),
            json_string(line, "manifest_path"),
        ) else {
            continue;
        };
        let dir = Path::new(&manifest).parent().unwrap().to_path_buf();
        tests.push((dir, PathBuf::from(executable)));
    }
    if tests.is_empty() {
        bail!("cargo built no test binaries");
    }
    let doctor = doctor.context("cargo built no doctor binary")?;
    Ok(TestBuild {
        tests,
        doctor: PathBuf::from(doctor),
    })
}

/// The chapters' test binaries (with the folder each runs in) and the doctor.
struct TestBuild {
    tests: Vec<(PathBuf, PathBuf)>,
    doctor: PathBuf,
}

/// The string value of `"key":"…"` in one line of cargo's JSON (paths have no quotes).
fn json_string(line: &str, key: &str) -> Option<String> {
    let start = line.find(&format!("\"{key}\":\""))? + key.len() + 4;
    let end = line[start..].find('"')?;
    Some(line[start..start + end].replace("\\\\", "\\"))
}

/// What the guest script prints before the kernel release, as `uname -r` gives it.
const KERNEL_LINE: &str = "lane kernel: ";

/// The outcome of the chapters' tests in one lane.
pub struct LaneTests {
    pub passed: u64,
    pub failed: u64,
    /// The doctor's findings on the lane's kernel, in the run's output folder (which the next
    /// run of the lane replaces).
    pub findings: PathBuf,
    /// The kernel release the guest reported (`uname -r`), if it printed one.
    pub kernel_release: Option<String>,
    /// Every test that ran, with whether it passed.
    pub outcomes: Vec<(String, bool)>,
}

/// A lane ready to boot: its kernel unpacked and its tests built, with the script to run.
pub struct Prepared {
    lane: Lane,
    script: String,
    record_snapshots: bool,
}

/// Prepares to run the chapters' tests inside `lane`, as CI would on the host: all of them, or
/// only those whose names start with one of `only` (the doctor's own tests always run). The
/// boot fails when the lane could not run or the doctor failed there; failing tests are
/// counted instead.
///
/// With `record_snapshots`, insta writes every snapshot the tests take (in the guest's
/// throw-away overlay); the script copies the new ones out and they land in the workspace.
///
/// This is everything a lane run does on the host before it boots (downloads and builds), so
/// that lanes can then boot side by side without building under each other's feet.
pub fn prepare(lane: &Lane, only: Option<&[String]>, record_snapshots: bool) -> Result<Prepared> {
    host_packages(lane.arch)?;
    lane.kernel()?;
    let build = build_tests(lane.arch)?;
    // insta finds snapshots through `cargo metadata`; there is no cargo in the guest.
    let insta = match record_snapshots {
        false => "INSTA_UPDATE=no",
        // `.snap.new` files exist only in this guest's overlay (other lanes may write `.snap`
        // files into the shared checkout while it runs).
        true => "INSTA_UPDATE=new INSTA_FORCE_PASS=1",
    };
    let mut script = format!(
        "touch /tmp/lane-started\n\
         export CI=true {insta} RUST_BACKTRACE=0 HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin\n\
         export INSTA_WORKSPACE_ROOT='{}' {}='{}'\n\
         echo \"{KERNEL_LINE}$(uname -r) $(uname -m)\"\n\
         failed=0\n",
        crate::workspace::root().display(),
        ebpf_support::LANE_VARIABLE,
        lane.name
    );
    script.push_str(&format!(
        "'{}' --results /lane-out/doctor.txt >/lane-out/doctor.log 2>&1\n\
         echo $? >/lane-out/doctor.status\n",
        build.doctor.display()
    ));
    for (dir, executable) in &build.tests {
        let is_chapter = dir
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("chapter"));
        let filters = match only {
            Some(prefixes) if is_chapter => {
                if prefixes.is_empty() {
                    continue;
                }
                prefixes
                    .iter()
                    .map(|p| format!(" '{p}'"))
                    .collect::<String>()
            }
            _ => String::new(),
        };
        script.push_str(&format!(
            "cd '{}' && '{}' --test-threads=2{filters} >>/lane-out/tests.log 2>&1 || failed=1\n",
            dir.display(),
            executable.display()
        ));
    }
    if record_snapshots {
        script.push_str(&format!(
            // Only the packages' snapshot folders: a `find` over the workspace would walk
            // target/ too, over 9p, for many minutes.
            "for snap in '{}'/*/tests/snapshots/*.snap.new; do\n\
                 [ -f \"$snap\" ] || continue\n\
                 mkdir -p \"/lane-out/snapshots$(dirname \"$snap\")\" && cp \"$snap\" \"/lane-out/snapshots$snap\"\n\
             done\n",
            crate::workspace::root().display()
        ));
    }
    script.push_str("cat /lane-out/tests.log\nexit $failed\n");
    Ok(Prepared {
        lane: *lane,
        script,
        record_snapshots,
    })
}

impl Prepared {
    pub fn lane(&self) -> &Lane {
        &self.lane
    }

    /// Boots the lane and runs its tests.
    pub fn boot(&self) -> Result<LaneTests> {
        let lane = &self.lane;
        let run = run_script(lane, &self.script, Duration::from_secs(20 * 60), "")?;
        collect(lane, run, self.record_snapshots)
    }
}

fn collect(lane: &Lane, run: super::qemu::LaneRun, record_snapshots: bool) -> Result<LaneTests> {
    if record_snapshots {
        for snapshot in copy_back(&run.out_dir.join("snapshots"))? {
            println!("lane {}: recorded {}", lane.name, snapshot.display());
        }
    }
    let log = fs::read_to_string(run.out_dir.join("tests.log")).unwrap_or_default();
    let (mut passed, mut failed) = (0, 0);
    for line in log.lines() {
        if let Some(rest) = line.strip_prefix("test result: ") {
            passed += count_before(rest, " passed");
            failed += count_before(rest, " failed");
        }
    }
    if run.status != 0 && failed == 0 {
        failed = 1;
    }
    let findings = run.out_dir.join("doctor.txt");
    let doctor_status = fs::read_to_string(run.out_dir.join("doctor.status")).unwrap_or_default();
    if doctor_status.trim() != "0" || !findings.is_file() {
        let log = fs::read_to_string(run.out_dir.join("doctor.log")).unwrap_or_default();
        bail!(
            "the doctor failed in the lane (exit status {}): {}",
            doctor_status.trim(),
            log.lines().last().unwrap_or("(no output)")
        );
    }
    Ok(LaneTests {
        passed,
        failed,
        findings,
        kernel_release: kernel_release(&run.console),
        outcomes: crate::libtest::outcomes(&log),
    })
}

/// Copies the new snapshot files under `out` (laid out by their absolute paths, as insta's
/// `NAME.snap.new`) to those paths as `NAME.snap`.
fn copy_back(out: &Path) -> Result<Vec<PathBuf>> {
    let mut copied = Vec::new();
    let mut stack = vec![out.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.filter_map(|e| e.ok()) {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let written = Path::new("/").join(path.strip_prefix(out)?);
                let target = written.with_extension("");
                if !target.starts_with(crate::workspace::root()) {
                    bail!(
                        "the lane wrote a snapshot outside the workspace: {}",
                        target.display()
                    );
                }
                // A pending snapshot names the line of its assertion; an accepted one does not.
                let text = fs::read_to_string(&path)?;
                let accepted: String = text
                    .split_inclusive('\n')
                    .filter(|line| !line.starts_with("assertion_line: "))
                    .collect();
                fs::write(&target, accepted)
                    .with_context(|| format!("writing {}", target.display()))?;
                copied.push(target);
            }
        }
    }
    Ok(copied)
}

/// `lane kernel: 6.12.43+deb12-amd64 x86_64` on the console → `6.12.43+deb12-amd64`.
fn kernel_release(console: &[String]) -> Option<String> {
    console.iter().find_map(|line| {
        let (_, rest) = line.split_once(KERNEL_LINE)?;
        rest.split_whitespace().next().map(str::to_string)
    })
}

// The unit tests sit in the module itself: a `tests` module in `tests` would stutter.

#[test]
fn reads_strings_from_cargo_messages() {
    let line = r#"{"reason":"compiler-artifact","manifest_path":"/w/chapter02/Cargo.toml","executable":"/w/target/debug/deps/cli-1"}"#;
    assert_eq!(
        json_string(line, "executable").as_deref(),
        Some("/w/target/debug/deps/cli-1")
    );
    assert_eq!(
        json_string(line, "manifest_path").as_deref(),
        Some("/w/chapter02/Cargo.toml")
    );
    assert_eq!(json_string(line, "missing"), None);
}

#[test]
fn reads_the_kernel_release_from_the_console() {
    let console = [
        "Loading, please wait...".to_string(),
        "lane kernel: 6.12.43+deb12-amd64 x86_64".to_string(),
        "running 3 tests".to_string(),
    ];
    assert_eq!(
        kernel_release(&console).as_deref(),
        Some("6.12.43+deb12-amd64")
    );
    assert_eq!(kernel_release(&["lane kernel: ".to_string()]), None);
    assert_eq!(kernel_release(&[]), None);
}
