//! Check for exercise 4.7: after pin-link.sh has run and the program has quit,
//! /sys/fs/bpf/mylink is a pin of the program's own link, and its program is still loaded;
//! once the check removes the pin, both are gone.

#[path = "answers.rs"]
mod answers;
use std::sync::LazyLock;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ebpf_support::testing::{self, BpfObjects, exercise_failed};
use libbpf_rs::libbpf_sys as sys;
use libbpf_rs::query::{LinkInfo, ProgInfoIter};

/// The program the reader looks at: chapter 4's hello-buffer-config, unchanged.
static PROGRAM: LazyLock<String> =
    LazyLock::new(|| answers::chapter_binary("chapter04", "hello-buffer-config"));
const PIN_SH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/pin-link.sh");
const PIN: &str = "/sys/fs/bpf/mylink";

fn loaded(id: u32) -> bool {
    ProgInfoIter::default().any(|info| info.id == id)
}

fn link_exists(id: u32) -> bool {
    let fd = unsafe { sys::bpf_link_get_fd_by_id(id) };
    if fd >= 0 {
        unsafe { libc::close(fd) };
    }
    fd >= 0
}

/// The (link id, program id) of the link pinned at `path`.
fn pinned_link(path: &str) -> Option<(u32, u32)> {
    let c_path = std::ffi::CString::new(path).unwrap();
    let fd = unsafe { sys::bpf_obj_get(c_path.as_ptr()) };
    if fd < 0 {
        return None;
    }
    let fd = unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) };
    // Fails when the pin is not a link (a program pinned there, say).
    let info = LinkInfo::from_fd(std::os::fd::AsFd::as_fd(&fd)).ok()?;
    Some((info.id, info.prog_id))
}

#[test]
fn the_pinned_link_and_its_program_outlive_the_process() {
    testing::require_kernel();
    // A pin left by an earlier attempt would prove nothing.
    let _ = std::fs::remove_file(PIN);
    let _ = Command::new("sh")
        .arg("-c")
        .arg("mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf")
        .status();

    // Not a testing::Session: that would count the pinned program as a leak.
    let mut child = Command::new(&*PROGRAM)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    while !line.contains(": attached") {
        line.clear();
        if stderr.read_line(&mut line).unwrap() == 0 {
            panic!("the program did not load and attach, so nothing could be checked");
        }
    }
    let held = BpfObjects::of_process(child.id());

    let pin = Command::new("sh")
        .arg(PIN_SH)
        .arg(child.id().to_string())
        .output()
        .unwrap();
    // Quit, as with Ctrl-C.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let status = child.wait().unwrap();
    assert!(
        status.success(),
        "the program did not quit cleanly: {status}"
    );

    let Some((link, prog)) = pinned_link(PIN) else {
        exercise_failed(
            &format!("a pin of the program's link at {PIN} after the program quit"),
            &format!(
                "there is no link pinned there; pin-link.sh {}{}",
                if pin.status.success() {
                    "ran"
                } else {
                    "failed"
                },
                String::from_utf8_lossy(&pin.stderr)
                    .lines()
                    .next()
                    .map(|l| format!(": {l}"))
                    .unwrap_or_default()
            ),
        );
    };
    let _ = std::fs::remove_file(PIN);
    if !held.links.contains(&link) {
        exercise_failed(
            &format!("{PIN} to be the program's own link (id {:?})", held.links),
            &format!("it is link {link}"),
        );
    }
    // The link kept its program loaded after the process had exited.
    assert!(
        held.progs.contains(&prog),
        "link {link} runs program {prog}"
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while loaded(prog) || link_exists(link) {
        assert!(
            Instant::now() < deadline,
            "link {link} or program {prog} is still there without the pin"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    println!(
        "{PIN} held link {link} and its program {prog} after the process quit; both are gone now"
    );
}
