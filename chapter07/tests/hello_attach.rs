//! hello-attach on the real kernel: it attaches exactly where the doctor's own probes find the
//! capability (and gives the doctor's reason where not), and each attached program reports
//! the execs and calls the test makes, with what that kind of hook can see.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use chapter07::{ATTACH_POINTS, AttachPoint, HELLO_ATTACH, SQUARE, event_line};
use ebpf_support::needs::Capability;
use ebpf_support::testing::{
    self, IdMark, Session, WaitStatus, exec_marked, program_types, unique_comm,
};
use libbpf_rs::ProgramType;

const BINARY: &str = env!("CARGO_BIN_EXE_hello-attach");

/// What the doctor found on this kernel, per capability: available, and its detail.
fn doctor() -> Option<&'static BTreeMap<String, (bool, String)>> {
    static FINDINGS: OnceLock<Option<BTreeMap<String, (bool, String)>>> = OnceLock::new();
    FINDINGS
        .get_or_init(|| {
            // The doctor is built beside the examples (cargo xtask test, and the lanes, build it).
            let doctor = Path::new(BINARY).with_file_name("doctor");
            if !doctor.is_file() {
                ebpf_support::skips::skip_or_fail(&format!(
                    "{} is missing: build it with `cargo build -p doctor`",
                    doctor.display()
                ));
                return None;
            }
            let results =
                std::env::temp_dir().join(format!("ch07-doctor-{}.txt", std::process::id()));
            let output = Command::new(&doctor)
                .arg("--results")
                .arg(&results)
                .output()
                .expect("running the doctor");
            assert!(output.status.success(), "the doctor failed: {output:?}");
            let text = std::fs::read_to_string(&results).expect("the doctor's findings");
            let _ = std::fs::remove_file(&results);
            Some(
                text.lines()
                    .filter_map(|line| match line.split('\t').collect::<Vec<_>>()[..] {
                        ["capability", name, available, detail] => {
                            Some((name.to_string(), (available == "yes", detail.to_string())))
                        }
                        _ => None,
                    })
                    .collect(),
            )
        })
        .as_ref()
}

fn finding(capability: Capability) -> (bool, String) {
    let findings = doctor().expect("the doctor's findings");
    findings
        .get(&format!("{capability:?}"))
        .cloned()
        .unwrap_or_else(|| panic!("the doctor has no finding for {capability:?}: rebuild it"))
}

/// The kernel's program type for each attach point.
fn program_type(point: &AttachPoint) -> ProgramType {
    match point.capability {
        Capability::Fentry | Capability::Fexit | Capability::BtfTracepoint => ProgramType::Tracing,
        Capability::Tracepoint => ProgramType::Tracepoint,
        Capability::RawTracepoint => ProgramType::RawTracepoint,
        // kprobes, kretprobes and uprobes are all kprobe programs.
        _ => ProgramType::Kprobe,
    }
}

/// Reads hello-attach's report up to its `attached` line: each attach point's verdict.
fn read_report(session: &mut Session) -> BTreeMap<&'static str, String> {
    let mut report = BTreeMap::new();
    session.expect_line("the attached line", |line| {
        let mut words = line.split_whitespace();
        if let Some(point) = words.next().and_then(chapter07::attach_point)
            && line.starts_with("  ")
        {
            let verdict = if line.ends_with(" attached") {
                "attached".to_string()
            } else {
                line.split_once(" not here: ")
                    .map(|(_, reason)| reason.to_string())
                    .unwrap_or_else(|| panic!("no verdict in {line:?}"))
            };
            report.insert(point.name, verdict);
        }
        line.contains("hello-attach: attached (")
    });
    report
}

/// Waits until every one of `lines` has been printed, in any order.
fn expect_all(session: &mut Session, mut lines: Vec<String>) {
    let result = session.wait_for_line(Duration::from_secs(wait_secs()), |line| {
        lines.retain(|l| l != line);
        lines.is_empty()
    });
    if let Err(seen) = result {
        panic!("never printed: {lines:#?}\noutput: {seen:#?}");
    }
}

