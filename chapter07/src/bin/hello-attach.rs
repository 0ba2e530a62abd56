//! Learning eBPF, chapter 7, “eBPF Program and Attachment Types” (hello.c): the programs of
//! hello.bpf.c, one per kind of hook, each attached where this kernel allows it. It says which
//! attach points this kernel has, why it lacks the others, and prints what each one sees.

use std::mem::MaybeUninit;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use anyhow::{Context, bail};
use chapter07::{ATTACH_POINTS, AttachPoint, SQUARE, event_line};
use clap::Parser;
use ebpf_support::{ExecTrigger, Run, RunArgs, c_string, errno_name, explain_refusal};
use libbpf_rs::skel::{OpenSkel, Skel, SkelBuilder};
use libbpf_rs::{Link, OpenObject, PerfBufferBuilder, ProgramMut, UprobeOpts};

ebpf_support::skeleton!(hello);
use hello::types::data_t;
use hello::{HelloSkel, HelloSkelBuilder};

unsafe impl plain::Plain for data_t {}

/// Attach one program per kind of hook to execve, and print what each sees (Learning eBPF, chapter 7, “eBPF Program and Attachment Types”, hello.bpf.c).
///
/// The programs: a kprobe on the execve syscall (ksyscall), a kprobe, kretprobe, fentry and
/// fexit on the kernel's bprm_execve(), the syscalls/sys_enter_execve tracepoint, the
/// sched_process_exec tracepoint as tp_btf and raw_tp, a uprobe and uretprobe on a function
/// of hello-attach itself, and a uprobe on the C library's execve(). It first lists which of
/// them this kernel accepts, with the kernel's reason for each it refuses, then prints one
/// line per event: `NAME: CALL in PID (COMMAND)`, e.g. `tp: execve(/bin/true) in 4242 (bash)`.
/// With --ip-link it shows the book's other way to attach a program instead: XDP through
/// iproute2, in a private network lab.
#[derive(Parser)]
#[command(name = "hello-attach")]
struct Args {
    /// Instead: attach an XDP program with `ip link set dev eth0 xdp obj … sec xdp` in a
    /// private network lab, show it with `ip link show`, and detach it.
    #[arg(long)]
    ip_link: bool,
    #[command(flatten)]
    trigger: ExecTrigger,
    #[command(flatten)]
    run: RunArgs,
}

// ANCHOR: square
/// The function of our own that the uprobes watch. `no_mangle` keeps its name in the symbol
/// table, where libbpf looks it up; `inline(never)` keeps it a function to probe.
#[unsafe(no_mangle)]
#[inline(never)]
pub extern "C" fn hello_attach_square(n: i64) -> i64 {
    n * n
}
// ANCHOR_END: square

/// `--trigger` calls the function with 2, 3, 4, … before each exec (from 2, so that no
/// result equals its argument).
fn call_square() {
    static NEXT: AtomicI64 = AtomicI64::new(2);
    // black_box: the compiler must not work the result out without calling the function.
    std::hint::black_box(hello_attach_square(std::hint::black_box(
        NEXT.fetch_add(1, Ordering::SeqCst),
    )));
}

/// What became of one attach point: its link, or why this kernel has none.
struct Attached<'obj> {
    point: &'static AttachPoint,
    target: String,
    outcome: Result<(HelloSkel<'obj>, Link), String>,
}

fn main() -> std::process::ExitCode {
    ebpf_support::main(&chapter07::HELLO_ATTACH, |args: Args| {
        if args.ip_link {
            return chapter07::ip_link::show();
        }
        let libc = libc_path()?;
        let own = std::env::current_exe().context("finding hello-attach's own executable")?;

        // ANCHOR: load
        // One object holds the perf buffer map and no program; each attach point then gets an
        // object of its own with only its program to load, sharing that map. So the kernel
        // judges each program alone, as the doctor does, and one refusal costs only that one.
        let mut storage: Vec<MaybeUninit<OpenObject>> = (0..=ATTACH_POINTS.len())
            .map(|_| MaybeUninit::uninit())
            .collect();
        let (hub_storage, storage) = storage.split_first_mut().expect("storage");
        let mut open = HelloSkelBuilder::default().open(hub_storage)?;
        for mut program in open.open_object_mut().progs_mut() {
            program.set_autoload(false);
        }
        let hub = open.load()?;
        // ANCHOR_END: load

        let attached: Vec<Attached> = ATTACH_POINTS
            .iter()
            .zip(storage.iter_mut())
            .map(|(point, slot)| {
                let target = target(point, &own, &libc);
                let outcome = load_and_attach(point, slot, &hub, &own, &libc);
                Attached {
                    point,
                    target,
                    outcome,
                }
            })
            .collect();

        // ANCHOR: report
        println!("Attach points on this kernel ({}):", kernel());
        for a in &attached {
            let verdict = match &a.outcome {
                Ok(_) => "attached".to_string(),
                Err(reason) => format!("not here: {reason}"),
            };
            println!("  {:<12} {:<44} {verdict}", a.point.name, a.target);
        }
        // ANCHOR_END: report
        let working = attached.iter().filter(|a| a.outcome.is_ok()).count();
        if working == 0 {
            bail!("this kernel accepted none of the programs");
        }
        eprintln!(
            "hello-attach: attached ({working} of {} attach points); reading the perf buffer, Ctrl-C to stop",
            attached.len()
        );

        let run = Run::new(&args.run);
        let _trigger = args.trigger.start_with(call_square);
        // ANCHOR: read
        let perf = PerfBufferBuilder::new(&hub.maps.output)
            .sample_cb(|_cpu, bytes: &[u8]| {
                let mut data = data_t::default();
                if plain::copy_from_bytes(&mut data, bytes).is_err() {
                    return;
                }
                let Some(point) = usize::try_from(data.source)
                    .ok()
                    .and_then(|i| ATTACH_POINTS.get(i))
                else {
                    return;
                };
                // The uprobe's argument is a number, the others' a path.
                let argument = match point.name {
                    "uprobe" => data.value.to_string(),
                    _ => c_string(&data.path),
                };
                if run.record() {
                    println!(
                        "{}",
                        event_line(
                            point,
                            data.pid,
                            &c_string(&data.command),
                            &argument,
                            data.value
                        )
                    );
                }
            })
            .lost_cb(|cpu, lost| eprintln!("hello-attach: lost {lost} events on CPU {cpu}"))
            .build()
            .context("opening the perf buffer")?;
        while !run.finished() {
            perf.poll(run.poll_interval().max(Duration::from_millis(1)))?;
        }
        // ANCHOR_END: read
        // Dropping the links and objects detaches and unloads everything.
        drop(attached);
        Ok(())
    })
}

