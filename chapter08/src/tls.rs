//! The TLS plaintext capture's description (`tls-sniff`, after Pixie's openssl-tracer and BCC's
//! sslsniff), and the TLS server and client whose traffic it captures.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, bail};
use ebpf_support::lab::Lab;
use ebpf_support::needs::{Capability as C, Example, Hook, Mutant, Privilege};

pub const TLS_SNIFF: Example = Example {
    package: "chapter08",
    name: "tls-sniff",
    privilege: Privilege::Tracing,
    needs: &[C::Btf, C::Uprobe, C::RingBuffer],
    hook: Hook::Uprobe("SSL_write"),
    fallbacks: &[],
    mutants: &[
        Mutant {
            name: "read-at-entry",
            file: "tls.bpf.c",
            from: "bpf_map_update_elem(&read_buffers, &id, &buf, BPF_ANY);",
            to: "capture(bpf_ringbuf_reserve(&events, sizeof(struct tls_event), 0), buf, num, DIRECTION_READ);",
        },
        Mutant {
            name: "write-as-read",
            file: "tls.bpf.c",
            from: "return capture_on_return(&write_buffers, ret, DIRECTION_WRITE);",
            to: "return capture_on_return(&write_buffers, ret, DIRECTION_READ);",
        },
    ],
};

/// Where s_server listens, on the loopback of a namespace of its own.
const PORT: u16 = 4433;

/// A TLS server and client made with the `openssl` command, talking over the loopback of a
/// private network namespace: `openssl s_server -rev` answers each line the client sends with
/// the line reversed. Everything is stopped and removed when it is dropped.
pub struct TlsPair {
    // Dropped in this order: the processes, then their namespace.
    server: Kill,
    client: Kill,
    stdin: ChildStdin,
    _lab: Lab,
}

impl TlsPair {
    /// Makes a throwaway self-signed certificate, starts s_server and waits until it listens,
    /// then starts s_client, which connects and waits for lines on its stdin.
    pub fn start() -> anyhow::Result<TlsPair> {
        let openssl = find_in_path("openssl").context(
            "the openssl command is not installed (`cargo xtask setup` installs it); the example starts a TLS server and client with it",
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
        // s_server has read its certificate and key: remove them now, so that nothing is left
        // in /tmp even if this process is killed.
        drop(dir);
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
        let stdin = client.0.stdin.take().expect("the client's stdin is piped");
        Ok(TlsPair {
            server,
            client,
            stdin,
            _lab: lab,
        })
    }

    pub fn server_pid(&self) -> u32 {
        self.server.0.id()
    }

    pub fn client_pid(&self) -> u32 {
        self.client.0.id()
    }

    /// The client sends `line` (and a newline) over TLS.
    pub fn send(&mut self, line: &str) -> anyhow::Result<()> {
        if let Some(status) = self.client.0.try_wait()? {
            bail!("openssl s_client stopped ({status})");
        }
        self.stdin
            .write_all(format!("{line}\n").as_bytes())
            .context("writing to openssl s_client")
    }
}

// ANCHOR: libssl
/// The libssl that process `pid` runs with, as the kernel mapped it: its path differs per
/// distribution and architecture (and a program may bring its own copy), so it is looked up.
pub fn libssl_of(pid: u32) -> anyhow::Result<PathBuf> {
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
    // The thread keeps draining the server's output afterwards, until the server ends.
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
