//! Learning eBPF, chapter 8, “Packet Drops”: an XDP program that parses each frame — Ethernet,
//! then IPv4 or IPv6, then ICMP, TCP or UDP — and sends what it found to user space through a
//! ring buffer.

use std::io::Write;
use std::mem::MaybeUninit;
use std::net::{Ipv4Addr, TcpListener, TcpStream, UdpSocket};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

use anyhow::Context;
use chapter08::packet::{self, ParseSkelBuilder};
use clap::Parser;
use ebpf_support::lab::{Lab, Node, Pinger};
use ebpf_support::{Run, RunArgs};
use libbpf_rs::RingBufferBuilder;
use libbpf_rs::skel::{OpenSkel, SkelBuilder};

const UDP_PORT: u16 = 7000;
const TCP_PORT: u16 = 8000;
const ROUND: Duration = Duration::from_secs(1);

/// Parse every frame an interface receives, layer by layer, in XDP (Learning eBPF, chapter 8, “Packet Drops”).
///
/// Attaches the XDP program `parse` to b's eth0 in a private lab (two network namespaces, a
/// 10.0.0.1 and b 10.0.0.2, joined by a veth pair; nothing of the host's is touched). Once a
/// second a pings b, sends it a UDP datagram (port 7000) and opens, uses and closes a TCP
/// connection to it (port 8000). The program reads the Ethernet header, then the IPv4 or IPv6
/// header, then the ICMP, TCP or UDP header, checking before each read that it lies inside the
/// packet (the verifier refuses the program otherwise), and sends the fields to user space
/// through a ring buffer; each is printed as one line. It returns XDP_PASS for every frame.
/// The lab has IPv6 off, so IPv6 frames appear only with --iface; the tests feed IPv6 frames
/// through BPF_PROG_TEST_RUN.
#[derive(Parser)]
#[command(name = "packet-parse")]
struct Args {
    /// Attach to this interface of the host instead of the lab's, and send nothing.
    #[arg(long, value_name = "NAME")]
    iface: Option<String>,
    #[command(flatten)]
    run: RunArgs,
}

fn main() -> std::process::ExitCode {
    ebpf_support::main(&chapter08::PACKET_PARSE, |args: Args| {
        let host_ifindex = match &args.iface {
            Some(name) => Some(ebpf_support::interface_index(name)?),
            None => None,
        };
        let mut object = MaybeUninit::uninit();
        let skel = ParseSkelBuilder::default().open(&mut object)?.load()?;
        let run = Run::new(&args.run);

        // ANCHOR: ring_buffer
        let mut builder = RingBufferBuilder::new();
        builder.add(&skel.maps.packets, |bytes| {
            if let Some(info) = packet::read(bytes)
                && run.record()
            {
                println!("{}", packet::describe(&info));
            }
            0
        })?;
        let packets = builder.build()?;
        // ANCHOR_END: ring_buffer

        let Some(ifindex) = host_ifindex else {
            let lab = Lab::pair().context("building the network lab")?;
            let (a, b) = (lab.node("a"), lab.node("b"));
            let _link = b
                .netns
                .run_here(|| skel.progs.parse.attach_xdp(b.iface.ifindex as i32))?
                .context("attaching XDP to b's eth0")?;
            eprintln!(
                "packet-parse: attached XDP to b's eth0 in a private lab; a ({}) sends b ({}) a ping, a UDP datagram and a TCP connection once a second, Ctrl-C to stop",
                a.iface.ip, b.iface.ip
            );
            let traffic = Traffic::new(a, b)?;
            let (stop, stopped) = mpsc::channel::<()>();
            return std::thread::scope(|scope| {
                let sender = scope.spawn(move || traffic.until_stopped(&stopped));
                while !run.finished() {
                    packets.poll(run.poll_interval())?;
                }
                drop(stop);
                sender.join().expect("the traffic thread")
            });
        };

        let _link = skel
            .progs
            .parse
            .attach_xdp(ifindex as i32)
            .with_context(|| format!("attaching XDP to {}", args.iface.unwrap_or_default()))?;
        eprintln!("packet-parse: attached XDP; parsing what arrives, Ctrl-C to stop");
        while !run.finished() {
            packets.poll(run.poll_interval())?;
        }
        Ok(())
    })
}

/// The sockets that make a round of traffic from a to b: each opened in its node's namespace.
struct Traffic<'lab> {
    a: &'lab Node,
    to: Ipv4Addr,
    pinger: Pinger,
    udp: UdpSocket,
    _udp_receiver: UdpSocket,
    tcp_listener: TcpListener,
}

impl<'lab> Traffic<'lab> {
    fn new(a: &'lab Node, b: &Node) -> anyhow::Result<Traffic<'lab>> {
        let to = b.iface.ip;
        Ok(Traffic {
            a,
            to,
            pinger: Pinger::new(&a.netns)?,
            udp: a.netns.run(|| UdpSocket::bind((a.iface.ip, 0)))??,
            _udp_receiver: b.netns.run(|| UdpSocket::bind((to, UDP_PORT)))??,
            tcp_listener: b.netns.run(|| TcpListener::bind((to, TCP_PORT)))??,
        })
    }

    /// One round a second until `stopped` says so.
    fn until_stopped(self, stopped: &mpsc::Receiver<()>) -> anyhow::Result<()> {
        let mut seq = 0;
        loop {
            seq += 1;
            // One by one, each waiting for its answer, so the frames arrive in this order.
            self.pinger.ping(self.to, seq, ROUND)?;
            self.udp.send_to(b"hello", (self.to, UDP_PORT))?;
            let mut client = self
                .a
                .netns
                .run(|| TcpStream::connect((self.to, TCP_PORT)))??;
            let (server, _) = self.tcp_listener.accept()?;
            client.write_all(b"hello")?;
            drop(client);
            drop(server);
            if stopped.recv_timeout(ROUND) != Err(RecvTimeoutError::Timeout) {
                return Ok(());
            }
        }
    }
}
