//! hello-file and hello-file-ring-buffer on the real kernel: every openat() with its path.

use ebpf_support::needs::Example;
use ebpf_support::testing::{
    self, Session, TestUser, WaitStatus, exec_marked, map_types, program_types, unique_comm,
};
use libbpf_rs::{MapType, ProgramType};

/// The path the marked child opens: its own, so that no other process opens it.
static PATH: std::sync::OnceLock<std::ffi::CString> = std::sync::OnceLock::new();

fn open_the_path() {
    let path = PATH.get().expect("path set before the exec");
    // SAFETY: a raw openat between fork and exec; a missing file is fine, the call is what counts.
    unsafe {
        let fd = libc::openat(libc::AT_FDCWD, path.as_ptr(), libc::O_RDONLY);
        if fd >= 0 {
            libc::close(fd);
        }
    }
}

fn reports_each_openat_with_its_path(example: &Example, binary: &str, map_type: MapType) {
    if !testing::ready_for(example) {
        return;
    }
    let mut session = Session::spawn(binary, &[]);
    session.expect_line("the attach line", |l| {
        l.contains("attached (tracepoint syscalls/sys_enter_openat)")
    });
    let objects = session.objects();
    assert_eq!(program_types(&objects.progs), vec![ProgramType::Tracepoint]);
    assert!(map_types(&objects.maps).contains(&map_type), "{objects:?}");

    let comm = unique_comm("file");
    let path = format!("/tmp/learning-ebpf-{comm}.txt");
    PATH.get_or_init(|| std::ffi::CString::new(path.clone()).unwrap());
    let user = TestUser::unique();
    let pid = exec_marked(&comm, Some(user), open_the_path);
    let path = PATH.get().unwrap().to_str().unwrap();
    let expected = format!("{pid} {} {comm} -100 {path}", user.uid);
    session.expect_line(&expected, |l| l == expected);

    let (status, _) = session.interrupt();
    assert!(matches!(status, WaitStatus::Exited(_, 0)), "{status:?}");
    objects.assert_released();
}

mod hello_file {
    use super::*;

    #[test]
    fn reports_each_openat_through_a_perf_buffer() {
        reports_each_openat_with_its_path(
            &chapter02::HELLO_FILE,
            env!("CARGO_BIN_EXE_hello-file"),
            MapType::PerfEventArray,
        );
    }
}

mod hello_file_ring_buffer {
    use super::*;

    #[test]
    fn reports_each_openat_through_a_ring_buffer() {
        reports_each_openat_with_its_path(
            &chapter02::HELLO_FILE_RING_BUFFER,
            env!("CARGO_BIN_EXE_hello-file-ring-buffer"),
            MapType::RingBuf,
        );
    }
}
