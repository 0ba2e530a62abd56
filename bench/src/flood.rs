//! What the packet cases (`xdp` and `rules`) share: a fresh network lab per measurement, a UDP
//! flood from `a` to `b` sent with `sendmmsg` by one thread, the counters that say how many
//! packets reached a given point in `b`, iptables inside `b`, and eBPF links on `b`'s `eth0`.
//!
//! Nearly all of a packet's journey runs on the sender's CPU: a veth hands the packet to its
//! peer within the send call, and the receive side runs in the softirq that follows it. So the
//! rate at which packets reach a point in `b` is the inverse of their whole cost, send and
//! receive, and a cheaper receive path shows as a higher rate.

use std::io::Write;
use std::mem::MaybeUninit;
use std::net::UdpSocket;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use ebpf_support::lab::{Lab, Node};
use libbpf_rs::OpenObject;
use libbpf_rs::skel::{OpenSkel, SkelBuilder};

ebpf_support::skeleton!(packet_drop);
pub use packet_drop::PacketDropSkel;

/// The flood's source address: node `a` of the pair.
pub const SENDER: std::net::Ipv4Addr = ebpf_support::lab::PAIR.nodes[0].ip;
/// The flood's destination: node `b`.
pub const RECEIVER: std::net::Ipv4Addr = ebpf_support::lab::PAIR.nodes[1].ip;
/// Where the flood goes in `b`: a socket that is bound there and never reads.
const PORT: u16 = 9000;
/// Messages per `sendmmsg` call.
const BATCH: usize = 64;

/// Loads `packet-drop.bpf.c` (the XDP drop and the TC allow-list); nothing is attached.
pub fn load(object: &mut MaybeUninit<OpenObject>) -> Result<PacketDropSkel<'_>> {
    let open = packet_drop::PacketDropSkelBuilder::default()
        .open(object)
        .context("opening packet-drop.bpf.o")?;
    open.load().context("loading packet-drop.bpf.o")
}

/// A fresh lab with the flood's two sockets. Each measurement gets its own, so that nothing
/// one variant set up (an iptables table, say, which stays hooked in when its rules are
/// deleted) is left for the next; dropping it removes everything.
pub struct Flood {
    lab: Lab,
    sender: UdpSocket,
    _sink: UdpSocket,
}

impl Flood {
    pub fn new() -> Result<Flood> {
        let lab = Lab::pair().context("building the network lab")?;
        let (a, b) = (lab.node("a"), lab.node("b"));
        let sink = b.netns.run(|| UdpSocket::bind((b.iface.ip, PORT)))??;
        let sender = a.netns.run(|| UdpSocket::bind((a.iface.ip, 0)))??;
        sender.connect((b.iface.ip, PORT))?;
        Ok(Flood {
            lab,
            sender,
            _sink: sink,
        })
    }

    /// Sends for a moment, uncounted: the first packets through a fresh lab (and a freshly
    /// attached program) are slower than the rest.
    pub fn warm_up(&self) -> Result<()> {
        self.send_for(64, Duration::from_millis(50)).map(|_| ())
    }

    pub fn b(&self) -> &Node {
        self.lab.node("b")
    }

    /// How many packets reached the point `count` counts, while `a` sent UDP datagrams of
    /// `payload` bytes as fast as it could for `duration`.
    pub fn rate(
        &self,
        payload: usize,
        duration: Duration,
        count: impl Fn(&Flood) -> Result<u64>,
    ) -> Result<Rate> {
        let before = count(self)?;
        let (seconds, cpu_seconds) = self.send_for(payload, duration)?;
        // Let a packet that is still queued inside b reach its end.
        std::thread::sleep(Duration::from_millis(10));
        let counted = count(self)?.saturating_sub(before);
        let packets = counted as f64;
        Ok(Rate {
            packets: counted,
            per_second: packets / seconds,
            cpu_nanos: if packets > 0.0 {
                cpu_seconds * 1e9 / packets
            } else {
                f64::NAN
            },
        })
    }

    /// Sends for `duration`, one thread, `BATCH` datagrams a call; returns the seconds it took,
    /// by the clock and in the sending thread's CPU time.
    fn send_for(&self, payload: usize, duration: Duration) -> Result<(f64, f64)> {
        let data = vec![0x5a_u8; payload];
        let mut iov = libc::iovec {
            iov_base: data.as_ptr() as *mut libc::c_void,
            iov_len: data.len(),
        };
        let mut messages: Vec<libc::mmsghdr> = (0..BATCH)
            .map(|_| {
                // SAFETY: mmsghdr is plain data; all zeroes is an empty message.
                let mut message: libc::mmsghdr = unsafe { std::mem::zeroed() };
                message.msg_hdr.msg_iov = &mut iov;
                message.msg_hdr.msg_iovlen = 1;
                message
            })
            .collect();
        let cpu_started = thread_cpu_seconds();
        let started = Instant::now();
        while started.elapsed() < duration {
            // SAFETY: every message points at `iov`, which points at `data`; both outlive the
            // call. The socket is connected, so no message names an address.
            let sent = unsafe {
                libc::sendmmsg(
                    self.sender.as_raw_fd(),
                    messages.as_mut_ptr(),
                    BATCH as u32,
                    0,
                )
            };
            if sent < 0 {
                let error = std::io::Error::last_os_error();
                match error.raw_os_error() {
                    Some(libc::EINTR | libc::EAGAIN | libc::ENOBUFS) => continue,
                    _ => return Err(error).context("sending the UDP flood"),
                }
            }
        }
        Ok((
            started.elapsed().as_secs_f64(),
            thread_cpu_seconds() - cpu_started,
        ))
    }

