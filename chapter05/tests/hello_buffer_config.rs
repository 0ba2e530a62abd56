//! hello-buffer-config-core on the real kernel.

use ebpf_support::has;
use ebpf_support::needs::Capability;
use ebpf_support::testing::{
    self, Session, TestUser, WaitStatus, exec_marked, map_named, map_types, program_types,
    unique_comm,
};
use libbpf_rs::{MapCore, MapFlags, MapHandle, MapType, ProgramType};

const BINARY: &str = env!("CARGO_BIN_EXE_hello-buffer-config-core");

mod hello_buffer_config_core {
    use super::*;

    fn reports_execs_with_path_and_message(args: &[&str], program_type: ProgramType) {
        if !testing::ready_for(&chapter05::HELLO_BUFFER_CONFIG_CORE) {
            return;
        }
        let user = TestUser::unique();
        let other = TestUser::unique();
        let mut all_args = vec!["--message".to_string(), format!("{}=Hi tester!", user.uid)];
        all_args.extend(args.iter().map(|a| a.to_string()));
        let all_args: Vec<&str> = all_args.iter().map(String::as_str).collect();
        let mut session = Session::spawn(BINARY, &all_args);
        session.expect_line("attached", |l| l.contains(": attached ("));
        let objects = session.objects();
        assert_eq!(program_types(&objects.progs), vec![program_type]);
        let types = map_types(&objects.maps);
        assert!(types.contains(&MapType::RingBuf), "{types:?}");
        assert!(types.contains(&MapType::Hash), "{types:?}");

        // The config, read back from the kernel's map: root's entry and the test user's.
        let config = map_named(&objects.maps, "my_config").expect("my_config map");
        let config = MapHandle::from_map_id(config).expect("open my_config");
        for (uid, text) in [(0, "Hey root!"), (user.uid, "Hi tester!")] {
            let value = config
                .lookup(&uid.to_ne_bytes(), MapFlags::ANY)
                .expect("lookup");
            assert_eq!(
                value,
                Some(chapter05::message_bytes(text).to_vec()),
                "UID {uid}"
            );
        }
        assert_eq!(
            config
                .lookup(&other.uid.to_ne_bytes(), MapFlags::ANY)
                .unwrap(),
            None
        );
        // Our own fd would keep the map alive past the example's exit.
        drop(config);

        for (who, uid, message) in [
            (None, 0, "Hey root!"),
            (Some(user), user.uid, "Hi tester!"),
            (Some(other), other.uid, "Hello World"),
        ] {
            let comm = unique_comm("cfg");
            let pid = exec_marked(&comm, who, || {});
            let expected = format!("{pid} {uid} {comm} {message} /bin/true");
            session.expect_line(&expected, |l| l == expected);
        }

        let (status, _) = session.interrupt();
        assert!(matches!(status, WaitStatus::Exited(_, 0)), "{status:?}");
        objects.assert_released();
    }

    #[test]
    fn reports_each_exec_with_its_path_and_the_users_message() {
        let program_type = if has(Capability::Ksyscall) {
            ProgramType::Kprobe
        } else {
            ProgramType::Tracepoint
        };
        reports_execs_with_path_and_message(&[], program_type);
    }

    #[test]
    fn the_same_function_reads_the_path_on_the_tracepoint() {
        reports_execs_with_path_and_message(&["--attach", "tracepoint"], ProgramType::Tracepoint);
    }

    #[test]
    fn verbose_shows_the_co_re_relocations() {
        if !testing::ready_for(&chapter05::HELLO_BUFFER_CONFIG_CORE) {
            return;
        }
        let output = std::process::Command::new(BINARY)
            .args(["--verbose", "--trigger", "--count", "1", "--timeout", "30"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{stderr}");
        let register = if cfg!(target_arch = "aarch64") {
            "orig_x0"
        } else {
            "di"
        };
        // libbpf matches the object's pt_regs (on arm64 its flavour `pt_regs___arm64`) with the
        // kernel's.
        assert!(
            stderr
                .lines()
                .any(|l| l.starts_with("libbpf: CO-RE relocating [")
                    && l.contains("] struct pt_regs")
                    && l.ends_with("] struct pt_regs in [vmlinux]")),
            "no CO-RE relocation of struct pt_regs in: {stderr}"
        );
        for wanted in [
            format!("struct pt_regs.{register} ("),
            "patched insn #".to_string(),
        ] {
            assert!(stderr.contains(&wanted), "{wanted:?} not in: {stderr}");
        }
    }

    #[test]
    fn a_message_longer_than_the_map_value_is_refused() {
        let output = std::process::Command::new(BINARY)
            .args(["--message", "0=Thirteen byte"])
            .output()
            .unwrap();
        testing::assert_one_line_error(&output, "a message is 1 to 12 bytes");
    }
}
