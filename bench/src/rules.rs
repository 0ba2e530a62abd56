//! Case `rules`: rule scaling, as chapter 8 tells it. An allow-list of IPv4 source addresses in
//! `b`, from 10 to 10,000 entries, with the flood's own source as the last entry: as iptables
//! rules in the raw table's PREROUTING chain (nf_tables and legacy xtables), each of which a
//! packet is checked against in turn, and as one lookup in an eBPF hash map from a TC program.
//! Each packet's cost is compared with the same flood through no filter at all.

use std::fmt::Write;
use std::mem::MaybeUninit;
use std::net::Ipv4Addr;
use std::os::fd::AsFd;
use std::time::Duration;

use anyhow::{Context, Result};
use libbpf_rs::{MapCore, MapFlags};

use crate::flood::{self, Flood, PacketDropSkel};
use crate::report::{CaseResult, Column, Ratio, Row, Table, Unit, Value};
use crate::stats::{RunStats, RunTimeStats};
use crate::{Progress, Settings};

/// The datagrams' payload: small, so that the filter is a larger part of a packet's cost.
const PAYLOAD: usize = 64;

#[derive(Clone, Copy)]
enum Filter {
    /// The allow-list loaded with this restore command.
    Iptables(&'static str),
    HashMap,
}

const FILTERS: [(Filter, &str); 3] = [
    (Filter::Iptables("iptables-restore"), "iptables (nf_tables)"),
    (
        Filter::Iptables("iptables-legacy-restore"),
        "iptables-legacy",
    ),
    (Filter::HashMap, "eBPF hash map (TC)"),
];

/// One row's samples, one per round.
#[derive(Default)]
struct Samples {
    cpu_nanos: Vec<f64>,
    /// What the filter added to a packet: `cpu_nanos` minus the unfiltered flood's in the
    /// same round.
    cost: Vec<f64>,
    /// The TC program's nanoseconds per run, from bpf_stats.
    program: Vec<f64>,
    /// The same from BPF_PROG_TEST_RUN, without the statistics' clock reads.
    test_run: Vec<f64>,
}

pub fn run(settings: &Settings, progress: &Progress) -> Result<CaseResult> {
    let sizes: &[usize] = settings.pick(&[10, 30, 100, 300, 1000, 3000, 10000], &[10, 100, 1000]);
    let rounds = settings.pick(7, 3);
    let duration = Duration::from_secs_f64(settings.pick(0.4, 0.15));
    let mut object = MaybeUninit::uninit();
    let skel = flood::load(&mut object)?;
    let mut map = AllowList::new(&skel)?;
    let frame = flood::udp_frame(PAYLOAD);
    let repeat = settings.pick(1_000_000, 100_000);

    // Row 0 is the unfiltered flood; then each size's filters, in FILTERS order.
    let mut samples: Vec<Samples> = (0..1 + sizes.len() * FILTERS.len())
        .map(|_| Samples::default())
        .collect();
    for round in 1..=rounds {
        progress.say(format!(
            "round {round}/{rounds}: no filter, then {} filters of each size",
            FILTERS.len()
        ));
        let flood = Flood::new()?;
        flood.warm_up()?;
        let baseline = flood
            .rate(PAYLOAD, duration, Flood::udp_arrivals)?
            .cpu_nanos;
        drop(flood);
        samples[0].cpu_nanos.push(baseline);
        samples[0].cost.push(0.0);
        let rows = samples[1..].chunks_mut(FILTERS.len());
        for (&size, row) in sizes.iter().zip(rows) {
            for ((filter, _), samples) in FILTERS.iter().zip(row) {
                let flood = Flood::new()?;
                let _link = match filter {
                    Filter::Iptables(restore) => {
                        flood.iptables(restore, &[], &allow_list(size))?;
                        None
                    }
                    Filter::HashMap => {
                        map.fill(size)?;
                        let program = skel.progs.tc_allow.as_fd();
                        Some(flood.attach(program, libbpf_sys::BPF_TCX_INGRESS, 0)?)
                    }
                };
                flood.warm_up()?;
                let nanos = flood
                    .rate(PAYLOAD, duration, Flood::udp_arrivals)?
                    .cpu_nanos;
                samples.cpu_nanos.push(nanos);
                samples.cost.push(nanos - baseline);
                if let Filter::HashMap = filter {
                    samples
                        .program
                        .extend(program_cost(&skel, &flood, duration)?);
                    let program = &skel.progs.tc_allow;
                    samples
                        .test_run
                        .push(flood::test_run(program, &frame, repeat)?);
                }
            }
        }
    }
    Ok(CaseResult {
        tables: vec![table(sizes, &samples)],
        targets: vec![],
    })
}

/// The TC program's nanoseconds per run over one more short flood, with run-time statistics
/// on (they read the clock around every run, so the timed flood runs without them).
fn program_cost(skel: &PacketDropSkel, flood: &Flood, duration: Duration) -> Result<Option<f64>> {
    let program = skel.progs.tc_allow.as_fd();
    let _stats = RunTimeStats::enable()?;
    let before = RunStats::of(program)?;
    flood.rate(PAYLOAD, duration / 2, |_| Ok(0))?;
    Ok(RunStats::of(program)?.since(before).nanos_per_run())
}

/// The `n - 1` other allowed addresses: 10.1.0.1, 10.1.0.2, … (none of them the flood's).
fn other(index: usize) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(Ipv4Addr::new(10, 1, 0, 1)) + index as u32)
}

