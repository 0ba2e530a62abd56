//! find-map on the real kernel: the info it prints is bpftool's, and it leaves no pin behind.

use std::collections::BTreeMap;
use std::mem::MaybeUninit;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::Mutex;

use ebpf_support::testing::{self, IdMark};

const BINARY: &str = env!("CARGO_BIN_EXE_find-map");

mod find_map {
    use super::*;
    use libbpf_rs::skel::{OpenSkel, SkelBuilder};

    ebpf_support::skeleton!(hello_buffer_config);

    /// One test at a time: each checks that no map it did not expect is left, and the pins
    /// of another would look like leaks.
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

    fn run(args: &[&str]) -> Output {
        Command::new(BINARY).args(args).output().unwrap()
    }

    /// find-map's `Key: 4 bytes` lines, as `bytes_key` → 4 etc.: bpftool's JSON names.
    fn fields(stdout: &str) -> BTreeMap<String, String> {
        stdout
            .lines()
            .filter_map(|line| line.split_once(": "))
            .map(|(label, value)| {
                let key = match label {
                    "Name" => "name",
                    "ID" => "id",
                    "Type" => "type",
                    "Key" => "bytes_key",
                    "Value" => "bytes_value",
                    "Max entries" => "max_entries",
                    "BTF ID" => "btf_id",
                    other => panic!("unexpected line {other:?}"),
                };
                (
                    key.to_string(),
                    value.trim_end_matches(" bytes").to_string(),
                )
            })
            .collect()
    }

    /// `bpftool map show pinned PATH --json`, with the fields find-map prints.
    fn bpftool_show(path: &str) -> BTreeMap<String, String> {
        let output = Command::new("bpftool")
            .args(["map", "show", "pinned", path, "--json"])
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        [
            "name",
            "id",
            "type",
            "bytes_key",
            "bytes_value",
            "max_entries",
        ]
        .into_iter()
        .map(|key| {
            let value = match &json[key] {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (key.to_string(), value)
        })
        // bpftool leaves btf_id out when the map has none.
        .chain(std::iter::once((
            "btf_id".to_string(),
            json.get("btf_id").map_or("0".into(), |v| v.to_string()),
        )))
        .collect()
    }

    fn unique_pin(tag: &str) -> String {
        format!("/sys/fs/bpf/{tag}-{}", std::process::id())
    }

    /// Removes a pin the test made, also when an assertion fails first.
    struct RemovePin<'a>(&'a str);

    impl Drop for RemovePin<'_> {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(self.0);
        }
    }

    #[test]
    fn opens_the_books_pin_and_prints_what_bpftool_shows() {
        if !testing::ready_for(&chapter05::FIND_MAP)
            || !testing::tool("bpftool", "chapter 5's comparison of find-map with bpftool")
        {
            return;
        }
        let _one = ONE_AT_A_TIME
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mark = IdMark::now();
        let pin = unique_pin("findme-test");
        let created = Command::new("bpftool")
            .args([
                "map", "create", &pin, "type", "array", "key", "4", "value", "32",
            ])
            .args(["entries", "4", "name", "findme"])
            .status()
            .unwrap();
        assert!(created.success());
        let remove = RemovePin(&pin);

        let output = run(&["--path", &pin]);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{output:?}");
        assert!(stdout.starts_with("Name: findme\n"), "{stdout}");
        assert_eq!(fields(&stdout), bpftool_show(&pin));
        // It is the reader's pin: still there.
        assert!(Path::new(&pin).exists());

        drop(remove);
        mark.assert_nothing_left();
    }

    #[test]
    fn finds_the_config_map_of_our_own_example_as_the_book_defines_it() {
        if !testing::ready_for(&chapter05::FIND_MAP)
            || !testing::tool("bpftool", "chapter 5's comparison of find-map with bpftool")
        {
            return;
        }
        let _one = ONE_AT_A_TIME
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mark = IdMark::now();
        // hello-buffer-config's maps, created without loading its program, and my_config pinned.
        let mut object = MaybeUninit::uninit();
        let mut open = hello_buffer_config::HelloBufferConfigSkelBuilder::default()
            .open(&mut object)
            .unwrap();
        open.progs.hello.set_autoload(false);
        let mut skel = open.load().unwrap();
        let pin = unique_pin("my_config-test");
        skel.maps.my_config.pin(&pin).unwrap();
        let remove = RemovePin(&pin);

        let output = run(&["--path", &pin]);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{output:?}");
        let ours = fields(&stdout);
        assert_eq!(ours, bpftool_show(&pin));
        // The book's `my_config`: a hash of u32 to struct user_msg_t, 10240 entries, with BTF.
        for (key, value) in [
            ("name", "my_config"),
            ("type", "hash"),
            ("bytes_key", "4"),
            ("bytes_value", "12"),
            ("max_entries", "10240"),
        ] {
            assert_eq!(ours[key], value, "{key}");
        }
        assert_ne!(ours["btf_id"], "0");

        drop(remove);
        drop(skel);
        mark.assert_nothing_left();
    }

    #[test]
    fn without_a_path_it_makes_the_books_map_and_removes_its_pin() {
        if !testing::ready_for(&chapter05::FIND_MAP) {
            return;
        }
        let _one = ONE_AT_A_TIME
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let before: Vec<_> = std::fs::read_dir("/sys/fs/bpf")
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        let mark = IdMark::now();
        let output = run(&[]);
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{output:?}");
        assert!(stderr.contains("made the findme map and pinned it at /sys/fs/bpf/findme"));
        let ours = fields(&stdout);
        for (key, value) in [
            ("name", "findme"),
            ("type", "array"),
            ("bytes_key", "4"),
            ("bytes_value", "32"),
            ("max_entries", "4"),
            ("btf_id", "0"),
        ] {
            assert_eq!(ours[key], value, "{key}");
        }
        // The map it made had an ID the kernel handed out after the mark, and is gone.
        let id: u32 = ours["id"].parse().unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while libbpf_rs::MapHandle::from_map_id(id).is_ok() {
            assert!(
                std::time::Instant::now() < deadline,
                "map {id} is still there"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let after: Vec<_> = std::fs::read_dir("/sys/fs/bpf")
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(before, after, "pins before and after");
        mark.assert_nothing_left();
    }

    #[test]
    fn an_unknown_path_is_one_line_and_a_failure() {
        if !testing::ready_for(&chapter05::FIND_MAP) {
            return;
        }
        let output = run(&["--path", "/sys/fs/bpf/no-such-pin"]);
        testing::assert_one_line_error(
            &output,
            "find-map: no pinned map at /sys/fs/bpf/no-such-pin",
        );
    }
}
