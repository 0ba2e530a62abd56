//! Just enough rtnetlink to build the lab: veth pairs, a bridge, addresses, links up and
//! neighbours, with no `ip` command (an arm64 lane has only busybox).
//!
//! A netlink socket belongs to the network namespace it was opened in, whichever thread uses it
//! later: the lab opens one inside each namespace and configures that namespace through it.

use std::io;
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

// Message types and flags, from linux/netlink.h and linux/rtnetlink.h.
const NLMSG_ERROR: u16 = 2;
const RTM_NEWLINK: u16 = 16;
const RTM_GETLINK: u16 = 18;
const RTM_NEWADDR: u16 = 20;
const RTM_NEWNEIGH: u16 = 28;
const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_ACK: u16 = 0x4;
const NLM_F_EXCL: u16 = 0x200;
const NLM_F_CREATE: u16 = 0x400;
/// In an error reply: the request is not echoed back.
const NLM_F_CAPPED: u16 = 0x100;
/// In an error reply: attributes follow, such as the kernel's message.
const NLM_F_ACK_TLVS: u16 = 0x200;
const NLMSGERR_ATTR_MSG: u16 = 1;
const SOL_NETLINK: libc::c_int = 270;
const NETLINK_CAP_ACK: libc::c_int = 10;
const NETLINK_EXT_ACK: libc::c_int = 11;

// Attributes, from linux/if_link.h, linux/veth.h, linux/if_addr.h and linux/neighbour.h.
const IFLA_ADDRESS: u16 = 1;
const IFLA_IFNAME: u16 = 3;
const IFLA_MASTER: u16 = 10;
const IFLA_LINKINFO: u16 = 18;
const IFLA_NET_NS_FD: u16 = 28;
const IFLA_INFO_KIND: u16 = 1;
const IFLA_INFO_DATA: u16 = 2;
const VETH_INFO_PEER: u16 = 1;
const IFLA_BR_MCAST_SNOOPING: u16 = 23;
const IFA_ADDRESS: u16 = 1;
const IFA_LOCAL: u16 = 2;
const NDA_DST: u16 = 1;
const NDA_LLADDR: u16 = 2;
const NUD_PERMANENT: u16 = 0x80;
const IFF_UP: u32 = 0x1;

const HEADER_LEN: usize = 16;

/// An attribute: length, type, payload, padded to 4 bytes.
fn attr(kind: u16, payload: &[u8]) -> Vec<u8> {
    let len = 4 + payload.len();
    let mut out = Vec::with_capacity(len + 3);
    out.extend_from_slice(&(len as u16).to_ne_bytes());
    out.extend_from_slice(&kind.to_ne_bytes());
    out.extend_from_slice(payload);
    out.resize(len.next_multiple_of(4), 0);
    out
}

fn c_string(text: &str) -> Vec<u8> {
    [text.as_bytes(), &[0]].concat()
}

/// struct ifinfomsg: family, padding, device type, index, flags, and which flags to change.
fn ifinfomsg(ifindex: u32, flags: u32, change: u32) -> Vec<u8> {
    let mut out = vec![0u8; 4];
    out.extend_from_slice(&ifindex.to_ne_bytes());
    out.extend_from_slice(&flags.to_ne_bytes());
    out.extend_from_slice(&change.to_ne_bytes());
    out
}

/// `error` with what we were doing in front of it; the kind (and so `PermissionDenied`) stays.
pub(crate) fn context(what: impl std::fmt::Display) -> impl FnOnce(io::Error) -> io::Error {
    move |error| io::Error::new(error.kind(), format!("{what}: {error}"))
}

/// `context`, naming the module to load when the kernel does not know the kind of link.
fn new_link_context(what: String, module: &str) -> impl FnOnce(io::Error) -> io::Error {
    move |error| match error.kind() {
        io::ErrorKind::Unsupported => context(format!("{what} (modprobe {module}?)"))(error),
        _ => context(what)(error),
    }
}

pub(crate) struct Rtnetlink {
    socket: OwnedFd,
    sequence: u32,
}

