//! Learning eBPF, chapter 8, “Load Balancing and Forwarding” (lb-from-scratch): an XDP load
//! balancer in a lab of four namespaces, a client, the load balancer and two backends on one
//! bridge. The client's TCP requests to the load balancer's address are answered by both
//! backends, and the example prints which one answered each.

use std::io::{Read, Write};
use std::mem::MaybeUninit;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Parser;
use ebpf_support::lab::{Interface, Lab};
use ebpf_support::{Run, RunArgs};
use libbpf_rs::skel::{OpenSkel, SkelBuilder};
use libbpf_rs::{Xdp, XdpFlags};

ebpf_support::skeleton!(lb);
use lb::LbSkelBuilder;
use lb::types::lb_config;

/// The port the backends listen on, and the client connects to on the load balancer.
const PORT: u16 = 8080;
/// How long the client waits for an answer: the lab answers in well under a millisecond.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(2);
/// The client's pace: one request this often.
const PERIOD: Duration = Duration::from_millis(100);

/// Balance a client's TCP requests between two backends with XDP (Learning eBPF, chapter 8, “Load Balancing and Forwarding”, lb-from-scratch).
///
/// Builds a private lab (client 172.17.0.4, lb 172.17.0.5, backend-a 172.17.0.2 and backend-b
/// 172.17.0.3 on one bridge, as on the book's docker0; nothing of the host's is touched),
/// attaches the XDP program xdp_load_balancer to the lb's eth0 in generic mode, starts a TCP
/// server on each backend that answers with its own name, and has the client make --count
/// requests (ten a second, until Ctrl-C without --count) to the lb's address. Prints which
/// backend answered each request, then how many each answered.
#[derive(Parser)]
#[command(name = "xdp-lb")]
struct Args {
    #[command(flatten)]
    run: RunArgs,
}

fn main() -> std::process::ExitCode {
    ebpf_support::main(&chapter08::lb::XDP_LB, |args: Args| {
        let run = Run::new(&args.run);
        let lab = Lab::load_balancer().context("building the network lab")?;
        let (client, balancer) = (lab.node("client"), lab.node("lb"));
        let backends = [lab.node("backend-a"), lab.node("backend-b")];

        // ANCHOR: load
        // The addresses go into the program's .rodata before it is loaded: the book has them
        // hard-coded for its Docker network.
        let mut object = MaybeUninit::uninit();
        let mut open = LbSkelBuilder::default().open(&mut object)?;
        open.maps
            .rodata_data
            .as_deref_mut()
            .expect("lb.bpf.c has a .rodata")
            .addresses = lb_config {
            client_ip: ip_in_packet(client.iface.ip),
            lb_ip: ip_in_packet(balancer.iface.ip),
            backend_ip: backends.map(|b| ip_in_packet(b.iface.ip)),
            client_mac: client.iface.mac,
            lb_mac: balancer.iface.mac,
            backend_mac: backends.map(|b| b.iface.mac),
        };
        let skel = open.load()?;
        // ANCHOR_END: load

        // ANCHOR: attach
        // Generic mode (xdpgeneric, as the book's Makefile asks): on a veth, native XDP_TX
        // hands the frame to the peer, the bridge's port, which drops it (see Lab::load_balancer).
        let xdp = Xdp::new(skel.progs.xdp_load_balancer.as_fd());
        let ifindex = balancer.iface.ifindex as i32;
        balancer
            .netns
            .run_here(|| xdp.attach(ifindex, XdpFlags::SKB_MODE))?
            .context("attaching XDP to the lb's eth0")?;
        // ANCHOR_END: attach
        eprintln!(
            "xdp-lb: attached XDP to the eth0 of lb; the client sends requests to {}:{PORT}, Ctrl-C to stop",
            balancer.iface.ip
        );

        let stop = Arc::new(AtomicBool::new(false));
        let mut servers = Vec::new();
        for backend in backends {
            let listener = backend
                .netns
                .run(|| TcpListener::bind((backend.iface.ip, PORT)))?
                .with_context(|| format!("listening on {}:{PORT}", backend.iface.ip))?;
            servers.push(std::thread::spawn(serve(
                listener,
                backend.name,
                stop.clone(),
            )));
        }

        let mut answered = [0u64; 2];
        let result = (|| -> anyhow::Result<()> {
            let mut request = 0;
            while run.record() {
                request += 1;
                let name =
                    ask(client, &balancer.iface).with_context(|| format!("request {request}"))?;
                let Some(which) = backends.iter().position(|b| b.name == name) else {
                    bail!("request {request}: answered by {name:?}, which is no backend");
                };
                answered[which] += 1;
                println!("request {request}: answered by {name}");
                run.sleep(PERIOD);
            }
            Ok(())
        })();

        stop.store(true, Ordering::SeqCst);
        for server in servers {
            server.join().expect("a backend's server thread")?;
        }
        // Dropping the lab would take the attachment with it; detaching first is what a
        // program on a real interface must do.
        balancer
            .netns
            .run_here(|| xdp.detach(ifindex, XdpFlags::SKB_MODE))?
            .context("detaching XDP from the lb's eth0")?;
        result?;
        let total: u64 = answered.iter().sum();
        if total > 0 {
            let shares: Vec<String> = backends
                .iter()
                .zip(answered)
                .map(|(b, n)| format!("{}: {n} of {total}", b.name))
                .collect();
            println!("{}", shares.join(", "));
        }
        Ok(())
    })
}

/// An IPv4 address as the program compares it with a packet's field: the packet's bytes
/// (network order) read as a u32 of this machine.
fn ip_in_packet(ip: Ipv4Addr) -> u32 {
    u32::from_ne_bytes(ip.octets())
}

/// One request: the client connects to the load balancer's address and reads the answer.
fn ask(client: &ebpf_support::lab::Node, balancer: &Interface) -> anyhow::Result<String> {
    let target = SocketAddr::from((balancer.ip, PORT));
    let mut stream = client
        .netns
        .run(|| TcpStream::connect_timeout(&target, ANSWER_TIMEOUT))?
        .with_context(|| format!("connecting to {target} from the client"))?;
    stream.set_read_timeout(Some(ANSWER_TIMEOUT))?;
    let mut answer = String::new();
    stream
        .read_to_string(&mut answer)
        .with_context(|| format!("reading the answer from {target}"))?;
    Ok(answer)
}

/// A backend's server: it answers every connection with its name, until `stop`.
fn serve(
    listener: TcpListener,
    name: &'static str,
    stop: Arc<AtomicBool>,
) -> impl FnOnce() -> std::io::Result<()> {
    move || {
        listener.set_nonblocking(true)?;
        while !stop.load(Ordering::SeqCst) {
            match listener.accept() {
                Ok((mut stream, _)) => {
                    stream.set_nonblocking(false)?;
                    stream.write_all(name.as_bytes())?;
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}
