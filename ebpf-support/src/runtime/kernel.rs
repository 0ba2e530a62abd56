//! What the running kernel offers: the one place that answers it for examples, tests and the
//! doctor. Capabilities that a file or a mount shows are answered here; a program type is
//! answered here only as far as a file shows (kprobes need their PMU), and the doctor then
//! confirms it with a real load and attach.

use std::path::Path;

use crate::needs::Capability;

/// How a capability was looked for, and what was found: the detail on success, or why it
/// is missing.
pub struct Check {
    pub how: &'static str,
    pub result: Result<String, String>,
}

const KPROBE_PMU: &str = "/sys/bus/event_source/devices/kprobe/type";
const NO_KPROBES: &str = "this kernel has no kprobes (CONFIG_KPROBES is off: /sys/bus/event_source/devices/kprobe is missing)";

/// The answer for `capability`, or `None` when only loading a program can tell.
pub fn check(capability: Capability) -> Option<Check> {
    use Capability as C;
    let check = |how, result| Some(Check { how, result });
    let file = |path: &str| {
        std::fs::read_to_string(path)
            .map(|s| s.trim().to_string())
            .map_err(|e| e.to_string())
    };
    match capability {
        C::Btf => check(
            "looked for /sys/kernel/btf/vmlinux",
            if Path::new("/sys/kernel/btf/vmlinux").exists() {
                Ok("present".into())
            } else {
                Err("this kernel has no BTF (CONFIG_DEBUG_INFO_BTF is off: /sys/kernel/btf/vmlinux is missing)"
                    .into())
            },
        ),
        C::Jit => check(
            "read /proc/sys/net/core/bpf_jit_enable",
            file("/proc/sys/net/core/bpf_jit_enable").and_then(|v| match v.as_str() {
                "1" | "2" => Ok(format!("enabled ({v})")),
                other => Err(format!("disabled ({other})")),
            }),
        ),
        C::Tracefs => check(
            "looked for trace_pipe, mounting tracefs if needed",
            super::trace_pipe::tracefs()
                .map(|p| format!("at {}", p.display()))
                .map_err(|e| format!("{e:#}")),
        ),
        C::Bpffs => check(
            "looked for bpf in /proc/filesystems",
            file("/proc/filesystems").and_then(|list| {
                if list
                    .lines()
                    .any(|l| l.split_whitespace().last() == Some("bpf"))
                {
                    Ok("the kernel offers it".into())
                } else {
                    Err("not in /proc/filesystems".into())
                }
            }),
        ),
        // libbpf makes kprobes through the kprobe PMU; without it every kprobe and ksyscall
        // attach fails with ENOENT.
        C::Kprobe | C::Ksyscall if !Path::new(KPROBE_PMU).exists() => {
            check("looked for the kprobe PMU", Err(NO_KPROBES.into()))
        }
        C::TaskPtRegs => helper_check(
            libbpf_rs::ProgramType::Tracepoint,
            libbpf_rs::libbpf_sys::BPF_FUNC_task_pt_regs,
            "asked libbpf's helper probe whether a tracepoint program may call bpf_task_pt_regs",
            "this kernel has no bpf_task_pt_regs helper (it arrived in 5.15, \
             bpf_get_current_task_btf in 5.11)",
        ),
        C::BpfLoop => helper_check(
            libbpf_rs::ProgramType::Xdp,
            libbpf_rs::libbpf_sys::BPF_FUNC_loop,
            "asked libbpf's helper probe whether an XDP program may call bpf_loop",
            "this kernel has no bpf_loop helper (it arrived in 5.17)",
        ),
        // Kernel releases, not features, name this one: BPF_LINK_TYPE_PERF_EVENT is 5.15's.
        C::PerfEventLink => check(
            "compared the kernel release with 5.15, which made perf-event attachments BPF links",
            match release() {
                Some(version) if version >= (5, 15) => Ok(format!("{}.{}", version.0, version.1)),
                Some((major, minor)) => Err(format!(
                    "kernel {major}.{minor} attaches kprobes and tracepoints through perf events, \
                     not BPF links (those arrived in 5.15), so there is no link to pin or query"
                )),
                None => Err("could not read the kernel release".into()),
            },
        ),
        C::CapBpf => capability_check(39),
        C::CapPerfmon => capability_check(38),
        C::CapNetAdmin => capability_check(12),
        C::UnprivilegedBpf => check(
            "read /proc/sys/kernel/unprivileged_bpf_disabled",
            file("/proc/sys/kernel/unprivileged_bpf_disabled").and_then(|v| match v.as_str() {
                "0" => Ok("allowed (0)".into()),
                other => Err(format!("disabled ({other})")),
            }),
        ),
        _ => None,
    }
}

