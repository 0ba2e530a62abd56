//! Learning eBPF, chapter 3, “The eBPF Program” (hello.bpf.c): an XDP program that writes
//! "Hello World N" to the trace pipe for every packet an interface receives, N being a global
//! counter that user space reads too.

use std::mem::MaybeUninit;
use std::net::UdpSocket;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Parser;
use ebpf_support::lab::Lab;
use ebpf_support::{Run, RunArgs, TracePipe};
use libbpf_rs::skel::{OpenSkel, SkelBuilder};

ebpf_support::skeleton!(hello);
use hello::HelloSkelBuilder;

/// The lab's packets: a UDP datagram from a to b every quarter of a second.
const PACKET_PERIOD: Duration = Duration::from_millis(250);
const PORT: u16 = 7000;

/// Print "Hello World N" for every packet an interface receives (Learning eBPF, chapter 3, “The eBPF Program”, hello.bpf.c).
///
/// Attaches the XDP program `hello` to the eth0 of node b in a private network lab (two network
/// namespaces joined by a veth pair; nothing of the host's is touched), sends it a few UDP
/// datagrams a second from node a, and prints the trace pipe, and every second the global
/// `counter` read from the program's .bss map. With --iface it attaches to that interface
/// instead and sends nothing.
#[derive(Parser)]
#[command(name = "hello-xdp")]
struct Args {
    /// Attach to this interface of the host instead of the lab's (e.g. lo); make your own traffic.
    #[arg(long, value_name = "NAME")]
    iface: Option<String>,
    #[command(flatten)]
    run: RunArgs,
}

fn main() -> std::process::ExitCode {
    ebpf_support::main(&chapter03::HELLO_XDP, |args: Args| {
        // A bad name is found before anything is loaded or built.
        let host_ifindex = match &args.iface {
            Some(name) => Some(ifindex_of(name)?),
            None => None,
        };
        let mut trace_pipe = TracePipe::open()?;

        // ANCHOR: load
        let mut object = MaybeUninit::uninit();
        let skel = HelloSkelBuilder::default().open(&mut object)?.load()?;
        // ANCHOR_END: load

        let run = Run::new(&args.run);
        let Some(ifindex) = host_ifindex else {
            // ANCHOR: lab
            let lab = Lab::pair().context("building the network lab")?;
            let (a, b) = (lab.node("a"), lab.node("b"));
            // The kernel looks an ifindex up in the calling thread's namespace, so attach from
            // inside b's. The link holds the attachment: dropping it detaches the program.
            let link = b
                .netns
                .run_here(|| skel.progs.hello.attach_xdp(b.iface.ifindex as i32))?
                .context("attaching XDP to b's eth0")?;
            // ANCHOR_END: lab
            eprintln!(
                "hello-xdp: attached XDP to {} of a private lab; sending UDP datagrams to {}:{PORT} from {}, Ctrl-C to stop",
                b.iface.name, b.iface.ip, a.iface.ip
            );
            let _receiver = b.netns.run(|| UdpSocket::bind((b.iface.ip, PORT)))??;
            let sender = a.netns.run(|| UdpSocket::bind((a.iface.ip, 0)))??;
            let target = (b.iface.ip, PORT);
            let (stop, stopped) = mpsc::channel::<()>();
            let traffic = std::thread::spawn(move || -> std::io::Result<u64> {
                let mut sent = 0;
                loop {
                    sender.send_to(b"hello", target)?;
                    sent += 1;
                    if stopped.recv_timeout(PACKET_PERIOD) != Err(RecvTimeoutError::Timeout) {
                        return Ok(sent);
                    }
                }
            });
            print_trace(&mut trace_pipe, &run, &skel)?;
            drop(stop);
            let sent = traffic.join().expect("the sender thread")?;
            println!("sent {sent} datagrams; counter = {}", counter(&skel));
            drop(link);
            return Ok(());
        };

        let _link = skel
            .progs
            .hello
            .attach_xdp(ifindex as i32)
            .with_context(|| format!("attaching XDP to {}", args.iface.unwrap_or_default()))?;
        eprintln!("hello-xdp: attached XDP; reading trace_pipe, Ctrl-C to stop");
        print_trace(&mut trace_pipe, &run, &skel)?;
        println!("counter = {}", counter(&skel));
        Ok(())
    })
}

// ANCHOR: counter
/// The global `counter`, read from the skeleton's view of the .bss map: libbpf maps the map's
/// memory into this process, so reading it is a plain memory read, with no system call.
fn counter(skel: &hello::HelloSkel) -> i32 {
    let bss = skel
        .maps
        .bss_data
        .as_deref()
        .expect("hello.bpf.c has a .bss");
    // The kernel changes it behind Rust's back: read it afresh every time.
    // SAFETY: the pointer comes from a live reference to an aligned i32.
    unsafe { std::ptr::read_volatile(&bss.counter) }
}
// ANCHOR_END: counter

/// Prints trace_pipe's lines (each counts towards --count) and `counter = N` once a second.
fn print_trace(
    trace_pipe: &mut TracePipe,
    run: &Run,
    skel: &hello::HelloSkel,
) -> anyhow::Result<()> {
    let mut last_report = Instant::now();
    while let Some(line) = trace_pipe.next_line(run)? {
        println!("{line}");
        run.record();
        if last_report.elapsed() >= Duration::from_secs(1) {
            println!("counter = {}", counter(skel));
            last_report = Instant::now();
        }
    }
    Ok(())
}

fn ifindex_of(name: &str) -> anyhow::Result<u32> {
    let Ok(c_name) = std::ffi::CString::new(name) else {
        bail!("--iface {name:?}: not an interface name");
    };
    // SAFETY: if_nametoindex reads a NUL-terminated string.
    match unsafe { libc::if_nametoindex(c_name.as_ptr()) } {
        0 => bail!("--iface {name}: there is no interface {name} here (see `ip link`)"),
        ifindex => Ok(ifindex),
    }
}
