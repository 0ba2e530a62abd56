//! Case `xdp`: where is a packet cheapest to drop? A UDP flood from `a` to `b` in the lab,
//! dropped in `b` by nothing (the baseline: a socket that never reads), by an iptables rule in
//! the raw table's PREROUTING chain (netfilter's earliest hook), or by an XDP program in native
//! and in generic mode; at two payload sizes, because on a veth the XDP path copies the packet.
//! Beside it, the XDP program's own cost, from BPF_PROG_TEST_RUN and from the kernel's run-time
//! statistics.

use std::collections::BTreeMap;
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, OwnedFd};
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
    /// skbs that b's kernel released with consume_skb, per packet dropped.
    consumed: Vec<f64>,
    /// How many of those each kernel function released, over all rounds.
    released_in: BTreeMap<String, u64>,
}

pub fn run(settings: &Settings, progress: &Progress) -> Result<CaseResult> {
    let rounds = settings.pick(11, 5);
    let duration = Duration::from_secs_f64(settings.pick(0.5, 0.15));
    let mut object = MaybeUninit::uninit();
    let mut skel = flood::load(&mut object)?;
    // Fail on a missing iptables before the first round, not in the middle.
    Flood::new()?.iptables("iptables", &["--version"], "")?;
    let kernel_symbols = KernelSymbols::read()?;

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
            "round {round}/{rounds}: {} s per dropper and payload size, then one short flood each with the kernel's counters on",
            duration.as_secs_f64()
        ));
        for ((dropper, _), samples) in DROPPERS.iter().zip(&mut samples) {
            measure(&skel, *dropper, duration, round % 2 == 0, samples)
                .and_then(|()| observe(&mut skel, *dropper, duration / 2, &kernel_symbols, samples))
                .with_context(|| format!("round {round}"))?;
        }
    }
    Ok(CaseResult {
        tables: vec![
            drops_table(&samples),
            program_table(&samples, test_runs),
            copy_table(&samples),
        ],
        targets: vec![],
    })
}

/// Sets `dropper` up in `b`; what it returns holds an XDP program attached.
fn set_up(flood: &Flood, skel: &PacketDropSkel, dropper: Dropper) -> Result<Option<OwnedFd>> {
    let program = skel.progs.xdp_drop.as_fd();
    Ok(match dropper {
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
    })
}

/// The packets that reached `dropper`'s drop point so far.
fn dropped(flood: &Flood, skel: &PacketDropSkel, dropper: Dropper) -> Result<u64> {
    match dropper {
        Dropper::Nothing => flood.udp_arrivals(),
        Dropper::Iptables => iptables_drops(flood),
        Dropper::XdpNative | Dropper::XdpGeneric => xdp_drops(skel),
    }
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
    let _link = set_up(&flood, skel, dropper)?;
    flood.warm_up()?;
    let mut sizes: Vec<(&usize, &mut Vec<flood::Rate>)> =
        PAYLOADS.iter().zip(&mut samples.rates).collect();
    if large_first {
        sizes.reverse();
    }
    for (payload, rates) in sizes {
        rates.push(flood.rate(*payload, duration, |f| dropped(f, skel, dropper))?);
    }
    Ok(())
}

/// One more short flood of small datagrams with the kernel's counters on, apart from the timed
/// ones because the counters add to every packet's cost: the XDP program's run-time statistics,
/// and a tracepoint on consume_skb that counts, by kernel function, the skbs b releases after
/// use. A packet that is copied leaves its original skb to be released that way.
fn observe(
    skel: &mut PacketDropSkel,
    dropper: Dropper,
    duration: Duration,
    kernel_symbols: &KernelSymbols,
    samples: &mut Samples,
) -> Result<()> {
    let flood = Flood::new()?;
    let _link = set_up(&flood, skel, dropper)?;
    flood.warm_up()?;
    skel.maps
        .bss_data
        .as_deref_mut()
        .context("packet-drop.bpf.c has a .bss")?
        .lab_netns = flood.b().netns.inode() as u32;
    let consumed = &skel.maps.consumed;
    for key in consumed.keys().collect::<Vec<_>>() {
        consumed.delete(&key)?;
    }
    let _tracepoint = skel
        .progs
        .count_consumed
        .attach()
        .context("attaching to the tracepoint skb:consume_skb (tp_btf)")?;
    let _stats = RunTimeStats::enable()?;
    let program = skel.progs.xdp_drop.as_fd();
    let before = RunStats::of(program)?;
    let rate = flood.rate(PAYLOADS[0], duration, |f| dropped(f, skel, dropper))?;
    if matches!(dropper, Dropper::XdpNative | Dropper::XdpGeneric) {
        samples
            .program
            .extend(RunStats::of(program)?.since(before).nanos_per_run());
    }
    let mut total = 0;
    for key in consumed.keys() {
        let count = consumed.lookup(&key, MapFlags::ANY)?.map_or(0, |value| {
            u64::from_ne_bytes(value[..8].try_into().unwrap())
        });
        let location = u64::from_ne_bytes(key[..8].try_into().unwrap());
        *samples
            .released_in
            .entry(kernel_symbols.function(location))
            .or_default() += count;
        total += count;
    }
    if rate.packets > 0 {
        samples.consumed.push(total as f64 / rate.packets as f64);
    }
    Ok(())
}

/// The kernel's functions by address, from /proc/kallsyms, to name where an skb was released.
struct KernelSymbols {
    /// (address, name) of the text symbols, sorted.
    functions: Vec<(u64, String)>,
}

