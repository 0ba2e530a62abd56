//! Checks the capabilities an example needs before it touches the kernel, so that an
//! unprivileged run gets one clear line instead of libbpf's EPERM dump.

use anyhow::{Result, bail};

const CAP_NET_ADMIN: u32 = 12;
const CAP_SYS_ADMIN: u32 = 21;
const CAP_PERFMON: u32 = 38;
const CAP_BPF: u32 = 39;

pub use crate::needs::Privilege;

/// Fails with one line naming the missing capabilities.
pub fn require(kind: Privilege) -> Result<()> {
    let effective = effective_capabilities()?;
    let has = |cap: u32| effective & (1u64 << cap) != 0;
    if has(CAP_SYS_ADMIN) {
        return Ok(());
    }
    let needed: &[(u32, &str)] = match kind {
        Privilege::Tracing => &[(CAP_BPF, "CAP_BPF"), (CAP_PERFMON, "CAP_PERFMON")],
        Privilege::Networking => &[(CAP_BPF, "CAP_BPF"), (CAP_NET_ADMIN, "CAP_NET_ADMIN")],
    };
    let missing: Vec<&str> = needed
        .iter()
        .filter(|(cap, _)| !has(*cap))
        .map(|(_, n)| *n)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    bail!(
        "needs root: loading eBPF programs requires {} (missing: {}); run it with sudo",
        needed
            .iter()
            .map(|(_, n)| *n)
            .collect::<Vec<_>>()
            .join(" and "),
        missing.join(", ")
    )
}

/// capget(2)'s header and one 32-bit half of the sets (`<linux/capability.h>`).
#[repr(C)]
struct CapHeader {
    version: u32,
    pid: i32,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

/// The effective set, read with capget(2): one syscall, where /proc/self/status costs an open,
/// eight reads and the kernel's formatting of the whole status.
pub(crate) fn effective_capabilities() -> Result<u64> {
    let mut header = CapHeader {
        version: 0x2008_0522, // _LINUX_CAPABILITY_VERSION_3: two halves
        pid: 0,
    };
    let mut data = [CapData::default(); 2];
    // SAFETY: with a version-3 header the kernel writes two CapData.
    let rc = unsafe { libc::syscall(libc::SYS_capget, &mut header, data.as_mut_ptr()) };
    if rc != 0 {
        bail!(
            "cannot read this process's capabilities: {}",
            std::io::Error::last_os_error()
        );
    }
    Ok((u64::from(data[1].effective) << 32) | u64::from(data[0].effective))
}
