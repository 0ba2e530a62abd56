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

pub(crate) fn effective_capabilities() -> Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let hex = status
        .lines()
        .find_map(|line| line.strip_prefix("CapEff:"))
        .map(str::trim)
        .ok_or_else(|| anyhow::anyhow!("cannot read CapEff from /proc/self/status"))?;
    Ok(u64::from_str_radix(hex, 16)?)
}
