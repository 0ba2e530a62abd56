//! The network lab: private network namespaces joined by veth pairs, where the networking
//! chapters attach XDP and TC programs without touching the host's interfaces.
//!
//! ```no_run
//! use ebpf_support::lab::Lab;
//! # fn main() -> std::io::Result<()> {
//! let lab = Lab::pair()?; // a (10.0.0.1/24) and b (10.0.0.2/24), one veth pair between them
//! let (a, b) = (lab.node("a"), lab.node("b"));
//! // Attach to an interface from inside its namespace, e.g. with libbpf-rs:
//! // b.netns.run_here(|| skel.progs.hello.attach_xdp(b.iface.ifindex as i32))??;
//! let receiver = b.netns.run(|| std::net::UdpSocket::bind((b.iface.ip, 7000)))??;
//! let sender = a.netns.run(|| std::net::UdpSocket::bind((a.iface.ip, 0)))??;
//! sender.send_to(b"hello", (b.iface.ip, 7000))?;
//! let pinger = ebpf_support::lab::Pinger::new(&a.netns)?; // ICMP echo, without the ping command
//! let rtt = pinger.ping(b.iface.ip, 1, std::time::Duration::from_secs(1))?;
//! let ping = a.netns.command("ping").args(["-c", "1", &b.iface.ip.to_string()]).status()?;
//! # let _ = (receiver, ping, rtt); Ok(()) }
//! ```
//!
//! Every namespace is anonymous and held only by the lab (see [`Namespace`]): dropping the lab,
//! or the end of the process in any way, deletes the namespaces and every veth and bridge in
//! them. No interface is ever made in, moved to or changed in the host's namespace.
//!
//! The lab is quiet: IPv6 is off and every node knows the MAC address of every other node
//! (permanent neighbour entries, so no ARP), so each packet on a link is one the caller sent.

mod namespace;
mod ping;
mod rtnetlink;
#[cfg(test)]
mod tests;
mod topology;

use std::io;
use std::net::Ipv4Addr;
use std::os::fd::AsFd;

pub use namespace::Namespace;
pub use ping::{Pinger, echo_request, internet_checksum};
use rtnetlink::Rtnetlink;
pub use topology::{LOAD_BALANCER, Link, NodeSpec, PAIR, SINGLE, TOPOLOGIES, Topology};

/// One machine of the lab: a network namespace and its one interface.
#[derive(Debug)]
pub struct Node {
    /// `a`, `b`, `client`, `lb`, …: see the topology's constructor.
    pub name: &'static str,
    pub netns: Namespace,
    /// `eth0`, or `lo` in [`Lab::single`].
    pub iface: Interface,
}

/// An interface of a node, as seen inside the node's namespace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interface {
    pub name: &'static str,
    pub ifindex: u32,
    pub mac: [u8; 6],
    pub ip: Ipv4Addr,
    pub prefix_len: u8,
}

/// The bridge of [`Lab::load_balancer`], in a namespace of its own, like `docker0` in the book.
#[derive(Debug)]
pub struct Switch {
    pub netns: Namespace,
    /// `br0`.
    pub bridge: &'static str,
    pub bridge_ifindex: u32,
    /// One port per node, each named after its node.
    pub ports: Vec<Port>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Port {
    pub name: &'static str,
    pub ifindex: u32,
}

/// A topology of nodes. Everything in it goes away when it is dropped.
#[derive(Debug)]
pub struct Lab {
    nodes: Vec<Node>,
    switch: Option<Switch>,
}

/// The lab's MAC addresses follow Docker's rule: 02:42 and then the four bytes of the IPv4
/// address, so that a program can turn one into the other as the book's load balancer does.
pub fn mac_for(ip: Ipv4Addr) -> [u8; 6] {
    let [a, b, c, d] = ip.octets();
    [0x02, 0x42, a, b, c, d]
}

impl Lab {
    /// One node, `node`, whose interface is its own `lo` (127.0.0.1/8): the book's
    /// "attach to `lo` and ping localhost", with nothing of the host's involved.
    pub fn single() -> io::Result<Lab> {
        let [spec] = SINGLE.nodes else {
            unreachable!("the single lab has one node")
        };
        let netns = Namespace::new()?;
        let ifindex = rtnetlink_in(&netns)?.ifindex("lo")?;
        let iface = Interface {
            name: "lo",
            ifindex,
            mac: [0; 6],
            ip: spec.ip,
            prefix_len: spec.prefix_len,
        };
        Ok(Lab {
            nodes: vec![Node {
                name: spec.name,
                netns,
                iface,
            }],
            switch: None,
        })
    }

    /// Two nodes, `a` (10.0.0.1/24) and `b` (10.0.0.2/24), each with an `eth0`, the two ends
    /// of one veth pair.
    pub fn pair() -> io::Result<Lab> {
        let [a, b] = PAIR.nodes else {
            unreachable!("the pair lab has two nodes")
        };
        let mut a = Wiring::new(a)?;
        let b = Wiring::new(b)?;
        a.rtnetlink.add_veth(
            "eth0",
            Some(a.mac()),
            "eth0",
            Some(b.mac()),
            b.netns.as_fd(),
        )?;
        Ok(Lab {
            nodes: wire_up(vec![a, b])?,
            switch: None,
        })
    }

