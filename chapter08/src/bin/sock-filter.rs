//! Learning eBPF, chapter 8 (the book repository's network.py, socket_filter): a socket filter
//! on a raw packet socket. The filter keeps TCP packets and drops everything else, so user
//! space reads only TCP, while the lab also carries UDP and ICMP.

use std::io::{self, Read, Write};
use std::mem::MaybeUninit;
use std::net::{Ipv4Addr, TcpListener, TcpStream, UdpSocket};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use ebpf_support::lab::{Lab, Node, Pinger};
use ebpf_support::{Run, RunArgs};
use libbpf_rs::skel::{OpenSkel, SkelBuilder};

ebpf_support::skeleton!(sockfilter);
use sockfilter::SockfilterSkelBuilder;

const TCP_PORT: u16 = 7001;
const UDP_PORT: u16 = 7002;
/// One round of traffic (a TCP connection, a UDP datagram and a ping) this often.
const ROUND: Duration = Duration::from_millis(300);

/// Read only the TCP packets of an interface through a socket filter (Learning eBPF, chapter 8, the book repository's socket_filter).
///
/// Builds a private lab (namespaces a and b joined by a veth pair; nothing of the host's is
/// touched), opens a raw packet socket on b's eth0, attaches the SOCKET_FILTER program
/// socket_filter to it (setsockopt SO_ATTACH_BPF), and sends TCP, UDP and ICMP from a to b a few
/// times a second. Prints each packet the socket receives: `Userspace got data: TCP
/// 10.0.0.1:PORT -> 10.0.0.2:7001 [SYN] (74 bytes)`. Only TCP gets through the filter.
#[derive(Parser)]
#[command(name = "sock-filter")]
struct Args {
    #[command(flatten)]
    run: RunArgs,
}

