//! Learning eBPF, chapter 8, exercise 3 (sslsniff): chapter 8's tls-sniff, which attaches every
//! program of src/bpf/tls.bpf.c by its name: `ssl_read_entry` as a uprobe on SSL_read,
//! `ssl_read_return` as a uretprobe on it, and so on. The exercise is in src/bpf/tls.bpf.c.

use std::mem::MaybeUninit;
use std::time::{Duration, Instant};

use anyhow::Context;
use chapter08::tls::{TlsPair, libssl_of};
use clap::Parser;
use ebpf_support::needs::Example;
use ebpf_support::{Run, RunArgs, c_string};
use libbpf_rs::skel::{OpenSkel, Skel, SkelBuilder};
use libbpf_rs::{RingBufferBuilder, UprobeOpts};

ebpf_support::skeleton!(tls);
use tls::TlsSkelBuilder;
use tls::types::{direction, tls_event};

unsafe impl plain::Plain for tls_event {}

/// Capture the plaintext that openssl s_client writes and reads (Learning eBPF, chapter 8, exercise 3).
///
/// Prints `WRITE openssl PID len N: "…"` and `READ openssl PID len N: "…"` lines.
#[derive(Parser)]
#[command(name = "ch08-3-sslsniff")]
struct Args {
    /// The line the client sends over TLS once a second (the server answers it reversed).
    #[arg(long, default_value = "hello from sslsniff")]
    message: String,
    #[command(flatten)]
    run: RunArgs,
}

const EXAMPLE: Example = Example {
    package: "ch08-3-sslsniff",
    name: "ch08-3-sslsniff",
    mutants: &[],
    ..chapter08::tls::TLS_SNIFF
};

fn main() -> std::process::ExitCode {
    ebpf_support::main(&EXAMPLE, |args: Args| {
        let run = Run::new(&args.run);
        let mut object = MaybeUninit::uninit();
        let skel = TlsSkelBuilder::default().open(&mut object)?.load()?;
        let mut pair = TlsPair::start()?;
        let libssl = libssl_of(pair.server_pid())?;

        let mut links = Vec::new();
        let mut attached = Vec::new();
        for program in skel.object().progs_mut() {
            let name = program.name().to_string_lossy().into_owned();
            // ssl_read_entry -> SSL_read, ssl_write_return -> SSL_write
            let (function, retprobe) =
                match (name.strip_suffix("_entry"), name.strip_suffix("_return")) {
                    (Some(f), _) => (f, false),
                    (_, Some(f)) => (f, true),
                    _ => continue,
                };
            let function = function.replacen("ssl", "SSL", 1);
            for pid in [pair.server_pid(), pair.client_pid()] {
                let opts = UprobeOpts {
                    func_name: Some(function.clone()),
                    retprobe,
                    ..Default::default()
                };
                links.push(
                    program
                        .attach_uprobe_with_opts(pid as i32, &libssl, 0, opts)
                        .with_context(|| format!("attaching {name} to {function}"))?,
                );
            }
            attached.push(format!("{name} on {function}"));
        }
        eprintln!("ch08-3-sslsniff: attached {}", attached.join(", "));

        let mut builder = RingBufferBuilder::new();
        builder.add(&skel.maps.events, |bytes: &[u8]| {
            let mut event = tls_event::default();
            if plain::copy_from_bytes(&mut event, bytes).is_ok() && run.record() {
                let what = if event.direction == direction::DIRECTION_WRITE {
                    "WRITE"
                } else {
                    "READ"
                };
                let data = &event.data[..event.captured.clamp(0, event.data.len() as i32) as usize];
                println!(
                    "{what} {} {} len {}: \"{}\"",
                    c_string(&event.comm),
                    event.pid,
                    event.len,
                    String::from_utf8_lossy(data).escape_debug()
                );
            }
            0
        })?;
        let ring_buffer = builder.build()?;

        let mut next_send = Instant::now();
        while !run.finished() {
            if Instant::now() >= next_send {
                pair.send(&args.message)?;
                next_send += Duration::from_secs(1);
            }
            ring_buffer.poll(run.poll_interval())?;
        }
        drop(links);
        Ok(())
    })
}