    /// The book's load balancer setup (chapter 8), with its Docker addresses: `client`
    /// (172.17.0.4), `lb` (172.17.0.5), `backend-a` (172.17.0.2) and `backend-b` (172.17.0.3),
    /// all /16. Each node's `eth0` is joined by a veth pair to a port of the bridge `br0` in a
    /// fifth namespace, the [`Switch`]: one Ethernet segment, as on `docker0`, so that the load
    /// balancer can rewrite a packet's destination and send it back out with `XDP_TX`. The MAC
    /// addresses follow [`mac_for`], so the book's `IP_ADDRESS(x)` and `h_dest[5] = x` hold.
    ///
    /// `XDP_TX` on the `lb`'s `eth0` works when the program is attached in generic mode
    /// (`xdpgeneric`, as the book does). In native mode a veth hands the frame to its peer, the
    /// switch port, which drops it unless that port runs NAPI (an XDP program of its own, or
    /// GRO turned on): measured on Linux 6.18, where nothing reached the switch.
    pub fn load_balancer() -> io::Result<Lab> {
        let Link::Bridge(bridge) = LOAD_BALANCER.link else {
            unreachable!("the load balancer's nodes share a bridge")
        };
        let netns = Namespace::new()?;
        let mut switch = rtnetlink_in(&netns)?;
        switch.add_bridge(bridge)?;
        let bridge_ifindex = switch.ifindex(bridge)?;
        switch.set_up(bridge_ifindex)?;
        let mut nodes = Vec::new();
        let mut ports = Vec::new();
        for spec in LOAD_BALANCER.nodes {
            let name = spec.name;
            let mut node = Wiring::new(spec)?;
            node.rtnetlink
                .add_veth("eth0", Some(node.mac()), name, None, netns.as_fd())?;
            let ifindex = switch.ifindex(name)?;
            switch.set_master(ifindex, bridge_ifindex)?;
            switch.set_up(ifindex)?;
            ports.push(Port { name, ifindex });
            nodes.push(node);
        }
        Ok(Lab {
            nodes: wire_up(nodes)?,
            switch: Some(Switch {
                netns,
                bridge,
                bridge_ifindex,
                ports,
            }),
        })
    }

    /// The node called `name`. Panics if the topology has none: the names are fixed by each
    /// constructor.
    pub fn node(&self, name: &str) -> &Node {
        self.nodes
            .iter()
            .find(|node| node.name == name)
            .unwrap_or_else(|| {
                let names: Vec<&str> = self.nodes.iter().map(|node| node.name).collect();
                panic!("this lab has no node {name}, only {}", names.join(", "))
            })
    }

    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// The bridge of [`Lab::load_balancer`]; `None` in the other topologies.
    pub fn switch(&self) -> Option<&Switch> {
        self.switch.as_ref()
    }
}

/// A route netlink socket inside `netns`.
fn rtnetlink_in(netns: &Namespace) -> io::Result<Rtnetlink> {
    netns.run(Rtnetlink::open)?
}

/// A node while it is being wired: its namespace, a netlink socket inside, its address.
struct Wiring {
    name: &'static str,
    netns: Namespace,
    rtnetlink: Rtnetlink,
    ip: Ipv4Addr,
    prefix_len: u8,
}

impl Wiring {
    fn new(spec: &NodeSpec) -> io::Result<Wiring> {
        let netns = Namespace::new()?;
        let rtnetlink = rtnetlink_in(&netns)?;
        Ok(Wiring {
            name: spec.name,
            netns,
            rtnetlink,
            ip: spec.ip,
            prefix_len: spec.prefix_len,
        })
    }

    fn mac(&self) -> [u8; 6] {
        mac_for(self.ip)
    }
}

/// Gives each node's `eth0` (already made) its address, brings it up, and tells every node the
/// MAC address of every other one.
fn wire_up(mut wirings: Vec<Wiring>) -> io::Result<Vec<Node>> {
    let mut ifaces = Vec::new();
    for node in &mut wirings {
        let ifindex = node.rtnetlink.ifindex("eth0")?;
        node.rtnetlink.add_ipv4(ifindex, node.ip, node.prefix_len)?;
        node.rtnetlink.set_up(ifindex)?;
        ifaces.push(Interface {
            name: "eth0",
            ifindex,
            mac: node.mac(),
            ip: node.ip,
            prefix_len: node.prefix_len,
        });
    }
    for (node, iface) in wirings.iter_mut().zip(&ifaces) {
        for other in ifaces.iter().filter(|other| other.ip != iface.ip) {
            node.rtnetlink
                .add_neighbour(iface.ifindex, other.ip, other.mac)?;
        }
    }
    Ok(wirings
        .into_iter()
        .zip(ifaces)
        .map(|(wiring, iface)| Node {
            name: wiring.name,
            netns: wiring.netns,
            iface,
        })
        .collect())
}