impl KernelSymbols {
    fn read() -> Result<KernelSymbols> {
        let text = std::fs::read_to_string("/proc/kallsyms").context("reading /proc/kallsyms")?;
        let mut functions: Vec<(u64, String)> = text
            .lines()
            .filter_map(|line| {
                let mut fields = line.split_whitespace();
                let address = u64::from_str_radix(fields.next()?, 16).ok()?;
                let kind = fields.next()?;
                let name = fields.next()?;
                (address != 0 && matches!(kind, "t" | "T")).then(|| (address, name.to_string()))
            })
            .collect();
        functions.sort();
        Ok(KernelSymbols { functions })
    }

    /// The function that contains `address` (`?` when the addresses are hidden).
    fn function(&self, address: u64) -> String {
        let index = self
            .functions
            .partition_point(|(start, _)| *start <= address);
        match index.checked_sub(1) {
            Some(i) => self.functions[i].1.trim_end_matches(".cold").to_string(),
            None => "?".to_string(),
        }
    }
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
        title: "Dropping a UDP flood in the lab: packets per CPU-second at the drop point".into(),
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
        ratio: Some(Ratio::to_first_row(0, true)),
        notes: vec![
            "One thread in namespace a sends UDP datagrams with sendmmsg (64 a call) over a veth pair to b for a fixed time, in a fresh lab per round and dropper. Packets per CPU-second are the packets that reached the drop point (the socket's UDP counters, the rule's packet counter, the XDP program's per-CPU counter) divided by the sending thread's CPU time. That time includes the receive side, which runs in the softirq at the end of each send and is charged to the sender on this kernel, so it is a packet's whole cost, and other programs that take the CPU away do not lower it; the last column is the rate by the clock.".into(),
            "On a veth, XDP gets no cheap raw frame: the packet arrives as an skb that the sender's stack built, and before the program may run, the skb is copied into a new buffer with 256 bytes of headroom. In native mode veth_convert_skb_to_xdp_buff calls skb_pp_cow_data (a page-pool buffer, a new skb, the old one freed) for every skb that is shared, has a locked head, has fragments or has less than XDP_PACKET_HEADROOM of headroom. An skb sent from a local socket always qualifies: its head comes from kmalloc rather than a page fragment, which counts as locked, and it has far less than 256 bytes of headroom. Generic mode does the same in netif_receive_generic_xdp (pskb_expand_head). iptables drops the skb as it is. The fifth column is what 1336 more bytes cost each path (the sender copies them from user space in every row): if the copy's cost grew with the packet, the XDP rows would grow more than iptables'. The third table counts the copies.".into(),
        ],
    }
}

/// The samples of `dropper`.
fn of(samples: &[Samples], dropper: Dropper) -> &Samples {
    let index = DROPPERS.iter().position(|(d, _)| *d == dropper).unwrap();
    &samples[index]
}

fn program_table(samples: &[Samples], [small, large]: [Vec<f64>; 2]) -> Table {
    let native = of(samples, Dropper::XdpNative);
    let generic = of(samples, Dropper::XdpGeneric);
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
            vec![(!generic.program.is_empty()).then(|| Value::of(&generic.program))],
        ),
    ];
    Table {
        title: "The XDP program's own cost per packet".into(),
        row_heading: "measured by".into(),
        columns: vec![Column::new("per packet", Unit::Nanoseconds)],
        rows,
        ratio: Some(Ratio::to_first_row(0, false)),
        notes: vec![
            "BPF_PROG_TEST_RUN runs the program on a prepared frame many times in a loop and reports the mean time per run (with run-time statistics off). bpf_stats (BPF_ENABLE_STATS) is the kernel's run_time_ns / run_cnt over one more short flood of 64-byte datagrams per round, kept apart from the timed floods because the statistics read the clock around every run. Either way the program (a per-CPU counter and XDP_DROP) is a small part of what a packet costs.".into(),
        ],
    }
}

fn copy_table(samples: &[Samples]) -> Table {
    let rows = DROPPERS
        .iter()
        .zip(samples)
        .map(|((_, label), s)| {
            let value = (!s.consumed.is_empty()).then(|| Value::of(&s.consumed));
            Row::new(*label, vec![value])
        })
        .collect();
    let mut places = Vec::new();
    for ((_, label), s) in DROPPERS.iter().zip(samples) {
        let total: u64 = s.released_in.values().sum();
        if let Some((function, count)) = s.released_in.iter().max_by_key(|(_, count)| **count)
            && total > 0
            && s.consumed.iter().any(|&c| c > 0.1)
        {
            places.push(format!(
                "{label}: {:.0}% in {function}",
                100.0 * *count as f64 / total as f64
            ));
        }
    }
    let places = if places.is_empty() {
        "No dropper released skbs that way.".to_string()
    } else {
        format!("Where they were released: {}.", places.join("; "))
    };
    Table {
        title: "The copy, counted: skbs released after use in b, per packet dropped".into(),
        row_heading: "what drops the packet in b".into(),
        columns: vec![Column::new("consume_skb per packet", Unit::Count)],
        rows,
        ratio: None,
        notes: vec![format!(
            "A tp_btf program on the tracepoint skb:consume_skb counts the skbs freed after use (not dropped) in b's namespace, by the function that freed them (the tracepoint's location, named from /proc/kallsyms), over one more short flood per round. {places} skb_pp_cow_data is the copy that native XDP on a veth makes: it frees the sender's skb once its bytes are in the new buffer. Generic mode's pskb_expand_head copies too, but frees only the old head, which no tracepoint reports."
        )],
    }
}
