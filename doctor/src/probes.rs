//! The probes. Each returns whether the capability is there, how that was found out, and what
//! was found (an errno name where the kernel said no).

use std::mem::MaybeUninit;
use std::os::fd::{AsFd, AsRawFd};
use std::path::Path;

use ebpf_support::lab::Lab;
use ebpf_support::needs::Capability;
use ebpf_support::{errno_name, explain_refusal};
use libbpf_rs::OpenObject;
use libbpf_rs::skel::{OpenSkel, SkelBuilder};

ebpf_support::skeleton!(probes);
use probes::{ProbesSkel, ProbesSkelBuilder};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub capability: Capability,
    pub available: bool,
    pub how: String,
    pub detail: String,
}

fn finding(capability: Capability, how: &str, result: Result<String, String>) -> Finding {
    let (available, detail) = match result {
        Ok(detail) => (true, detail),
        Err(detail) => (false, detail),
    };
    // One line without tabs: the findings file and the table are line- and tab-separated.
    let detail = detail.lines().next().unwrap_or_default().replace('\t', " ");
    Finding {
        capability,
        available,
        how: how.to_string(),
        detail,
    }
}

/// `6.18.44 x86_64`, from uname.
pub fn kernel() -> String {
    let read = |p: &str| {
        std::fs::read_to_string(p)
            .unwrap_or_default()
            .trim()
            .to_string()
    };
    format!(
        "{} {}",
        read("/proc/sys/kernel/osrelease"),
        std::env::consts::ARCH
    )
}

pub fn all() -> Vec<Finding> {
    // libbpf explains refusals at length; the findings carry the errno instead.
    libbpf_rs::set_print(None);
    Capability::ALL.iter().map(|&c| probe(c)).collect()
}

/// One capability: first what the running kernel shows without loading anything (the same
/// check the examples make), then, for a program type that check cannot rule out, a real load
/// and attach.
fn probe(capability: Capability) -> Finding {
    use Capability as C;
    if let Some(check) = ebpf_support::check(capability) {
        return finding(capability, check.how, check.result);
    }
    match capability {
        C::Tracepoint => program(capability, "probe_tracepoint", "syscalls/sys_enter_getpid"),
        C::RawTracepoint => program(capability, "probe_raw_tracepoint", "sys_enter"),
        C::BtfTracepoint => program(capability, "probe_tp_btf", "sys_enter"),
        C::Uprobe => program(
            capability,
            "probe_uprobe",
            "a function of the doctor itself",
        ),
        C::Kprobe => program(capability, "probe_kprobe", "vfs_read"),
        C::Ksyscall => program(capability, "probe_ksyscall", "the getpid syscall"),
        C::Fentry => program(capability, "probe_fentry", "vfs_read"),
        C::Fexit => program(capability, "probe_fexit", "vfs_read"),
        C::Lsm => program(capability, "probe_lsm", "the file_open hook"),
        C::RingBuffer => program(capability, "probe_ringbuf", "syscalls/sys_enter_getpid"),
        C::BpfLoop => program(capability, "probe_bpf_loop", "syscalls/sys_enter_getpid"),
        C::TailCallsWithSubprograms => program(capability, "probe_tail_call_subprog", "sys_enter"),
        C::BpfLsmActive => finding(capability, "read /sys/kernel/security/lsm", active_lsms()),
        C::XdpOnVeth => finding(
            capability,
            "attached an XDP program to a veth pair in a private network namespace",
            xdp_on_veth(),
        ),
        C::TcOnVeth => finding(
            capability,
            "attached a TC program to clsact ingress of a veth in a private network namespace",
            tc_on_veth(),
        ),
        C::SocketFilter => finding(
            capability,
            "attached a socket filter to a UDP socket of the doctor's own",
            socket_filter(),
        ),
        other => finding(
            other,
            "no probe",
            Err("this doctor has no probe for it".into()),
        ),
    }
}

