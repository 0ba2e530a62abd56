//! The lab's topologies as data: what each of [`Lab`](super::Lab)'s constructors builds, and
//! what the book draws (`cargo xtask book` renders [`Topology::dot`] with Graphviz), so the
//! pictures cannot drift from the labs the examples really use.

use std::fmt::Write;
use std::net::Ipv4Addr;

use super::mac_for;

/// One node of a topology: its namespace's name in the lab and its interface's address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NodeSpec {
    pub name: &'static str,
    pub ip: Ipv4Addr,
    pub prefix_len: u8,
}

/// How a topology's nodes are joined.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Link {
    /// No link: the one node talks to itself over its own `lo`.
    Loopback,
    /// Two nodes, each with an `eth0`, the two ends of one veth pair.
    VethPair,
    /// Every node's `eth0` is a veth pair whose other end is a port of this bridge, in a
    /// namespace of its own.
    Bridge(&'static str),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Topology {
    /// The constructor: `single`, `pair`, `load-balancer`.
    pub name: &'static str,
    /// What the topology is for, as a caption.
    pub purpose: &'static str,
    pub nodes: &'static [NodeSpec],
    pub link: Link,
}

const fn node(name: &'static str, ip: [u8; 4], prefix_len: u8) -> NodeSpec {
    NodeSpec {
        name,
        ip: Ipv4Addr::new(ip[0], ip[1], ip[2], ip[3]),
        prefix_len,
    }
}

/// [`Lab::single`](super::Lab::single).
pub const SINGLE: Topology = Topology {
    name: "single",
    purpose: "Lab::single(): one namespace and its own lo, the book's \"ping localhost\"",
    nodes: &[node("node", [127, 0, 0, 1], 8)],
    link: Link::Loopback,
};

/// [`Lab::pair`](super::Lab::pair).
pub const PAIR: Topology = Topology {
    name: "pair",
    purpose: "Lab::pair(): two namespaces joined by one veth pair",
    nodes: &[node("a", [10, 0, 0, 1], 24), node("b", [10, 0, 0, 2], 24)],
    link: Link::VethPair,
};

/// [`Lab::load_balancer`](super::Lab::load_balancer), with the book's Docker addresses.
pub const LOAD_BALANCER: Topology = Topology {
    name: "load-balancer",
    purpose: "Lab::load_balancer(): the book's client, load balancer and two backends on one bridge, as on docker0",
    nodes: &[
        node("client", [172, 17, 0, 4], 16),
        node("lb", [172, 17, 0, 5], 16),
        node("backend-a", [172, 17, 0, 2], 16),
        node("backend-b", [172, 17, 0, 3], 16),
    ],
    link: Link::Bridge("br0"),
};

pub const TOPOLOGIES: &[Topology] = &[SINGLE, PAIR, LOAD_BALANCER];

impl Topology {
    /// The topology as a Graphviz graph: each namespace a box, each interface with its
    /// addresses, each link an edge. The host's namespace is drawn apart, with nothing of the
    /// lab in it.
    pub fn dot(&self) -> String {
        let mut dot = String::new();
        let id = |name: &str| format!("ns_{}", name.replace('-', "_"));
        let _ = writeln!(dot, "graph \"{}\" {{", self.name);
        let _ = writeln!(dot, "  label=\"{}\";", self.purpose.replace('"', "\\\""));
        dot.push_str(
            "  labelloc=b; fontname=\"sans-serif\"; rankdir=LR; nodesep=0.4;\n  \
             node [shape=box, style=\"rounded,filled\", fillcolor=\"#eef4ff\", fontname=\"monospace\", fontsize=11];\n  \
             edge [fontname=\"sans-serif\", fontsize=10];\n",
        );
        for node in self.nodes {
            let iface = match self.link {
                Link::Loopback => "lo".to_string(),
                _ => format!("eth0\\n{}", mac(mac_for(node.ip))),
            };
            let _ = writeln!(
                dot,
                "  subgraph cluster_{id} {{ label=\"namespace {name}\"; style=dashed; fontname=\"sans-serif\";\n    \
                 {id} [label=\"{iface}\\n{ip}/{prefix}\"]; }}",
                id = id(node.name),
                name = node.name,
                ip = node.ip,
                prefix = node.prefix_len,
            );
        }
        match self.link {
            Link::Loopback => {
                for node in self.nodes {
                    let _ = writeln!(
                        dot,
                        "  {id} -- {id} [label=\"loopback\"];",
                        id = id(node.name)
                    );
                }
            }
            Link::VethPair => {
                for pair in self.nodes.windows(2) {
                    let _ = writeln!(
                        dot,
                        "  {} -- {} [label=\"veth pair\"];",
                        id(pair[0].name),
                        id(pair[1].name)
                    );
                }
            }
            Link::Bridge(bridge) => {
                let _ = writeln!(
                    dot,
                    "  subgraph cluster_switch {{ label=\"namespace switch\"; style=dashed; fontname=\"sans-serif\";\n    \
                     {bridge} [label=\"{bridge}\\n(bridge)\", fillcolor=\"#fff4e0\"];"
                );
                for node in self.nodes {
                    let _ = writeln!(
                        dot,
                        "    port_{id} [label=\"{name}\", fillcolor=\"#fff4e0\"]; port_{id} -- {bridge};",
                        id = id(node.name),
                        name = node.name
                    );
                }
                dot.push_str("  }\n");
                for node in self.nodes {
                    let _ = writeln!(
                        dot,
                        "  {id} -- port_{id} [label=\"veth pair\"];",
                        id = id(node.name)
                    );
                }
            }
        }
        dot.push_str(
            "  host [label=\"the host's namespace:\\nits interfaces are never touched\", shape=note, style=filled, fillcolor=\"#f2f2f2\", fontname=\"sans-serif\"];\n}\n",
        );
        dot
    }
}

fn mac(bytes: [u8; 6]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_node_and_link_is_drawn() {
        for topology in TOPOLOGIES {
            let dot = topology.dot();
            for node in topology.nodes {
                assert!(
                    dot.contains(&format!("namespace {}", node.name)),
                    "{}: {dot}",
                    topology.name
                );
                assert!(dot.contains(&format!("{}/{}", node.ip, node.prefix_len)));
            }
            let links = dot.matches("[label=\"veth pair\"]").count();
            let expected = match topology.link {
                Link::Loopback => 0,
                Link::VethPair => topology.nodes.len() - 1,
                Link::Bridge(_) => topology.nodes.len(),
            };
            assert_eq!(links, expected, "{}: {dot}", topology.name);
        }
    }

    #[test]
    fn the_load_balancer_draws_docker_style_macs() {
        let dot = LOAD_BALANCER.dot();
        assert!(dot.contains("02:42:ac:11:00:05\\n172.17.0.5/16"), "{dot}");
        assert!(dot.contains("port_ns_backend_a -- br0"), "{dot}");
    }
}
