//! Check for exercise 3.2: what the reader found about chapter 2's hello-map with bpftool (or
//! inspect), in answers.txt, compared with what the kernel says about a hello-map that the
//! check starts.

use ebpf_support::testing::{self, Session, exercise_failed, lock_trace_pipe};

#[path = "answers.rs"]
mod answers;
use answers::{all, map_type_name, program_type_name};

const ANSWERS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/answers.txt");

#[test]
fn the_answers_match_the_kernels_view_of_hello_map() {
    testing::require_kernel();
    let binary = answers::chapter_binary("chapter02", "hello-map");
    let answers = answers::answers(&answers::answers_text(ANSWERS, &binary));
    let _lock = lock_trace_pipe();
    let mut program = Session::spawn(&binary, &["--interval", "60"]);
    if let Err(seen) = program.wait_for_line(std::time::Duration::from_secs(30), |l| {
        l.contains(": attached")
    }) {
        panic!("hello-map did not load and attach, so nothing could be checked: {seen:#?}");
    }
    let objects = program.objects();
    let options = libbpf_rs::query::ProgInfoQueryOptions::default().include_xlated_prog_insns(true);
    let programs: Vec<_> = libbpf_rs::query::ProgInfoIter::with_query_opts(options)
        .filter(|info| objects.progs.contains(&info.id))
        .collect();
    let maps: Vec<_> = libbpf_rs::query::MapInfoIter::default()
        .filter(|info| objects.maps.contains(&info.id))
        .collect();
    let _ = program.interrupt();
    let [hello] = &programs[..] else {
        panic!("hello-map holds {} programs, expected one", programs.len());
    };
    let [map] = &maps[..] else {
        panic!("hello-map holds {} maps, expected one", maps.len());
    };
    let expected = [
        ("name", hello.name.to_string_lossy().into_owned()),
        ("type", program_type_name(hello.ty)),
        (
            "tag",
            hello.tag.0.iter().map(|b| format!("{b:02x}")).collect(),
        ),
        (
            "instructions",
            (hello.xlated_prog_insns.len() / 8).to_string(),
        ),
        ("map", map.name.to_string_lossy().into_owned()),
        ("map_type", map_type_name(map.ty)),
    ];
    for (key, kernel) in expected {
        let given = all(&answers, key);
        if given != [kernel.clone()] {
            exercise_failed(
                &format!("{key}: {kernel}"),
                &format!("{key}: {}", given.join(", ")),
            );
        }
    }
}