/// Mount points of file systems of type `fstype`.
fn mounted(fstype: &str) -> Vec<String> {
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    mounts
        .lines()
        .filter(|line| line.split(" - ").nth(1).and_then(|r| r.split(' ').next()) == Some(fstype))
        .filter_map(|line| line.split(' ').nth(4).map(str::to_string))
        .collect()
}

fn active_lsms() -> Result<String, String> {
    let path = "/sys/kernel/security/lsm";
    // Where securityfs is not mounted, mount it for the read and take it away again.
    let mount_here = !Path::new(path).exists() && mounted("securityfs").is_empty();
    // SAFETY: mount(2) and umount(2) with constant, NUL-terminated strings.
    let security = c"/sys/kernel/security";
    if mount_here {
        unsafe {
            libc::mount(
                c"securityfs".as_ptr(),
                security.as_ptr(),
                c"securityfs".as_ptr(),
                0,
                std::ptr::null(),
            )
        };
    }
    let read = std::fs::read_to_string(path);
    if mount_here {
        unsafe { libc::umount(security.as_ptr()) };
    }
    let list = read
        .map_err(|e| format!("cannot read it: {e}"))?
        .trim()
        .to_string();
    if list.split(',').any(|lsm| lsm == "bpf") {
        Ok(list)
    } else {
        Err(format!("bpf is not in {list}: boot with lsm={list},bpf"))
    }
}

/// Loads the one program `name` from probes.bpf.c and attaches it.
fn program(capability: Capability, name: &str, target: &str) -> Finding {
    let how = format!("loaded and attached a program on {target}");
    finding(
        capability,
        &how,
        load_and_attach(name)
            .map(|()| "works".into())
            .map_err(|e| explain_refusal(capability, e)),
    )
}

fn load_and_attach(name: &str) -> Result<(), String> {
    let mut object = MaybeUninit::uninit();
    let skel = load_only(&mut object, name)?;
    let _link = attach(&skel, name).map_err(|e| format!("attach failed: {}", errno_name(&e)))?;
    // The uprobe's target is called here, so that the linker keeps it.
    std::hint::black_box(doctor_uprobe_target());
    Ok(())
}

fn attach(skel: &ProbesSkel, name: &str) -> libbpf_rs::Result<libbpf_rs::Link> {
    let p = &skel.progs;
    match name {
        "probe_tracepoint" => p.probe_tracepoint.attach(),
        "probe_raw_tracepoint" => p.probe_raw_tracepoint.attach(),
        "probe_tp_btf" => p.probe_tp_btf.attach(),
        // SEC("uprobe") names no binary and no function: both are given here.
        "probe_uprobe" => p.probe_uprobe.attach_uprobe_with_opts(
            -1,
            "/proc/self/exe",
            0,
            libbpf_rs::UprobeOpts {
                func_name: Some("doctor_uprobe_target".into()),
                ..Default::default()
            },
        ),
        "probe_kprobe" => p.probe_kprobe.attach(),
        "probe_ksyscall" => p.probe_ksyscall.attach(),
        "probe_fentry" => p.probe_fentry.attach(),
        "probe_fexit" => p.probe_fexit.attach(),
        "probe_lsm" => p.probe_lsm.attach(),
        "probe_ringbuf" => p.probe_ringbuf.attach(),
        "probe_bpf_loop" => p.probe_bpf_loop.attach(),
        "probe_tail_call_subprog" => p.probe_tail_call_subprog.attach(),
        other => unreachable!("no probe program {other}"),
    }
}

/// What the uprobe probe attaches to: a function of this program, found by its symbol.
#[unsafe(no_mangle)]
#[inline(never)]
pub extern "C" fn doctor_uprobe_target() -> u64 {
    std::hint::black_box(7)
}

/// Runs `attach` in namespace `a` of a lab: private network namespaces that vanish with the
/// lab, so nothing touches the host's interfaces. The kernel looks an ifindex up in the
/// namespace of the attaching thread.
fn on_veth(
    attach: fn(&ProbesSkel, i32) -> Result<(), String>,
    name: &str,
) -> Result<String, String> {
    let lab = Lab::pair().map_err(|e| e.to_string())?;
    let node = lab.node("a");
    let ifindex = node.iface.ifindex as i32;
    node.netns
        .run(|| {
            let mut object = MaybeUninit::uninit();
            load_only(&mut object, name).and_then(|skel| attach(&skel, ifindex))
        })
        .map_err(|e| e.to_string())?
        .map(|()| "works".into())
}

