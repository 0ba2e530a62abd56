//! The unbroken hello-verifier on the kernel: events as the book prints them, and the
//! control-flow graph of kprobe_exec compared with bpftool's.

use ebpf_support::testing::{self, Session, TestUser, exec_marked, unique_comm};
use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

const BINARY: &str = env!("CARGO_BIN_EXE_hello-verifier");

mod hello_verifier {
    use super::*;

    /// `PID UID COUNTER COMMAND MESSAGE` for each execve; user 501's message from the map.
    #[test]
    fn reports_execs_with_a_counter_and_the_message() {
        if !testing::ready_for(&chapter06::HELLO_VERIFIER) {
            return;
        }
        let mut session = Session::spawn(BINARY, &["--timeout", "60"]);
        session.expect_line("attached", |l| l.contains(": attached kprobe_exec ("));
        // Both programs, the two maps and the globals' maps; all gone after Ctrl-C.
        let objects = session.objects();
        assert_eq!(objects.progs.len(), 2, "{objects:?}");
        let liz = TestUser {
            uid: 501,
            gid: 3_000_501,
        };
        let mut counters = Vec::new();
        for (user, message) in [
            (Some(TestUser::unique()), "Hello World"),
            (Some(liz), "hello Liz"),
            (None, "Hello World"),
        ] {
            let comm = unique_comm("ver");
            let pid = exec_marked(&comm, user, || {});
            let uid = user.map_or(0, |u| u.uid);
            let line = session.expect_line(&comm, |l| {
                l.split_whitespace().nth(3) == Some(comm.as_str())
            });
            let fields: Vec<&str> = line.split_whitespace().collect();
            assert_eq!(fields[0], pid.to_string(), "{line}");
            assert_eq!(fields[1], uid.to_string(), "{line}");
            assert_eq!(fields[4..].join(" "), message, "{line}");
            counters.push(fields[2].parse::<u64>().unwrap());
        }
        // c counts every execve on the machine, so ours are increasing, not consecutive.
        assert!(
            counters[0] >= 1 && counters.windows(2).all(|w| w[0] < w[1]),
            "{counters:?}"
        );
        session.interrupt();
    }