/// Whether the running kernel offers `capability`, as far as `check` can tell without
/// loading anything: a program type it cannot rule out counts as offered.
pub fn has(capability: Capability) -> bool {
    check(capability).is_none_or(|c| c.result.is_ok())
}

/// Why `capability` is missing, for one-line messages.
pub fn missing(capability: Capability) -> Option<String> {
    check(capability).and_then(|c| c.result.err())
}

/// The running kernel's `major.minor`.
pub fn release() -> Option<(u32, u32)> {
    let text = std::fs::read_to_string("/proc/sys/kernel/osrelease").ok()?;
    let mut parts = text.trim().split(['.', '-']).map(|p| p.parse::<u32>().ok());
    Some((parts.next()??, parts.next()??))
}

/// libbpf's helper probe (a tiny program of `program_type` that calls the helper, loaded for
/// real) for one helper. Without privileges nothing can be loaded, so nothing can be said.
fn helper_check(
    program_type: libbpf_rs::ProgramType,
    helper: libbpf_rs::libbpf_sys::bpf_func_id,
    how: &'static str,
    missing: &str,
) -> Option<Check> {
    let supported = program_type.is_helper_supported(helper).ok()?;
    Some(Check {
        how,
        result: if supported {
            Ok("offered".into())
        } else {
            Err(missing.into())
        },
    })
}

fn capability_check(bit: u32) -> Option<Check> {
    let result = match super::privileges::effective_capabilities() {
        Ok(caps) if caps & (1u64 << bit) != 0 => Ok("effective".into()),
        Ok(_) => Err("not effective (run as root)".into()),
        Err(e) => Err(format!("{e:#}")),
    };
    Some(Check {
        how: "capget(2): the effective set",
        result,
    })
}

/// The name of the errno in a libbpf error, which is stable where its text is not.
pub fn errno_name(error: &libbpf_rs::Error) -> String {
    // The alternate form includes the cause: "…: No such file or directory (os error 2)".
    let text = format!("{error:#}");
    let code: Option<i32> = text
        .rsplit_once("(os error ")
        .and_then(|(_, rest)| rest.trim_end_matches(')').parse().ok());
    let name = match code {
        Some(libc::EPERM) => "EPERM",
        Some(libc::ENOENT) => "ENOENT",
        Some(libc::ESRCH) => "ESRCH",
        Some(libc::E2BIG) => "E2BIG",
        Some(libc::EACCES) => "EACCES",
        Some(libc::EBUSY) => "EBUSY",
        Some(libc::EINVAL) => "EINVAL",
        Some(libc::EOPNOTSUPP) => "EOPNOTSUPP",
        Some(524) => "ENOTSUPP",
        Some(other) => return format!("errno {other}"),
        None => return text,
    };
    name.to_string()
}

/// Why a program that needs `capability` was refused, from `refusal` ("load refused: EPERM",
/// "attach failed: ENOENT"), with what a reader should know where the errno alone does not
/// say it. The doctor and the examples word the same refusal the same way.
pub fn explain_refusal(capability: Capability, refusal: String) -> String {
    let arm64 = std::env::consts::ARCH == "aarch64";
    match capability {
        Capability::Kprobe | Capability::Ksyscall
            if refusal.contains("attach failed: ENOENT") && !Path::new(KPROBE_PMU).exists() =>
        {
            format!("{refusal}: no kprobes (CONFIG_KPROBES is off)")
        }
        // fentry, fexit and LSM programs all attach through BPF trampolines.
        Capability::Fentry | Capability::Fexit | Capability::Lsm
            if arm64 && refusal.contains("ENOTSUPP") =>
        {
            format!("{refusal}: arm64 has BPF trampolines (fentry, fexit, LSM) from Linux 6.4")
        }
        // With every privilege there, and before the verifier has logged a line: the refusal is
        // this kernel's policy, not the program or the caller.
        Capability::Fentry | Capability::Fexit | Capability::Lsm
            if refusal == "load refused: EPERM" && has_sys_admin() =>
        {
            format!(
                "{refusal}: this kernel refuses programs that need a BPF trampoline (fentry, fexit, \
                 LSM) before verifying them, although CAP_SYS_ADMIN, CAP_BPF and CAP_PERFMON are \
                 effective"
            )
        }
        _ => refusal,
    }
}

fn has_sys_admin() -> bool {
    super::privileges::effective_capabilities().is_ok_and(|caps| caps & (1 << 21) != 0)
}
