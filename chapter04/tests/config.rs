//! hello-buffer-config and hello-ring-buffer-config on the real kernel: the config map that
//! user space writes, read back from the kernel, and the message each user's exec gets.

use std::collections::BTreeMap;
use std::process::Command;

use ebpf_support::has;
use ebpf_support::needs::{Capability, Example};
use ebpf_support::testing::{
    self, Session, TestUser, WaitStatus, exec_marked, map_named, map_types, program_types,
    unique_comm,
};
use libbpf_rs::{MapCore, MapFlags, MapHandle, MapType, ProgramType};

fn default_hook() -> (&'static str, ProgramType) {
    if has(Capability::Ksyscall) {
        (
            "attached (kprobe on the execve syscall)",
            ProgramType::Kprobe,
        )
    } else {
        (
            "attached (tracepoint syscalls/sys_enter_execve)",
            ProgramType::Tracepoint,
        )
    }
}

/// `message` as the 12 bytes of `user_msg_t`, NUL-padded.
fn message_bytes(message: &str) -> Vec<u8> {
    let mut bytes = message.as_bytes().to_vec();
    bytes.resize(chapter04::MESSAGE_LEN, 0);
    bytes
}

/// The config map as bpftool dumps it (its BTF-formatted keys and messages).
fn bpftool_dump(map_id: u32) -> BTreeMap<u64, String> {
    let output = Command::new("bpftool")
        .args(["--json", "map", "dump", "id", &map_id.to_string()])
        .output()
        .expect("run bpftool");
    assert!(output.status.success(), "{output:?}");
    let entries: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    entries
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| {
            let formatted = &entry["formatted"];
            (
                formatted["key"].as_u64().unwrap(),
                formatted["value"]["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Both examples: the map that user space wrote is in the kernel with the book's shape and the
/// entries given; root, a configured user and an unconfigured one each get their message.
fn each_user_gets_its_message(example: &Example, binary: &str, output_type: MapType) {
    if !testing::ready_for(example)
        || !testing::tool(
            "bpftool",
            "chapter 4's comparison of the config map with bpftool",
        )
    {
        return;
    }
    let configured = TestUser::unique();
    let unconfigured = TestUser::unique();
    let entry = format!("{}=Hi tester", configured.uid);
    let mut session = Session::spawn(binary, &["--message", &entry]);
    let (attached, program_type) = default_hook();
    session.expect_line(attached, |l| l.contains(attached));
    let objects = session.objects();
    assert_eq!(program_types(&objects.progs), vec![program_type]);
    let types = map_types(&objects.maps);
    assert!(types.contains(&output_type), "{types:?}");

    // The map written from user space, as the kernel holds it.
    let config_id = map_named(&objects.maps, "config").expect("a map called config");
    let config = MapHandle::from_map_id(config_id).unwrap();
    let info = config.info().unwrap();
    assert_eq!(info.map_type(), MapType::Hash);
    assert_eq!(
        (
            info.info.key_size,
            info.info.value_size,
            info.info.max_entries
        ),
        (4, 12, 10240)
    );
    for (uid, message) in [(0, "Hey root!"), (configured.uid, "Hi tester")] {
        let value = config
            .lookup(&uid.to_ne_bytes(), MapFlags::ANY)
            .unwrap()
            .unwrap_or_else(|| panic!("no entry for UID {uid}"));
        assert_eq!(value, message_bytes(message), "UID {uid}");
    }
    assert_eq!(
        config
            .lookup(&unconfigured.uid.to_ne_bytes(), MapFlags::ANY)
            .unwrap(),
        None
    );
    // bpftool reads the same entries (and formats them with the map's BTF).
    // The test's own fd would keep the map alive past the example.
    drop(config);
    let dump = bpftool_dump(config_id);
    assert_eq!(dump.get(&0).map(String::as_str), Some("Hey root!"));
    assert_eq!(
        dump.get(&u64::from(configured.uid)).map(String::as_str),
        Some("Hi tester")
    );

    for (user, message) in [
        (None, "Hey root!"),
        (Some(configured), "Hi tester"),
        (Some(unconfigured), "Hello World"),
    ] {
        let comm = unique_comm("cfg");
        let pid = exec_marked(&comm, user, || {});
        let uid = user.map_or(0, |u| u.uid);
        let expected = format!("{pid} {uid} {comm} {message}");
        session.expect_line(&expected, |l| l == expected);
    }

    let (status, _) = session.interrupt();
    assert!(matches!(status, WaitStatus::Exited(_, 0)), "{status:?}");
    objects.assert_released();
}

mod hello_buffer_config {
    use super::*;

    #[test]
    fn each_user_gets_the_configured_message() {
        each_user_gets_its_message(
            &chapter04::HELLO_BUFFER_CONFIG,
            env!("CARGO_BIN_EXE_hello-buffer-config"),
            MapType::PerfEventArray,
        );
    }

    #[test]
    fn count_stops_after_that_many_events() {
        if !testing::ready_for(&chapter04::HELLO_BUFFER_CONFIG) {
            return;
        }
        let session = Session::spawn(
            env!("CARGO_BIN_EXE_hello-buffer-config"),
            &["--count", "2", "--trigger", "--timeout", "30"],
        );
        let (status, output) = session.finish();
        assert!(
            matches!(status, WaitStatus::Exited(_, 0)),
            "{status:?}: {output}"
        );
        // The trigger's execs run as root.
        assert_eq!(
            output.lines().filter(|l| l.ends_with(" Hey root!")).count(),
            2,
            "{output}"
        );
    }
}

mod hello_ring_buffer_config {
    use super::*;

    #[test]
    fn each_user_gets_the_configured_message() {
        each_user_gets_its_message(
            &chapter04::HELLO_RING_BUFFER_CONFIG,
            env!("CARGO_BIN_EXE_hello-ring-buffer-config"),
            MapType::RingBuf,
        );
    }
}
