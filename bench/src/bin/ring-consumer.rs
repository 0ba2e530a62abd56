//! The Rust side of the ring-buffer consumer comparison, doing what its C twin
//! (`bench/c/c-consumer.c`) does: it inherits the ring buffer map's file descriptor from the
//! benchmark, and on each `go` line on stdin drains the ring with one consume call, counting
//! the records and summing their `seq`, and prints `NANOSECONDS RECORDS SUM_OF_SEQ`.
//!
//!   bench-ring-consumer FD               through libbpf-rs's RingBuffer (what a reader writes)
//!   bench-ring-consumer --libbpf-sys FD  through libbpf-sys with an `extern "C"` callback, as C
//!                                        does: what is left when libbpf-rs's callback path is not
//!   bench-ring-consumer --direct FD      reading the ring's shared memory in Rust (`RingReader`),
//!                                        the record handled inline: no callback at all

use std::cell::Cell;
use std::ffi::c_void;
use std::io::{BufRead, Write};
use std::os::fd::{AsRawFd, BorrowedFd};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
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
    let (mode, fd) = match args.as_slice() {
        [fd] => ("", fd),
        [flag, fd] if flag == "--libbpf-sys" || flag == "--direct" => (flag.as_str(), fd),
        _ => bail!("usage: bench-ring-consumer [--libbpf-sys | --direct] FD"),
    };
    let fd: i32 = fd
        .parse()
        .with_context(|| format!("not a file descriptor: {fd}"))?;
    let totals = Totals::default();
    match mode {
        "--libbpf-sys" => serve(&totals, consume_through_sys(fd, &totals)?),
        "--direct" => {
            // SAFETY: the benchmark leaves the map's descriptor open for this process's life.
            let reader = RingReader::open(unsafe { BorrowedFd::borrow_raw(fd) })?;
            serve(&totals, || {
                reader.consume(|bytes| count(&totals, bytes)) as i32
            })
        }
        _ => serve(&totals, consume_through_libbpf_rs(fd, &totals)?),
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

/// A BPF ring buffer read straight from its shared memory, as libbpf's `ringbuf_process_ring`
/// does, with the record handler inlined instead of called through a pointer.
///
/// The kernel maps a ring in two parts: one writable page holding the consumer position, then
/// a read-only page holding the producer position, followed by the data pages mapped twice
/// in a row, so that a record that wraps around the end is still contiguous in memory. Each
/// record starts with an 8-byte header whose first 32 bits are its length, with two flags on
/// top: BUSY while the producer has reserved but not yet submitted it, DISCARD if it was
/// discarded. Records are 8-byte aligned.
struct RingReader {
    consumer: *mut u8,
    producer: *const u8,
    page: usize,
    mask: u64,
    data_len: usize,
}

const BUSY: u32 = 1 << 31;
const DISCARD: u32 = 1 << 30;
const HEADER: u64 = 8;

impl RingReader {
    fn open(map: BorrowedFd) -> Result<RingReader> {
        let info = MapInfo::new(map).context("not a BPF map")?;
        let data_len = info.info.max_entries as usize;
        // SAFETY: sysconf only reads a constant of the system.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize;
        let map_at = |offset: usize, len: usize, prot: i32| -> Result<*mut u8> {
            // SAFETY: a fresh shared mapping of the map's descriptor; unmapped in drop.
            let at = unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    len,
                    prot,
                    libc::MAP_SHARED,
                    map.as_raw_fd(),
                    offset as libc::off_t,
                )
            };
            if at == libc::MAP_FAILED {
                bail!("mapping the ring: {}", std::io::Error::last_os_error());
            }
            Ok(at.cast())
        };
        let consumer = map_at(0, page, libc::PROT_READ | libc::PROT_WRITE)?;
        let producer = map_at(page, page + 2 * data_len, libc::PROT_READ)?;
        Ok(RingReader {
            consumer,
            producer,
            page,
            mask: data_len as u64 - 1,
            data_len,
        })
    }

    fn position(at: *const u8) -> &'static AtomicU64 {
        // SAFETY: the positions are 8-byte aligned words at the start of their pages, which
        // stay mapped as long as the reader.
        unsafe { &*(at as *const AtomicU64) }
    }

    /// Hands every submitted record to `record`, in order, until the ring is empty or the
    /// next record is still being written. Returns how many records it handled.
    fn consume(&self, mut record: impl FnMut(&[u8])) -> u64 {
        let consumer = Self::position(self.consumer);
        let producer = Self::position(self.producer);
        // SAFETY: the data pages follow the producer page.
        let data = unsafe { self.producer.add(self.page) };
        let mut position = consumer.load(Ordering::Acquire);
        let mut handled = 0;
        loop {
            let end = producer.load(Ordering::Acquire);
            if position >= end {
                return handled;
            }
            while position < end {
                // SAFETY: a header lies at every 8-byte record start inside the data pages.
                let header =
                    unsafe { &*(data.add((position & self.mask) as usize) as *const AtomicU32) };
                let length = header.load(Ordering::Acquire);
                if length & BUSY != 0 {
                    return handled;
                }
                let size = u64::from(length & !(BUSY | DISCARD));
                if length & DISCARD == 0 {
                    // SAFETY: the record's bytes follow its header, contiguous thanks to the
                    // double mapping.
                    let bytes = unsafe {
                        std::slice::from_raw_parts(
                            data.add((position & self.mask) as usize + HEADER as usize),
                            size as usize,
                        )
                    };
                    record(bytes);
                    handled += 1;
                }
                position += (size + HEADER + 7) & !7;
                // Each record is given back at once, as libbpf does, so the producer can reuse it.
                consumer.store(position, Ordering::Release);
            }
        }
    }
}

impl Drop for RingReader {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the two mappings `open` made.
        unsafe {
            libc::munmap(self.consumer.cast(), self.page);
            libc::munmap(
                self.producer.cast_mut().cast(),
                self.page + 2 * self.data_len,
            );
        }
    }
}