    /// bpftool's blocks: the first instruction of each node, and the edges between nodes.
    fn bpftool_cfg(id: u32) -> (BTreeSet<usize>, BTreeSet<(usize, Option<usize>)>) {
        let output = Command::new("bpftool")
            .args(["prog", "dump", "xlated", "id", &id.to_string(), "visual"])
            .output()
            .expect("bpftool (cargo xtask setup installs it)");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let dot = String::from_utf8_lossy(&output.stdout);
        let node =
            regex::Regex::new(r#"(fn_0_bb_\d+) \[shape=record,style=filled,label="\{\s*(\d+):"#)
                .unwrap();
        let starts: BTreeMap<&str, usize> = node
            .captures_iter(&dot)
            .map(|c| (c.get(1).unwrap().as_str(), c[2].parse().unwrap()))
            .collect();
        let edge = regex::Regex::new(r"(fn_0_bb_\d+):s -> (fn_0_bb_\d+):n").unwrap();
        let edges = edge
            .captures_iter(&dot)
            .filter(|c| &c[1] != "fn_0_bb_0") // from ENTRY
            .map(|c| (starts[&c[1]], starts.get(&c[2]).copied()))
            .collect();
        (starts.into_values().collect(), edges)
    }

    /// Our graph of the program the kernel holds, with the same blocks and edges as
    /// `bpftool prog dump xlated id N visual`. One difference: bpftool draws an edge from a
    /// block that ends in `exit` to the block after it; ours goes to EXIT.
    #[test]
    fn the_control_flow_graph_matches_bpftools() {
        if !testing::ready_for(&chapter06::HELLO_VERIFIER)
            || !testing::tool(
                "bpftool",
                "chapter 6's comparison of the control-flow graph with bpftool's",
            )
        {
            return;
        }
        let dir = std::env::temp_dir().join(format!("hello-verifier-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("kprobe_exec.dot");
        let mut session = Session::spawn(
            BINARY,
            &["--timeout", "60", "--cfg", file.to_str().unwrap()],
        );
        let loaded = session.expect_line("loaded", |l| l.contains(": loaded kprobe_exec (id "));
        let id: u32 = loaded
            .split("kprobe_exec (id ")
            .nth(1)
            .unwrap()
            .split(')')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        session.expect_line("attached", |l| l.contains(": attached"));
        let (bpftool_blocks, bpftool_edges) = bpftool_cfg(id);
        session.interrupt();

        let dot = std::fs::read_to_string(&file).unwrap();
        // Graphviz drew it, where it is installed (the set-up installs it).
        if Command::new("dot").arg("-V").output().is_ok() {
            let png = std::fs::read(file.with_extension("png")).expect("kprobe_exec.png");
            assert!(png.starts_with(b"\x89PNG"), "not a PNG");
        }
        std::fs::remove_dir_all(&dir).unwrap();
        assert_same_graph(&dot, bpftool_blocks, bpftool_edges);
    }

    /// The bounded loop's graph has a back edge (`goto pc-11`): the cycle the verifier follows
    /// ten times. The variant is loaded here (hello-verifier --break loads and exits).
    #[test]
    fn the_loops_graph_matches_bpftools() {
        if !testing::ready_for(&chapter06::HELLO_VERIFIER)
            || !testing::tool(
                "bpftool",
                "chapter 6's comparison of the control-flow graph with bpftool's",
            )
        {
            return;
        }
        let bytes = chapter06::object(Some("bounded-loop")).unwrap();
        let object = libbpf_rs::ObjectBuilder::default()
            .open_memory(bytes)
            .unwrap()
            .load()
            .unwrap();
        let program = object.progs().find(|p| p.name() == "xdp_hello").unwrap();
        let id = libbpf_rs::Program::id_from_fd(std::os::fd::AsFd::as_fd(&program)).unwrap();
        let options =
            libbpf_rs::query::ProgInfoQueryOptions::default().include_xlated_prog_insns(true);
        let info = libbpf_rs::query::ProgInfoIter::with_query_opts(options)
            .find(|i| i.id == id)
            .unwrap();
        let insns = chapter03::disasm::decode(&info.xlated_prog_insns);
        let dot = chapter06::cfg::dot("xdp_hello", &insns, &chapter03::disasm::NoSymbols);
        let (blocks, edges) = bpftool_cfg(id);
        drop(object);
        assert!(dot.contains(" [style=dashed]"), "{dot}");
        assert_same_graph(&dot, blocks, edges);
    }

    /// Our DOT's blocks and edges are bpftool's. One difference: bpftool draws an edge from a
    /// block that ends in `exit` to the block after it; ours goes to EXIT.
    fn assert_same_graph(
        dot: &str,
        bpftool_blocks: BTreeSet<usize>,
        bpftool_edges: BTreeSet<(usize, Option<usize>)>,
    ) {
        let node = regex::Regex::new(r#"b(\d+) \[label="(\d+):"#).unwrap();
        let ours: BTreeSet<usize> = node
            .captures_iter(dot)
            .map(|c| c[1].parse().unwrap())
            .collect();
        assert_eq!(ours, bpftool_blocks, "{dot}");
        let edge = regex::Regex::new(r"b(\d+) -> (b(\d+)|EXIT)").unwrap();
        let blocks: Vec<usize> = ours.iter().copied().collect();
        let mut edges = BTreeSet::new();
        for c in edge.captures_iter(dot) {
            let from: usize = c[1].parse().unwrap();
            let to = match c.get(3) {
                Some(to) => Some(to.as_str().parse().unwrap()),
                // bpftool: the block after this one, or EXIT after the last.
                None => blocks.iter().copied().find(|&b| b > from),
            };
            edges.insert((from, to));
        }
        assert_eq!(edges, bpftool_edges, "{dot}");
    }
}