impl Rtnetlink {
    /// A route netlink socket in the calling thread's network namespace.
    pub fn open() -> io::Result<Rtnetlink> {
        // SAFETY: socket(2) returns a new descriptor, which the OwnedFd then owns.
        let socket = unsafe {
            let fd = libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                libc::NETLINK_ROUTE,
            );
            if fd < 0 {
                return Err(io::Error::last_os_error());
            }
            OwnedFd::from_raw_fd(fd)
        };
        // Errors then carry the kernel's own explanation ("Unknown device type") and not our
        // request. Older kernels lack these options, which only makes errors terser.
        for option in [NETLINK_EXT_ACK, NETLINK_CAP_ACK] {
            let on: libc::c_int = 1;
            // SAFETY: setsockopt with a pointer to a live c_int and its size.
            unsafe {
                libc::setsockopt(
                    socket.as_raw_fd(),
                    SOL_NETLINK,
                    option,
                    (&raw const on).cast(),
                    size_of::<libc::c_int>() as libc::socklen_t,
                )
            };
        }
        Ok(Rtnetlink {
            socket,
            sequence: 0,
        })
    }

    /// Sends one request and returns the payload of its one reply (empty for an
    /// acknowledgement), or the error the kernel answered with.
    fn request(&mut self, kind: u16, flags: u16, body: &[u8]) -> io::Result<Vec<u8>> {
        self.sequence += 1;
        let mut message = Vec::with_capacity(HEADER_LEN + body.len());
        message.extend_from_slice(&((HEADER_LEN + body.len()) as u32).to_ne_bytes());
        message.extend_from_slice(&kind.to_ne_bytes());
        message.extend_from_slice(&(NLM_F_REQUEST | flags).to_ne_bytes());
        message.extend_from_slice(&self.sequence.to_ne_bytes());
        message.extend_from_slice(&0u32.to_ne_bytes()); // port id: the kernel fills it in
        message.extend_from_slice(body);
        let fd = self.socket.as_raw_fd();
        // SAFETY: send(2) from a live buffer of the given length.
        if unsafe { libc::send(fd, message.as_ptr().cast(), message.len(), 0) } < 0 {
            return Err(io::Error::last_os_error());
        }
        let mut reply = vec![0u8; 64 * 1024];
        loop {
            // SAFETY: recv(2) into a live buffer of the given length.
            let n = unsafe { libc::recv(fd, reply.as_mut_ptr().cast(), reply.len(), 0) };
            if n < 0 {
                return Err(io::Error::last_os_error());
            }
            let reply = &reply[..n as usize];
            let field = |at: usize| u32::from_ne_bytes(reply[at..at + 4].try_into().unwrap());
            if reply.len() < HEADER_LEN + 4 || field(8) != self.sequence {
                continue; // not the answer to this request
            }
            let len = (field(0) as usize).min(reply.len());
            let reply_kind = u16::from_ne_bytes([reply[4], reply[5]]);
            let reply_flags = u16::from_ne_bytes([reply[6], reply[7]]);
            if reply_kind != NLMSG_ERROR {
                return Ok(reply[HEADER_LEN..len].to_vec());
            }
            let code = field(HEADER_LEN) as i32;
            if code == 0 {
                return Ok(Vec::new());
            }
            let error = io::Error::from_raw_os_error(-code);
            return match kernel_message(&reply[..len], reply_flags) {
                Some(text) => Err(io::Error::new(error.kind(), format!("{error} ({text})"))),
                None => Err(error),
            };
        }
    }

    /// Sends a request that changes something and waits for the kernel's acknowledgement.
    fn change(&mut self, kind: u16, create: bool, body: &[u8]) -> io::Result<()> {
        let flags = if create {
            NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL
        } else {
            NLM_F_ACK
        };
        self.request(kind, flags, body).map(drop)
    }

    /// `ip link add NAME [address MAC] type veth peer name PEER [address MAC] netns PEER_NETNS`:
    /// NAME in this socket's namespace, PEER in `peer_netns`. A MAC left out is made up.
    pub fn add_veth(
        &mut self,
        name: &str,
        mac: Option<[u8; 6]>,
        peer: &str,
        peer_mac: Option<[u8; 6]>,
        peer_netns: BorrowedFd,
    ) -> io::Result<()> {
        let address =
            |mac: Option<[u8; 6]>| mac.map(|m| attr(IFLA_ADDRESS, &m)).unwrap_or_default();
        let netns_fd = peer_netns.as_raw_fd() as u32;
        let peer_info = [
            ifinfomsg(0, 0, 0),
            attr(IFLA_IFNAME, &c_string(peer)),
            address(peer_mac),
            attr(IFLA_NET_NS_FD, &netns_fd.to_ne_bytes()),
        ]
        .concat();
        let link_info = [
            attr(IFLA_INFO_KIND, &c_string("veth")),
            attr(IFLA_INFO_DATA, &attr(VETH_INFO_PEER, &peer_info)),
        ]
        .concat();
        let body = [
            ifinfomsg(0, 0, 0),
            attr(IFLA_IFNAME, &c_string(name)),
            address(mac),
            attr(IFLA_LINKINFO, &link_info),
        ]
        .concat();
        self.change(RTM_NEWLINK, true, &body)
            .map_err(new_link_context(
                format!("creating the veth pair {name}/{peer}"),
                "veth",
            ))
    }

    /// `ip link add NAME type bridge mcast_snooping 0`. A snooping bridge sends IGMP reports
    /// of its own (to join 224.0.0.106); without snooping it only forwards.
    pub fn add_bridge(&mut self, name: &str) -> io::Result<()> {
        let link_info = [
            attr(IFLA_INFO_KIND, &c_string("bridge")),
            attr(IFLA_INFO_DATA, &attr(IFLA_BR_MCAST_SNOOPING, &[0])),
        ]
        .concat();
        let body = [
            ifinfomsg(0, 0, 0),
            attr(IFLA_IFNAME, &c_string(name)),
            attr(IFLA_LINKINFO, &link_info),
        ]
        .concat();
        self.change(RTM_NEWLINK, true, &body)
            .map_err(new_link_context(
                format!("creating the bridge {name}"),
                "bridge",
            ))
    }

    /// The index of the interface called `name`: ENODEV once there is none.
    pub fn ifindex(&mut self, name: &str) -> io::Result<u32> {
        let body = [ifinfomsg(0, 0, 0), attr(IFLA_IFNAME, &c_string(name))].concat();
        // The reply is an ifinfomsg (and attributes); the index is at offset 4.
        let reply = self
            .request(RTM_GETLINK, 0, &body)
            .map_err(context(format!("looking up {name}")))?;
        match reply.get(4..8) {
            Some(index) => Ok(u32::from_ne_bytes(index.try_into().unwrap())),
            None => Err(io::Error::other(format!("looking up {name}: short reply"))),
        }
    }

    /// `ip link set dev IFINDEX up`.
    pub fn set_up(&mut self, ifindex: u32) -> io::Result<()> {
        self.change(RTM_NEWLINK, false, &ifinfomsg(ifindex, IFF_UP, IFF_UP))
            .map_err(context(format!("bringing up interface {ifindex}")))
    }

    /// `ip link set dev IFINDEX master MASTER`.
    pub fn set_master(&mut self, ifindex: u32, master: u32) -> io::Result<()> {
        let body = [
            ifinfomsg(ifindex, 0, 0),
            attr(IFLA_MASTER, &master.to_ne_bytes()),
        ]
        .concat();
        self.change(RTM_NEWLINK, false, &body)
            .map_err(context(format!(
                "adding interface {ifindex} to bridge {master}"
            )))
    }

    /// `ip address add IP/PREFIX_LEN dev IFINDEX`.
    pub fn add_ipv4(&mut self, ifindex: u32, ip: Ipv4Addr, prefix_len: u8) -> io::Result<()> {
        // struct ifaddrmsg: family, prefix length, flags, scope (global), index.
        let mut body = vec![libc::AF_INET as u8, prefix_len, 0, 0];
        body.extend_from_slice(&ifindex.to_ne_bytes());
        body.extend(attr(IFA_LOCAL, &ip.octets()));
        body.extend(attr(IFA_ADDRESS, &ip.octets()));
        self.change(RTM_NEWADDR, true, &body)
            .map_err(context(format!("adding {ip}/{prefix_len}")))
    }

    /// `ip neighbour add IP lladdr MAC dev IFINDEX nud permanent`: no ARP for IP.
    pub fn add_neighbour(&mut self, ifindex: u32, ip: Ipv4Addr, mac: [u8; 6]) -> io::Result<()> {
        // struct ndmsg: family, padding, index, state, flags, type.
        let mut body = vec![libc::AF_INET as u8, 0, 0, 0];
        body.extend_from_slice(&ifindex.to_ne_bytes());
        body.extend_from_slice(&NUD_PERMANENT.to_ne_bytes());
        body.extend_from_slice(&[0, 0]);
        body.extend(attr(NDA_DST, &ip.octets()));
        body.extend(attr(NDA_LLADDR, &mac));
        self.change(RTM_NEWNEIGH, true, &body)
            .map_err(context(format!("adding the neighbour {ip}")))
    }
}

/// The text the kernel put in an error reply (with NETLINK_EXT_ACK), if any.
fn kernel_message(reply: &[u8], flags: u16) -> Option<String> {
    if flags & NLM_F_ACK_TLVS == 0 {
        return None;
    }
    // struct nlmsgerr: the error code and the request's header, then the request's payload
    // unless the reply is capped, then the attributes.
    let mut at = HEADER_LEN + 4 + HEADER_LEN;
    if flags & NLM_F_CAPPED == 0 {
        let request_len =
            u32::from_ne_bytes(reply.get(HEADER_LEN + 4..HEADER_LEN + 8)?.try_into().ok()?);
        at += (request_len as usize).saturating_sub(HEADER_LEN);
    }
    while let Some(head) = reply.get(at..at + 4) {
        let len = u16::from_ne_bytes([head[0], head[1]]) as usize;
        let kind = u16::from_ne_bytes([head[2], head[3]]);
        if len < 4 {
            return None;
        }
        if kind == NLMSGERR_ATTR_MSG {
            let text = reply.get(at + 4..at + len)?;
            let text = text.split(|&b| b == 0).next()?;
            return Some(String::from_utf8_lossy(text).into_owned());
        }
        at += len.next_multiple_of(4);
    }
    None
}
