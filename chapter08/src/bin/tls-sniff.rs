//! Learning eBPF, chapter 8, “Encrypted Traffic” (Pixie's openssl-tracer, BCC's sslsniff):
//! a uprobe and a uretprobe on libssl's SSL_write and SSL_read read the plaintext that a TLS
//! client and server exchange, before encryption and after decryption.

use std::io::{BufRead, BufReader, Write};
use std::mem::MaybeUninit;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Parser;
use ebpf_support::lab::Lab;
use ebpf_support::{Run, RunArgs, c_string};
use libbpf_rs::skel::{OpenSkel, SkelBuilder};
use libbpf_rs::{Link, ProgramMut, RingBufferBuilder, UprobeOpts};

ebpf_support::skeleton!(tls);
use tls::TlsSkelBuilder;
use tls::types::{direction, tls_event};

unsafe impl plain::Plain for tls_event {}

const PORT: u16 = 4433;
/// How often the client sends the message again.
const PERIOD: Duration = Duration::from_secs(1);

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
        let openssl = find_in_path("openssl").context(
            "the openssl command is not installed (apt-get install openssl), and the example starts a TLS server and client with it",
        )?;
        let dir = TempDir::new()?;
        make_certificate(&openssl, &dir.0)?;
        let lab = Lab::single().context("building the network lab")?;
        let node = lab.node("node");

        let mut server = Kill(
            node.netns
                .command(&openssl)
                .args(["s_server", "-rev", "-accept"])
                .arg(format!("127.0.0.1:{PORT}"))
                .arg("-cert")
                .arg(dir.0.join("cert.pem"))
                .arg("-key")
                .arg(dir.0.join("key.pem"))
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .context("starting openssl s_server")?,
        );
        wait_for_accept(&mut server.0)?;
        let libssl = libssl_of(server.0.id())?;

        let mut object = MaybeUninit::uninit();
        let skel = TlsSkelBuilder::default().open(&mut object)?.load()?;

        let mut client = Kill(
            node.netns
                .command(&openssl)
                .args(["s_client", "-quiet", "-connect"])
                .arg(format!("127.0.0.1:{PORT}"))
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .context("starting openssl s_client")?,
        );
        let pids: Vec<i32> = if args.all {
            vec![-1]
        } else {
            vec![server.0.id() as i32, client.0.id() as i32]
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
                format!("pids {} and {}", server.0.id(), client.0.id())
            },
            args.message
        );

        // ANCHOR: events
        let mut builder = RingBufferBuilder::new();
        builder.add(&skel.maps.events, |bytes: &[u8]| {
            let mut event = tls_event::default();
            if plain::copy_from_bytes(&mut event, bytes).is_ok() && run.record() {
                println!("{}", event_line(&event));
            }
            0
        })?;
        let ring_buffer = builder.build()?;
        // ANCHOR_END: events

        let mut stdin = client.0.stdin.take().expect("the client's stdin is piped");
        let mut next_send = Instant::now();
        while !run.finished() {
            if Instant::now() >= next_send {
                send(&mut stdin, &args.message)?;
                next_send += PERIOD;
            }
            ring_buffer.poll(run.poll_interval())?;
            if let Some(status) = client.0.try_wait()? {
                bail!("openssl s_client stopped ({status})");
            }
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

fn send(stdin: &mut ChildStdin, message: &str) -> anyhow::Result<()> {
    stdin
        .write_all(format!("{message}\n").as_bytes())
        .context("writing to openssl s_client")
}

// ANCHOR: libssl
/// The libssl that process `pid` runs with, as the kernel mapped it: its path differs per
/// distribution and architecture (and a program may bring its own copy), so it is looked up.
fn libssl_of(pid: u32) -> anyhow::Result<PathBuf> {
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps"))
        .with_context(|| format!("reading /proc/{pid}/maps"))?;
    maps.lines()
        .filter_map(|line| line.split_whitespace().nth(5))
        .find(|path| {
            Path::new(path)
                .file_name()
                .is_some_and(|name| name.to_string_lossy().starts_with("libssl.so"))
        })
        .map(PathBuf::from)
        .context("openssl uses no libssl.so (linked statically, or another TLS library?): nothing to probe")
}
// ANCHOR_END: libssl

/// Waits until s_server says it listens (`ACCEPT`), at most 10 s.
fn wait_for_accept(server: &mut Child) -> anyhow::Result<()> {
    let stdout = server.stdout.take().expect("the server's stdout is piped");
    let (tx, rx) = std::sync::mpsc::channel();
    // The reader thread keeps draining the server's output afterwards.
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.starts_with("ACCEPT") {
                let _ = tx.send(());
            }
        }
    });
    rx.recv_timeout(Duration::from_secs(10))
        .context("openssl s_server did not start listening within 10 s")
}

fn make_certificate(openssl: &Path, dir: &Path) -> anyhow::Result<()> {
    let output = Command::new(openssl)
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt"])
        .args(["ec_paramgen_curve:prime256v1", "-nodes", "-days", "1"])
        .args(["-subj", "/CN=localhost", "-keyout"])
        .arg(dir.join("key.pem"))
        .arg("-out")
        .arg(dir.join("cert.pem"))
        .stdin(Stdio::null())
        .output()
        .context("running openssl req")?;
    if !output.status.success() {
        bail!(
            "openssl req could not make a certificate: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}

fn find_in_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|path| path.is_file())
}

/// A child process that is killed when dropped (Ctrl-C, an error, the end of the run).
struct Kill(Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A private folder for the throwaway certificate, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> anyhow::Result<TempDir> {
        let path = std::env::temp_dir().join(format!("tls-sniff-{}", std::process::id()));
        std::fs::create_dir(&path).with_context(|| format!("creating {}", path.display()))?;
        Ok(TempDir(path))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