/// Where a program attaches, for the report: its section, or for a uprobe the function and
/// the file it is in.
fn target(point: &AttachPoint, own: &Path, libc: &Path) -> String {
    match point.program {
        "uprobe_square" | "uretprobe_square" => {
            format!("{} {SQUARE} in {}", point.section, own.display())
        }
        "uprobe_libc_execve" => format!("{} execve in {}", point.section, libc.display()),
        _ => point.section.to_string(),
    }
}

/// Loads the one program of `point` in an object of its own and attaches it; or says why the
/// kernel has no such attach point, in the doctor's words.
fn load_and_attach<'obj>(
    point: &AttachPoint,
    slot: &'obj mut MaybeUninit<OpenObject>,
    hub: &HelloSkel,
    own: &Path,
    libc: &Path,
) -> Result<(HelloSkel<'obj>, Link), String> {
    // What a file or a mount shows (no kprobe PMU, say) needs no load to find out.
    if let Some(reason) = ebpf_support::missing(point.capability) {
        return Err(reason);
    }
    let refused = |stage: &str, error: libbpf_rs::Error| {
        explain_refusal(point.capability, format!("{stage}: {}", errno_name(&error)))
    };
    let name = program_for(point);
    let mut open = HelloSkelBuilder::default()
        .open(slot)
        .map_err(|e| format!("open failed: {e}"))?;
    for mut program in open.open_object_mut().progs_mut() {
        let keep = program.name() == name;
        program.set_autoload(keep);
    }
    open.maps
        .output
        .reuse_fd(hub.maps.output.as_fd())
        .map_err(|e| format!("sharing the perf buffer: {e}"))?;
    let skel = open.load().map_err(|e| refused("load refused", e))?;
    let link = {
        let program = skel
            .object()
            .progs_mut()
            .find(|p| p.name() == name)
            .ok_or_else(|| format!("no program {name} in hello.bpf.c"))?;
        attach(point, &program, own, libc).map_err(|e| refused("attach failed", e))?
    };
    Ok((skel, link))
}

/// The program that serves `point` on this kernel: fexit's must declare every argument of
/// the function, and bprm_execve has four of them before 6.12 (see hello.bpf.c).
fn program_for(point: &AttachPoint) -> &'static str {
    match point.program {
        "fexit_bprm_execve" if chapter07::function_arguments("bprm_execve") == Some(4) => {
            "fexit_bprm_execve_4"
        }
        other => other,
    }
}

// ANCHOR: attach
/// Most programs attach by their section name alone. A uprobe also needs a file and a
/// function, which its bare `SEC("uprobe")` does not name.
fn attach(
    point: &AttachPoint,
    program: &ProgramMut,
    own: &Path,
    libc: &Path,
) -> libbpf_rs::Result<Link> {
    let uprobe = |file: &Path, function: &str, retprobe: bool| {
        let opts = UprobeOpts {
            func_name: Some(function.to_string()),
            retprobe,
            ..Default::default()
        };
        // Pid -1: in every process that runs this file.
        program.attach_uprobe_with_opts(-1, file, 0, opts)
    };
    match point.program {
        "uprobe_square" => uprobe(own, SQUARE, false),
        "uretprobe_square" => uprobe(own, SQUARE, true),
        "uprobe_libc_execve" => uprobe(libc, "execve", false),
        _ => program.attach(),
    }
}
// ANCHOR_END: attach

// ANCHOR: libc
/// The C library this process runs with, as the kernel mapped it: its path differs per
/// distribution and architecture, so it is looked up rather than written down.
fn libc_path() -> anyhow::Result<PathBuf> {
    let maps = std::fs::read_to_string("/proc/self/maps").context("reading /proc/self/maps")?;
    maps.lines()
        .filter_map(|line| line.split_whitespace().nth(5))
        .find(|path| {
            Path::new(path)
                .file_name()
                .is_some_and(|name| name.to_string_lossy().starts_with("libc.so"))
        })
        .map(PathBuf::from)
        .context("no libc.so in /proc/self/maps: is hello-attach linked statically?")
}
// ANCHOR_END: libc

/// `6.18.44 x86_64`.
fn kernel() -> String {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!("{} {}", release.trim(), std::env::consts::ARCH)
}
