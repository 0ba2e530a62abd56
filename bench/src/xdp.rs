//! Case `xdp`: where is a packet cheapest to drop? A UDP flood from `a` to `b` in the lab,
//! dropped in `b` by nothing (the baseline: a socket that never reads), by an iptables rule in
//! the raw table's PREROUTING chain (netfilter's earliest hook), or by an XDP program in native
//! and in generic mode; at two payload sizes, because on a veth the XDP path copies the packet.
//! Beside it, the XDP program's own cost, from BPF_PROG_TEST_RUN and from the kernel's run-time
//! statistics.

use std::mem::MaybeUninit;
use std::os::fd::AsFd;
use std::time::Duration;

use anyhow::{Context, Result};
use libbpf_rs::{MapCore, MapFlags};

use crate::flood::{self, Flood, PacketDropSkel};
use crate::report::{CaseResult, Column, Ratio, Row, Table, Unit, Value};
use crate::stats::{RunStats, RunTimeStats};
use crate::{Progress, Settings};

/// The payload sizes: a small datagram, and one that nearly fills a 1500-byte MTU.
const PAYLOADS: [usize; 2] = [64, 1400];

#[derive(Clone, Copy, PartialEq)]
enum Dropper {
    Nothing,
    Iptables,
    XdpNative,
    XdpGeneric,
}

const DROPPERS: [(Dropper, &str); 4] = [
    (Dropper::Nothing, "nothing: a UDP socket that never reads"),
    (
        Dropper::Iptables,
        "iptables (nf_tables): DROP in raw PREROUTING",
    ),
    (
        Dropper::XdpNative,
        "XDP_DROP, native mode (veth copies the skb)",
    ),
    (
        Dropper::XdpGeneric,
        "XDP_DROP, generic mode (the stack copies the skb)",
    ),
];

/// What the rounds gathered for one dropper.
#[derive(Default)]
struct Samples {
    /// What reached the drop point, per payload size.
    rates: [Vec<flood::Rate>; 2],
    /// The XDP program's nanoseconds per run, as the kernel counted them (XDP rows only).
    program: Vec<f64>,
}

pub fn run(settings: &Settings, progress: &Progress) -> Result<CaseResult> {
    let rounds = settings.pick(11, 5);
    let duration = Duration::from_secs_f64(settings.pick(0.5, 0.15));
    let mut object = MaybeUninit::uninit();
    let skel = flood::load(&mut object)?;
    // Fail on a missing iptables before the first round, not in the middle.
    Flood::new()?.iptables("iptables", &["--version"], "")?;

    // The program alone first, while run-time statistics are off (they add two clock reads
    // to every run).
    let repeat = settings.pick(2_000_000, 200_000);
    progress.say(format!(
        "BPF_PROG_TEST_RUN, {rounds} × {repeat} runs per frame size"
    ));
    let [small, large] = PAYLOADS.map(|payload| -> Result<Vec<f64>> {
        let frame = flood::udp_frame(payload);
        (0..rounds)
            .map(|_| flood::test_run(&skel.progs.xdp_drop, &frame, repeat))
            .collect()
    });
    let test_runs = [small?, large?];

    let mut samples: Vec<Samples> = DROPPERS.iter().map(|_| Samples::default()).collect();
    for round in 1..=rounds {
        progress.say(format!(
            "round {round}/{rounds}: {} s per dropper and payload size",
            duration.as_secs_f64()
        ));
        for ((dropper, _), samples) in DROPPERS.iter().zip(&mut samples) {
            measure(&skel, *dropper, duration, round % 2 == 0, samples)
                .with_context(|| format!("round {round}"))?;
            if matches!(dropper, Dropper::XdpNative | Dropper::XdpGeneric) {
                let nanos = program_cost(&skel, *dropper, duration)?;
                samples.program.extend(nanos);
            }
        }
    }
    Ok(CaseResult {
        tables: vec![drops_table(&samples), program_table(&samples, test_runs)],
        targets: vec![],
    })
}