/// An allow-list of `n` entries for iptables-restore: `n - 1` other addresses, then the
/// flood's source, so that its packets pass every rule before the one that accepts them;
/// everything else is dropped.
fn allow_list(n: usize) -> String {
    let mut rules = String::from("*raw\n:PREROUTING ACCEPT [0:0]\n");
    for index in 0..n - 1 {
        writeln!(rules, "-A PREROUTING -s {}/32 -j ACCEPT", other(index)).unwrap();
    }
    writeln!(rules, "-A PREROUTING -s {}/32 -j ACCEPT", flood::SENDER).unwrap();
    rules.push_str("-A PREROUTING -j DROP\nCOMMIT\n");
    rules
}

/// The TC program's hash map, holding the flood's source and a number of other addresses.
struct AllowList<'a> {
    skel: &'a PacketDropSkel<'a>,
    others: usize,
}

impl<'a> AllowList<'a> {
    fn new(skel: &'a PacketDropSkel<'a>) -> Result<AllowList<'a>> {
        let list = AllowList { skel, others: 0 };
        list.update(flood::SENDER, true)?;
        Ok(list)
    }

    /// Makes the map hold `n` entries: the flood's source and `n - 1` others.
    fn fill(&mut self, n: usize) -> Result<()> {
        while self.others < n - 1 {
            self.update(other(self.others), true)?;
            self.others += 1;
        }
        while self.others > n - 1 {
            self.others -= 1;
            self.update(other(self.others), false)?;
        }
        Ok(())
    }

    fn update(&self, address: Ipv4Addr, allow: bool) -> Result<()> {
        let map = &self.skel.maps.allowed;
        // The key is the address as the packet carries it: network byte order.
        let key = address.octets();
        if allow {
            map.update(&key, &[1], MapFlags::ANY)
        } else {
            map.delete(&key)
        }
        .with_context(|| format!("updating the allow-list map ({address})"))
    }
}

