//! Case 2, ring buffer versus perf buffer: delivered events per second, drops, the kernel's
//! cost per event and the reader's, for a 64-byte record made on each getppid() of a generator
//! thread, at equal total buffer memory; the effect of batched wake-ups; and the project's own
//! target, a Rust ring-buffer consumer (libbpf-rs) against a C one (libbpf), each draining the
//! same full ring.

use std::cell::Cell;
use std::io::{BufRead, BufReader, Read, Write};
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use libbpf_rs::skel::{OpenSkel, SkelBuilder};
use libbpf_rs::{MapHandle, PerfBuffer, PerfBufferBuilder, RingBuffer, RingBufferBuilder};

use crate::generator::{self, Until};
use crate::globals;
use crate::report::{CaseResult, Column, Ratio, Row, Table, Target, Unit, Value};
use crate::stats::{RunStats, RunTimeStats};
use crate::{Progress, Settings};

ebpf_support::skeleton!(buffers);
use buffers::{BuffersSkel, BuffersSkelBuilder};

/// The ring buffer's size; the perf buffer gets the same memory in all, shared out per CPU.
const RING_BYTES: usize = 256 * 1024;
/// The ring that the consumers drain.
const DRAIN_RING_BYTES: usize = 4 * 1024 * 1024;
/// What one 64-byte record takes in a ring: the record and the ring's 8-byte header.
const RING_RECORD_BYTES: usize = 64 + 8;
/// How long the reader sleeps in epoll before it looks at the generator again.
const POLL_TIMEOUT: Duration = Duration::from_millis(50);

#[derive(Clone, Copy)]
enum Transport {
    Perf,
    /// `wakeup_every` as the program reads it: 0 for flags 0, K for a wake-up every K records.
    Ring {
        wakeup_every: u64,
    },
}

struct Mode {
    label: &'static str,
    transport: Transport,
}

const PERF: &str = "perf buffer (libbpf: a wake-up per event)";
const RING_DEFAULT: &str = "ring buffer, flags 0 (the kernel decides)";
const RING_EACH: &str = "ring buffer, BPF_RB_FORCE_WAKEUP on each";

const MODES: &[Mode] = &[
    Mode {
        label: PERF,
        transport: Transport::Perf,
    },
    Mode {
        label: RING_DEFAULT,
        transport: Transport::Ring { wakeup_every: 0 },
    },
    Mode {
        label: RING_EACH,
        transport: Transport::Ring { wakeup_every: 1 },
    },
    Mode {
        label: "ring buffer, BPF_RB_NO_WAKEUP, forced every 64",
        transport: Transport::Ring { wakeup_every: 64 },
    },
    Mode {
        label: "ring buffer, BPF_RB_NO_WAKEUP, forced every 1024",
        transport: Transport::Ring { wakeup_every: 1024 },
    },
];

/// One run of one mode.
struct Sample {
    delivered_per_second: f64,
    dropped_percent: f64,
    kernel_ns: f64,
    reader_ns: f64,
    per_poll: f64,
}

