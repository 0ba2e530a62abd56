//! Check for exercise 4.2: with two instances of the program running, so that two maps are
//! called `config`, the answers in answer.txt are what `strace -e trace=bpf bpftool map dump name
//! config` shows: how many maps bpftool dumped, and the bpf() command of each step (open the map
//! by id, fetch its info, walk its keys, read its values). The check runs that strace itself and
//! derives every expected answer from what it shows on the `config` maps' file descriptors.

#[path = "answers.rs"]
mod answers;

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use std::sync::LazyLock;
use std::time::Duration;

use ebpf_support::testing::{self, Session, exercise_failed};
use libbpf_rs::query::MapInfoIter;

/// The program the reader looks at: chapter 4's hello-buffer-config, unchanged.
static PROGRAM: LazyLock<String> =
    LazyLock::new(|| answers::chapter_binary("chapter04", "hello-buffer-config"));
const ANSWER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/answer.txt");

/// One line of strace's output: `bpf(BPF_MAP_GET_FD_BY_ID, {map_id=12, …}, 12) = 3`.
struct Call {
    command: String,
    args: String,
    result: i64,
}

fn parse(line: &str) -> Option<Call> {
    let rest = line.strip_prefix("bpf(")?;
    let (command, rest) = rest.split_once(", ")?;
    let (args, result) = rest.rsplit_once(") = ")?;
    Some(Call {
        command: command.to_string(),
        args: args.to_string(),
        result: result.split_whitespace().next()?.parse().ok()?,
    })
}

/// The number after `name=` in strace's decoded arguments (`map_fd=3`), not after `next_name=`.
fn field(args: &str, name: &str) -> Option<i64> {
    let pattern = format!("{name}=");
    let (at, _) = args
        .match_indices(&pattern)
        .find(|(at, _)| *at == 0 || matches!(args.as_bytes()[at - 1], b'{' | b' '))?;
    let value = &args[at + pattern.len()..];
    let end = value
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(value.len());
    value[..end].parse().ok()
}

/// What the strace run shows about the maps called `config`.
#[derive(Default)]
struct Dump {
    /// The ids of the `config` maps whose keys bpftool walked.
    walked: BTreeSet<u32>,
    /// For each step, the bpf() commands that did it on a `config` map's fd.
    steps: BTreeMap<&'static str, BTreeSet<String>>,
}

fn follow_the_fds(trace: &str, config: &BTreeSet<u32>) -> Dump {
    let mut dump = Dump::default();
    // Which map each fd holds now, and the command that returned it. fds are reused: bpftool
    // closes each map that is not called `config` (close() is not in the trace), and the next
    // command that returns that number holds something else.
    let mut holds: BTreeMap<i64, (u32, String)> = BTreeMap::new();
    for call in trace.lines().filter_map(parse) {
        let fd = field(&call.args, "map_fd").or_else(|| field(&call.args, "bpf_fd"));
        if let Some((map, opened_by)) = fd.and_then(|fd| holds.get(&fd))
            && config.contains(map)
        {
            let step = if call.args.contains("next_key=") {
                dump.walked.insert(*map);
                "walk"
            } else if call.args.contains("value=") {
                "read"
            } else if call.args.contains("bpf_fd=") {
                "info"
            } else {
                "other"
            };
            let steps = &mut dump.steps;
            steps.entry(step).or_default().insert(call.command.clone());
            steps.entry("open").or_default().insert(opened_by.clone());
        }
        // Results 0 to 2 are success codes (and stdin, stdout, stderr): above, a new fd.
        if call.result > 2 {
            holds.remove(&call.result);
            if let Some(map) = field(&call.args, "map_id") {
                holds.insert(call.result, (map as u32, call.command.clone()));
            }
        }
    }
    dump
}

/// The value after `NAME:` in answer.txt.
fn answer(text: &str, name: &str) -> Option<String> {
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .find_map(|l| l.trim().strip_prefix(name)?.strip_prefix(':'))
        .map(|value| value.trim().to_string())
}

