//! Learning eBPF, chapter 4, “BPF Program and Map References”: what keeps a program in the
//! kernel. A loader process loads a program, attaches it with a link and pins both in bpffs,
//! then exits; the program stays, and keeps running, until the pins are removed.

use std::mem::MaybeUninit;
use std::os::fd::{AsFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Parser;
use ebpf_support::{Run, RunArgs};
use libbpf_rs::query::{LinkInfo, ProgInfoIter};
use libbpf_rs::skel::{OpenSkel, SkelBuilder};
use libbpf_rs::{MapCore, MapFlags, MapHandle, TracepointCategory, libbpf_sys as sys};

ebpf_support::skeleton!(pin_demo);
use pin_demo::PinDemoSkelBuilder;

/// Show that pins and links keep a program in the kernel after its loader exits (Learning eBPF, chapter 4, “BPF Program and Map References”).
///
/// A loader process loads `hello` (on the syscalls/sys_enter_execve tracepoint), attaches it
/// with a link, pins the program and the link under /sys/fs/bpf and exits. Then each pin is
/// removed in turn, and the kernel's own view (program and link ids) is shown after each step.
/// The pins are always removed, also on Ctrl-C.
#[derive(Parser)]
#[command(name = "pin-demo")]
struct Args {
    /// Pause this long after each step, to look with `bpftool prog list` or `bpftool link list`.
    #[arg(long, value_name = "SECS", default_value = "0")]
    pause: f64,
    /// Only load, attach and pin into DIR, then exit (what the loader process runs).
    #[arg(long, value_name = "DIR", hide = true)]
    loader: Option<PathBuf>,
    #[command(flatten)]
    run: RunArgs,
}

// ANCHOR: loader
/// The loader: load, attach, pin the program and the link, exit. Its fds close when it exits,
/// so only the pins are left holding anything.
fn load_and_pin(dir: &Path) -> anyhow::Result<()> {
    let mut object = MaybeUninit::uninit();
    let open = PinDemoSkelBuilder::default().open(&mut object)?;
    let mut skel = open.load()?;
    let mut link = skel
        .progs
        .hello
        .attach_tracepoint(
            TracepointCategory::Custom("syscalls".into()),
            "sys_enter_execve",
        )
        .context("attaching to syscalls/sys_enter_execve")?;
    // bpftool prog pin / bpftool link pin: BPF_OBJ_PIN with the object's fd and a path.
    skel.progs
        .hello
        .pin(dir.join("hello"))
        .context("pinning the program")?;
    link.pin(dir.join("link")).context("pinning the link")?;
    Ok(())
}
// ANCHOR_END: loader

/// An object pinned at `path`, opened again: BPF_OBJ_GET, as `bpftool prog show pinned PATH`.
fn open_pinned(path: &Path) -> anyhow::Result<OwnedFd> {
    let c_path = std::ffi::CString::new(path.as_os_str().as_encoded_bytes())?;
    // SAFETY: a plain bpf(2) wrapper; the fd it returns is ours.
    let fd = unsafe { sys::bpf_obj_get(c_path.as_ptr()) };
    if fd < 0 {
        bail!(
            "{}: {}",
            path.display(),
            std::io::Error::from_raw_os_error(-fd)
        );
    }
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Whether the kernel still has the link with this id.
fn link_exists(id: u32) -> bool {
    // SAFETY: a plain bpf(2) wrapper; a returned fd is closed right away.
    let fd = unsafe { sys::bpf_link_get_fd_by_id(id) };
    if fd >= 0 {
        unsafe { libc::close(fd) };
    }
    fd >= 0
}

/// The kernel's view of the program: its name and how many execs it has counted (read from
/// its .bss map), or None once it has been unloaded.
fn program(id: u32) -> Option<(String, u64)> {
    let info = ProgInfoIter::with_query_opts(
        libbpf_rs::query::ProgInfoQueryOptions::default().include_map_ids(true),
    )
    .find(|info| info.id == id)?;
    let execs = info.map_ids.iter().find_map(|&map_id| {
        let map = MapHandle::from_map_id(map_id).ok()?;
        let value = map.lookup(&0u32.to_ne_bytes(), MapFlags::ANY).ok()??;
        Some(u64::from_ne_bytes(value.get(..8)?.try_into().ok()?))
    });
    Some((info.name.to_string_lossy().into_owned(), execs.unwrap_or(0)))
}

/// Waits (a few seconds at most) for the kernel to free an object after its last reference
/// goes: that happens after an RCU grace period, not at once.
fn gone(exists: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while exists() {
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    true
}

/// Runs /bin/true once, so that a program still attached to execve counts it.
fn one_exec() -> anyhow::Result<()> {
    Command::new("/bin/true").status()?;
    Ok(())
}

/// The pin directory, removed however the demo ends.
struct Pins(PathBuf);

impl Drop for Pins {
    fn drop(&mut self) {
        for name in ["link", "hello"] {
            let _ = std::fs::remove_file(self.0.join(name));
        }
        let _ = std::fs::remove_dir(&self.0);
    }
}

/// bpffs at /sys/fs/bpf, mounted if it is not.
fn bpffs() -> anyhow::Result<PathBuf> {
    let root = PathBuf::from("/sys/fs/bpf");
    let is_bpffs = |path: &Path| {
        let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
        let mut stat: libc::statfs = unsafe { std::mem::zeroed() };
        unsafe { libc::statfs(c.as_ptr(), &mut stat) == 0 && stat.f_type == 0xcafe4a11 }
    };
    if !is_bpffs(&root) {
        let status = Command::new("mount")
            .args(["-t", "bpf", "bpf"])
            .arg(&root)
            .status();
        if !status.is_ok_and(|s| s.success()) || !is_bpffs(&root) {
            bail!(
                "bpffs is not mounted at /sys/fs/bpf and mounting it failed: mount -t bpf bpf /sys/fs/bpf"
            );
        }
    }
    Ok(root)
}

fn main() -> std::process::ExitCode {
    ebpf_support::main(&chapter04::PIN_DEMO, |args: Args| {
        if let Some(dir) = &args.loader {
            return load_and_pin(dir);
        }
        let run = Run::new(&args.run);
        let pause = Duration::try_from_secs_f64(args.pause).context("--pause")?;
        let step = || run.sleep(pause);

        let pins = Pins(bpffs()?.join(format!("learning-ebpf-pin-demo-{}", std::process::id())));
        std::fs::create_dir(&pins.0).with_context(|| format!("creating {}", pins.0.display()))?;

        // ANCHOR: steps
        let mut loader = Command::new(std::env::current_exe()?)
            .arg("--loader")
            .arg(&pins.0)
            .spawn()?;
        let loader_pid = loader.id();
        let status = loader.wait()?;
        if !status.success() {
            bail!("the loader failed ({status})");
        }
        let (prog_path, link_path) = (pins.0.join("hello"), pins.0.join("link"));
        // The ids behind the pins, from the kernel.
        let prog_id = {
            let fd = open_pinned(&prog_path)?;
            let mut info = sys::bpf_prog_info::default();
            let mut len = std::mem::size_of_val(&info) as u32;
            use std::os::fd::AsRawFd;
            unsafe {
                sys::bpf_prog_get_info_by_fd(fd.as_raw_fd(), &mut info, &mut len);
            }
            info.id
        };
        let link_id = LinkInfo::from_fd(open_pinned(&link_path)?.as_fd())?.id;
        println!(
            "1. the loader (pid {loader_pid}) loaded and attached hello, pinned it at {} and its link at {}, and exited",
            prog_path.display(),
            link_path.display()
        );
        one_exec()?;
        let Some((name, execs)) = program(prog_id) else {
            bail!("program {prog_id} is gone although it is pinned");
        };
        println!(
            "2. no process holds it, yet the kernel has prog {prog_id} ({name}) and link {link_id}; \
             it still runs: {execs} execs counted"
        );
        if !step() {
            return Ok(());
        }

        // rm /sys/fs/bpf/.../link: the link's last reference goes, and the program is detached.
        std::fs::remove_file(&link_path)?;
        let detached = gone(|| link_exists(link_id));
        let before = program(prog_id).map_or(0, |(_, n)| n);
        one_exec()?;
        let after = program(prog_id).map_or(0, |(_, n)| n);
        println!(
            "3. link pin removed: link {link_id} {}; prog {prog_id} is still loaded (its own pin holds it) \
             but detached: {before} execs counted, {after} after one more exec",
            if detached {
                "is gone"
            } else {
                "is still there"
            }
        );
        if !step() {
            return Ok(());
        }

        // rm /sys/fs/bpf/.../hello: nothing holds the program any more.
        std::fs::remove_file(&prog_path)?;
        let unloaded = gone(|| program(prog_id).is_some());
        println!(
            "4. program pin removed: prog {prog_id} {}",
            if unloaded {
                "is gone"
            } else {
                "is still loaded"
            }
        );
        // ANCHOR_END: steps
        Ok(())
    })
}
