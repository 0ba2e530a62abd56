//! Check for exercise 3.3: what the reader found about chapter 2's hello-tail with bpftool (or
//! inspect), in answers.txt, compared with what the kernel says about a hello-tail that the
//! check starts: each tail-call target is a program of its own.

use std::collections::BTreeSet;

use ebpf_support::testing::{self, Session, exercise_failed, lock_trace_pipe};

#[path = "answers.rs"]
mod answers;
use answers::{all, map_type_name, program_type_name};

const ANSWERS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/answers.txt");

#[test]
fn the_answers_match_the_kernels_view_of_hello_tail() {
    testing::require_kernel();
    let binary = answers::chapter_binary("chapter02", "hello-tail");
    let answers = answers::answers(&answers::answers_text(ANSWERS, &binary));
    let _lock = lock_trace_pipe();
    let mut program = Session::spawn(&binary, &[]);
    if let Err(seen) = program.wait_for_line(std::time::Duration::from_secs(30), |l| {
        l.contains(": attached")
    }) {
        panic!("hello-tail did not load and attach, so nothing could be checked: {seen:#?}");
    }
    let objects = program.objects();
    let programs: Vec<_> = libbpf_rs::query::ProgInfoIter::default()
        .filter(|info| objects.progs.contains(&info.id))
        .collect();
    let maps: Vec<_> = libbpf_rs::query::MapInfoIter::default()
        .filter(|info| objects.maps.contains(&info.id))
        .collect();
    let _ = program.interrupt();

    let names: BTreeSet<String> = programs
        .iter()
        .map(|p| p.name.to_string_lossy().into_owned())
        .collect();
    let given: BTreeSet<String> = all(&answers, "program").into_iter().collect();
    if given != names {
        exercise_failed(
            &format!("program: one line for each of {names:?}"),
            &format!("program: {given:?}"),
        );
    }
    let types: BTreeSet<String> = programs.iter().map(|p| program_type_name(p.ty)).collect();
    let given: BTreeSet<String> = all(&answers, "type").into_iter().collect();
    if given != types {
        exercise_failed(
            &format!("type: {}", types.into_iter().collect::<Vec<_>>().join(", ")),
            &format!("type: {}", given.into_iter().collect::<Vec<_>>().join(", ")),
        );
    }
    // The tail-call targets are held in a program array.
    let Some(array) = maps.iter().find(|m| m.ty == libbpf_rs::MapType::ProgArray) else {
        panic!("hello-tail holds no program array: {maps:?}");
    };
    for (key, kernel) in [
        ("map", array.name.to_string_lossy().into_owned()),
        ("map_type", map_type_name(array.ty)),
    ] {
        let given = all(&answers, key);
        if given != [kernel.clone()] {
            exercise_failed(
                &format!("{key}: {kernel}"),
                &format!("{key}: {}", given.join(", ")),
            );
        }
    }
}
