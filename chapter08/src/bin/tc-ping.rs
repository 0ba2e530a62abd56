//! Learning eBPF, chapter 8, “Traffic Control (TC)” (network.bpf.c in the book's repository):
//! TC programs on the clsact qdisc's ingress hook that drop packets, drop pings, or answer
//! pings themselves.

use std::mem::MaybeUninit;
use std::os::fd::AsFd;
use std::sync::mpsc;

use anyhow::Context;
use clap::{Parser, ValueEnum};
use ebpf_support::lab::{Lab, Namespace, Pinger};
use ebpf_support::{Run, RunArgs, TraceLine, TracePipe};
use libbpf_rs::skel::{OpenSkel, SkelBuilder};
use libbpf_rs::{Program, TC_EGRESS, TC_INGRESS, TcHook};

ebpf_support::skeleton!(tc);
use tc::TcSkelBuilder;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Which {
    /// tc_drop: drop every packet (TC_ACT_SHOT).
    Drop,
    /// tc_drop_ping: drop ICMP echo requests (TC_ACT_SHOT), pass the rest (TC_ACT_OK).
    DropPing,
    /// tc_pingpong: answer ICMP echo requests from eBPF, with bpf_clone_redirect.
    Pingpong,
}

impl Which {
    fn function(self) -> &'static str {
        match self {
            Which::Drop => "tc_drop",
            Which::DropPing => "tc_drop_ping",
            Which::Pingpong => "tc_pingpong",
        }
    }

    /// What the program returns, in TC's own terms.
    fn verdicts(self) -> &'static str {
        match self {
            Which::Drop => "TC_ACT_SHOT (2) for every packet",
            Which::DropPing => "TC_ACT_SHOT (2) for echo requests, TC_ACT_OK (0) for the rest",
            Which::Pingpong => {
                "TC_ACT_SHOT (2) for echo requests, once their reply is sent with bpf_clone_redirect; TC_ACT_OK (0) for the rest"
            }
        }
    }
}

/// Drop packets, drop pings, or answer pings from eBPF on TC's ingress hook (Learning eBPF, chapter 8, “Traffic Control (TC)”).
///
/// Builds a private lab of two network namespaces, a (10.0.0.1) and b (10.0.0.2), joined by a
/// veth pair; adds a clsact qdisc to b's eth0 and attaches the chosen program to its ingress
/// hook as a direct-action filter; pings b from a once a second; prints the program's trace
/// lines and the pings' replies. On exit (also on Ctrl-C or SIGTERM) the filter and the qdisc
/// are removed, and the lab with them.
///
/// A TC program's return value is an action: TC_ACT_OK (0) passes the packet on, TC_ACT_SHOT
/// (2) drops it, TC_ACT_UNSPEC (-1) leaves the decision to the next filter, TC_ACT_REDIRECT (7)
/// sends it to another interface (after bpf_redirect). Unlike XDP, TC sees packets leaving an
/// interface (egress) as well as arriving, and sees the kernel's socket buffer.
///
/// With pingpong, b's kernel is told to ignore pings (net.ipv4.icmp_echo_ignore_all=1): every
/// reply a gets is one that tc_pingpong made.
#[derive(Parser)]
#[command(name = "tc-ping")]
struct Args {
    /// Which of the book's TC programs to attach.
    #[arg(long, value_enum, default_value_t = Which::Pingpong)]
    program: Which,
    /// Attach to the ingress of this interface of the host instead of the lab's, and send
    /// nothing: make your own traffic.
    #[arg(long, value_name = "NAME")]
    iface: Option<String>,
    #[command(flatten)]
    run: RunArgs,
}

fn main() -> std::process::ExitCode {
    ebpf_support::main(&chapter08::TC_PING, |args: Args| {
        let host_ifindex = match &args.iface {
            Some(name) => Some(ebpf_support::interface_index(name)?),
            None => None,
        };
        let mut trace_pipe = TracePipe::open()?;
        let mut object = MaybeUninit::uninit();
        let skel = TcSkelBuilder::default().open(&mut object)?.load()?;
        let program = match args.program {
            Which::Drop => &skel.progs.tc_drop,
            Which::DropPing => &skel.progs.tc_drop_ping,
            Which::Pingpong => &skel.progs.tc_pingpong,
        };
        let (function, verdicts) = (args.program.function(), args.program.verdicts());
        let run = Run::new(&args.run);

        let Some(ifindex) = host_ifindex else {
            let lab = Lab::pair().context("building the network lab")?;
            let (a, b) = (lab.node("a"), lab.node("b"));
            if args.program == Which::Pingpong {
                b.netns.run(|| {
                    std::fs::write("/proc/sys/net/ipv4/icmp_echo_ignore_all", "1")
                        .context("telling b's kernel to ignore pings")
                })??;
            }
            let filter = Filter::attach(program, b.iface.ifindex, Some(&b.netns))?;
            eprintln!(
                "tc-ping: attached {function} to the clsact ingress of b's eth0 in a private lab; it returns {verdicts}"
            );
            if args.program == Which::Pingpong {
                eprintln!(
                    "tc-ping: b's kernel ignores pings (net.ipv4.icmp_echo_ignore_all=1): every reply comes from {function}"
                );
            }
            eprintln!(
                "tc-ping: pinging {} from a ({}) once a second, Ctrl-C to stop",
                b.iface.ip, a.iface.ip
            );
            let pinger = Pinger::new(&a.netns)?;
            let target = b.iface.ip;
            let (stop, stopped) = mpsc::channel::<()>();
            let pings = std::thread::spawn(move || {
                chapter08::ping_until_stopped(&pinger, target, &stopped)
            });
            print_trace(&mut trace_pipe, &run, true)?;
            drop(stop);
            let (sent, replies) = pings.join().expect("the ping thread")?;
            filter.detach()?;
            println!(
                "--- {target}: {sent} echo requests sent, {replies} replies received ({function}) ---"
            );
            return Ok(());
        };

        let filter = Filter::attach(program, ifindex, None)?;
        eprintln!(
            "tc-ping: attached {function} to the clsact ingress of {}; it returns {verdicts}; Ctrl-C to stop",
            args.iface.unwrap_or_default()
        );
        print_trace(&mut trace_pipe, &run, false)?;
        filter.detach()
    })
}

