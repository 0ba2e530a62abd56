//! Check for exercise 3.1: the reader's two iproute2 commands attach hello.bpf.o's XDP program
//! to an interface and detach it again. They run in a private network namespace, and the check
//! asks the kernel (through `ip link`, which reads it over netlink, and the program's info)
//! what is attached after each.

use std::path::Path;
use std::process::Output;

use ebpf_support::lab::{Lab, Node};
use ebpf_support::testing::{self, exercise_failed};

const COMMANDS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/commands.sh");
const OBJECT: &str = concat!(env!("OUT_DIR"), "/hello.bpf.o");

/// `commands.sh` without comments and blank lines.
fn commands() -> Vec<String> {
    std::fs::read_to_string(COMMANDS)
        .unwrap_or_else(|e| panic!("reading {COMMANDS}: {e}"))
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(String::from)
        .collect()
}

/// Runs one of the reader's commands with sh inside the lab's namespace, in `dir`.
fn run(node: &Node, dir: &Path, command: &str) -> Output {
    node.netns
        .command("sh")
        .args(["-c", command])
        .current_dir(dir)
        .output()
        .expect("running sh")
}

/// The id of the XDP program on the node's interface, as `ip link show` reports it
/// (`prog/xdp id 540 tag … jited`).
fn xdp_program(node: &Node) -> Option<u32> {
    let output = node
        .netns
        .command("ip")
        .args(["link", "show", "dev", node.iface.name])
        .output()
        .expect("running ip link show");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let after = text.split("prog/xdp id ").nth(1)?;
    after.split_whitespace().next()?.parse().ok()
}

/// iproute2 makes its pinning folders in the BPF file system (`tc/globals`, with `ip` and `xdp`
/// links to `tc`) the first time it loads an object. Whatever made them, this check removes them
/// again if they were not there before and are still empty.
struct IprouteFolders {
    made_here: bool,
}

impl IprouteFolders {
    fn note() -> IprouteFolders {
        IprouteFolders {
            made_here: std::fs::symlink_metadata("/sys/fs/bpf/tc").is_err(),
        }
    }
}

impl Drop for IprouteFolders {
    fn drop(&mut self) {
        if self.made_here && std::fs::remove_dir("/sys/fs/bpf/tc/globals").is_ok() {
            let _ = std::fs::remove_dir("/sys/fs/bpf/tc");
            let _ = std::fs::remove_file("/sys/fs/bpf/ip");
            let _ = std::fs::remove_file("/sys/fs/bpf/xdp");
        }
    }
}

#[test]
fn the_commands_attach_hello_to_lo_and_detach_it() {
    testing::require_kernel();
    let _folders = IprouteFolders::note();
    let lab = Lab::single().expect("building the lab");
    let node = lab.node("node");
    let scratch = testing::ScratchDir::new("ch03-1-ip-link");
    let dir = scratch.path();
    std::fs::copy(OBJECT, dir.join("hello.bpf.o")).expect("copying hello.bpf.o");

    let commands = commands();
    let [attach, detach] = &commands[..] else {
        exercise_failed(
            "two commands in commands.sh: the first attaches the xdp section of hello.bpf.o \
             to lo, the second detaches it",
            &format!("{} command(s): {commands:?}", commands.len()),
        );
    };
    let output = run(node, dir, attach);
    if !output.status.success() {
        exercise_failed(
            &format!("`{attach}` to succeed"),
            &format!(
                "it failed ({}): {}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            ),
        );
    }
    let Some(id) = xdp_program(node) else {
        exercise_failed(
            "after the first command, an XDP program on lo (`ip link show dev lo` says prog/xdp)",
            "no XDP program on lo",
        );
    };
    let info = libbpf_rs::query::ProgInfoIter::default().find(|info| info.id == id);
    match info {
        Some(info)
            if info.name.to_str() == Some("hello") && info.ty == libbpf_rs::ProgramType::Xdp => {}
        other => exercise_failed(
            "the XDP program on lo to be hello.bpf.o's `hello`",
            &format!("program {id}: {:?}", other.map(|info| (info.name, info.ty))),
        ),
    }
    let output = run(node, dir, detach);
    if !output.status.success() {
        exercise_failed(
            &format!("`{detach}` to succeed"),
            &format!(
                "it failed: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            ),
        );
    }
    if let Some(id) = xdp_program(node) {
        exercise_failed(
            "after the second command, no XDP program on lo",
            &format!("program {id} is still attached"),
        );
    }
}
