//! Reading events that eBPF programs send to user space, within a bounded `Run`.

use anyhow::{Context, Result};
use libbpf_rs::{ErrorKind, MapCore, PerfBufferBuilder, RingBufferBuilder};

use super::run::Run;

/// Reads a `BPF_MAP_TYPE_PERF_EVENT_ARRAY` until the run finishes. Each sample counts
/// towards `--count`; samples past the count are not shown.
pub fn read_perf_buffer<M: MapCore>(
    map: &M,
    run: &Run,
    mut on_event: impl FnMut(&[u8]),
) -> Result<()> {
    let perf = PerfBufferBuilder::new(map)
        .sample_cb(|_cpu, data: &[u8]| {
            if !run.finished() {
                on_event(data);
                run.record();
            }
        })
        .lost_cb(|cpu, count| eprintln!("lost {count} events on CPU {cpu}"))
        .build()
        .context("opening the perf buffer")?;
    while !run.finished() {
        ignore_interrupt(perf.poll(run.poll_interval())).context("polling the perf buffer")?;
    }
    Ok(())
}

/// Reads a `BPF_MAP_TYPE_RINGBUF` until the run finishes.
pub fn read_ring_buffer(
    map: &dyn MapCore,
    run: &Run,
    mut on_event: impl FnMut(&[u8]),
) -> Result<()> {
    let mut builder = RingBufferBuilder::new();
    builder
        .add(map, |data: &[u8]| {
            if !run.finished() {
                on_event(data);
                run.record();
            }
            0
        })
        .context("adding the ring buffer")?;
    let ring = builder.build().context("opening the ring buffer")?;
    while !run.finished() {
        ignore_interrupt(ring.poll(run.poll_interval())).context("polling the ring buffer")?;
    }
    Ok(())
}

/// A signal interrupts epoll with EINTR; the loop then sees the stop request.
fn ignore_interrupt(result: libbpf_rs::Result<()>) -> libbpf_rs::Result<()> {
    match result {
        Err(e) if e.kind() == ErrorKind::Interrupted => Ok(()),
        other => other,
    }
}
