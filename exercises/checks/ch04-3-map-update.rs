//! Check for exercise 4.3: after update.sh has run, the running program's config map gives
//! user ID 2 the message "Hello 2", and the program sends it on the next exec of that user.

#[path = "answers.rs"]
mod answers;
use std::sync::LazyLock;

use std::process::Command;
use std::time::Duration;

use ebpf_support::testing::{self, Session, TestUser, exec_marked, exercise_failed, unique_comm};
use libbpf_rs::{MapCore, MapFlags, MapHandle};

/// The program the reader looks at: chapter 4's hello-buffer-config, unchanged.
static PROGRAM: LazyLock<String> =
    LazyLock::new(|| answers::chapter_binary("chapter04", "hello-buffer-config"));
const UPDATE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/update.sh");
const MESSAGE: &str = "Hello 2";

/// The message the program prints for one exec as `user`.
fn message_for(program: &mut Session, user: TestUser) -> String {
    let comm = unique_comm("upd");
    let pid = exec_marked(&comm, Some(user), || {});
    let prefix = format!("{pid} {} {comm} ", user.uid);
    match program.wait_for_line(Duration::from_secs(10), |l| l.starts_with(&prefix)) {
        Ok(line) => line[prefix.len()..].to_string(),
        Err(seen) => panic!("the program printed no line for pid {pid}: {seen:#?}"),
    }
}

#[test]
fn user_2_gets_the_new_message() {
    testing::require_kernel();
    let mut program = Session::spawn(&PROGRAM, &[]);
    if let Err(seen) = program.wait_for_line(Duration::from_secs(30), |l| l.contains(": attached"))
    {
        panic!(
            "the program did not load and attach, so nothing could be checked; it printed {seen:#?}"
        );
    }
    // UID 2, with a group ID that differs from it.
    let user = TestUser {
        uid: 2,
        gid: TestUser::unique().gid,
    };
    let before = message_for(&mut program, user);
    assert_eq!(before, "Hello World", "before update.sh");

    let update = Command::new("sh").arg(UPDATE).output().unwrap();
    if !update.status.success() {
        exercise_failed(
            "update.sh to run without an error",
            &format!(
                "it failed ({}): {}",
                update.status,
                String::from_utf8_lossy(&update.stderr).trim()
            ),
        );
    }
    let config = testing::map_named(&program.objects().maps, "config").expect("the config map");
    let entry = MapHandle::from_map_id(config)
        .unwrap()
        .lookup(&2u32.to_ne_bytes(), MapFlags::ANY)
        .unwrap();
    let after = message_for(&mut program, user);
    let _ = program.interrupt();

    let mut expected = MESSAGE.as_bytes().to_vec();
    expected.resize(12, 0);
    if entry.as_deref() != Some(&expected[..]) {
        exercise_failed(
            &format!("the config map's entry for key 2 to be {MESSAGE:?} (12 bytes, NUL-padded)"),
            &format!("after update.sh it is {entry:?}"),
        );
    }
    if after != MESSAGE {
        exercise_failed(
            &format!("the next exec of UID 2 to print {MESSAGE:?}"),
            &format!("it printed {after:?}"),
        );
    }
    println!("UID 2 got {before:?}, then {after:?} after update.sh");
}