fn table(sizes: &[usize], samples: &[Samples]) -> Table {
    let value = |xs: &[f64]| (!xs.is_empty()).then(|| Value::of(xs));
    let per_cpu_second =
        |nanos: &[f64]| value(&nanos.iter().map(|n| 1e9 / n).collect::<Vec<f64>>());
    let mut labels = vec!["no filter".to_string()];
    for size in sizes {
        for (_, name) in FILTERS {
            labels.push(format!("{name}, {size} entries"));
        }
    }
    let rows = labels
        .into_iter()
        .zip(samples)
        .map(|(label, s)| {
            Row::new(
                label,
                vec![
                    per_cpu_second(&s.cpu_nanos),
                    value(&s.cpu_nanos),
                    value(&s.cost),
                    value(&s.program),
                    value(&s.test_run),
                ],
            )
        })
        .collect();
    Table {
        title: "An allow-list of source addresses: iptables rules against one hash map lookup"
            .into(),
        row_heading: "filter in b".into(),
        columns: vec![
            Column::new("packets per CPU-second", Unit::PerSecond),
            Column::new("CPU per packet", Unit::Nanoseconds),
            Column::new("the filter's cost per packet", Unit::Nanoseconds),
            Column::new("TC program per run (bpf_stats)", Unit::Nanoseconds),
            Column::new("TC program per run (BPF_PROG_TEST_RUN)", Unit::Nanoseconds),
        ],
        rows,
        ratio: Some(Ratio::to_first_row(1, false)),
        notes: vec![
            format!(
                "The flood of the xdp case ({PAYLOAD}-byte payloads, one sender thread, a fresh lab per row and round), reaching a socket in b through an allow-list whose last entry is the flood's source, so that iptables checks every rule before it accepts the packet. The rules are loaded with iptables-restore into the raw table's PREROUTING chain; the eBPF filter is a TC program (tcx ingress) that looks the source up in a hash map and drops what it does not find. The filter's cost is the CPU time per packet minus the unfiltered flood's in the same round. The TC program's own cost per run is shown twice: from bpf_stats over one more short flood (which adds the statistics' clock reads to every run) and from BPF_PROG_TEST_RUN on a frame from the flood's source."
            ),
            crossover(sizes, samples),
        ],
    }
}

/// Where iptables starts to cost more than the map. At a few entries both costs are smaller
/// than the flood's noise, so the crossover is estimated: the map's cost is the median over all
/// its rows (it does not grow), and iptables' cost per rule is its cost at the largest list
/// divided by the list's length.
fn crossover(sizes: &[usize], samples: &[Samples]) -> String {
    let map = FILTERS.len() - 1;
    let row = |size_index: usize, filter: usize| &samples[1 + size_index * FILTERS.len() + filter];
    let map_costs: Vec<f64> = (0..sizes.len())
        .flat_map(|i| row(i, map).cost.iter().copied())
        .collect();
    let map_cost = Value::of(&map_costs).median;
    let largest = sizes.len() - 1;
    let mut sentences = Vec::new();
    for (filter, (_, name)) in FILTERS[..map].iter().enumerate() {
        let per_rule = Value::of(&row(largest, filter).cost).median / sizes[largest] as f64;
        let measured = (0..sizes.len())
            .find(|&i| Value::of(&row(i, filter).cost).median > Value::of(&row(i, map).cost).median)
            .map_or("at no size measured".to_string(), |i| {
                format!("from {} entries", sizes[i])
            });
        let estimate = if per_rule <= 0.0 {
            "no estimate (no cost per rule measured)".to_string()
        } else if map_cost <= per_rule {
            format!("about 1 entry ({per_rule:.1} ns per rule, the map's cost below that)")
        } else {
            format!(
                "about {:.0} entries ({map_cost:.0} ns for the map / {per_rule:.1} ns per rule)",
                map_cost / per_rule
            )
        };
        sentences.push(format!(
            "{name} costs more than the map {measured} in the medians measured, and the lines cross at {estimate}"
        ));
    }
    format!(
        "Crossover in this run: {}. The map's cost does not grow with the list; the rules' grows with every entry. At the smallest lists the difference is within the noise of the flood (see the quartiles), so the estimate is the better guide.",
        sentences.join("; ")
    )
}
