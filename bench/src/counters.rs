//! Case 3, map counters: what one count costs in an eBPF program, kept in a HASH map with an
//! atomic add, in a PERCPU_HASH map with a plain add, or in a global with an atomic add, from
//! one generator thread and from two on two cores, in nanoseconds per run as the kernel's own
//! statistics count them.

use std::mem::MaybeUninit;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use libbpf_rs::skel::{OpenSkel, SkelBuilder};
use libbpf_rs::{MapCore, MapFlags, ProgramMut};

use crate::generator::{self, Until};
use crate::globals;
use crate::report::{CaseResult, Column, Ratio, Row, Table, Unit, Value};
use crate::stats::{self, RunStats, RunTimeStats};
use crate::{Progress, Settings};

ebpf_support::skeleton!(counters);
use counters::{CountersSkel, CountersSkelBuilder};

#[derive(Clone, Copy, PartialEq)]
enum Counter {
    None,
    Hash,
    PerCpuHash,
    Global,
}

const COUNTERS: [(Counter, &str); 4] = [
    (Counter::None, "no count (the baseline)"),
    (Counter::Hash, "HASH, __sync_fetch_and_add"),
    (Counter::PerCpuHash, "PERCPU_HASH, plain add"),
    (Counter::Global, "global, __sync_fetch_and_add"),
];

const THREADS: [usize; 2] = [1, 2];

const KEY: [u8; 4] = 0u32.to_ne_bytes();

pub fn run(settings: &Settings, progress: &Progress) -> Result<CaseResult> {
    let sysctl_before = stats::sysctl();
    let stats_on = RunTimeStats::enable()?;
    let sysctl_during = stats::sysctl();
    let mut object = MaybeUninit::uninit();
    let mut open = CountersSkelBuilder::default()
        .open(&mut object)
        .context("opening counters.bpf.o")?;
    open.maps
        .rodata_data
        .as_deref_mut()
        .expect("counters.bpf.c has a .rodata")
        .benchmark_tgid = std::process::id();
    let skel = open.load().context("loading counters.bpf.o")?;
    let zero = 0u64.to_ne_bytes();
    skel.maps.hash.update(&KEY, &zero, MapFlags::ANY)?;
    let cpus = libbpf_rs::num_possible_cpus()?;
    skel.maps
        .percpu_hash
        .update_percpu(&KEY, &vec![zero.to_vec(); cpus], MapFlags::ANY)?;

    let allowed = generator::allowed_cpus()?;
    if allowed.len() < 2 {
        progress.say("only one CPU: the two threads share it");
    }
    let rounds = settings.pick(8, 3);
    let duration = Duration::from_millis(settings.pick(1000, 300));
    // samples[counter][threads]
    let mut samples = vec![vec![Vec::new(); THREADS.len()]; COUNTERS.len()];
    for round in 0..rounds {
        progress.say(format!(
            "round {}/{rounds}: {} programs × 1 and 2 threads, {:.1} s each",
            round + 1,
            COUNTERS.len(),
            duration.as_secs_f64()
        ));
        for (t, &threads) in THREADS.iter().enumerate() {
            for (c, &(counter, label)) in COUNTERS.iter().enumerate() {
                let program = program(&skel, counter);
                let link = generator::attach(program)?;
                let runs_before = RunStats::of(program)?;
                let count_before = count(&skel, counter)?;
                let generated = generator::run(threads, Until::Elapsed(duration))?;
                let runs = RunStats::of(program)?.since(runs_before);
                drop(link);
                let counted = count(&skel, counter)? - count_before;
                if counter != Counter::None && counted != generated.calls {
                    bail!("{label}: {} calls counted as {counted}", generated.calls);
                }
                let Some(nanos) = runs.nanos_per_run() else {
                    bail!("{label}: the kernel counted no runs (are run-time statistics on?)");
                };
                samples[c][t].push(nanos);
            }
        }
    }
    drop(stats_on);
    let sysctl_after = stats::sysctl();

    let rows = COUNTERS
        .iter()
        .zip(&samples)
        .map(|(&(_, label), by_threads)| {
            let contention: Vec<f64> = by_threads[1]
                .iter()
                .zip(&by_threads[0])
                .map(|(two, one)| two / one)
                .collect();
            Row::new(
                label,
                vec![
                    Some(Value::of(&by_threads[0])),
                    Some(Value::of(&by_threads[1])),
                    Some(Value::of(&contention)),
                ],
            )
        })
        .collect();
    let unchanged = if sysctl_before == sysctl_after {
        "unchanged"
    } else {
        "CHANGED"
    };
    let table = Table {
        title: format!(
            "Map counters: nanoseconds per run from bpf_stats, medians of {rounds} interleaved runs of {:.1} s (25th–75th percentile)",
            duration.as_secs_f64()
        ),
        row_heading: "counter".into(),
        columns: vec![
            Column::new("1 thread", Unit::Nanoseconds),
            Column::new("2 threads", Unit::Nanoseconds),
            Column::new("2 threads / 1 thread", Unit::Count),
        ],
        rows,
        ratio: Some(Ratio::to_first_row(1, false)),
        notes: vec![
            format!(
                "Generator threads pinned to CPUs {} call getppid(); each program on tracepoint syscalls/sys_enter_getppid checks that the caller is the benchmark, then counts (the baseline only checks). Every count was checked against the calls made.",
                allowed
                    .iter()
                    .take(2)
                    .map(|c| c.to_string())
                    .collect::<Vec<_>>()
                    .join(" and ")
            ),
            format!(
                "kernel.bpf_stats_enabled read {sysctl_before} before the case, {sysctl_during} while BPF_ENABLE_STATS's descriptor was open, and {sysctl_after} after ({unchanged}): the sysctl itself was never written."
            ),
        ],
    };
    Ok(CaseResult {
        tables: vec![table],
        targets: vec![],
    })
}

fn program<'a>(skel: &'a CountersSkel, counter: Counter) -> &'a ProgramMut<'a> {
    match counter {
        Counter::None => &skel.progs.empty,
        Counter::Hash => &skel.progs.hash_atomic,
        Counter::PerCpuHash => &skel.progs.percpu_hash_add,
        Counter::Global => &skel.progs.global_atomic,
    }
}

/// The count so far (0 for the baseline).
fn count(skel: &CountersSkel, counter: Counter) -> Result<u64> {
    let number = |bytes: &[u8]| u64::from_ne_bytes(bytes.try_into().unwrap());
    Ok(match counter {
        Counter::None => 0,
        Counter::Hash => skel
            .maps
            .hash
            .lookup(&KEY, MapFlags::ANY)?
            .map_or(0, |v| number(&v)),
        Counter::PerCpuHash => skel
            .maps
            .percpu_hash
            .lookup_percpu(&KEY, MapFlags::ANY)?
            .map_or(0, |values| values.iter().map(|v| number(v)).sum()),
        Counter::Global => globals::read(
            &skel
                .maps
                .bss_data
                .as_deref()
                .expect("counters.bpf.c has a .bss")
                .global_count,
        ),
    })
}
