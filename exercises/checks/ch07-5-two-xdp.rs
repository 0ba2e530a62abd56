//! Check for exercise 7.5: the reader's first iproute2 command attaches chapter 7's XDP program
//! to lo, the second tries to attach another and is refused; the first stays attached. They run
//! in a private network namespace, and iproute2 gets a BPF file system of its own.

use std::path::Path;
use std::process::Output;

use ebpf_support::lab::{Lab, Node};
use ebpf_support::testing::{self, exercise_failed};

const COMMANDS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/commands.sh");

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

/// Runs one of the reader's commands with sh in the lab's namespace, in `dir`, where `ip`
/// runs as `hello-attach --ip-link` runs it.
fn run(node: &Node, dir: &Path, command: &str) -> Output {
    chapter07::ip_link::in_lab(node, dir, "sh")
        .args(["-c", command])
        .output()
        .expect("running sh")
}

/// The XDP program on lo, as `ip link show` reports it.
fn attached(node: &Node, dir: &Path) -> Option<u32> {
    let output = chapter07::ip_link::in_lab(node, dir, "ip")
        .args(["link", "show", "dev", node.iface.name])
        .output()
        .expect("running ip link show");
    chapter07::ip_link::xdp_program(&String::from_utf8_lossy(&output.stdout))
}

#[test]
fn the_second_xdp_program_is_refused_and_the_first_stays() {
    testing::require_kernel();
    let lab = Lab::single().expect("building the lab");
    let node = lab.node("node");
    let dir = std::env::temp_dir().join(format!("ch07-5-two-xdp-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("xdp.bpf.o"), chapter07::ip_link::object()).expect("writing xdp.bpf.o");
    let outcome = check(node, &dir);
    let _ = std::fs::remove_dir_all(&dir);
    if let Err((expected, got)) = outcome {
        exercise_failed(&expected, &got);
    }
}

fn check(node: &Node, dir: &Path) -> Result<(), (String, String)> {
    let commands = commands();
    let [first, second] = &commands[..] else {
        return Err((
            "two commands in commands.sh: the first attaches the xdp section of xdp.bpf.o to \
             lo, the second tries to attach a second XDP program to lo"
                .into(),
            format!("{} command(s): {commands:?}", commands.len()),
        ));
    };
    let output = run(node, dir, first);
    let Some(id) = attached(node, dir).filter(|_| output.status.success()) else {
        return Err((
            format!("`{first}` to attach an XDP program to lo"),
            format!(
                "it exited with {} and lo has no XDP program: {}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            ),
        ));
    };
    let output = run(node, dir, second);
    let stderr = String::from_utf8_lossy(&output.stderr)
        .trim()
        .replace('\n', " ");
    if output.status.success() {
        return Err((
            format!("`{second}` to fail: lo already has program {id}"),
            format!(
                "it succeeded, and lo now has program {:?}",
                attached(node, dir)
            ),
        ));
    }
    if !stderr.contains("already attached") && !stderr.contains("busy") {
        return Err((
            format!("`{second}` to be refused because lo already has an XDP program"),
            format!("it failed for another reason: {stderr}"),
        ));
    }
    match attached(node, dir) {
        Some(still) if still == id => {
            println!("refused, as it should be: {stderr}");
            Ok(())
        }
        other => Err((
            format!("program {id} still attached to lo after the refusal"),
            format!("lo has {other:?}"),
        )),
    }
}
