//! The lab on the real kernel (as root): each topology carries datagrams, and nothing of it is
//! left afterwards, neither in the host's namespace nor anywhere else, also after SIGKILL.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::os::fd::{AsFd, AsRawFd, FromRawFd};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::*;

/// True when the lab can be built here (else see `skips`).
fn lab_ready() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let effective = status
        .lines()
        .find_map(|line| line.strip_prefix("CapEff:"))
        .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
        .unwrap_or(0);
    let (sys_admin, net_admin) = (1 << 21, 1 << 12);
    if effective & sys_admin != 0 && effective & net_admin != 0 {
        return true;
    }
    crate::skips::skip_or_fail(
        "not running as root (the lab needs CAP_SYS_ADMIN and CAP_NET_ADMIN)",
    )
}

/// What the host's namespace shows: its interfaces, its named namespaces and its IPv6
/// switches (the lab turns IPv6 off in its own namespaces only).
#[derive(Debug, PartialEq, Eq)]
struct Host {
    interfaces: BTreeSet<String>,
    named_namespaces: BTreeSet<String>,
    ipv6_off: (String, String),
}

fn host() -> Host {
    let names = |dir: &str| -> BTreeSet<String> {
        std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .collect()
    };
    let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
    Host {
        interfaces: names("/sys/class/net"),
        named_namespaces: names("/run/netns"),
        ipv6_off: (
            read("/proc/sys/net/ipv6/conf/all/disable_ipv6"),
            read("/proc/sys/net/ipv6/conf/default/disable_ipv6"),
        ),
    }
}

/// Every place in user space that holds the network namespace `inode`: a thread inside it, an
/// open descriptor, a mount.
fn holders(inode: u64) -> Vec<String> {
    let target = format!("net:[{inode}]");
    let links = |dir: String| -> Vec<String> {
        std::fs::read_dir(&dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|entry| {
                std::fs::read_link(entry.path())
                    .is_ok_and(|link| link.as_os_str() == target.as_str())
            })
            .map(|entry| entry.path().display().to_string())
            .collect()
    };
    let mut found = Vec::new();
    for process in std::fs::read_dir("/proc").unwrap().flatten() {
        let pid = process.file_name().to_string_lossy().into_owned();
        if !pid.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        found.extend(links(format!("/proc/{pid}/fd")));
        for task in std::fs::read_dir(format!("/proc/{pid}/task"))
            .into_iter()
            .flatten()
            .flatten()
        {
            let ns = task.path().join("ns/net");
            if std::fs::read_link(&ns).is_ok_and(|link| link.as_os_str() == target.as_str()) {
                found.push(ns.display().to_string());
            }
        }
    }
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    found.extend(
        mounts
            .lines()
            .filter(|l| l.contains(&target))
            .map(str::to_string),
    );
    found
}

/// A veth from `watcher` into `lab_netns`. The kernel deletes the end inside the lab when it
/// destroys that namespace, and the pair with it: the end in `watcher` vanishing is the
/// kernel's word that the lab's namespace is gone.
fn watch(watcher: &Namespace, lab_netns: &Namespace, name: &str) {
    let mut rtnetlink = rtnetlink_in(watcher).unwrap();
    rtnetlink
        .add_veth(name, None, "watch", None, lab_netns.as_fd())
        .unwrap();
    rtnetlink.ifindex(name).unwrap();
}