pub fn run(settings: &Settings, progress: &Progress) -> Result<CaseResult> {
    let _stats = RunTimeStats::enable()?;
    let mut object = MaybeUninit::uninit();
    let mut open = BuffersSkelBuilder::default()
        .open(&mut object)
        .context("opening buffers.bpf.o")?;
    open.maps
        .rodata_data
        .as_deref_mut()
        .expect("buffers.bpf.c has a .rodata")
        .benchmark_tgid = std::process::id();
    open.maps.ring.set_max_entries(RING_BYTES as u32)?;
    open.maps
        .drain_ring
        .set_max_entries(DRAIN_RING_BYTES as u32)?;
    let mut skel = open.load().context("loading buffers.bpf.o")?;

    let cpus = generator::allowed_cpus()?;
    let possible = libbpf_rs::num_possible_cpus()?;
    let page = page_size();
    let perf_pages = (RING_BYTES / page / possible).max(1);
    // perf buffers are a power of two pages per CPU.
    let perf_pages = 1 << perf_pages.ilog2();

    // The generator runs on the first CPU, the reader on the last.
    let reader_cpu = *cpus.last().unwrap();
    let rounds = settings.pick(8, 3);
    let duration = Duration::from_millis(settings.pick(1500, 400));
    let mut samples: Vec<Vec<Sample>> = MODES.iter().map(|_| Vec::new()).collect();
    for round in 0..rounds {
        progress.say(format!(
            "throughput round {}/{rounds}: {} modes of {:.1} s",
            round + 1,
            MODES.len(),
            duration.as_secs_f64()
        ));
        for (mode, samples) in MODES.iter().zip(&mut samples) {
            samples.push(
                measure(&mut skel, mode.transport, duration, perf_pages, reader_cpu)
                    .with_context(|| mode.label)?,
            );
        }
    }
    let row = |label: &str| {
        let i = MODES.iter().position(|m| m.label == label).unwrap();
        let values =
            |f: fn(&Sample) -> f64| Some(Value::of(&samples[i].iter().map(f).collect::<Vec<_>>()));
        Row::new(
            label,
            vec![
                values(|s| s.delivered_per_second),
                values(|s| s.dropped_percent),
                values(|s| s.kernel_ns),
                values(|s| s.reader_ns),
                values(|s| s.per_poll),
            ],
        )
    };
    let columns = vec![
        Column::new("events delivered", Unit::PerSecond),
        Column::new("dropped", Unit::Percent),
        Column::new("kernel, per event", Unit::Nanoseconds),
        Column::new("reader CPU, per event", Unit::Nanoseconds),
        Column::new("events per poll()", Unit::Count),
    ];
    let how = format!(
        "One generator thread on CPU {} calls getppid() for {:.1} s; a program on tracepoint syscalls/sys_enter_getppid sends a 64-byte record per call of the benchmark's own; a reader thread on CPU {} (libbpf-rs) counts them. Medians of {rounds} interleaved runs (25th–75th percentile). Kernel cost: bpf_stats run time per run; reader CPU: the reader thread's CPU time per delivered event.",
        cpus[0],
        duration.as_secs_f64(),
        reader_cpu,
    );
    let versus = Table {
        title: format!(
            "Ring buffer versus perf buffer at equal memory: a {} KiB ring, {} × {} KiB perf buffers",
            RING_BYTES / 1024,
            possible,
            perf_pages * page / 1024
        ),
        row_heading: "buffer".into(),
        columns: columns.clone(),
        rows: vec![row(PERF), row(RING_DEFAULT)],
        ratio: Some(Ratio::to_first_row(0, true)),
        notes: vec![
            how.clone(),
            format!(
                "A perf buffer is per CPU: one busy CPU fills its own {} KiB and cannot use the rest, while every CPU shares the whole ring.",
                perf_pages * page / 1024
            ),
        ],
    };
    let wakeups = Table {
        title: "Batched wake-ups: BPF_RB_NO_WAKEUP with a forced wake-up every K records".into(),
        row_heading: "ring buffer submit".into(),
        columns,
        rows: [RING_EACH, RING_DEFAULT]
            .into_iter()
            .chain(MODES[3..].iter().map(|m| m.label))
            .map(row)
            .collect(),
        ratio: Some(Ratio::to_first_row(0, true)),
        notes: vec![how],
    };
    let (consumers, targets) = compare_consumers(&mut skel, settings, progress, &cpus)?;
    Ok(CaseResult {
        tables: vec![versus, wakeups, consumers],
        targets,
    })
}

/// Zeroes the program's record sequence and drop count, and returns its globals.
fn reset_counts<'a>(skel: &'a mut BuffersSkel) -> &'a mut buffers::types::bss {
    let bss = skel
        .maps
        .bss_data
        .as_deref_mut()
        .expect("buffers.bpf.c has a .bss");
    globals::write(&mut bss.seq, 0);
    globals::write(&mut bss.dropped, 0);
    bss
}

fn page_size() -> usize {
    // SAFETY: sysconf only reads a constant of the system.
    unsafe { libc::sysconf(libc::_SC_PAGESIZE) as usize }
}