fn main() -> std::process::ExitCode {
    ebpf_support::main(&chapter08::sock_filter::SOCK_FILTER, |args: Args| {
        let run = Run::new(&args.run);
        let lab = Lab::pair().context("building the network lab")?;
        let (a, b) = (lab.node("a"), lab.node("b"));

        let mut object = MaybeUninit::uninit();
        let skel = SockfilterSkelBuilder::default().open(&mut object)?.load()?;

        // ANCHOR: attach
        // A raw packet socket sees every frame of b's eth0, both ways, from the Ethernet header on.
        let socket = b
            .netns
            .run(|| packet_socket(b.iface.ifindex))?
            .context("opening a raw packet socket on b's eth0")?;
        // The filter runs on each packet before the socket queues it; what it returns is how
        // many bytes the socket gets (0: none, the packet is dropped for this socket only).
        let prog_fd = skel.progs.socket_filter.as_fd().as_raw_fd();
        // SAFETY: setsockopt reads an int (the program's descriptor) from a valid pointer.
        let attached = unsafe {
            libc::setsockopt(
                socket.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_ATTACH_BPF,
                (&prog_fd as *const libc::c_int).cast(),
                size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        if attached != 0 {
            return Err(io::Error::last_os_error()).context("attaching the socket filter");
        }
        // ANCHOR_END: attach
        eprintln!(
            "sock-filter: socket filter attached to a raw socket on b's eth0; sending TCP, UDP and ICMP from {} to {}",
            a.iface.ip, b.iface.ip
        );

        let (stop, stopped) = mpsc::channel::<()>();
        let (sent, tcp, other) = std::thread::scope(|scope| -> anyhow::Result<(u64, u64, u64)> {
            let traffic = scope.spawn(|| send_traffic(a, b, stopped));
            let (mut tcp, mut other) = (0u64, 0u64);
            let mut frame = [0u8; 2048];
            while !run.finished() && !traffic.is_finished() {
                let Some(len) = receive(&socket, &mut frame, run.poll_interval())? else {
                    continue;
                };
                if !run.record() {
                    break;
                }
                let summary = describe(&frame[..len]);
                if summary.starts_with("TCP ") {
                    tcp += 1;
                } else {
                    other += 1;
                }
                println!("Userspace got data: {summary} ({len} bytes)");
            }
            drop(stop);
            let sent = traffic
                .join()
                .expect("the traffic thread")
                .context("sending traffic in the lab")?;
            Ok((sent, tcp, other))
        })?;
        println!(
            "sent {sent} rounds of TCP, UDP and ICMP; the socket got {tcp} TCP packets and {other} others"
        );
        Ok(())
    })
}

/// `socket(AF_PACKET, SOCK_RAW, ETH_P_ALL)` bound to one interface.
fn packet_socket(ifindex: u32) -> io::Result<OwnedFd> {
    let protocol = (libc::ETH_P_ALL as u16).to_be();
    // SAFETY: socket(2) with constant arguments; the descriptor is owned at once.
    let fd = unsafe {
        libc::socket(
            libc::AF_PACKET,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC,
            protocol.into(),
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fd is a new descriptor that nothing else owns.
    let socket = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: sockaddr_ll is plain data; zero is a valid start.
    let mut address: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    address.sll_family = libc::AF_PACKET as u16;
    address.sll_protocol = protocol;
    address.sll_ifindex = ifindex as i32;
    // SAFETY: the address is valid for its length.
    let bound = unsafe {
        libc::bind(
            socket.as_raw_fd(),
            (&address as *const libc::sockaddr_ll).cast(),
            size_of::<libc::sockaddr_ll>() as libc::socklen_t,
        )
    };
    if bound != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(socket)
}

/// Waits up to `timeout` for one frame; `None` if none came.
fn receive(socket: &OwnedFd, frame: &mut [u8], timeout: Duration) -> io::Result<Option<usize>> {
    let mut poll = libc::pollfd {
        fd: socket.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd.
    if unsafe { libc::poll(&mut poll, 1, timeout.as_millis() as libc::c_int) } <= 0 {
        return Ok(None);
    }
    // SAFETY: the buffer is valid for its length.
    let len = unsafe {
        libc::recv(
            socket.as_raw_fd(),
            frame.as_mut_ptr().cast(),
            frame.len(),
            0,
        )
    };
    if len < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(Some(len as usize))
}

/// `TCP 10.0.0.1:41000 -> 10.0.0.2:7001 [SYN]`, `UDP …`, `ICMP …`, or the EtherType.
fn describe(frame: &[u8]) -> String {
    let ethertype = match frame.get(12..14) {
        Some(&[high, low]) => u16::from_be_bytes([high, low]),
        _ => return "a frame too short for Ethernet".into(),
    };
    let Some(ip) = frame
        .get(14..)
        .filter(|ip| ethertype == 0x0800 && ip.len() >= 20)
    else {
        return format!("EtherType {ethertype:#06x}");
    };
    let source = Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15]);
    let destination = Ipv4Addr::new(ip[16], ip[17], ip[18], ip[19]);
    let transport = &ip[usize::from(ip[0] & 0x0f) * 4..];
    let port = |at: usize| u16::from_be_bytes([transport[at], transport[at + 1]]);
    match ip[9] {
        6 if transport.len() >= 20 => {
            let flags: Vec<&str> = [(0x02, "SYN"), (0x10, "ACK"), (0x08, "PSH"), (0x01, "FIN")]
                .into_iter()
                .filter(|(bit, _)| transport[13] & bit != 0)
                .map(|(_, name)| name)
                .collect();
            format!(
                "TCP {source}:{} -> {destination}:{} [{}]",
                port(0),
                port(2),
                flags.join(",")
            )
        }
        17 if transport.len() >= 8 => {
            format!("UDP {source}:{} -> {destination}:{}", port(0), port(2))
        }
        1 => format!("ICMP {source} -> {destination}"),
        protocol => format!("IP protocol {protocol} {source} -> {destination}"),
    }
}

/// From a to b, every ROUND until `stopped`: a TCP connection that sends "hello", a UDP
/// datagram and a ping. Returns how many rounds it sent.
fn send_traffic(a: &Node, b: &Node, stopped: mpsc::Receiver<()>) -> io::Result<u64> {
    let listener = b
        .netns
        .run(|| TcpListener::bind((b.iface.ip, TCP_PORT)))??;
    let receiver = b.netns.run(|| UdpSocket::bind((b.iface.ip, UDP_PORT)))??;
    let sender = a.netns.run(|| UdpSocket::bind((a.iface.ip, 0)))??;
    let pinger = Pinger::new(&a.netns)?;
    let mut rounds = 0;
    loop {
        let mut stream = a
            .netns
            .run(|| TcpStream::connect((b.iface.ip, TCP_PORT)))??;
        stream.write_all(b"hello")?;
        let (mut accepted, _) = listener.accept()?;
        drop(stream);
        accepted.read_to_end(&mut Vec::new())?;
        sender.send_to(b"hello", (b.iface.ip, UDP_PORT))?;
        receiver.recv(&mut [0; 16])?;
        pinger.ping(b.iface.ip, rounds as u16, Duration::from_secs(1))?;
        rounds += 1;
        if stopped.recv_timeout(ROUND) != Err(RecvTimeoutError::Timeout) {
            return Ok(rounds);
        }
    }
}