/// One round for one dropper: a fresh lab, the dropper set up in `b`, and a flood of each size.
fn measure(
    skel: &PacketDropSkel,
    dropper: Dropper,
    duration: Duration,
    large_first: bool,
    samples: &mut Samples,
) -> Result<()> {
    let flood = Flood::new()?;
    let program = skel.progs.xdp_drop.as_fd();
    let _link = match dropper {
        Dropper::XdpNative => {
            Some(flood.attach(program, libbpf_sys::BPF_XDP, libbpf_sys::XDP_FLAGS_DRV_MODE)?)
        }
        Dropper::XdpGeneric => {
            Some(flood.attach(program, libbpf_sys::BPF_XDP, libbpf_sys::XDP_FLAGS_SKB_MODE)?)
        }
        Dropper::Iptables => {
            let rule = ["-t", "raw", "-A", "PREROUTING", "-p", "udp", "-j", "DROP"];
            flood.iptables("iptables", &rule, "")?;
            None
        }
        Dropper::Nothing => None,
    };
    flood.warm_up()?;
    let mut sizes: Vec<(&usize, &mut Vec<flood::Rate>)> =
        PAYLOADS.iter().zip(&mut samples.rates).collect();
    if large_first {
        sizes.reverse();
    }
    for (payload, rates) in sizes {
        let rate = match dropper {
            Dropper::Nothing => flood.rate(*payload, duration, Flood::udp_arrivals)?,
            Dropper::Iptables => flood.rate(*payload, duration, iptables_drops)?,
            Dropper::XdpNative | Dropper::XdpGeneric => {
                flood.rate(*payload, duration, |_| xdp_drops(skel))?
            }
        };
        rates.push(rate);
    }
    Ok(())
}

/// The XDP program's nanoseconds per run in the lab, as the kernel counts them while run-time
/// statistics are on: one more flood of small datagrams, apart from the timed ones because
/// the statistics add to the cost of every run.
fn program_cost(skel: &PacketDropSkel, mode: Dropper, duration: Duration) -> Result<Option<f64>> {
    let flood = Flood::new()?;
    let program = skel.progs.xdp_drop.as_fd();
    let flags = match mode {
        Dropper::XdpGeneric => libbpf_sys::XDP_FLAGS_SKB_MODE,
        _ => libbpf_sys::XDP_FLAGS_DRV_MODE,
    };
    let _link = flood.attach(program, libbpf_sys::BPF_XDP, flags)?;
    flood.warm_up()?;
    let _stats = RunTimeStats::enable()?;
    let before = RunStats::of(program)?;
    flood.rate(PAYLOADS[0], duration / 2, |_| Ok(0))?;
    Ok(RunStats::of(program)?.since(before).nanos_per_run())
}

/// The packet counter of the DROP rule in `b`'s raw PREROUTING chain.
fn iptables_drops(flood: &Flood) -> Result<u64> {
    let listing = flood.iptables(
        "iptables",
        &["-t", "raw", "-L", "PREROUTING", "-v", "-x", "-n"],
        "",
    )?;
    listing
        .lines()
        .find(|line| line.split_whitespace().nth(2) == Some("DROP"))
        .and_then(|line| line.split_whitespace().next())
        .and_then(|packets| packets.parse().ok())
        .context("no DROP rule with a packet count in `iptables -t raw -L PREROUTING -v -x -n`")
}

/// The XDP program's drop counter, summed over the CPUs.
fn xdp_drops(skel: &PacketDropSkel) -> Result<u64> {
    let per_cpu = skel
        .maps
        .drops
        .lookup_percpu(&0u32.to_ne_bytes(), MapFlags::ANY)?
        .context("the drop counter is missing")?;
    Ok(per_cpu
        .iter()
        .map(|bytes| u64::from_ne_bytes(bytes[..8].try_into().unwrap()))
        .sum())
}