/// `BPF_MAP_LOOKUP_ELEM`, `bpf_map_lookup_elem` and `MAP_LOOKUP_ELEM` are the same command.
fn command_name(text: &str) -> String {
    let upper = text.trim().to_ascii_uppercase();
    match upper.strip_prefix("BPF_") {
        Some(rest) => format!("BPF_{rest}"),
        None => format!("BPF_{upper}"),
    }
}

#[test]
fn the_answers_are_what_strace_shows() {
    testing::require_kernel();
    testing::require_tool("strace");
    testing::require_tool("bpftool");
    let first = Session::spawn(&PROGRAM, &[]);
    let second = Session::spawn(&PROGRAM, &[]);
    let mut sessions = vec![first, second];
    for session in &mut sessions {
        // A program that does not load is "could not run", not "not solved" (see checks/common.rs).
        if let Err(seen) =
            session.wait_for_line(Duration::from_secs(30), |l| l.contains(": attached"))
        {
            panic!(
                "the program did not load and attach, so nothing could be checked; it printed {seen:#?}"
            );
        }
    }
    // The two `config` maps, one per instance, by the kernel's map info.
    let held: BTreeSet<u32> = sessions.iter().flat_map(|s| s.objects().maps).collect();
    let ours: BTreeSet<u32> = MapInfoIter::default()
        .filter(|info| held.contains(&info.id) && info.name.to_string_lossy() == "config")
        .map(|info| info.id)
        .collect();
    assert_eq!(ours.len(), 2, "each instance holds a map called config");
    // Others may have maps called `config` too: bpftool dumps them all.
    let config: BTreeSet<u32> = MapInfoIter::default()
        .filter(|info| info.name.to_string_lossy() == "config")
        .map(|info| info.id)
        .collect();

    let trace = std::env::temp_dir().join(format!("ch04-2-{}.strace", std::process::id()));
    let run = Command::new("strace")
        .args(["-e", "trace=bpf", "-o"])
        .arg(&trace)
        .args(["bpftool", "map", "dump", "name", "config"])
        .output()
        .expect("run strace (`cargo xtask setup` installs it)");
    let text = std::fs::read_to_string(&trace).unwrap_or_default();
    let _ = std::fs::remove_file(&trace);
    assert!(run.status.success(), "strace bpftool map dump: {run:?}");
    for session in sessions.into_iter().rev() {
        let _ = session.interrupt();
    }
    let dump = follow_the_fds(&text, &config);
    assert!(
        ours.is_subset(&dump.walked),
        "bpftool walked the keys of maps {:?}, not of both instances' {ours:?}:\n{text}",
        dump.walked
    );

    let text = std::fs::read_to_string(ANSWER).unwrap_or_default();
    let maps = dump.walked.len().to_string();
    match answer(&text, "maps") {
        Some(n) if n == maps => {}
        got => exercise_failed(
            &format!("`maps: {maps}`: bpftool dumped {maps} maps called config"),
            &match got {
                Some(n) => format!("`maps: {n}` in answer.txt"),
                None => format!("no line `maps: N` in {ANSWER}"),
            },
        ),
    }
    for (step, what) in [
        ("open", "opened each config map from its id"),
        (
            "info",
            "fetched each config map's information (name, type, sizes)",
        ),
        ("walk", "walked each config map's keys"),
        ("read", "read the value of each key"),
    ] {
        let commands = dump.steps.get(step).cloned().unwrap_or_default();
        assert!(
            !commands.is_empty(),
            "strace shows no `{step}` step:\n{text}"
        );
        let expected = commands.iter().cloned().collect::<Vec<_>>().join(" or ");
        match answer(&text, step) {
            Some(got) if commands.contains(&command_name(&got)) => {}
            got => exercise_failed(
                &format!("`{step}: {expected}`: the bpf() command that {what}"),
                &match got {
                    Some(got) => format!("`{step}: {got}` in answer.txt"),
                    None => format!("no line `{step}: COMMAND` in {ANSWER}"),
                },
            ),
        }
    }
    println!(
        "bpftool dumped {maps} maps called config: each opened with {}, its info fetched with {}, its keys walked with {} and read with {}",
        dump.steps["open"].iter().next().unwrap(),
        dump.steps["info"].iter().next().unwrap(),
        dump.steps["walk"].iter().next().unwrap(),
        dump.steps["read"].iter().next().unwrap(),
    );
}
