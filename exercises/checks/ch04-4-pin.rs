//! Check for exercise 4.4: after pin.sh has run and the program has quit, /sys/fs/bpf/hi is a pin
//! of the program's `hello`, still loaded; once the check removes the pin, it is gone.

#[path = "answers.rs"]
mod answers;
use std::sync::LazyLock;

use std::io::{BufRead, BufReader};
use std::os::fd::AsRawFd;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ebpf_support::testing::{self, BpfObjects, exercise_failed};
use libbpf_rs::libbpf_sys as sys;
use libbpf_rs::query::ProgInfoIter;

/// The program the reader looks at: chapter 4's hello-buffer-config, unchanged.
static PROGRAM: LazyLock<String> =
    LazyLock::new(|| answers::chapter_binary("chapter04", "hello-buffer-config"));
const PIN_SH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/pin.sh");
const PIN: &str = "/sys/fs/bpf/hi";

fn loaded(id: u32) -> bool {
    ProgInfoIter::default().any(|info| info.id == id)
}

/// The id of the program pinned at `path`.
fn pinned_program(path: &str) -> Option<u32> {
    let c_path = std::ffi::CString::new(path).unwrap();
    let fd = unsafe { sys::bpf_obj_get(c_path.as_ptr()) };
    if fd < 0 {
        return None;
    }
    let fd = unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) };
    let mut info = sys::bpf_prog_info::default();
    let mut len = std::mem::size_of_val(&info) as u32;
    (unsafe { sys::bpf_prog_get_info_by_fd(fd.as_raw_fd(), &mut info, &mut len) } == 0)
        .then_some(info.id)
}

#[test]
fn the_pinned_program_outlives_its_process() {
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
    let hello = BpfObjects::of_process(child.id()).progs;

    let pin = Command::new("sh").arg(PIN_SH).output().unwrap();
    // Quit, as with Ctrl-C.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let status = child.wait().unwrap();
    assert!(
        status.success(),
        "the program did not quit cleanly: {status}"
    );

    let Some(pinned) = pinned_program(PIN) else {
        exercise_failed(
            &format!("a pin of the program hello at {PIN} after the program quit"),
            &format!(
                "there is none; pin.sh {}{}",
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
    if !hello.contains(&pinned) {
        exercise_failed(
            &format!("{PIN} to be the program's own hello (id {hello:?})"),
            &format!("it is program {pinned}"),
        );
    }
    // The pin kept it loaded after its process had exited; without the pin it goes.
    let deadline = Instant::now() + Duration::from_secs(5);
    while loaded(pinned) {
        assert!(
            Instant::now() < deadline,
            "program {pinned} is still loaded without its pin"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    println!("{PIN} held hello (id {pinned}) after its process quit; removed, it is gone");
}