fn drops_table(samples: &[Samples]) -> Table {
    let rows = DROPPERS
        .iter()
        .zip(samples)
        .map(|((_, label), s)| {
            let [small, large] = [&s.rates[0], &s.rates[1]]
                .map(|rates| rates.iter().map(|r| r.cpu_nanos).collect::<Vec<f64>>());
            let per_cpu_second =
                |nanos: &[f64]| Value::of(&nanos.iter().map(|n| 1e9 / n).collect::<Vec<f64>>());
            let growth: Vec<f64> = large.iter().zip(&small).map(|(l, s)| l - s).collect();
            let clock: Vec<f64> = s.rates[0].iter().map(|r| r.per_second).collect();
            Row::new(
                *label,
                vec![
                    Some(per_cpu_second(&small)),
                    Some(per_cpu_second(&large)),
                    Some(Value::of(&small)),
                    Some(Value::of(&large)),
                    Some(Value::of(&growth)),
                    Some(Value::of(&clock)),
                ],
            )
        })
        .collect();
    Table {
        title: "Dropping a UDP flood in the lab: packets per second at the drop point".into(),
        row_heading: "what drops the packet in b".into(),
        columns: vec![
            Column::new("packets per CPU-second, 64 B", Unit::PerSecond),
            Column::new("packets per CPU-second, 1400 B", Unit::PerSecond),
            Column::new("CPU per packet, 64 B", Unit::Nanoseconds),
            Column::new("CPU per packet, 1400 B", Unit::Nanoseconds),
            Column::new("1400 B minus 64 B", Unit::Nanoseconds),
            Column::new("packets per second by the clock, 64 B", Unit::PerSecond),
        ],
        rows,
        ratio: Some(Ratio {
            column: 0,
            baseline: 0,
            higher_is_better: true,
        }),
        notes: vec![
            "One thread in namespace a sends UDP datagrams with sendmmsg (64 a call) over a veth pair to b for a fixed time, in a fresh lab per round and dropper; the rate is what reached the drop point (the socket's UDP counters, the rule's packet counter, the XDP program's per-CPU counter) per second. The whole path runs on the sender's CPU, so the time per packet is the inverse of the rate: sending and receiving together.".into(),
            "On a veth, XDP gets no cheap raw frame: the packet arrives as an skb that the sender's stack built, and before the program may run, the skb is copied into a new buffer with 256 bytes of headroom. In native mode veth_convert_skb_to_xdp_buff calls skb_pp_cow_data (a page-pool buffer, a new skb, the old one freed) for every skb that is shared, has a locked head, fragments or less than XDP_PACKET_HEADROOM of headroom, and a locally sent one has all but the first. Generic mode does the same in netif_receive_generic_xdp (pskb_expand_head). iptables drops the skb as it is. The last column shows the copy growing with the packet: what 1336 more bytes cost each path.".into(),
        ],
    }
}

fn program_table(samples: &[Samples], [small, large]: [Vec<f64>; 2]) -> Table {
    let native = &samples[2];
    let path: Vec<f64> = native.rates[0].iter().map(|r| r.cpu_nanos).collect();
    let rows = vec![
        Row::new(
            "the whole path, XDP native, 64-byte payload",
            vec![Some(Value::of(&path))],
        ),
        Row::new(
            "BPF_PROG_TEST_RUN, 64-byte payload",
            vec![Some(Value::of(&small))],
        ),
        Row::new(
            "BPF_PROG_TEST_RUN, 1400-byte payload",
            vec![Some(Value::of(&large))],
        ),
        Row::new(
            "bpf_stats in the lab, native mode",
            vec![(!native.program.is_empty()).then(|| Value::of(&native.program))],
        ),
        Row::new(
            "bpf_stats in the lab, generic mode",
            vec![(!samples[3].program.is_empty()).then(|| Value::of(&samples[3].program))],
        ),
    ];
    Table {
        title: "The XDP program's own cost per packet".into(),
        row_heading: "measured by".into(),
        columns: vec![Column::new("per packet", Unit::Nanoseconds)],
        rows,
        ratio: Some(Ratio {
            column: 0,
            baseline: 0,
            higher_is_better: false,
        }),
        notes: vec![
            "BPF_PROG_TEST_RUN runs the program on a prepared frame many times in a loop and reports the mean time per run (with run-time statistics off). bpf_stats (BPF_ENABLE_STATS) is the kernel's run_time_ns / run_cnt over one more short flood of 64-byte datagrams per round, kept apart from the timed floods because the statistics read the clock around every run. Either way the program (a per-CPU counter and XDP_DROP) is a small part of what a packet costs.".into(),
        ],
    }
}