fn wait_secs() -> u64 {
    std::env::var("LEARNING_EBPF_WAIT_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(30)
}

/// A file that is executable but in no format the kernel knows: bprm_execve() fails with
/// ENOEXEC (the C library then tries it as a shell script, which starts another exec).
fn not_a_program(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("not-a-program");
    std::fs::write(&path, "exit 0\n").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// Execs `path` from a child named `comm` and returns the child's pid.
fn exec_named(comm: &str, path: &Path) -> u32 {
    let name = std::ffi::CString::new(comm).unwrap();
    let mut command = Command::new(path);
    // SAFETY: prctl is async-signal-safe.
    unsafe {
        command.pre_exec(move || {
            libc::prctl(libc::PR_SET_NAME, name.as_ptr());
            Ok(())
        });
    }
    let mut child = command.spawn().expect("spawn");
    let pid = child.id();
    let _ = child.wait();
    pid
}

mod hello_attach {
    use super::*;

    #[test]
    fn attaches_where_the_doctor_finds_the_hook_and_each_program_sees_the_exec() {
        if !testing::ready_for(&HELLO_ATTACH) || doctor().is_none() {
            return;
        }
        let mut session = Session::spawn(BINARY, &["--trigger"]);
        let report = read_report(&mut session);

        // What hello-attach says works is what the doctor's own probe found, for the same
        // reason.
        let mut working = Vec::new();
        for point in &ATTACH_POINTS {
            let verdict = report
                .get(point.name)
                .unwrap_or_else(|| panic!("no verdict for {}: {report:#?}", point.name));
            match finding(point.capability) {
                (true, _) => {
                    assert_eq!(
                        verdict, "attached",
                        "{}: the doctor found {:?}",
                        point.name, point.capability
                    );
                    working.push(point);
                }
                (false, detail) => assert_eq!(verdict, &detail, "{}", point.name),
            }
        }
        println!(
            "attached here: {:?}",
            working.iter().map(|p| p.name).collect::<Vec<_>>()
        );

        // The kernel's view: one program of the right type per working attach point.
        let objects = session.objects();
        let mut expected: Vec<ProgramType> = working.iter().map(|p| program_type(p)).collect();
        let mut types = program_types(&objects.progs);
        expected.sort_by_key(|t| format!("{t:?}"));
        types.sort_by_key(|t| format!("{t:?}"));
        assert_eq!(types, expected);

        // An exec of /bin/true: before the exec the command is the caller's, after it the
        // new program's.
        let comm = unique_comm("att");
        let pid = exec_marked(&comm, None, || {}) as i32;
        let lines = working
            .iter()
            .filter(|p| p.function != SQUARE)
            .map(|p| {
                let command = if p.after_exec { "true" } else { comm.as_str() };
                event_line(p, pid, command, "/bin/true", 0)
            })
            .collect();
        expect_all(&mut session, lines);

        // A failed exec: the entry hooks see it, the return hooks see ENOEXEC, and
        // sched_process_exec never fires (it is not in the expected lines).
        let dir = tempdir();
        let path = not_a_program(&dir);
        let path_text = path.display().to_string();
        let comm = unique_comm("noexec");
        let pid = exec_named(&comm, &path) as i32;
        let lines = working
            .iter()
            .filter(|p| p.function != SQUARE && p.function != "sched_process_exec")
            .map(|p| event_line(p, pid, &comm, &path_text, -libc::ENOEXEC as i64))
            .collect();
        expect_all(&mut session, lines);
        let _ = std::fs::remove_dir_all(&dir);

        // The uprobes on hello-attach's own function, which --trigger calls with 2, 3, 4, …:
        // the uprobe sees the argument, the uretprobe the result.
        let uprobe = chapter07::attach_point("uprobe").unwrap();
        if working.contains(&uprobe) {
            let own = session.pid as i32;
            let prefix = format!("uprobe: {SQUARE}(");
            let line = session.expect_line("a uprobe event", |l| {
                l.starts_with(&prefix) && l.ends_with(&format!(" in {own} (hello-attach)"))
            });
            let n: i64 = line[prefix.len()..]
                .split(')')
                .next()
                .unwrap()
                .parse()
                .unwrap();
            let uretprobe = chapter07::attach_point("uretprobe").unwrap();
            let wanted = event_line(uretprobe, own, "hello-attach", "", n * n);
            session.expect_line(&wanted, |l| l == wanted);
        }

        let (status, _) = session.interrupt();
        assert!(matches!(status, WaitStatus::Exited(_, 0)), "{status:?}");
        objects.assert_released();
    }

    #[test]
    fn stops_after_count_events_and_leaves_nothing() {
        if !testing::ready_for(&HELLO_ATTACH) {
            return;
        }
        let session = Session::spawn(BINARY, &["--trigger", "--count", "3", "--timeout", "30"]);
        let (status, output) = session.finish();
        assert!(
            matches!(status, WaitStatus::Exited(_, 0)),
            "{status:?}: {output}"
        );
        let events = output
            .lines()
            .filter(|l| {
                l.split_once(": ")
                    .is_some_and(|(name, _)| chapter07::attach_point(name).is_some())
            })
            .count();
        assert_eq!(events, 3, "{output}");
    }

    #[test]
    fn ip_link_attaches_the_xdp_program_shows_it_and_detaches_it() {
        if !testing::ready_for(&HELLO_ATTACH) {
            return;
        }
        let mark = IdMark::now();
        let had_iproute_folders = Path::new("/sys/fs/bpf/tc").exists();
        let output = Command::new(BINARY).arg("--ip-link").output().unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        // In the arm64 lanes, ip is BusyBox's, which loads no object: hello-attach must say so.
        if !Command::new("ip")
            .arg("-V")
            .output()
            .is_ok_and(|o| o.status.success())
        {
            testing::assert_one_line_error(&output, "hello-attach: cannot run ip (iproute2)");
            return;
        }
        assert!(output.status.success(), "{output:?}");
        let lines: Vec<&str> = stdout.lines().collect();
        let at = |command: &str| {
            lines
                .iter()
                .position(|l| *l == command)
                .unwrap_or_else(|| panic!("{command:?} not in {stdout}"))
        };
        let attach = at("$ ip link set dev eth0 xdp obj xdp.bpf.o sec xdp");
        let detach = at("$ ip link set dev eth0 xdp off");
        let shown: String = lines[attach..detach].join("\n");
        let id = chapter07::ip_link::xdp_program(&shown)
            .unwrap_or_else(|| panic!("no prog/xdp in {shown}"));
        assert!(
            stdout.contains(&format!(
                "# the kernel's program {id}: hello (xdp), from xdp.bpf.o"
            )),
            "{stdout}"
        );
        assert_eq!(
            chapter07::ip_link::xdp_program(&lines[detach..].join("\n")),
            None,
            "{stdout}"
        );
        assert!(
            stdout.ends_with(&format!("# program {id} is detached and gone\n")),
            "{stdout}"
        );
        assert!(!libbpf_rs::query::ProgInfoIter::default().any(|info| info.id == id));
        assert_eq!(Path::new("/sys/fs/bpf/tc").exists(), had_iproute_folders);
        mark.assert_nothing_left();
    }
}

fn tempdir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(unique_comm("ch07-test"));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