/// The reader of one mode: libbpf-rs's ring buffer or perf buffer, with the same counting callback.
enum Reader<'a> {
    Ring(RingBuffer<'a>),
    Perf(PerfBuffer<'a>),
}

impl Reader<'_> {
    fn poll(&self, timeout: Duration) -> Result<()> {
        match self {
            Reader::Ring(ring) => ring.poll(timeout)?,
            Reader::Perf(perf) => perf.poll(timeout)?,
        }
        Ok(())
    }

    fn consume(&self) -> Result<()> {
        match self {
            Reader::Ring(ring) => ring.consume()?,
            Reader::Perf(perf) => perf.consume()?,
        }
        Ok(())
    }
}

fn measure(
    skel: &mut BuffersSkel,
    transport: Transport,
    duration: Duration,
    perf_pages: usize,
    reader_cpu: usize,
) -> Result<Sample> {
    let bss = reset_counts(skel);
    let wakeup_every = match transport {
        Transport::Ring { wakeup_every } => wakeup_every,
        Transport::Perf => 0,
    };
    globals::write(&mut bss.wakeup_every, wakeup_every);

    // The reader runs in a thread of its own on the last CPU, which opens the buffer through
    // an owned handle of the map.
    let (program, map) = match transport {
        Transport::Perf => (
            &skel.progs.perf_event,
            MapHandle::try_from(&skel.maps.perf)?,
        ),
        Transport::Ring { .. } => (
            &skel.progs.ring_event,
            MapHandle::try_from(&skel.maps.ring)?,
        ),
    };
    let (map, stop) = (&map, &AtomicBool::new(false));
    let (ready, opened) = mpsc::channel();
    let (generated, kernel, read) = std::thread::scope(|scope| -> Result<_> {
        // `ready` goes with the thread: if it fails before it is ready, recv() sees it gone.
        let reader =
            scope.spawn(move || reader_thread(map, transport, perf_pages, reader_cpu, ready, stop));
        // Attach only once the reader is there: a perf buffer that is not open yet drops.
        let run = opened.recv().ok().map(|()| -> Result<_> {
            let link = generator::attach(program)?;
            let before = RunStats::of(program)?;
            let generated = generator::run(1, Until::Elapsed(duration))?;
            let kernel = RunStats::of(program)?.since(before);
            drop(link);
            Ok((generated, kernel))
        });
        stop.store(true, Ordering::Relaxed);
        let read = reader.join().expect("the reader panicked")?;
        let (generated, kernel) = run.context("the reader did not start")??;
        Ok((generated, kernel, read))
    })?;
    let delivered = read.delivered;
    let bss = skel
        .maps
        .bss_data
        .as_deref()
        .expect("buffers.bpf.c has a .bss");
    let dropped = globals::read(&bss.dropped);
    if delivered + dropped != generated.calls {
        bail!(
            "{} calls, but {delivered} records delivered and {dropped} dropped",
            generated.calls
        );
    }
    Ok(Sample {
        delivered_per_second: delivered as f64 / generated.elapsed.as_secs_f64(),
        dropped_percent: 100.0 * dropped as f64 / generated.calls.max(1) as f64,
        kernel_ns: kernel.nanos_per_run().unwrap_or_default(),
        reader_ns: read.cpu.as_nanos() as f64 / delivered.max(1) as f64,
        per_poll: delivered as f64 / read.polls.max(1) as f64,
    })
}

/// What the reader thread did.
struct ReaderRun {
    delivered: u64,
    /// The poll() calls that brought records.
    polls: u64,
    cpu: Duration,
}

