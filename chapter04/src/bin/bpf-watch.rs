//! Learning eBPF, chapter 4, “The bpf() System Call”: watch the bpf() calls of one process with
//! eBPF itself. The book runs `strace -e bpf ./hello-buffer-config.py`; this prints the same
//! sequence, with each command's key arguments and what the step does.

use std::ffi::CString;
use std::mem::MaybeUninit;

use anyhow::{Context, bail};
use clap::Parser;
use ebpf_support::{Run, RunArgs, c_string};
use libbpf_rs::skel::{OpenSkel, SkelBuilder};
use libbpf_rs::{MapType, ProgramType, RingBufferBuilder, TracepointCategory, libbpf_sys as sys};

ebpf_support::skeleton!(bpf_watch);
use bpf_watch::BpfWatchSkelBuilder;
use bpf_watch::types::bpf_call_t;

unsafe impl plain::Plain for bpf_call_t {}

/// Print each bpf() call of a process, with its key arguments and result (Learning eBPF, chapter 4, “The bpf() System Call”).
///
/// Attaches to the syscalls/sys_enter_bpf and sys_exit_bpf tracepoints, filtered to one
/// process: `bpf-watch -- CMD ARGS…` starts CMD and watches it from its first instruction;
/// `bpf-watch --pid N` watches a running process. Compare with `strace -e bpf CMD`.
#[derive(Parser)]
#[command(name = "bpf-watch")]
struct Args {
    /// Watch this running process instead of starting one.
    #[arg(long, value_name = "PID", conflicts_with = "command")]
    pid: Option<i32>,
    /// The command to start and watch (after `--`), e.g. `-- target/debug/hello-buffer-config --trigger --count 1`.
    #[arg(last = true, value_name = "CMD")]
    command: Vec<String>,
    #[command(flatten)]
    run: RunArgs,
}

/// A child that waits, between fork and exec, until the watcher has attached.
struct GatedChild {
    pid: i32,
    gate: std::os::fd::OwnedFd,
    reaped: std::cell::Cell<bool>,
}

fn start_gated(command: &[String]) -> anyhow::Result<GatedChild> {
    use std::os::fd::FromRawFd;
    let argv: Vec<CString> = command
        .iter()
        .map(|a| CString::new(a.as_str()))
        .collect::<Result<_, _>>()?;
    let mut argv_ptrs: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
    argv_ptrs.push(std::ptr::null());
    let mut fds = [0; 2];
    // SAFETY: pipe2 writes two fds into the array.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        bail!("pipe: {}", std::io::Error::last_os_error());
    }
    // SAFETY: the child calls only async-signal-safe functions (read, execvp, _exit).
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        bail!("fork: {}", std::io::Error::last_os_error());
    }
    if pid == 0 {
        unsafe {
            libc::close(fds[1]);
            // The watcher blocks SIGINT and SIGTERM to catch them on a thread; the command
            // must not inherit that.
            let mut none: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut none);
            libc::sigprocmask(libc::SIG_SETMASK, &none, std::ptr::null_mut());
            let mut byte = 0u8;
            // Blocks until the watcher writes a byte (or exits, which closes the pipe).
            if libc::read(fds[0], (&mut byte as *mut u8).cast(), 1) != 1 {
                libc::_exit(1);
            }
            libc::execvp(argv_ptrs[0], argv_ptrs.as_ptr());
            libc::_exit(127);
        }
    }
    // SAFETY: both fds are fresh and ours.
    unsafe { libc::close(fds[0]) };
    Ok(GatedChild {
        pid,
        gate: unsafe { std::os::fd::OwnedFd::from_raw_fd(fds[1]) },
        reaped: std::cell::Cell::new(false),
    })
}

impl GatedChild {
    fn open_gate(&self) -> anyhow::Result<()> {
        use std::os::fd::AsRawFd;
        // SAFETY: writes one byte from a live buffer.
        if unsafe { libc::write(self.gate.as_raw_fd(), b"g".as_ptr().cast(), 1) } != 1 {
            bail!("starting the command: {}", std::io::Error::last_os_error());
        }
        Ok(())
    }

    /// Whether it has exited (reaped here), with its exit code.
    fn exited(&self) -> Option<i32> {
        if self.reaped.get() {
            return None;
        }
        let mut status = 0;
        // SAFETY: waits for our own child without blocking.
        let done = unsafe { libc::waitpid(self.pid, &mut status, libc::WNOHANG) } == self.pid;
        self.reaped.set(done);
        done.then(|| {
            if libc::WIFEXITED(status) {
                libc::WEXITSTATUS(status)
            } else {
                128 + libc::WTERMSIG(status)
            }
        })
    }
}

impl Drop for GatedChild {
    fn drop(&mut self) {
        // Interrupted before the command ended: end it too.
        if !self.reaped.get() && self.exited().is_none() {
            unsafe {
                libc::kill(self.pid, libc::SIGTERM);
                libc::waitpid(self.pid, std::ptr::null_mut(), 0);
            }
        }
    }
}

