//! btf-dump on the real kernel: line for line what `bpftool btf dump` prints.

use std::process::Command;

use ebpf_support::testing::{self, IdMark, Session, WaitStatus, map_named};

const BINARY: &str = env!("CARGO_BIN_EXE_btf-dump");
const EXAMPLE: &str = env!("CARGO_BIN_EXE_hello-buffer-config-core");

mod btf_dump {
    use super::*;

    fn stdout_of(program: &str, args: &[&str]) -> String {
        let output = Command::new(program).args(args).output().unwrap();
        assert!(output.status.success(), "{program} {args:?}: {output:?}");
        String::from_utf8(output.stdout).unwrap()
    }

    fn bpftool(args: &str) -> String {
        stdout_of("bpftool", &args.split(' ').collect::<Vec<_>>())
    }

    fn ours(args: &str) -> String {
        stdout_of(BINARY, &args.split_whitespace().collect::<Vec<_>>())
    }

    /// The book's point: a map's dump is its key type and its value type, and nothing else.
    fn assert_key_and_value(map_dump: &str) {
        let lines: Vec<&str> = map_dump.lines().collect();
        let [key, value, member] = lines[..] else {
            panic!("expected the key and value types: {map_dump}");
        };
        let pattern = |p: &str| regex::Regex::new(p).unwrap();
        assert!(
            pattern(r"^\[\d+\] TYPEDEF 'u32' type_id=\d+$").is_match(key),
            "{key}"
        );
        assert!(
            pattern(r"^\[\d+\] STRUCT 'user_msg_t' size=12 vlen=1$").is_match(value),
            "{value}"
        );
        assert!(
            pattern(r"^\t'message' type_id=\d+ bits_offset=0$").is_match(member),
            "{member}"
        );
    }

    #[test]
    fn dumps_our_examples_map_and_program_as_bpftool_does() {
        // It loads hello-buffer-config-core's program, so it needs what that one needs.
        if !testing::ready_for(&chapter05::BTF_DUMP)
            || !testing::ready_for(&chapter05::HELLO_BUFFER_CONFIG_CORE)
            || !testing::tool("bpftool", "chapter 5's comparison of btf-dump with bpftool")
        {
            return;
        }
        let mut session = Session::spawn(EXAMPLE, &[]);
        session.expect_line("attached", |l| l.contains(": attached ("));
        let objects = session.objects();
        let map = map_named(&objects.maps, "my_config")
            .expect("my_config")
            .to_string();
        let prog = objects.progs.first().unwrap().to_string();

        let map_dump = ours(&format!("--map-id {map}"));
        assert_eq!(map_dump, bpftool(&format!("btf dump map id {map}")));
        assert_key_and_value(&map_dump);
        assert_eq!(
            ours("--map-name my_config"),
            bpftool("btf dump map name my_config")
        );

        let prog_dump = ours(&format!("--prog-id {prog}"));
        assert_eq!(prog_dump, bpftool(&format!("btf dump prog id {prog}")));
        assert_eq!(
            ours("--prog-name hello"),
            bpftool("btf dump prog name hello")
        );
        // One BTF object: the program's dump has the map's two types among all the others.
        for line in map_dump.lines() {
            assert!(prog_dump.lines().any(|l| l == line), "{line}");
        }
        assert!(
            prog_dump
                .lines()
                .any(|l| l.contains("] FUNC 'hello' type_id=") && l.ends_with(" linkage=global")),
            "{prog_dump}"
        );

        let pin = format!("/sys/fs/bpf/btf-dump-test-{}", std::process::id());
        bpftool(&format!("map pin id {map} {pin}"));
        let pinned = Command::new(BINARY).args(["--pinned", &pin]).output();
        std::fs::remove_file(&pin).unwrap();
        assert_eq!(String::from_utf8(pinned.unwrap().stdout).unwrap(), map_dump);
        bpftool(&format!("prog pin id {prog} {pin}"));
        let pinned = Command::new(BINARY).args(["--pinned", &pin]).output();
        std::fs::remove_file(&pin).unwrap();
        assert_eq!(
            String::from_utf8(pinned.unwrap().stdout).unwrap(),
            prog_dump
        );

        let (status, _) = session.interrupt();
        assert!(matches!(status, WaitStatus::Exited(_, 0)), "{status:?}");
        objects.assert_released();
    }

    #[test]
    fn without_a_selector_it_loads_the_example_and_dumps_its_map_and_program() {
        // It loads hello-buffer-config-core's program, so it needs what that one needs.
        if !testing::ready_for(&chapter05::BTF_DUMP)
            || !testing::ready_for(&chapter05::HELLO_BUFFER_CONFIG_CORE)
            || !testing::tool("bpftool", "chapter 5's comparison of btf-dump with bpftool")
        {
            return;
        }
        let mark = IdMark::now();
        let dump = ours("");
        let (map_part, prog_part) = dump.split_once("# prog hello (ID ").unwrap();
        let map_part = map_part
            .strip_prefix("# map my_config (ID ")
            .and_then(|m| m.split_once(": its key and value types\n"))
            .map(|(_, types)| types)
            .unwrap_or_else(|| panic!("{dump}"));
        assert_key_and_value(map_part);
        let (_, prog_types) = prog_part.split_once(": every type\n").unwrap();
        // What the kernel holds is the BTF of the object file that libbpf-cargo compiled.
        let object = concat!(env!("OUT_DIR"), "/hello_buffer_config.bpf.o");
        assert_eq!(prog_types, bpftool(&format!("btf dump file {object}")));
        mark.assert_nothing_left();
    }

    #[test]
    fn the_kernels_own_btf_dumps_as_bpftool_does() {
        if !testing::ready_for(&chapter05::BTF_DUMP)
            || !testing::tool("bpftool", "chapter 5's comparison of btf-dump with bpftool")
        {
            return;
        }
        let vmlinux = "/sys/kernel/btf/vmlinux";
        assert_eq!(
            ours(&format!("--file {vmlinux}")),
            bpftool(&format!("btf dump file {vmlinux}"))
        );
    }

    #[test]
    fn an_unknown_map_is_one_line_and_a_failure() {
        if !testing::ready_for(&chapter05::BTF_DUMP) {
            return;
        }
        let output = Command::new(BINARY)
            .args(["--map-name", "no-such-map"])
            .output()
            .unwrap();
        testing::assert_one_line_error(&output, "btf-dump: no map is called no-such-map");
    }
}