/// The reader thread: opens the buffer, says so on `ready`, polls until `stop`, then drains
/// what the last wake-up did not bring (with wake-ups off, the tail of the run).
fn reader_thread(
    map: &MapHandle,
    transport: Transport,
    perf_pages: usize,
    cpu: usize,
    ready: mpsc::Sender<()>,
    stop: &AtomicBool,
) -> Result<ReaderRun> {
    generator::pin_to(cpu)?;
    let delivered = Cell::new(0u64);
    let count = || delivered.set(delivered.get() + 1);
    let reader = match transport {
        Transport::Perf => Reader::Perf(
            PerfBufferBuilder::new(map)
                .sample_cb(|_cpu, _: &[u8]| count())
                .pages(perf_pages)
                .build()
                .context("opening the perf buffer")?,
        ),
        Transport::Ring { .. } => {
            let mut builder = RingBufferBuilder::new();
            builder.add(map, |_: &[u8]| {
                count();
                0
            })?;
            Reader::Ring(builder.build().context("opening the ring buffer")?)
        }
    };
    let cpu_before = thread_cpu_time();
    ready.send(()).ok();
    let mut polls = 0;
    while !stop.load(Ordering::Relaxed) {
        let seen = delivered.get();
        reader.poll(POLL_TIMEOUT)?;
        if delivered.get() > seen {
            polls += 1;
        }
    }
    reader.consume()?;
    Ok(ReaderRun {
        delivered: delivered.get(),
        polls,
        cpu: thread_cpu_time().saturating_sub(cpu_before),
    })
}

