//! The Rust side of the ring-buffer consumer comparison, doing what its C twin
//! (`bench/c/c-consumer.c`) does: it inherits the ring buffer map's file descriptor from the
//! benchmark, and on each `go` line on stdin drains the ring with one consume call, counting
//! the records and summing their `seq`, and prints `NANOSECONDS RECORDS SUM_OF_SEQ`.
//!
//!   bench-ring-consumer FD               through libbpf-rs's RingBuffer (what a reader writes)
//!   bench-ring-consumer --libbpf-sys FD  through libbpf-sys with an `extern "C"` callback, as C
//!                                        does: what is left when libbpf-rs's callback path is not

use std::cell::Cell;
use std::ffi::c_void;
use std::io::{BufRead, Write};
use std::os::fd::BorrowedFd;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use libbpf_rs::{MapHandle, MapInfo, RingBufferBuilder};

ebpf_support::skeleton!(buffers);
use buffers::types::event;

// SAFETY: `event` is plain integers, valid for any bytes.
unsafe impl plain::Plain for event {}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench-ring-consumer: {e:#}");
            ExitCode::FAILURE
        }
    }
}

#[derive(Default)]
struct Totals {
    records: Cell<u64>,
    sum: Cell<u64>,
}

fn run() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (through_sys, fd) = match args.as_slice() {
        [fd] => (false, fd),
        [flag, fd] if flag == "--libbpf-sys" => (true, fd),
        _ => bail!("usage: bench-ring-consumer [--libbpf-sys] FD"),
    };
    let fd: i32 = fd
        .parse()
        .with_context(|| format!("not a file descriptor: {fd}"))?;
    let totals = Totals::default();
    if through_sys {
        serve(&totals, consume_through_sys(fd, &totals)?)
    } else {
        serve(&totals, consume_through_libbpf_rs(fd, &totals)?)
    }
}

/// Answers each `go` line with one drain, timed.
fn serve(totals: &Totals, consume: impl Fn() -> i32) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    for line in std::io::stdin().lock().lines() {
        line?;
        totals.records.set(0);
        totals.sum.set(0);
        let start = Instant::now();
        let n = consume();
        let took = start.elapsed();
        if n < 0 {
            bail!("consume: {}", std::io::Error::from_raw_os_error(-n));
        }
        writeln!(
            stdout,
            "{} {} {}",
            took.as_nanos(),
            totals.records.get(),
            totals.sum.get()
        )?;
        stdout.flush()?;
    }
    Ok(())
}

fn count(totals: &Totals, bytes: &[u8]) {
    if let Ok(e) = plain::from_bytes::<event>(bytes) {
        totals.records.set(totals.records.get() + 1);
        totals.sum.set(totals.sum.get() + e.seq);
    }
}

fn consume_through_libbpf_rs(fd: i32, totals: &Totals) -> Result<impl Fn() -> i32 + '_> {
    // SAFETY: the benchmark leaves the map's descriptor open for this process's whole life.
    let inherited = unsafe { BorrowedFd::borrow_raw(fd) };
    // libbpf-rs makes a map handle from an id, not from a descriptor: ask the kernel for the
    // map's id, then open it again by id (the C consumer uses the descriptor as it is).
    let id = MapInfo::new(inherited)
        .with_context(|| format!("fd {fd} is not a BPF map"))?
        .info
        .id;
    let map = MapHandle::from_map_id(id).context("opening the ring buffer map")?;
    let mut builder = RingBufferBuilder::new();
    builder.add(&map, |bytes: &[u8]| {
        count(totals, bytes);
        0
    })?;
    let ring = builder.build().context("opening the ring buffer")?;
    Ok(move || ring.consume_raw())
}

fn consume_through_sys(fd: i32, totals: &Totals) -> Result<impl Fn() -> i32 + '_> {
    unsafe extern "C" fn on_event(ctx: *mut c_void, data: *mut c_void, size: u64) -> i32 {
        // SAFETY: ctx is the `Totals` given to ring_buffer__new, which outlives the ring;
        // libbpf hands over `size` readable bytes at `data`.
        unsafe {
            let bytes = std::slice::from_raw_parts(data as *const u8, size as usize);
            count(&*(ctx as *const Totals), bytes);
        }
        0
    }
    let ctx = (totals as *const Totals).cast_mut().cast();
    // SAFETY: a valid callback, and a context that outlives the ring (see on_event).
    let ring = unsafe { libbpf_sys::ring_buffer__new(fd, Some(on_event), ctx, std::ptr::null()) };
    if ring.is_null() {
        bail!(
            "cannot open the ring buffer of fd {fd}: {}",
            std::io::Error::last_os_error()
        );
    }
    // The ring lives as long as this process: it is freed at exit.
    // SAFETY: `ring` is a valid ring_buffer.
    Ok(move || unsafe { libbpf_sys::ring_buffer__consume(ring) })
}
