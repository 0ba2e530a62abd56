//! Booting a lane: the QEMU command line, the console streamed back with the exit status
//! marker, the timeout, and the interactive shell.

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use super::catalogue::{Arch, Lane};
use super::image::{EXIT_MARKER, initramfs};
use super::package::{KernelFiles, cache_dir, host_packages};

fn qemu_command(
    lane: &Lane,
    kernel: &KernelFiles,
    initrd: &Path,
    out: &Path,
    kernel_args: &str,
) -> Command {
    use std::os::unix::process::CommandExt;
    let (binary, console) = match lane.arch {
        Arch::X86_64 => ("qemu-system-x86_64", "ttyS0"),
        Arch::Aarch64 => ("qemu-system-aarch64", "ttyAMA0"),
    };
    let mut qemu = Command::new(binary);
    // QEMU must not outlive xtask, however xtask ends (Ctrl-C, SIGTERM from CI, a crash).
    // SAFETY: prctl is async-signal-safe.
    unsafe {
        qemu.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
    match lane.arch {
        // /dev/kvm here only boots guests built for it, so stock kernels run under TCG. With
        // one host thread per vCPU, 6.12 oopses on an int3 left by live code patching (static
        // keys flipped when tracing starts): one TCG thread for both vCPUs avoids the race.
        // (`Lane::host_threads` counts the threads these choices keep busy.)
        Arch::X86_64 => qemu.args(["-accel", "tcg,thread=single", "-cpu", "max"]),
        // pauth-impdef: pointer authentication with QEMU's cheap algorithm, about 4x faster.
        Arch::Aarch64 => qemu.args([
            "-M",
            "virt",
            "-accel",
            "tcg,thread=multi",
            "-cpu",
            "max,pauth-impdef=on",
        ]),
    };
    // -net none: no network card, so no option ROM to wait for.
    qemu.args([
        "-smp",
        "2",
        "-m",
        "1G",
        "-nographic",
        "-no-reboot",
        "-net",
        "none",
    ])
    .arg("-kernel")
    .arg(&kernel.image)
    .arg("-initrd")
    .arg(initrd)
    .args([
        "-append",
        &format!("console={console} panic=-1 quiet loglevel=3 {kernel_args}"),
    ])
    .args([
        "-virtfs",
        "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap",
    ])
    .arg("-virtfs")
    .arg(format!(
        "local,path={},mount_tag=laneout,security_model=none",
        out.display()
    ));
    qemu
}

impl Lane {
    /// How many host threads QEMU keeps busy for this lane: one for x86_64
    /// (`tcg,thread=single`), one per vCPU for arm64 (`tcg,thread=multi`, two vCPUs).
    pub fn host_threads(&self) -> usize {
        match self.arch {
            Arch::X86_64 => 1,
            Arch::Aarch64 => 2,
        }
    }
}

/// What a lane run printed and how its script ended.
pub struct LaneRun {
    pub status: i32,
    pub out_dir: PathBuf,
    /// The console's lines (as streamed, without the exit status marker).
    pub console: Vec<String>,
}

/// Boots `lane` and runs `script` (shell, in the host's root with a tmpfs overlay) as root,
/// streaming the console. Fails only when the lane itself could not run.
/// `kernel_args` go on the kernel's command line (`lsm=…,bpf`, say), after the lane's own.
pub fn run_script(
    lane: &Lane,
    script: &str,
    timeout: Duration,
    kernel_args: &str,
) -> Result<LaneRun> {
    host_packages(lane.arch)?;
    let kernel = lane.kernel()?;
    let work = cache_dir().join("runs").join(lane.name);
    let _ = fs::remove_dir_all(&work);
    let out = work.join("out");
    fs::create_dir_all(&out)?;
    fs::write(out.join("run.sh"), script)?;
    let initrd = work.join("initrd.cpio");
    initramfs(lane, &kernel, false, &initrd)?;

    eprintln!(
        "lane {}: booting {} ({})",
        lane.name, kernel.package, kernel.release
    );
    let started = Instant::now();
    let mut child = qemu_command(lane, &kernel, &initrd, &out, kernel_args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("starting qemu")?;
    let stdout = child.stdout.take().unwrap();
    let (lines_tx, lines_rx) = std::sync::mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut status = None;
    let mut console = Vec::new();
    let stdout_handle = std::io::stdout();
    loop {
        match lines_rx.recv_timeout(Duration::from_millis(500)) {
            Ok(line) => {
                let line = line.trim_end_matches('\r');
                if let Some(rest) = line.trim().strip_prefix(EXIT_MARKER) {
                    let (code, why) = rest.trim().split_once(' ').unwrap_or((rest.trim(), ""));
                    if !why.is_empty() {
                        eprintln!(
                            "lane {}: the guest could not run the script {why}",
                            lane.name
                        );
                    }
                    status = code.parse().ok();
                } else {
                    let _ = writeln!(stdout_handle.lock(), "[{}] {line}", lane.name);
                    console.push(line.to_string());
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
        }
        if started.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            bail!("lane {} timed out after {}s", lane.name, timeout.as_secs());
        }
    }
    let _ = reader.join();
    child.wait()?;
    eprintln!(
        "lane {}: finished in {:.0}s",
        lane.name,
        started.elapsed().as_secs_f64()
    );
    match status {
        Some(status) => Ok(LaneRun {
            status,
            out_dir: out,
            console,
        }),
        None => bail!(
            "lane {}: the guest stopped without reporting an exit status",
            lane.name
        ),
    }
}

/// Boots `lane` with an interactive shell in the host's root (the workspace is at the same
/// path as on the host). Leave with `exit` or Ctrl-A X.
pub fn shell(lane: &Lane, kernel_args: &str) -> Result<()> {
    host_packages(lane.arch)?;
    let kernel = lane.kernel()?;
    let work = cache_dir()
        .join("runs")
        .join(format!("{}-shell", lane.name));
    let _ = fs::remove_dir_all(&work);
    let out = work.join("out");
    fs::create_dir_all(&out)?;
    let initrd = work.join("initrd.cpio");
    initramfs(lane, &kernel, true, &initrd)?;
    eprintln!(
        "lane {}: booting {} ({}). The workspace is at {}; writes stay in the VM. Leave with `exit`.",
        lane.name,
        kernel.package,
        kernel.release,
        crate::workspace::root().display()
    );
    let status = qemu_command(lane, &kernel, &initrd, &out, kernel_args)
        .status()
        .context("starting qemu")?;
    if !status.success() {
        bail!("qemu exited with {status}");
    }
    Ok(())
}
