//! `hello-attach --ip-link`: the book's other way to attach a program (Learning eBPF, chapter
//! 7, “XDP”): iproute2 loads an object file and attaches its XDP program to an interface,
//! and `ip link show` reports it. Here the interface is eth0 of a private network lab, and
//! iproute2 runs with a BPF file system of its own, so nothing of the host's is touched.

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use ebpf_support::lab::{Lab, Node};

/// xdp.bpf.c, compiled: iproute2 reads an object file, not a skeleton.
pub fn object() -> &'static [u8] {
    let embedded = include_bytes!(concat!(env!("OUT_DIR"), "/xdp.bpf.o"));
    ebpf_support::mutant::object(env!("CARGO_PKG_NAME"), "xdp.bpf.o", embedded)
}

/// Attaches, shows, checks and detaches; prints each command and what it printed.
pub fn show() -> anyhow::Result<()> {
    let version = Command::new("ip").arg("-V").output();
    match version {
        Ok(output) if output.status.success() => {}
        // BusyBox's ip, say, which has no -V: its first line names it.
        Ok(output) => bail!(
            "cannot run ip (iproute2): {}",
            String::from_utf8_lossy(&output.stderr)
                .lines()
                .next()
                .unwrap_or_default()
        ),
        Err(e) => bail!("cannot run ip (iproute2; `cargo xtask setup` installs it): {e}"),
    }
    let dir = std::env::temp_dir().join(format!("hello-attach-{}", std::process::id()));
    std::fs::create_dir_all(&dir).context("making a folder for xdp.bpf.o")?;
    let result = attach_and_detach(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn attach_and_detach(dir: &Path) -> anyhow::Result<()> {
    std::fs::write(dir.join("xdp.bpf.o"), object()).context("writing xdp.bpf.o")?;
    let lab = Lab::pair().context("building the network lab")?;
    let node = lab.node("a");
    let dev = node.iface.name;

    // ANCHOR: commands
    ip(
        node,
        dir,
        &[
            "link",
            "set",
            "dev",
            dev,
            "xdp",
            "obj",
            "xdp.bpf.o",
            "sec",
            "xdp",
        ],
    )?;
    let shown = ip(node, dir, &["link", "show", "dev", dev])?;
    // ANCHOR_END: commands
    let Some(id) = xdp_program(&shown) else {
        bail!("ip link show reports no XDP program on {dev} after attaching one");
    };
    let info = libbpf_rs::query::ProgInfoIter::default().find(|info| info.id == id);
    match info {
        Some(info) => println!(
            "# the kernel's program {id}: {} ({}), from xdp.bpf.o",
            info.name.to_string_lossy(),
            format!("{:?}", info.ty).to_lowercase()
        ),
        None => bail!("ip link show names program {id}, which the kernel does not have"),
    }

    ip(node, dir, &["link", "set", "dev", dev, "xdp", "off"])?;
    let shown = ip(node, dir, &["link", "show", "dev", dev])?;
    if let Some(left) = xdp_program(&shown) {
        bail!("program {left} is still attached to {dev} after `xdp off`");
    }
    // Detached and held by nothing else, the program is freed (after an RCU grace period).
    let deadline = Instant::now() + Duration::from_secs(5);
    while libbpf_rs::query::ProgInfoIter::default().any(|info| info.id == id) {
        if Instant::now() > deadline {
            bail!("program {id} is still loaded after `xdp off`");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    println!("# program {id} is detached and gone");
    Ok(())
}

/// Runs `ip ARGS` in the lab node's network namespace, in `dir`, printing the command and
/// its output.
fn ip(node: &Node, dir: &Path, args: &[&str]) -> anyhow::Result<String> {
    println!("$ ip {}", args.join(" "));
    let output = in_lab(node, dir, "ip")
        .args(args)
        .output()
        .context("running ip")?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    print!("{stdout}");
    if !output.status.success() {
        bail!(
            "`ip {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr)
                .trim()
                .replace('\n', " ")
        );
    }
    Ok(stdout)
}

/// `program` (`ip`, or a shell that runs it), to run in the lab node's network namespace, in
/// `dir`. iproute2 makes folders in the BPF file system when it loads an object
/// (`/sys/fs/bpf/tc/globals`), so it gets a file system of its own: a mount namespace with a
/// fresh bpffs, gone when the program exits.
pub fn in_lab(node: &Node, dir: &Path, program: &str) -> Command {
    let mut command = node.netns.command(program);
    command.current_dir(dir);
    // SAFETY: unshare(2) and mount(2) with constant strings, between fork and exec.
    unsafe {
        command.pre_exec(|| {
            let fail = || Err(std::io::Error::last_os_error());
            if libc::unshare(libc::CLONE_NEWNS) != 0 {
                return fail();
            }
            let (no_type, no_data) = (std::ptr::null(), std::ptr::null());
            let private = libc::MS_REC | libc::MS_PRIVATE;
            if libc::mount(c"none".as_ptr(), c"/".as_ptr(), no_type, private, no_data) != 0
                || libc::mount(
                    c"bpf".as_ptr(),
                    c"/sys/fs/bpf".as_ptr(),
                    c"bpf".as_ptr(),
                    0,
                    no_data,
                ) != 0
            {
                return fail();
            }
            Ok(())
        });
    }
    command
}

/// The id in `prog/xdp id 540 tag … jited`, as `ip link show` reports an attached program.
pub fn xdp_program(shown: &str) -> Option<u32> {
    let after = shown.split("prog/xdp id ").nth(1)?;
    after.split_whitespace().next()?.parse().ok()
}