fn xdp_on_veth() -> Result<String, String> {
    on_veth(
        |skel, ifindex| {
            skel.progs
                .probe_xdp
                .attach_xdp(ifindex)
                .map(drop)
                .map_err(|e| format!("attach failed: {}", errno_name(&e)))
        },
        "probe_xdp",
    )
}

fn tc_on_veth() -> Result<String, String> {
    on_veth(
        |skel, ifindex| {
            let mut hook = libbpf_rs::TcHook::new(skel.progs.probe_tc.as_fd());
            hook.ifindex(ifindex)
                .replace(true)
                .handle(1)
                .priority(1)
                .attach_point(libbpf_rs::TC_INGRESS);
            let attached = hook.create().and_then(|mut hook| hook.attach());
            // Both attach points: libbpf then removes the clsact qdisc, not only the filter
            // (the lab's namespace would take it with it anyway).
            let _ = hook
                .attach_point(libbpf_rs::TC_INGRESS | libbpf_rs::TC_EGRESS)
                .destroy();
            attached
                .map(drop)
                .map_err(|e| format!("attach failed: {}", errno_name(&e)))
        },
        "probe_tc",
    )
}

fn socket_filter() -> Result<String, String> {
    let mut object = MaybeUninit::uninit();
    let skel = load_only(&mut object, "probe_socket_filter")?;
    let socket = std::net::UdpSocket::bind((std::net::Ipv4Addr::LOCALHOST, 0))
        .map_err(|e| format!("no UDP socket: {e}"))?;
    let program = skel.progs.probe_socket_filter.as_fd().as_raw_fd();
    // SAFETY: setsockopt with a valid socket, and a pointer to an int of the size given.
    let result = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_ATTACH_BPF,
            (&raw const program).cast(),
            size_of::<i32>() as libc::socklen_t,
        )
    };
    if result != 0 {
        let error = std::io::Error::last_os_error();
        return Err(format!("attach failed: {error}"));
    }
    Ok("works".into())
}

/// Opens probes.bpf.c and loads only the program `name`.
fn load_only<'o>(
    object: &'o mut MaybeUninit<OpenObject>,
    name: &str,
) -> Result<ProbesSkel<'o>, String> {
    let mut open = ProbesSkelBuilder::default()
        .open(object)
        .map_err(|e| format!("open failed: {e}"))?;
    for mut program in open.open_object_mut().progs_mut() {
        let keep = program.name() == name;
        program.set_autoload(keep);
    }
    open.load()
        .map_err(|e| format!("load refused: {}", errno_name(&e)))
}

/// The findings as lines of `capability<TAB>name<TAB>yes|no<TAB>detail`, after a `kernel` line.
pub fn record(kernel: &str, findings: &[Finding]) -> String {
    let mut text = format!("kernel\t{kernel}\n");
    for f in findings {
        let available = if f.available { "yes" } else { "no" };
        text.push_str(&format!(
            "capability\t{:?}\t{available}\t{}\n",
            f.capability, f.detail
        ));
    }
    text
}

/// Reads what `record` wrote: the kernel and the findings.
pub fn parse(text: &str) -> (String, Vec<Finding>) {
    let mut kernel = String::new();
    let mut findings = Vec::new();
    for line in text.lines() {
        let fields: Vec<&str> = line.split('\t').collect();
        match fields.as_slice() {
            ["kernel", k] => kernel = k.to_string(),
            ["capability", name, available, detail] => {
                if let Some(&capability) =
                    Capability::ALL.iter().find(|c| format!("{c:?}") == *name)
                {
                    findings.push(Finding {
                        capability,
                        available: *available == "yes",
                        how: String::new(),
                        detail: detail.to_string(),
                    });
                }
            }
            _ => {}
        }
    }
    (kernel, findings)
}