// ANCHOR: describe
/// `BPF_MAP_CREATE map_type=Hash name=config key_size=4 value_size=12 max_entries=10240`
fn describe(call: &bpf_call_t) -> String {
    let name = c_string(&call.name);
    let cmd = chapter04::bpf_commands::name(call.cmd);
    match call.cmd {
        sys::BPF_MAP_CREATE => format!(
            "{cmd} map_type={:?} name={name:?} key_size={} value_size={} max_entries={}",
            MapType::from(call.r#type),
            call.key_size,
            call.value_size,
            call.max_entries
        ),
        sys::BPF_PROG_LOAD => format!(
            "{cmd} prog_type={:?} name={name:?} insn_cnt={}",
            ProgramType::from(call.r#type),
            call.insn_cnt
        ),
        sys::BPF_MAP_LOOKUP_ELEM
        | sys::BPF_MAP_UPDATE_ELEM
        | sys::BPF_MAP_DELETE_ELEM
        | sys::BPF_MAP_GET_NEXT_KEY
        | sys::BPF_MAP_FREEZE => format!("{cmd} map_fd={}", call.fd),
        sys::BPF_LINK_CREATE => format!(
            "{cmd} prog_fd={} attach_type={}",
            call.fd,
            attach_type_name(call.r#type)
        ),
        sys::BPF_RAW_TRACEPOINT_OPEN => format!("{cmd} name={name:?} prog_fd={}", call.fd),
        _ => cmd,
    }
}
// ANCHOR_END: describe

fn attach_type_name(attach_type: u32) -> String {
    match attach_type {
        sys::BPF_PERF_EVENT => "BPF_PERF_EVENT".into(),
        sys::BPF_TRACE_RAW_TP => "BPF_TRACE_RAW_TP".into(),
        sys::BPF_TRACE_KPROBE_MULTI => "BPF_TRACE_KPROBE_MULTI".into(),
        sys::BPF_TRACE_FENTRY => "BPF_TRACE_FENTRY".into(),
        sys::BPF_XDP => "BPF_XDP".into(),
        other => other.to_string(),
    }
}

/// The result as strace shows it: a number, or `-1 ENOENT`.
fn result(ret: i64) -> String {
    if ret < 0 {
        let errno = std::io::Error::from_raw_os_error(-ret as i32);
        format!("-1 ({errno})")
    } else {
        ret.to_string()
    }
}

fn main() -> std::process::ExitCode {
    ebpf_support::main(&chapter04::BPF_WATCH, |args: Args| {
        let child = match (args.pid, args.command.is_empty()) {
            (Some(_), _) => None,
            (None, false) => Some(start_gated(&args.command)?),
            (None, true) => bail!("give a command to start (`-- CMD ARGS…`) or --pid PID"),
        };
        let target = args.pid.or(child.as_ref().map(|c| c.pid)).unwrap();
        if args.pid.is_some() && unsafe { libc::kill(target, 0) } != 0 {
            bail!("no process {target}");
        }

        // ANCHOR: load
        let mut object = MaybeUninit::uninit();
        let mut open = BpfWatchSkelBuilder::default().open(&mut object)?;
        // A .rodata constant: set before load, so the verifier sees the value.
        open.maps.rodata_data.as_deref_mut().unwrap().target_tgid = target;
        let skel = open.load()?;
        let category = || TracepointCategory::Custom("syscalls".into());
        let _enter = skel
            .progs
            .bpf_enter
            .attach_tracepoint(category(), "sys_enter_bpf")
            .context("attaching to syscalls/sys_enter_bpf")?;
        let _exit = skel
            .progs
            .bpf_exit
            .attach_tracepoint(category(), "sys_exit_bpf")
            .context("attaching to syscalls/sys_exit_bpf")?;
        // ANCHOR_END: load
        eprintln!(
            "bpf-watch: attached (tracepoints syscalls/sys_enter_bpf and sys_exit_bpf); watching process {target}"
        );

        let run = Run::new(&args.run);
        // ANCHOR: read
        let mut builder = RingBufferBuilder::new();
        builder.add(&skel.maps.output, |bytes: &[u8]| {
            let mut call = bpf_call_t::default();
            if plain::copy_from_bytes(&mut call, bytes).is_ok() && run.record() {
                let why = chapter04::bpf_commands::explain(call.cmd).map_or("", |(_, why)| why);
                println!("{} = {}    # {why}", describe(&call), result(call.ret));
            }
            0
        })?;
        let ring = builder.build().context("opening the ring buffer")?;
        // ANCHOR_END: read
        if let Some(child) = &child {
            child.open_gate()?;
        }
        while !run.finished() {
            ring.poll(run.poll_interval())?;
            if let Some(code) = child.as_ref().and_then(GatedChild::exited) {
                // Whatever it sent before it ended is still in the ring.
                ring.consume()?;
                eprintln!("bpf-watch: the command exited with {code}");
                break;
            }
            if args.pid.is_some() && unsafe { libc::kill(target, 0) } != 0 {
                ring.consume()?;
                eprintln!("bpf-watch: process {target} has ended");
                break;
            }
        }
        Ok(())
    })
}
