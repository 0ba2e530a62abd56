//! pin-demo on the real kernel: a pinned program outlives the process that loaded it, and is
//! gone once its pins are removed.

use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use ebpf_support::testing::{self, Session, WaitStatus};
use libbpf_rs::query::{LinkInfo, ProgInfoIter, ProgInfoQueryOptions};
use libbpf_rs::{MapCore, MapFlags, MapHandle, ProgramType, libbpf_sys as sys};

const PIN_DEMO: &str = env!("CARGO_BIN_EXE_pin-demo");

fn open_pinned(path: &Path) -> OwnedFd {
    let c_path = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    let fd = unsafe { sys::bpf_obj_get(c_path.as_ptr()) };
    assert!(fd >= 0, "{}: {fd}", path.display());
    unsafe { OwnedFd::from_raw_fd(fd) }
}

fn prog_id(fd: &OwnedFd) -> u32 {
    let mut info = sys::bpf_prog_info::default();
    let mut len = std::mem::size_of_val(&info) as u32;
    assert_eq!(
        unsafe { sys::bpf_prog_get_info_by_fd(fd.as_raw_fd(), &mut info, &mut len) },
        0
    );
    info.id
}

/// The program's name, type and exec count (from its .bss map), or None once unloaded.
fn program(id: u32) -> Option<(String, ProgramType, u64)> {
    let info = ProgInfoIter::with_query_opts(ProgInfoQueryOptions::default().include_map_ids(true))
        .find(|info| info.id == id)?;
    let execs = info
        .map_ids
        .iter()
        .find_map(|&map_id| {
            let map = MapHandle::from_map_id(map_id).ok()?;
            map.name().to_str()?.ends_with(".bss").then_some(map)
        })
        .unwrap_or_else(|| panic!("program {id} has no .bss map: {:?}", info.map_ids))
        .lookup(&0u32.to_ne_bytes(), MapFlags::ANY)
        .expect("read the .bss map")
        .map(|value| u64::from_ne_bytes(value[..8].try_into().unwrap()))
        .expect("the .bss map has its one entry");
    Some((info.name.to_string_lossy().into_owned(), info.ty, execs))
}

fn link_exists(id: u32) -> bool {
    let fd = unsafe { sys::bpf_link_get_fd_by_id(id) };
    if fd >= 0 {
        unsafe { libc::close(fd) };
    }
    fd >= 0
}

fn eventually(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !done() {
        assert!(Instant::now() < deadline, "{what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Removes the test's pins however it ends.
struct Dir(PathBuf);

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(self.0.join("link"));
        let _ = std::fs::remove_file(self.0.join("hello"));
        let _ = std::fs::remove_dir(&self.0);
    }
}

mod pin_demo {
    use super::*;

    #[test]
    fn a_pinned_program_outlives_its_loader_until_unpinned() {
        if !testing::ready_for(&chapter04::PIN_DEMO) {
            return;
        }
        let dir = Dir(PathBuf::from(format!(
            "/sys/fs/bpf/learning-ebpf-pin-test-{}",
            std::process::id()
        )));
        std::fs::create_dir(&dir.0).unwrap();
        let loader = Command::new(PIN_DEMO)
            .arg("--loader")
            .arg(&dir.0)
            .output()
            .unwrap();
        assert!(loader.status.success(), "{loader:?}");

        // The loader has exited; the pins are all that hold the program and its link.
        let prog = prog_id(&open_pinned(&dir.0.join("hello")));
        let link = LinkInfo::from_fd(open_pinned(&dir.0.join("link")).as_fd()).unwrap();
        assert_eq!(link.prog_id, prog);
        let (name, ty, before) = program(prog).expect("the pinned program is loaded");
        assert_eq!((name.as_str(), ty), ("hello", ProgramType::Tracepoint));
        // Still attached: it counts execs.
        for _ in 0..3 {
            Command::new("/bin/true").status().unwrap();
        }
        let (_, _, after) = program(prog).unwrap();
        assert!(after >= before + 3, "{before} → {after}");

        std::fs::remove_file(dir.0.join("link")).unwrap();
        eventually("the link is freed", || !link_exists(link.id));
        assert!(program(prog).is_some(), "the program pin still holds it");
        std::fs::remove_file(dir.0.join("hello")).unwrap();
        eventually("the program is unloaded", || program(prog).is_none());
    }

    #[test]
    fn the_tour_shows_each_step_and_leaves_nothing() {
        if !testing::ready_for(&chapter04::PIN_DEMO) {
            return;
        }
        let session = Session::spawn(PIN_DEMO, &[]);
        let pid = session.pid;
        let (status, output) = session.finish();
        assert!(
            matches!(status, WaitStatus::Exited(_, 0)),
            "{status:?}: {output}"
        );
        let lines: Vec<&str> = output.lines().collect();
        let step = |n: &str| {
            lines
                .iter()
                .find(|l| l.starts_with(n))
                .unwrap_or_else(|| panic!("no step {n} in {output}"))
        };
        assert!(step("1. the loader (pid ").contains(&format!(
            "pinned it at /sys/fs/bpf/learning-ebpf-pin-demo-{pid}/hello"
        )));
        assert!(step("2. ").contains("; it still runs: "), "{output}");
        assert!(step("3. ").contains(" is gone; prog "), "{output}");
        assert!(step("4. ").ends_with(" is gone"), "{output}");
        assert!(!Path::new(&format!("/sys/fs/bpf/learning-ebpf-pin-demo-{pid}")).exists());
    }
}
