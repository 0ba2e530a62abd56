//! ICMP echo ("ping") from inside a lab namespace, without the `ping` command (a fresh machine
//! and an arm64 lane have none): a raw ICMP socket, which root may open.

use std::io;
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

use super::Namespace;
use super::rtnetlink::context;

const ICMP_ECHO_REPLY: u8 = 0;
const ICMP_ECHO_REQUEST: u8 = 8;
/// The payload after the 8-byte ICMP header, as `ping`'s default (56 bytes: 84 on the wire).
const PAYLOAD: usize = 56;

/// The Internet checksum (RFC 1071) of `bytes`: the ones' complement of the ones' complement
/// sum of its 16-bit big-endian words. A header whose checksum field holds it sums to zero.
pub fn internet_checksum(bytes: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    for chunk in bytes.chunks(2) {
        let word = u16::from_be_bytes([chunk[0], chunk.get(1).copied().unwrap_or(0)]);
        sum += u32::from(word);
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// An ICMP echo request (header and payload, no IP header) with identifier `id` and sequence
/// number `seq`, its checksum filled in.
pub fn echo_request(id: u16, seq: u16) -> Vec<u8> {
    let mut message = vec![ICMP_ECHO_REQUEST, 0, 0, 0];
    message.extend_from_slice(&id.to_be_bytes());
    message.extend_from_slice(&seq.to_be_bytes());
    message.extend((0..PAYLOAD).map(|i| i as u8));
    let checksum = internet_checksum(&message);
    message[2..4].copy_from_slice(&checksum.to_be_bytes());
    message
}

/// Sends ICMP echo requests from one namespace and waits for their replies, as `ping` does.
pub struct Pinger {
    socket: OwnedFd,
    id: u16,
}

impl Pinger {
    /// A raw ICMP socket inside `netns` (it sends and receives there, whichever thread uses it).
    pub fn new(netns: &Namespace) -> io::Result<Pinger> {
        let socket = netns.run(|| {
            // SAFETY: socket(2) with constant arguments; the descriptor is owned at once.
            let fd = unsafe {
                libc::socket(
                    libc::AF_INET,
                    libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                    libc::IPPROTO_ICMP,
                )
            };
            if fd < 0 {
                return Err(context("opening a raw ICMP socket (needs CAP_NET_RAW)")(
                    io::Error::last_os_error(),
                ));
            }
            // SAFETY: fd is a new descriptor that nothing else owns.
            Ok(unsafe { OwnedFd::from_raw_fd(fd) })
        })??;
        Ok(Pinger {
            socket,
            // Like ping: the process id tells our replies from anyone else's.
            id: std::process::id() as u16,
        })
    }

    /// Sends echo request `seq` to `to` and waits up to `timeout` for its reply. Returns the
    /// round-trip time, or `None` if no reply came.
    pub fn ping(&self, to: Ipv4Addr, seq: u16, timeout: Duration) -> io::Result<Option<Duration>> {
        let request = echo_request(self.id, seq);
        let address = libc::sockaddr_in {
            sin_family: libc::AF_INET as libc::sa_family_t,
            sin_port: 0,
            sin_addr: libc::in_addr {
                s_addr: u32::from(to).to_be(),
            },
            sin_zero: [0; 8],
        };
        let sent_at = Instant::now();
        // SAFETY: the buffer and the address are valid for the given lengths.
        let sent = unsafe {
            libc::sendto(
                self.socket.as_raw_fd(),
                request.as_ptr().cast(),
                request.len(),
                0,
                (&address as *const libc::sockaddr_in).cast(),
                size_of::<libc::sockaddr_in>() as libc::socklen_t,
            )
        };
        if sent < 0 {
            return Err(context(format!("sending an echo request to {to}"))(
                io::Error::last_os_error(),
            ));
        }
        let deadline = sent_at + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || !self.readable(left)? {
                return Ok(None);
            }
            let mut packet = [0u8; 1500];
            // SAFETY: reads at most packet.len() bytes into packet.
            let n = unsafe {
                libc::recv(
                    self.socket.as_raw_fd(),
                    packet.as_mut_ptr().cast(),
                    packet.len(),
                    libc::MSG_DONTWAIT,
                )
            };
            if n < 0 {
                let error = io::Error::last_os_error();
                if matches!(
                    error.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                ) {
                    continue;
                }
                return Err(error);
            }
            // A raw socket hands over every ICMP packet with its IP header: ours is a reply
            // from `to` with our identifier and sequence number.
            let packet = &packet[..n as usize];
            let Some(&first) = packet.first() else {
                continue;
            };
            let header_len = usize::from(first & 0x0f) * 4;
            let Some(icmp) = packet.get(header_len..header_len + 8) else {
                continue;
            };
            let from = Ipv4Addr::new(packet[12], packet[13], packet[14], packet[15]);
            if from == to
                && icmp[0] == ICMP_ECHO_REPLY
                && icmp[4..6] == self.id.to_be_bytes()
                && icmp[6..8] == seq.to_be_bytes()
            {
                return Ok(Some(sent_at.elapsed()));
            }
        }
    }

    fn readable(&self, timeout: Duration) -> io::Result<bool> {
        let mut fd = libc::pollfd {
            fd: self.socket.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let millis = timeout.as_millis().clamp(1, i32::MAX as u128) as libc::c_int;
        // SAFETY: one valid pollfd for the duration of the call.
        match unsafe { libc::poll(&mut fd, 1, millis) } {
            rc if rc < 0 => {
                let error = io::Error::last_os_error();
                match error.kind() {
                    // Read and look again: recv will not block.
                    io::ErrorKind::Interrupted => Ok(true),
                    _ => Err(error),
                }
            }
            rc => Ok(rc > 0),
        }
    }
}