// ANCHOR: filter
/// A program attached to the ingress hook of an interface's clsact qdisc. TC filters are not
/// links: they stay after the process that attached them has gone, so they are removed
/// explicitly, on every way out (dropping it removes them too, after an error).
struct Filter<'a> {
    hook: TcHook,
    /// The namespace of the interface (netlink works in the calling thread's), None for the
    /// host's.
    netns: Option<&'a Namespace>,
    /// Whether the clsact qdisc is ours to remove: one that was there before is left alone.
    made_qdisc: bool,
    attached: bool,
}

impl<'a> Filter<'a> {
    fn attach(
        program: &Program,
        ifindex: u32,
        netns: Option<&'a Namespace>,
    ) -> anyhow::Result<Self> {
        let mut hook = TcHook::new(program.as_fd());
        hook.ifindex(ifindex as i32).attach_point(TC_INGRESS);
        let mut filter = Filter {
            hook,
            netns,
            made_qdisc: false,
            attached: false,
        };
        filter.in_netns(|filter| -> anyhow::Result<()> {
            filter.made_qdisc = add_clsact(ifindex)?;
            // `tc filter add dev IFACE ingress bpf direct-action obj tc.bpf.o sec tc`
            filter.hook.attach().context("attaching the TC filter")?;
            filter.attached = true;
            Ok(())
        })??;
        Ok(filter)
    }

    /// Removes the filter, and the qdisc if this program added it.
    fn detach(mut self) -> anyhow::Result<()> {
        let result = self.remove();
        self.attached = false;
        self.made_qdisc = false;
        result
    }

    fn remove(&mut self) -> anyhow::Result<()> {
        let (attached, made_qdisc) = (self.attached, self.made_qdisc);
        self.in_netns(|filter| -> anyhow::Result<()> {
            if attached {
                filter.hook.detach().context("removing the TC filter")?;
            }
            if made_qdisc {
                // Both attach points together name the whole clsact qdisc.
                let mut qdisc = filter.hook;
                qdisc.attach_point(TC_INGRESS | TC_EGRESS);
                qdisc.destroy().context("removing the clsact qdisc")?;
            }
            Ok(())
        })?
    }

    fn in_netns<T>(&mut self, f: impl FnOnce(&mut Self) -> T) -> anyhow::Result<T> {
        match self.netns {
            Some(netns) => Ok(netns.run_here(|| f(self))?),
            None => Ok(f(self)),
        }
    }
}

impl Drop for Filter<'_> {
    fn drop(&mut self) {
        if self.attached || self.made_qdisc {
            let _ = self.remove();
        }
    }
}
// ANCHOR_END: filter

/// `tc qdisc add dev IFACE clsact`, in the calling thread's namespace. True if this call
/// added it, false if it was there already (libbpf-rs's `TcHook::create` hides the difference,
/// libbpf's own call reports EEXIST).
fn add_clsact(ifindex: u32) -> anyhow::Result<bool> {
    use libbpf_rs::libbpf_sys;
    let mut hook = libbpf_sys::bpf_tc_hook {
        sz: size_of::<libbpf_sys::bpf_tc_hook>() as _,
        ifindex: ifindex as i32,
        attach_point: libbpf_sys::BPF_TC_INGRESS,
        ..Default::default()
    };
    // SAFETY: a bpf_tc_hook with its size set, valid for the call.
    match -unsafe { libbpf_sys::bpf_tc_hook_create(&mut hook) } {
        0 => Ok(true),
        libc::EEXIST => Ok(false),
        errno => Err(std::io::Error::from_raw_os_error(errno)).context("adding a clsact qdisc"),
    }
}

/// Prints the program's "[tc] …" lines until the run finishes; each one counts towards
/// --count. In the lab, only lines of this process's own traffic.
fn print_trace(trace_pipe: &mut TracePipe, run: &Run, only_ours: bool) -> anyhow::Result<()> {
    while let Some(line) = trace_pipe.next_line(run)? {
        let Some(parsed) = TraceLine::parse(&line) else {
            continue;
        };
        if parsed.message.starts_with("[tc] ") && (!only_ours || chapter08::traced_here(&parsed)) {
            println!("{line}");
            run.record();
        }
    }
    Ok(())
}
