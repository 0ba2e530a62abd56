//! Check for exercise 5.5: the messages given with --message are in the kernel's my_config map,
//! and each user's execs carry that user's message.

use std::time::Duration;

use ebpf_support::testing::{self, TestUser, exec_marked, exercise_failed, map_named, unique_comm};
use libbpf_rs::{MapCore, MapFlags, MapHandle};

#[path = "common.rs"]
mod common;

const PROGRAM: &str = env!("CARGO_BIN_EXE_ch05-5-config-map");

#[test]
fn each_user_gets_the_message_configured_for_them() {
    testing::require_kernel();
    let user = TestUser::unique();
    let other = TestUser::unique();
    let message = format!("{}=Hi tester!", user.uid);
    let mut program = common::start(PROGRAM, &["--message", &message]);

    // What the kernel's map holds, read by the check itself.
    let objects = program.objects();
    let config = map_named(&objects.maps, "my_config").expect("the program has a my_config map");
    let config = MapHandle::from_map_id(config).expect("opening my_config");
    for (uid, text) in [(0, "Hey root!"), (user.uid, "Hi tester!")] {
        let value = config
            .lookup(&uid.to_ne_bytes(), MapFlags::ANY)
            .expect("reading my_config");
        if value.as_deref() != Some(&chapter05::message_bytes(text)[..]) {
            let got = match value {
                None => format!("no entry for UID {uid} in my_config"),
                Some(bytes) => format!("UID {uid} → {:?}", String::from_utf8_lossy(&bytes)),
            };
            exercise_failed(&format!("my_config has UID {uid} → {text:?}"), &got);
        }
    }
    drop(config);

    for (who, uid, text) in [
        (Some(user), user.uid, "Hi tester!"),
        (Some(other), other.uid, "Hello World"),
        (None, 0, "Hey root!"),
    ] {
        let comm = unique_comm("cfg");
        let pid = exec_marked(&comm, who, || {});
        let expected = format!("{pid} {uid} {comm} {text} /bin/true");
        if let Err(seen) = program.wait_for_line(Duration::from_secs(10), |l| l == expected) {
            let from_pid: Vec<&String> = seen
                .iter()
                .filter(|l| l.starts_with(&format!("{pid} ")))
                .collect();
            exercise_failed(&expected, &format!("{from_pid:?}"));
        }
    }
    let _ = program.interrupt();
    println!("my_config has root's and the test user's messages, and each exec carries its user's");
}
