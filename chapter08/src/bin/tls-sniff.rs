//! Learning eBPF, chapter 8, “Encrypted Traffic” (Pixie's openssl-tracer, BCC's sslsniff):
//! a uprobe and a uretprobe on libssl's SSL_write and SSL_read read the plaintext that a TLS
//! client and server exchange, before encryption and after decryption.

use std::cell::Cell;
use std::mem::MaybeUninit;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chapter08::tls::{TlsPair, libssl_of};
use clap::Parser;
use ebpf_support::{Run, RunArgs, c_string};
use libbpf_rs::skel::{OpenSkel, SkelBuilder};
use libbpf_rs::{Link, ProgramMut, RingBufferBuilder, UprobeOpts};

ebpf_support::skeleton!(tls);
use tls::TlsSkelBuilder;
use tls::types::{direction, tls_event};

unsafe impl plain::Plain for tls_event {}

/// How often the client sends the message again.
const PERIOD: Duration = Duration::from_secs(1);
/// How long the client waits for an answer before it sends its next line anyway.
const UNANSWERED: Duration = Duration::from_secs(5);

/// Capture the plaintext of TLS connections with uprobes on libssl (Learning eBPF, chapter 8, “Encrypted Traffic”, openssl-tracer and sslsniff).
///
/// Attaches uprobes and uretprobes to SSL_write and SSL_read in the libssl that `openssl` uses
/// (found in the process's memory map, not at a fixed path), then starts `openssl s_server`
/// (with a throwaway self-signed certificate) and `openssl s_client` on the loopback of a
/// private network namespace. The client sends --message once a second; the server answers
/// each line reversed (-rev). Prints every captured call: `WRITE openssl 4242 len 20:
/// "hello from tls-sniff\n"`. Only the two processes it starts are probed, unless --all.
#[derive(Parser)]
#[command(name = "tls-sniff")]
struct Args {
    /// The line the client sends over TLS.
    #[arg(long, default_value = "hello from tls-sniff")]
    message: String,
    /// Probe every process that uses this libssl, not only the client and server it starts.
    #[arg(long)]
    all: bool,
    #[command(flatten)]
    run: RunArgs,
}

fn main() -> std::process::ExitCode {
    ebpf_support::main(&chapter08::tls::TLS_SNIFF, |args: Args| {
        let run = Run::new(&args.run);
        if args.message.contains('\n') {
            bail!("--message: one line, please (the server answers line by line)");
        }
        let mut object = MaybeUninit::uninit();
        let skel = TlsSkelBuilder::default().open(&mut object)?.load()?;

        let mut pair = TlsPair::start()?;
        let libssl = libssl_of(pair.server_pid())?;
        let pids: Vec<i32> = if args.all {
            vec![-1]
        } else {
            vec![pair.server_pid() as i32, pair.client_pid() as i32]
        };
        // ANCHOR: attach
        let mut links = Vec::new();
        for pid in pids {
            let progs = &skel.progs;
            links.push(uprobe(
                &progs.ssl_write_entry,
                pid,
                &libssl,
                "SSL_write",
                false,
            )?);
            links.push(uprobe(
                &progs.ssl_write_return,
                pid,
                &libssl,
                "SSL_write",
                true,
            )?);
            links.push(uprobe(
                &progs.ssl_read_entry,
                pid,
                &libssl,
                "SSL_read",
                false,
            )?);
            links.push(uprobe(
                &progs.ssl_read_return,
                pid,
                &libssl,
                "SSL_read",
                true,
            )?);
        }
        // ANCHOR_END: attach
        eprintln!(
            "tls-sniff: uprobes on SSL_write and SSL_read in {} ({}); the client sends {:?} over TLS once a second",
            libssl.display(),
            if args.all {
                "every process".to_string()
            } else {
                format!("pids {} and {}", pair.server_pid(), pair.client_pid())
            },
            args.message
        );

        // ANCHOR: events
        // Set when the client has read the server's answer to its last line.
        let answered = Cell::new(true);
        let mut builder = RingBufferBuilder::new();
        builder.add(&skel.maps.events, |bytes: &[u8]| {
            let mut event = tls_event::default();
            if plain::copy_from_bytes(&mut event, bytes).is_ok() {
                if event.direction == direction::DIRECTION_READ {
                    answered.set(true);
                }
                if run.record() {
                    println!("{}", event_line(&event));
                }
            }
            0
        })?;
        let ring_buffer = builder.build()?;
        // ANCHOR_END: events

        // One line at a time: lines written before s_client has finished its handshake would
        // reach SSL_write together, as one call.
        let mut next_send = Instant::now();
        let mut sent = Instant::now();
        while !run.finished() {
            let now = Instant::now();
            if now >= next_send && (answered.get() || now >= sent + UNANSWERED) {
                pair.send(&args.message)?;
                answered.set(false);
                sent = now;
                next_send = now + PERIOD;
            }
            ring_buffer.poll(run.poll_interval())?;
        }
        drop(links);
        Ok(())
    })
}

/// Attaches `program` to `function` in `library`, for one process (`pid`) or all (-1).
fn uprobe(
    program: &ProgramMut,
    pid: i32,
    library: &Path,
    function: &str,
    retprobe: bool,
) -> anyhow::Result<Link> {
    let opts = UprobeOpts {
        func_name: Some(function.to_string()),
        retprobe,
        ..Default::default()
    };
    program
        .attach_uprobe_with_opts(pid, library, 0, opts)
        .with_context(|| format!("attaching to {function} in {}", library.display()))
}

/// `WRITE openssl 4242 len 21: "hello from tls-sniff\n"`.
fn event_line(event: &tls_event) -> String {
    let what = if event.direction == direction::DIRECTION_WRITE {
        "WRITE"
    } else {
        "READ"
    };
    let data = &event.data[..event.captured.clamp(0, event.data.len() as i32) as usize];
    format!(
        "{what} {} {} len {}: \"{}\"",
        c_string(&event.comm),
        event.pid,
        event.len,
        String::from_utf8_lossy(data).escape_debug()
    )
}
