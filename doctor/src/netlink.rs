//! Just enough rtnetlink to create a veth pair, so that the XDP probe needs no `ip` command
//! (an arm64 lane has only busybox).

use std::io;

const RTM_NEWLINK: u16 = 16;
const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_ACK: u16 = 0x4;
const NLM_F_EXCL: u16 = 0x200;
const NLM_F_CREATE: u16 = 0x400;
const NLMSG_ERROR: u16 = 2;
const IFLA_IFNAME: u16 = 3;
const IFLA_LINKINFO: u16 = 18;
const IFLA_INFO_KIND: u16 = 1;
const IFLA_INFO_DATA: u16 = 2;
const VETH_INFO_PEER: u16 = 1;
/// struct ifinfomsg, all zero: family AF_UNSPEC, no index, no flags.
const IFINFOMSG: [u8; 16] = [0; 16];

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

fn name(text: &str) -> Vec<u8> {
    let mut bytes = text.as_bytes().to_vec();
    bytes.push(0);
    bytes
}

/// `ip link add NAME type veth peer name PEER`, in the calling thread's network namespace.
pub fn create_veth(first: &str, peer: &str) -> io::Result<()> {
    let peer_info = [IFINFOMSG.to_vec(), attr(IFLA_IFNAME, &name(peer))].concat();
    let info_data = attr(VETH_INFO_PEER, &peer_info);
    let link_info = [
        attr(IFLA_INFO_KIND, &name("veth")),
        attr(IFLA_INFO_DATA, &info_data),
    ]
    .concat();
    let body = [
        IFINFOMSG.to_vec(),
        attr(IFLA_IFNAME, &name(first)),
        attr(IFLA_LINKINFO, &link_info),
    ]
    .concat();

    let mut message = Vec::with_capacity(16 + body.len());
    message.extend_from_slice(&((16 + body.len()) as u32).to_ne_bytes());
    message.extend_from_slice(&RTM_NEWLINK.to_ne_bytes());
    message
        .extend_from_slice(&(NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL).to_ne_bytes());
    message.extend_from_slice(&1u32.to_ne_bytes()); // sequence number
    message.extend_from_slice(&0u32.to_ne_bytes()); // port id: the kernel fills it in
    message.extend_from_slice(&body);

    // SAFETY: plain socket calls on a descriptor this function owns and closes.
    unsafe {
        let fd = libc::socket(
            libc::AF_NETLINK,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC,
            libc::NETLINK_ROUTE,
        );
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        let result = (|| {
            if libc::send(fd, message.as_ptr().cast(), message.len(), 0) < 0 {
                return Err(io::Error::last_os_error());
            }
            let mut reply = [0u8; 1024];
            let n = libc::recv(fd, reply.as_mut_ptr().cast(), reply.len(), 0);
            if n < 20 {
                return Err(io::Error::last_os_error());
            }
            let kind = u16::from_ne_bytes([reply[4], reply[5]]);
            let code = i32::from_ne_bytes([reply[16], reply[17], reply[18], reply[19]]);
            match (kind, code) {
                (NLMSG_ERROR, 0) => Ok(()),
                (NLMSG_ERROR, code) => Err(io::Error::from_raw_os_error(-code)),
                _ => Err(io::Error::other("unexpected netlink reply")),
            }
        })();
        libc::close(fd);
        result
    }
}