    /// Datagrams that reached UDP in `b`: delivered to the socket, or dropped there because
    /// its buffer was full (the socket never reads).
    pub fn udp_arrivals(&self) -> Result<u64> {
        // /proc/thread-self/net shows the namespace of the thread that reads it.
        let snmp = self
            .b()
            .netns
            .run(|| std::fs::read_to_string("/proc/thread-self/net/snmp"))??;
        let mut udp = snmp.lines().filter(|line| line.starts_with("Udp: "));
        let (Some(names), Some(values)) = (udp.next(), udp.next()) else {
            bail!("no Udp lines in /proc/net/snmp");
        };
        let field = |name: &str| -> Result<u64> {
            let index = names
                .split_whitespace()
                .position(|n| n == name)
                .with_context(|| format!("no {name} in /proc/net/snmp"))?;
            let value = values.split_whitespace().nth(index).unwrap_or_default();
            Ok(value.parse()?)
        };
        Ok(field("InDatagrams")? + field("RcvbufErrors")?)
    }

    /// Runs an iptables command inside `b` (with `input` on its standard input) and returns
    /// what it printed.
    pub fn iptables(&self, program: &str, args: &[&str], input: &str) -> Result<String> {
        let mut command = self.b().netns.command(program);
        command
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        crate::dies_with_us(&mut command);
        let mut child = match command.spawn() {
            Ok(child) => child,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                bail!("{program} is not installed: `cargo xtask setup` installs it")
            }
            Err(e) => return Err(e).with_context(|| format!("starting {program}")),
        };
        child.stdin.take().unwrap().write_all(input.as_bytes())?;
        let output = child.wait_with_output()?;
        if !output.status.success() {
            bail!(
                "{program} {} failed ({}): {}",
                args.join(" "),
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    /// Attaches `program` to `b`'s `eth0` as a BPF link (`BPF_XDP` with its mode in `flags`,
    /// or `BPF_TCX_INGRESS`). The link is held by the descriptor: closing it detaches the
    /// program, also when the process is killed.
    pub fn attach(
        &self,
        program: BorrowedFd,
        attach_type: libbpf_sys::bpf_attach_type,
        flags: u32,
    ) -> Result<OwnedFd> {
        let b = self.b();
        let options = libbpf_sys::bpf_link_create_opts {
            sz: size_of::<libbpf_sys::bpf_link_create_opts>() as _,
            flags,
            ..Default::default()
        };
        // The kernel looks the ifindex up in the calling thread's namespace.
        // SAFETY: valid descriptors and options that live for the call.
        let fd = b.netns.run_here(|| unsafe {
            libbpf_sys::bpf_link_create(
                program.as_raw_fd(),
                b.iface.ifindex as i32,
                attach_type,
                &options,
            )
        })?;
        if fd < 0 {
            bail!(
                "cannot attach to the lab's eth0: {}",
                std::io::Error::from_raw_os_error(-fd)
            );
        }
        // SAFETY: a new descriptor, ours alone.
        Ok(unsafe { OwnedFd::from_raw_fd(fd) })
    }
}

/// An Ethernet frame carrying an IPv4 UDP datagram of `payload` bytes, from a to b.
pub fn udp_frame(payload: usize) -> Vec<u8> {
    let ip_len = (20 + 8 + payload) as u16;
    let mut frame = Vec::with_capacity(14 + ip_len as usize);
    frame.extend_from_slice(&ebpf_support::lab::mac_for(RECEIVER));
    frame.extend_from_slice(&ebpf_support::lab::mac_for(SENDER));
    frame.extend_from_slice(&0x0800u16.to_be_bytes());
    let mut ip = [0u8; 20];
    ip[0] = 0x45;
    ip[2..4].copy_from_slice(&ip_len.to_be_bytes());
    ip[8] = 64; // TTL
    ip[9] = 17; // UDP
    ip[12..16].copy_from_slice(&SENDER.octets());
    ip[16..20].copy_from_slice(&RECEIVER.octets());
    let checksum = ebpf_support::lab::internet_checksum(&ip);
    ip[10..12].copy_from_slice(&checksum.to_be_bytes());
    frame.extend_from_slice(&ip);
    frame.extend_from_slice(&40000u16.to_be_bytes());
    frame.extend_from_slice(&PORT.to_be_bytes());
    frame.extend_from_slice(&(8 + payload as u16).to_be_bytes());
    frame.extend_from_slice(&[0, 0]); // no UDP checksum
    frame.resize(frame.len() + payload, 0x5a);
    frame
}

/// Nanoseconds per run of `program` on `frame`, as BPF_PROG_TEST_RUN timed `repeat` runs.
pub fn test_run(program: &libbpf_rs::ProgramMut, frame: &[u8], repeat: u32) -> Result<f64> {
    let input = libbpf_rs::ProgramInput {
        data_in: Some(frame),
        repeat,
        ..Default::default()
    };
    let output = program
        .test_run(input)
        .with_context(|| format!("BPF_PROG_TEST_RUN of {}", program.name().to_string_lossy()))?;
    Ok(output.duration.as_secs_f64() * 1e9)
}

/// What one flood measured.
#[derive(Clone, Copy, Debug)]
pub struct Rate {
    /// Packets counted.
    pub packets: u64,
    /// Packets per second (by the clock) that reached the point counted.
    pub per_second: f64,
    /// The sending thread's CPU time per packet counted. The thread also runs the receive side
    /// (in the softirq at the end of each send), and this kernel charges softirq time to the
    /// thread it interrupted (no CONFIG_IRQ_TIME_ACCOUNTING), so this is a packet's whole cost;
    /// unlike the rate, it does not fall when other programs take the CPU away.
    pub cpu_nanos: f64,
}

/// The calling thread's CPU time, in seconds.
fn thread_cpu_seconds() -> f64 {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    now.tv_sec as f64 + now.tv_nsec as f64 * 1e-9
}