/// The CPU time of the calling thread.
fn thread_cpu_time() -> Duration {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `t` is writable; this clock always exists on Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

const C_CONSUMER: &str = "C, libbpf ring_buffer__consume()";
const RUST_CONSUMER: &str = "Rust, libbpf-rs RingBuffer::consume()";
const RUST_SYS_CONSUMER: &str =
    "Rust, libbpf-sys ring_buffer__consume() and an extern \"C\" callback";
const RUST_DIRECT_CONSUMER: &str = "Rust, reading the ring's memory itself (RingReader)";

/// A consumer process that inherited the drain ring's descriptor, waiting for `go` lines.
struct Consumer {
    child: Child,
    /// Closing it tells the consumer to exit.
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
}

impl Consumer {
    fn spawn(program: &Path, args: &[&str], ring_fd: i32, cpu: usize) -> Result<Consumer> {
        let mut command = crate::child(program);
        command
            .args(args)
            .arg(ring_fd.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // SAFETY: fcntl and sched_setaffinity are async-signal-safe system calls.
        unsafe {
            command.pre_exec(move || {
                // The map's descriptor is close-on-exec, as every descriptor Rust and libbpf
                // open; in the child, let it through.
                if libc::fcntl(ring_fd, libc::F_SETFD, 0) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                generator::pin_to(cpu)
            });
        }
        let mut child = command
            .spawn()
            .with_context(|| format!("starting {}", program.display()))?;
        Ok(Consumer {
            stdin: child.stdin.take(),
            stdout: BufReader::new(child.stdout.take().unwrap()),
            child,
        })
    }

    /// Has it drain the ring: its time in nanoseconds, the records and the sum of their `seq`.
    fn drain(&mut self) -> Result<[u64; 3]> {
        let stdin = self.stdin.as_mut().unwrap();
        writeln!(stdin, "go")?;
        stdin.flush()?;
        let mut line = String::new();
        self.stdout.read_line(&mut line)?;
        let numbers: Vec<u64> = line
            .split_whitespace()
            .filter_map(|n| n.parse().ok())
            .collect();
        match numbers[..] {
            [nanos, records, sum] => Ok([nanos, records, sum]),
            _ => {
                let mut said = String::new();
                self.child
                    .stderr
                    .take()
                    .unwrap()
                    .read_to_string(&mut said)
                    .ok();
                bail!("the consumer said {:?} ({})", line.trim(), said.trim())
            }
        }
    }
}

impl Drop for Consumer {
    fn drop(&mut self) {
        drop(self.stdin.take());
        self.child.wait().ok();
    }
}

/// The project's target: the Rust consumer drains a full ring at least as fast as the C one.
fn compare_consumers(
    skel: &mut BuffersSkel,
    settings: &Settings,
    progress: &Progress,
    cpus: &[usize],
) -> Result<(Table, Vec<Target>)> {
    let records = ((DRAIN_RING_BYTES - 1) / RING_RECORD_BYTES) as u64;
    let ring_fd = skel.maps.drain_ring.as_fd().as_raw_fd();
    // The generator fills from the first CPU; the consumers read on the last one.
    let consumer_cpu = *cpus.last().unwrap();
    let rust = crate::sibling("bench-ring-consumer")?;
    let labels = [
        C_CONSUMER,
        RUST_CONSUMER,
        RUST_SYS_CONSUMER,
        RUST_DIRECT_CONSUMER,
    ];
    let mut consumers = [
        Consumer::spawn(&crate::c_baseline("c-consumer"), &[], ring_fd, consumer_cpu)?,
        Consumer::spawn(&rust, &[], ring_fd, consumer_cpu)?,
        Consumer::spawn(&rust, &["--libbpf-sys"], ring_fd, consumer_cpu)?,
        Consumer::spawn(&rust, &["--direct"], ring_fd, consumer_cpu)?,
    ];
    let _link = generator::attach(&skel.progs.fill)?;
    // The first drains map the ring's pages into each consumer: not what is measured.
    let warm_up = 2;
    let rounds = settings.pick(100, 30);
    progress.say(format!(
        "consumers: {rounds} interleaved drains each of {records} records"
    ));
    let mut rates = [Vec::new(), Vec::new(), Vec::new(), Vec::new()];
    for round in 0..warm_up + rounds {
        // A different one goes first each round.
        for i in (0..labels.len()).map(|i| (i + round) % labels.len()) {
            let bss = reset_counts(skel);
            generator::run(1, Until::Calls(records))?;
            let dropped = globals::read(&bss.dropped);
            if dropped != 0 {
                bail!("{dropped} of {records} records found no room in the drain ring");
            }
            let [nanos, got, sum] = consumers[i].drain().with_context(|| labels[i])?;
            if got != records || sum != records * (records - 1) / 2 {
                bail!(
                    "{}: drained {got} records with seq summing to {sum}, not {records} and {}",
                    labels[i],
                    records * (records - 1) / 2
                );
            }
            if round >= warm_up {
                rates[i].push(records as f64 / (nanos as f64 / 1e9));
            }
        }
    }
    let table = Table {
        title: format!(
            "Ring-buffer consumers: draining {records} 64-byte records from a full {} MiB ring, medians of {rounds} interleaved drains (25th–75th percentile)",
            DRAIN_RING_BYTES / (1024 * 1024)
        ),
        row_heading: "consumer".into(),
        columns: vec![
            Column::new("records drained", Unit::PerSecond),
            Column::new("per record", Unit::Nanoseconds),
        ],
        rows: labels
            .iter()
            .zip(&rates)
            .map(|(label, rates)| {
                let per_record: Vec<f64> = rates.iter().map(|r| 1e9 / r).collect();
                Row::new(*label, vec![Some(Value::of(rates)), Some(Value::of(&per_record))])
            })
            .collect(),
        ratio: Some(Ratio::to_first_row(0, true)),
        notes: vec![
            format!(
                "Each consumer is a process of its own (bench/c/c-consumer.c, bench/src/bin/ring-consumer.rs) on CPU {consumer_cpu} that inherited the ring's descriptor; the benchmark fills the ring with BPF_RB_NO_WAKEUP from CPU {}, says go, and the consumer times one consume call whose callback counts the records and sums their seq.",
                cpus[0]
            ),
            "The third row calls libbpf as C does, with an extern \"C\" callback: what separates it from the second is libbpf-rs's callback path, a trampoline in libbpf-rs that finds the boxed closure and calls it through a second indirect call. The fourth reads the ring's shared memory itself (positions, headers, the BUSY and DISCARD bits, exactly as libbpf's loop does) with the record's handling inlined: no call per record at all.".into(),
        ],
    };
    let target = |label: &str| -> Result<Target> {
        Ok(Target {
            name: format!("{label} as the ring-buffer consumer: records per second / C's"),
            ratio: table.ratio_of(label).context("no consumer ratio")?,
            limit: 1.0,
            at_most: false,
        })
    };
    let targets = vec![target(RUST_DIRECT_CONSUMER)?, target(RUST_CONSUMER)?];
    Ok((table, targets))
}
