//! Check for exercise 4.6: while the program runs, links.sh (given its pid in `$PID`) prints one
//! line `LINK_ID PROG_ID PROG_NAME` for each of the program's links, which is the kernel's own
//! view: the links the process holds, each link's program (link info) and that program's name
//! (program info).

#[path = "answers.rs"]
mod answers;

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use std::sync::LazyLock;
use std::time::Duration;

use ebpf_support::testing::{self, Session, exercise_failed};
use libbpf_rs::query::{LinkInfoIter, ProgInfoIter};

/// The program the reader looks at: chapter 4's hello-buffer-config, unchanged.
static PROGRAM: LazyLock<String> =
    LazyLock::new(|| answers::chapter_binary("chapter04", "hello-buffer-config"));
const LINKS_SH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/links.sh");

fn show(lines: &BTreeSet<(u32, u32, String)>) -> String {
    lines
        .iter()
        .map(|(link, prog, name)| format!("`{link} {prog} {name}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[test]
fn links_sh_prints_each_link_with_its_program() {
    testing::require_kernel();
    let mut program = Session::spawn(&PROGRAM, &[]);
    // A program that does not load is "could not run", not "not solved" (see checks/common.rs).
    if let Err(seen) = program.wait_for_line(Duration::from_secs(30), |l| l.contains(": attached"))
    {
        panic!(
            "the program did not load and attach, so nothing could be checked; it printed {seen:#?}"
        );
    }
    let held = program.objects();
    let names: BTreeMap<u32, String> = ProgInfoIter::default()
        .map(|info| (info.id, info.name.to_string_lossy().into_owned()))
        .collect();
    let kernel: BTreeSet<(u32, u32, String)> = LinkInfoIter::default()
        .filter(|link| held.links.contains(&link.id))
        .map(|link| (link.id, link.prog_id, names[&link.prog_id].clone()))
        .collect();
    assert!(!kernel.is_empty(), "the program holds no link");

    let run = Command::new("sh")
        .arg(LINKS_SH)
        .env("PID", program.pid.to_string())
        .output()
        .expect("run sh links.sh");
    let _ = program.interrupt();

    let stdout = String::from_utf8_lossy(&run.stdout);
    let expected = format!(
        "one line `LINK_ID PROG_ID PROG_NAME` per link of the program: {}",
        show(&kernel)
    );
    let mut printed = BTreeSet::new();
    for line in stdout.lines().filter(|l| !l.trim().is_empty()) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        match fields[..] {
            [link, prog, name] if link.parse::<u32>().is_ok() && prog.parse::<u32>().is_ok() => {
                printed.insert((link.parse().unwrap(), prog.parse().unwrap(), name.into()));
            }
            _ => exercise_failed(
                &expected,
                &format!("links.sh printed `{line}`, which is not `LINK_ID PROG_ID PROG_NAME`"),
            ),
        }
    }
    if printed != kernel {
        let got = if printed.is_empty() {
            let stderr = String::from_utf8_lossy(&run.stderr);
            match stderr.lines().next() {
                Some(first) => format!("links.sh printed nothing; its first error: {first}"),
                None => "links.sh printed nothing".to_string(),
            }
        } else {
            format!("links.sh printed {}", show(&printed))
        };
        exercise_failed(&expected, &got);
    }
    println!("links.sh printed {}, as the kernel says", show(&kernel));
}