fn assert_vanishes(watcher: &Namespace, name: &str) {
    let mut rtnetlink = rtnetlink_in(watcher).unwrap();
    let no_device = io::Error::from_raw_os_error(libc::ENODEV).to_string();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match rtnetlink.ifindex(name) {
            Err(e) if e.to_string().contains(&no_device) => return,
            Err(e) => panic!("looking for {name}: {e}"),
            Ok(_) if Instant::now() > deadline => {
                panic!("{name} is still there 30 s later: its lab namespace was not destroyed")
            }
            Ok(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

/// Sends one datagram from `from` to `to`'s address and returns where it came from.
fn udp(from: &Node, to: &Node, port: u16) -> SocketAddr {
    let receiver = to
        .netns
        .run(|| UdpSocket::bind((to.iface.ip, port)))
        .unwrap()
        .unwrap();
    receiver
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let sender = from
        .netns
        .run(|| UdpSocket::bind((from.iface.ip, 0)))
        .unwrap()
        .unwrap();
    let payload = format!("from {} to {}", from.name, to.name);
    sender
        .send_to(payload.as_bytes(), (to.iface.ip, port))
        .unwrap();
    let mut buffer = [0u8; 64];
    let (n, source) = receiver
        .recv_from(&mut buffer)
        .unwrap_or_else(|e| panic!("{payload}: nothing arrived ({e})"));
    assert_eq!(&buffer[..n], payload.as_bytes());
    source
}

#[test]
fn lab_single_is_a_namespace_with_its_own_lo() {
    if !lab_ready() {
        return;
    }
    let before = host();
    let lab = Lab::single().unwrap();
    let node = lab.node("node");
    assert_eq!(node.iface.name, "lo");
    assert_eq!(node.iface.ifindex, 1);
    let source = udp(node, node, 7001);
    assert_eq!(source.ip(), Ipv4Addr::LOCALHOST);
    let interfaces = node
        .netns
        .run(|| std::fs::read_to_string("/proc/thread-self/net/dev"))
        .unwrap()
        .unwrap();
    assert_eq!(interface_names(&interfaces), ["lo"]);
    assert_eq!(host(), before);
}

/// The pictures in the book are drawn from the topologies: each lab must be what its
/// topology says.
#[test]
fn lab_constructors_build_their_topologies() {
    if !lab_ready() {
        return;
    }
    for (topology, lab) in [
        (SINGLE, Lab::single()),
        (PAIR, Lab::pair()),
        (LOAD_BALANCER, Lab::load_balancer()),
    ] {
        let lab = lab.unwrap();
        let built: Vec<NodeSpec> = lab
            .nodes()
            .iter()
            .map(|node| NodeSpec {
                name: node.name,
                ip: node.iface.ip,
                prefix_len: node.iface.prefix_len,
            })
            .collect();
        assert_eq!(built, topology.nodes, "{}", topology.name);
        let ports = lab
            .switch()
            .map(|switch| (switch.bridge, switch.ports.len()));
        let expected = match topology.link {
            Link::Bridge(bridge) => Some((bridge, topology.nodes.len())),
            Link::Loopback | Link::VethPair => None,
        };
        assert_eq!(ports, expected, "{}", topology.name);
    }
}

/// The interface names in the text of `/proc/net/dev`.
fn interface_names(dev: &str) -> Vec<&str> {
    dev.lines()
        .skip(2)
        .filter_map(|line| line.split(':').next())
        .map(str::trim)
        .collect()
}

#[test]
fn lab_pair_carries_a_udp_datagram_both_ways() {
    if !lab_ready() {
        return;
    }
    let before = host();
    let lab = Lab::pair().unwrap();
    let (a, b) = (lab.node("a"), lab.node("b"));
    assert_eq!(a.iface.ip, Ipv4Addr::new(10, 0, 0, 1));
    assert_eq!(b.iface.ip, Ipv4Addr::new(10, 0, 0, 2));
    assert_eq!(b.iface.mac, [0x02, 0x42, 10, 0, 0, 2]);
    for node in [a, b] {
        // The ifindex is the one the namespace itself gives its eth0.
        let ifindex = node
            .netns
            .run(|| unsafe { libc::if_nametoindex(c"eth0".as_ptr()) })
            .unwrap();
        assert_eq!(node.iface.ifindex, ifindex, "{}", node.name);
    }
    assert_eq!(udp(a, b, 7002).ip(), a.iface.ip);
    assert_eq!(udp(b, a, 7002).ip(), b.iface.ip);
    // Permanent neighbour entries (flags 0x6), so no ARP request ever crosses the link.
    let arp = a
        .netns
        .run(|| std::fs::read_to_string("/proc/thread-self/net/arp"))
        .unwrap()
        .unwrap();
    assert!(
        arp.lines().any(|l| l.starts_with("10.0.0.2 ")
            && l.contains("0x6")
            && l.contains("02:42:0a:00:00:02")),
        "{arp}"
    );
    assert_eq!(host(), before);
}

#[test]
fn lab_load_balancer_puts_four_nodes_on_one_bridge() {
    if !lab_ready() {
        return;
    }
    let before = host();
    let lab = Lab::load_balancer().unwrap();
    let names: Vec<&str> = lab.nodes().iter().map(|n| n.name).collect();
    assert_eq!(names, ["client", "lb", "backend-a", "backend-b"]);
    assert_eq!(lab.node("lb").iface.ip, Ipv4Addr::new(172, 17, 0, 5));
    assert_eq!(lab.node("backend-b").iface.mac, [0x02, 0x42, 172, 17, 0, 3]);
    let switch = lab.switch().unwrap();
    let ports: Vec<&str> = switch.ports.iter().map(|p| p.name).collect();
    assert_eq!(ports, names);
    let client = lab.node("client");
    for (port, to) in (7003..).zip(["lb", "backend-a", "backend-b"]) {
        assert_eq!(udp(client, lab.node(to), port).ip(), client.iface.ip);
    }
    let backend = lab.node("backend-a");
    assert_eq!(udp(backend, lab.node("lb"), 7006).ip(), backend.iface.ip);
    let bridged = switch
        .netns
        .run(|| std::fs::read_to_string("/proc/thread-self/net/dev"))
        .unwrap()
        .unwrap();
    let mut seen = interface_names(&bridged);
    seen.sort();
    assert_eq!(
        seen,
        ["backend-a", "backend-b", "br0", "client", "lb", "lo"]
    );
    assert_eq!(host(), before);
}

/// The frames that any interface of `netns` sends or receives during `period`, in hex.
fn frames_seen(netns: &Namespace, period: Duration) -> Vec<String> {
    netns
        .run(|| {
            let all = (libc::ETH_P_ALL as u16).to_be() as libc::c_int;
            // SAFETY: socket(2) returns a new descriptor, which the OwnedFd then owns.
            let socket = unsafe {
                let fd = libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, all);
                assert!(fd >= 0, "{}", io::Error::last_os_error());
                std::os::fd::OwnedFd::from_raw_fd(fd)
            };
            let file = std::fs::File::from(socket);
            let tick = libc::timeval {
                tv_sec: 0,
                tv_usec: 100_000,
            };
            // SAFETY: setsockopt with a pointer to a live timeval and its size.
            unsafe {
                libc::setsockopt(
                    file.as_raw_fd(),
                    libc::SOL_SOCKET,
                    libc::SO_RCVTIMEO,
                    (&raw const tick).cast(),
                    size_of::<libc::timeval>() as libc::socklen_t,
                )
            };
            let mut frames = Vec::new();
            let deadline = Instant::now() + period;
            let mut buffer = [0u8; 2048];
            while Instant::now() < deadline {
                if let Ok(n) = std::io::Read::read(&mut &file, &mut buffer) {
                    let hex: String = buffer[..n.min(64)]
                        .iter()
                        .map(|b| format!("{b:02x}"))
                        .collect();
                    frames.push(hex);
                }
            }
            frames
        })
        .unwrap()
}

#[test]
fn lab_is_quiet() {
    if !lab_ready() {
        return;
    }
    let pair = Lab::pair().unwrap();
    let load_balancer = Lab::load_balancer().unwrap();
    // Every frame of the load balancer's lab crosses the switch. A snooping bridge would
    // send IGMP reports within the first second, and IPv6 its router solicitations.
    let period = Duration::from_millis(1500);
    let (on_pair, on_switch) = std::thread::scope(|scope| {
        let on_pair = scope.spawn(|| frames_seen(&pair.node("a").netns, period));
        let on_switch = scope.spawn(|| frames_seen(&load_balancer.switch().unwrap().netns, period));
        (on_pair.join().unwrap(), on_switch.join().unwrap())
    });
    assert_eq!(on_pair, Vec::<String>::new());
    assert_eq!(on_switch, Vec::<String>::new());
    // The sniffer does see a frame when there is one.
    let (a, b) = (pair.node("a"), pair.node("b"));
    let seen = std::thread::scope(|scope| {
        let sniffer = scope.spawn(|| frames_seen(&a.netns, Duration::from_millis(500)));
        std::thread::sleep(Duration::from_millis(100));
        udp(a, b, 7007);
        sniffer.join().unwrap()
    });
    assert_eq!(seen.len(), 1, "one datagram, no ARP: {seen:?}");
}

#[test]
fn lab_threads_and_commands_run_inside_the_namespace() {
    if !lab_ready() {
        return;
    }
    let lab = Lab::pair().unwrap();
    let b = lab.node("b");
    let inside = format!("net:[{}]", b.netns.inode());
    let this_thread = || {
        std::fs::read_link("/proc/thread-self/ns/net")
            .unwrap()
            .display()
            .to_string()
    };
    let home = this_thread();
    assert_ne!(home, inside);

    assert_eq!(b.netns.run(this_thread).unwrap(), inside);
    assert_eq!(b.netns.run_here(this_thread).unwrap(), inside);
    assert_eq!(this_thread(), home, "run_here must come back");
    let server = b.netns.spawn(this_thread).unwrap();
    assert_eq!(server.join().unwrap(), inside);

    // A command in the namespace sees the lab's interfaces, not the host's.
    let output = b
        .netns
        .command("cat")
        .arg("/proc/self/net/dev")
        .output()
        .unwrap();
    assert!(output.status.success());
    let dev = String::from_utf8(output.stdout).unwrap();
    let mut names = interface_names(&dev);
    names.sort();
    assert_eq!(names, ["eth0", "lo"]);
    // IPv6 is off inside (the host's own switches are checked in the other tests).
    let ipv6_off = b
        .netns
        .command("cat")
        .arg("/proc/sys/net/ipv6/conf/eth0/disable_ipv6")
        .output()
        .unwrap();
    if ipv6_off.status.success() {
        assert_eq!(String::from_utf8_lossy(&ipv6_off.stdout).trim(), "1");
    }
}

#[test]
fn lab_leaves_nothing_once_dropped() {
    if !lab_ready() {
        return;
    }
    let before = host();
    let watcher = Namespace::new().unwrap();
    let mut inodes = Vec::new();
    for (i, lab) in [Lab::single(), Lab::pair(), Lab::load_balancer()]
        .into_iter()
        .enumerate()
    {
        let lab = lab.unwrap();
        let mut namespaces: Vec<&Namespace> = lab.nodes().iter().map(|n| &n.netns).collect();
        namespaces.extend(lab.switch().map(|s| &s.netns));
        for (j, netns) in namespaces.into_iter().enumerate() {
            assert!(
                !holders(netns.inode()).is_empty(),
                "the check would prove nothing"
            );
            watch(&watcher, netns, &format!("watch{i}-{j}"));
            inodes.push((format!("watch{i}-{j}"), netns.inode()));
        }
        assert_eq!(host(), before, "while the lab is up");
    }
    for (watch, inode) in &inodes {
        assert_eq!(holders(*inode), Vec::<String>::new());
        assert_vanishes(&watcher, watch);
    }
    assert_eq!(host(), before);
}

struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

const HOLDER: &str = "LEARNING_EBPF_LAB_HOLDER";

/// Not a test on its own: the process that `lab_leaves_nothing_after_sigkill` kills. It
/// builds a lab, says where its namespaces are, and waits.
#[test]
fn lab_holder_for_the_sigkill_test() {
    if std::env::var_os(HOLDER).is_none() {
        return;
    }
    let lab = Lab::load_balancer().unwrap();
    let mut namespaces: Vec<&Namespace> = lab.nodes().iter().map(|n| &n.netns).collect();
    namespaces.extend(lab.switch().map(|s| &s.netns));
    for netns in namespaces {
        println!("namespace {} {}", netns.as_fd().as_raw_fd(), netns.inode());
    }
    println!("ready");
    loop {
        std::thread::sleep(Duration::from_secs(60));
    }
}

#[test]
fn lab_leaves_nothing_after_sigkill() {
    if !lab_ready() {
        return;
    }
    let before = host();
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args(["--exact", "lab::tests::lab_holder_for_the_sigkill_test"])
        .args(["--nocapture", "--test-threads", "1"])
        .env(HOLDER, "1")
        .stdout(Stdio::piped());
    // SAFETY: prctl is a plain system call, safe between fork and exec. With it the holder
    // dies with this test's thread even if this test fails before it kills the holder.
    unsafe {
        command.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        })
    };
    let mut holder = KillOnDrop(command.spawn().unwrap());
    let holder = &mut holder.0;
    let pid = holder.id();
    let mut namespaces = Vec::new();
    for line in BufReader::new(holder.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        if line == "ready" {
            break;
        }
        // The first line may follow libtest's "test … ... " on the same line.
        if let Some((_, rest)) = line.split_once("namespace ") {
            let (fd, inode) = rest.split_once(' ').unwrap();
            namespaces.push((fd.to_string(), inode.parse::<u64>().unwrap()));
        }
    }
    assert_eq!(namespaces.len(), 5, "the holder did not get ready");
    let watcher = Namespace::new().unwrap();
    for (fd, inode) in &namespaces {
        // Borrow the holder's namespace just long enough to put a watch in it.
        let netns = Namespace::open(format!("/proc/{pid}/fd/{fd}")).unwrap();
        assert_eq!(netns.inode(), *inode);
        watch(&watcher, &netns, &format!("watch-{fd}"));
        drop(netns);
        assert_eq!(holders(*inode), [format!("/proc/{pid}/fd/{fd}")]);
    }
    assert_eq!(host(), before, "while the holder's lab is up");

    holder.kill().unwrap(); // SIGKILL: no destructor runs
    holder.wait().unwrap();
    for (fd, inode) in &namespaces {
        assert_eq!(holders(*inode), Vec::<String>::new());
        assert_vanishes(&watcher, &format!("watch-{fd}"));
    }
    assert_eq!(host(), before);
}

#[test]
fn lab_netlink_errors_carry_the_kernel_message() {
    if !lab_ready() {
        return;
    }
    let netns = Namespace::new().unwrap();
    let mut rtnetlink = rtnetlink_in(&netns).unwrap();
    let error = rtnetlink.add_bridge("a-name-longer-than-15").unwrap_err();
    // ERANGE, with the kernel's explanation after it (NETLINK_EXT_ACK).
    assert_eq!(
        error.to_string(),
        "creating the bridge a-name-longer-than-15: Numerical result out of range (os error 34) \
         (Attribute failed policy validation)"
    );
}
