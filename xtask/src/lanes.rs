//! Kernel lanes: boot stock Debian kernels under QEMU (pure emulation) and run the host-built
//! test binaries inside them, so that what this host's kernel lacks (kprobes, fentry, LSM) is
//! still proven on a real kernel.
//!
//! A lane boots the kernel from Debian's package (downloaded and unpacked, never installed)
//! with a small busybox initramfs that loads the 9p and overlay modules, mounts the host's root
//! read-only over 9p with a tmpfs overlay on top, and runs a script in that root. Output comes
//! back on the serial console; the script's exit status comes back as a marker line.

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::cpio::Archive;

/// The marker line that carries the guest script's exit status back to the host.
const EXIT_MARKER: &str = "lane-exit-status:";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arch {
    X86_64,
    Aarch64,
}

impl Arch {
    /// Rust's name, as in `CARGO_CFG_TARGET_ARCH` and target triples.
    pub fn rust_name(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::Aarch64 => "aarch64",
        }
    }

    /// Debian's name for the architecture.
    fn debian(self) -> &'static str {
        match self {
            Arch::X86_64 => "amd64",
            Arch::Aarch64 => "arm64",
        }
    }

    pub fn target_triple(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64-unknown-linux-gnu",
            Arch::Aarch64 => "aarch64-unknown-linux-gnu",
        }
    }

    pub fn is_host(self) -> bool {
        self.rust_name() == std::env::consts::ARCH
    }
}

/// Which Debian kernel a lane boots. The ABI number in the package name changes with every
/// security update, so it is looked up at run time.
#[derive(Clone, Copy, Debug)]
enum Kernel {
    /// What a meta-package (linux-image-amd64) currently depends on.
    Meta(&'static str),
    /// The newest package named `PREFIX<version>SUFFIX`.
    Newest {
        prefix: &'static str,
        suffix: &'static str,
    },
}

#[derive(Clone, Copy, Debug)]
pub struct Lane {
    pub name: &'static str,
    pub arch: Arch,
    kernel: Kernel,
}

pub const LANES: &[Lane] = &[
    Lane {
        name: "debian-6.1",
        arch: Arch::X86_64,
        kernel: Kernel::Meta("linux-image-amd64"),
    },
    Lane {
        name: "debian-6.12",
        arch: Arch::X86_64,
        kernel: Kernel::Newest {
            prefix: "linux-image-6.12.",
            suffix: "+deb12-amd64-unsigned",
        },
    },
    Lane {
        name: "debian-6.1-arm64",
        arch: Arch::Aarch64,
        kernel: Kernel::Meta("linux-image-arm64"),
    },
    Lane {
        name: "debian-6.12-arm64",
        arch: Arch::Aarch64,
        kernel: Kernel::Newest {
            prefix: "linux-image-6.12.",
            suffix: "+deb12-arm64-unsigned",
        },
    },
];

pub fn find(name: &str) -> Result<Lane> {
    LANES
        .iter()
        .copied()
        .find(|l| l.name == name)
        .with_context(|| {
            let names: Vec<&str> = LANES.iter().map(|l| l.name).collect();
            format!("no lane named {name}; the lanes are {}", names.join(", "))
        })
}

/// Modules the initramfs loads (with what they depend on), unless the kernel has them built in.
const BOOT_MODULES: &[&str] = &["9pnet_virtio", "9p", "virtio_pci", "overlay", "veth"];

/// An unpacked Debian kernel.
pub struct KernelFiles {
    pub package: String,
    pub release: String,
    pub image: PathBuf,
    root: PathBuf,
}

fn cache_dir() -> PathBuf {
    crate::root().join("target/lanes")
}

fn apt_output(args: &[&str]) -> Result<String> {
    let output = Command::new("apt-cache")
        .args(args)
        .output()
        .context("running apt-cache")?;
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

impl Lane {
    /// The kernel package this lane boots today.
    pub fn kernel_package(&self) -> Result<String> {
        let arch = self.arch.debian();
        let qualify = |name: &str| {
            if self.arch.is_host() {
                name.to_string()
            } else {
                format!("{name}:{arch}")
            }
        };
        match self.kernel {
            Kernel::Meta(meta) => {
                let text = apt_output(&["depends", &qualify(meta)])?;
                let image = text
                    .lines()
                    .filter_map(|l| l.trim().strip_prefix("Depends: "))
                    .map(|d| d.trim().trim_end_matches(&format!(":{arch}")).to_string())
                    .find(|d| d.starts_with("linux-image-"))
                    .with_context(|| {
                        format!("apt-cache knows no {meta}: is the package list current?")
                    })?;
                Ok(format!("{image}-unsigned"))
            }
            Kernel::Newest { prefix, suffix } => {
                let text = apt_output(&["pkgnames", prefix])?;
                let mut names: Vec<&str> = text
                    .lines()
                    .filter(|n| n.starts_with(prefix) && n.ends_with(suffix))
                    .collect();
                names.sort_by(|a, b| compare_versions(a, b));
                names.last().map(|n| n.to_string()).with_context(|| {
                    format!(
                        "no {prefix}*{suffix} package: is bookworm-security in the apt sources?"
                    )
                })
            }
        }
    }

    /// Downloads and unpacks the kernel package, once.
    pub fn kernel(&self) -> Result<KernelFiles> {
        let package = self.kernel_package()?;
        let dir = cache_dir().join("kernels").join(&package);
        let done = dir.join(".unpacked");
        if !done.exists() {
            eprintln!("lane {}: downloading {package}", self.name);
            unpack_package(&package, self.arch, &dir)?;
            fs::write(&done, "")?;
        }
        let modules = dir.join("lib/modules");
        let release = fs::read_dir(&modules)
            .with_context(|| format!("{} has no lib/modules", dir.display()))?
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .next()
            .context("no kernel release in lib/modules")?;
        // The lane's name promises a kernel version; the host's package lists decide what the
        // package names resolve to (Debian 12's lists give 6.1 and 6.12).
        let promised = self
            .name
            .trim_start_matches("debian-")
            .trim_end_matches("-arm64");
        if !release.starts_with(&format!("{promised}.")) {
            bail!(
                "lane {} needs a {promised} kernel, but this host's apt lists resolve to {release}: the lanes \
                 use Debian 12 (bookworm and bookworm-security) package lists",
                self.name
            );
        }
        let image = dir.join("boot").join(format!("vmlinuz-{release}"));
        Ok(KernelFiles {
            package,
            release,
            image,
            root: dir,
        })
    }
}

/// Orders Debian package names by the version inside them (6.12.9 before 6.12.107).
fn compare_versions(a: &str, b: &str) -> std::cmp::Ordering {
    let key = |s: &str| -> Vec<u64> {
        s.split(|c: char| !c.is_ascii_digit())
            .filter(|p| !p.is_empty())
            .filter_map(|p| p.parse().ok())
            .collect()
    };
    key(a).cmp(&key(b))
}

impl KernelFiles {
    fn modules_dir(&self) -> PathBuf {
        self.root.join("lib/modules").join(&self.release)
    }

    /// `name` → path of every module file, with `-` and `_` treated alike as modprobe does.
    fn module_index(&self) -> Result<std::collections::HashMap<String, PathBuf>> {
        let mut index = std::collections::HashMap::new();
        let mut stack = vec![self.modules_dir().join("kernel")];
        while let Some(dir) = stack.pop() {
            for entry in fs::read_dir(&dir)? {
                let path = entry?.path();
                if path.is_dir() {
                    stack.push(path);
                } else if let Some(name) = module_name(&path) {
                    index.insert(name, path);
                }
            }
        }
        Ok(index)
    }

    fn builtin(&self) -> Vec<String> {
        fs::read_to_string(self.modules_dir().join("modules.builtin"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| module_name(Path::new(l)))
            .collect()
    }

    /// The modules to load for `wanted`, dependencies first, as (name, uncompressed bytes).
    pub fn modules_for(&self, wanted: &[&str]) -> Result<Vec<(String, Vec<u8>)>> {
        let index = self.module_index()?;
        let builtin = self.builtin();
        let mut ordered: Vec<(String, Vec<u8>)> = Vec::new();
        fn visit(
            name: &str,
            index: &std::collections::HashMap<String, PathBuf>,
            builtin: &[String],
            ordered: &mut Vec<(String, Vec<u8>)>,
        ) -> Result<()> {
            let name = name.replace('-', "_");
            if builtin.contains(&name) || ordered.iter().any(|(n, _)| *n == name) {
                return Ok(());
            }
            let path = index
                .get(&name)
                .with_context(|| format!("module {name} is neither built in nor shipped"))?;
            let bytes = read_module(path)?;
            for dependency in module_depends(&bytes) {
                visit(&dependency, index, builtin, ordered)?;
            }
            ordered.push((name, bytes));
            Ok(())
        }
        for name in wanted {
            visit(name, &index, &builtin, &mut ordered)?;
        }
        Ok(ordered)
    }
}

/// `…/9pnet_virtio.ko.xz` → `9pnet_virtio`.
fn module_name(path: &Path) -> Option<String> {
    let file = path.file_name()?.to_str()?;
    let stem = file
        .strip_suffix(".ko")
        .or_else(|| file.strip_suffix(".ko.xz"))
        .or_else(|| file.strip_suffix(".ko.zst"))?;
    Some(stem.replace('-', "_"))
}

/// A module's bytes, decompressed: busybox's insmod takes plain ELF only.
fn read_module(path: &Path) -> Result<Vec<u8>> {
    let name = path.to_string_lossy();
    let tool = if name.ends_with(".xz") {
        Some("xz")
    } else if name.ends_with(".zst") {
        Some("zstd")
    } else {
        None
    };
    match tool {
        None => Ok(fs::read(path)?),
        Some(tool) => {
            let output = Command::new(tool)
                .arg("-dc")
                .arg(path)
                .output()
                .with_context(|| format!("running {tool}"))?;
            if !output.status.success() {
                bail!("{tool} -dc {name} failed");
            }
            Ok(output.stdout)
        }
    }
}

/// The `depends=` entry of a module's `.modinfo` section.
fn module_depends(bytes: &[u8]) -> Vec<String> {
    let needle = b"\0depends=";
    bytes
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|at| {
            let rest = &bytes[at + needle.len()..];
            let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
            String::from_utf8_lossy(&rest[..end])
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// A static busybox for the lane's architecture: the host's for x86_64, Debian's arm64
/// package (unpacked) for arm64.
fn busybox(arch: Arch) -> Result<PathBuf> {
    if arch.is_host() {
        return Ok(PathBuf::from("/bin/busybox"));
    }
    let dir = cache_dir().join(format!("busybox-{}", arch.debian()));
    let binary = dir.join("bin/busybox");
    if !binary.exists() {
        unpack_package("busybox-static", arch, &dir)?;
    }
    Ok(binary)
}

/// Downloads a Debian package for `arch` and unpacks it into `dir`, without installing it.
fn unpack_package(package: &str, arch: Arch, dir: &Path) -> Result<()> {
    // A fresh folder per download: no .deb left over from an interrupted run can be picked.
    let download = cache_dir().join("downloads").join(package);
    let _ = fs::remove_dir_all(&download);
    fs::create_dir_all(&download)?;
    let wanted = if arch.is_host() {
        package.to_string()
    } else {
        format!("{package}:{}", arch.debian())
    };
    // As root, apt's sandbox user could not write into the cache: download as root.
    let mut apt = Command::new("apt-get");
    apt.args(["download", "-q", "-o", "APT::Sandbox::User=root", &wanted])
        .current_dir(&download);
    crate::run_status(&mut apt)?;
    let deb = fs::read_dir(&download)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(&format!("{package}_")))
        })
        .with_context(|| format!("apt-get download left no {package}_*.deb"))?;
    let _ = fs::remove_dir_all(dir);
    fs::create_dir_all(dir)?;
    crate::run_status(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(dir))?;
    fs::remove_dir_all(&download)?;
    Ok(())
}

/// The guest's /init: load modules, build the overlay root, run the script in it, report its
/// exit status and power off.
fn init_script(arch: Arch, interactive: bool) -> String {
    let workspace = crate::root();
    let workspace = workspace.display();
    // An arm64 guest cannot run the host's x86_64 /usr/bin, so busybox stands in for it.
    let arm64_userland = if arch.is_host() {
        String::new()
    } else {
        "for dir in /root/usr/bin /root/usr/sbin; do\n\
             mount -t tmpfs tmpfs $dir\n\
             cp /bin/busybox $dir/busybox\n\
             for applet in $(/bin/busybox --list); do [ $applet = busybox ] || ln -sf busybox $dir/$applet; done\n\
         done\n"
            .to_string()
    };
    let run = if interactive {
        let shell = if arch.is_host() {
            "/bin/bash"
        } else {
            "/bin/sh"
        };
        // cttyhack makes the console the shell's controlling terminal, so Ctrl-C works.
        format!(
            "echo 'lane shell: {workspace} is the workspace; examples need no sudo here; `exit` powers off'\n\
             setsid cttyhack chroot /root /bin/sh -c 'cd {workspace} && HOME=/root exec {shell} -i'\n"
        )
    } else {
        "chroot /root /bin/sh /lane-out/run.sh\n".to_string()
    };
    format!(
        r#"#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for module in $(cat /modules/order); do
    insmod /modules/$module.ko || echo "lane: insmod $module failed"
done
fail() {{ echo "{EXIT_MARKER} 125 ($1)"; poweroff -f; }}
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144 hostroot /host || fail "mounting the host's root over 9p failed"
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 laneout /lane-out || fail "mounting the output folder failed"
mount -t tmpfs tmpfs /rw
mkdir -p /rw/upper /rw/work
mount -t overlay overlay -o lowerdir=/host,upperdir=/rw/upper,workdir=/rw/work /root || fail "the overlay root failed"
mount -t proc proc /root/proc
mount -t sysfs sysfs /root/sys
mount -t devtmpfs devtmpfs /root/dev
mkdir -p /root/dev/pts
mount -t devpts -o newinstance,ptmxmode=0666 devpts /root/dev/pts
ln -sf pts/ptmx /root/dev/ptmx
mount -t tracefs tracefs /root/sys/kernel/tracing
mount -t bpf bpf /root/sys/fs/bpf
mount -t securityfs securityfs /root/sys/kernel/security
mount -t tmpfs tmpfs /root/run
mkdir -p /root/lane-out
mount --bind /lane-out /root/lane-out
{arm64_userland}{run}echo "{EXIT_MARKER} $?"
sync
poweroff -f
"#
    )
}

/// Builds the initramfs for one boot.
fn initramfs(lane: &Lane, kernel: &KernelFiles, interactive: bool, path: &Path) -> Result<()> {
    let mut archive = Archive::default();
    for dir in [
        "bin", "proc", "sys", "dev", "host", "lane-out", "rw", "root", "modules",
    ] {
        archive.dir(dir);
    }
    archive.file(
        "init",
        0o755,
        init_script(lane.arch, interactive).as_bytes(),
    );
    archive.file("bin/busybox", 0o755, &fs::read(busybox(lane.arch)?)?);
    let modules = kernel.modules_for(BOOT_MODULES)?;
    let order: Vec<&str> = modules.iter().map(|(name, _)| name.as_str()).collect();
    archive.file("modules/order", 0o644, order.join("\n").as_bytes());
    for (name, bytes) in &modules {
        archive.file(&format!("modules/{name}.ko"), 0o644, bytes);
    }
    fs::write(path, archive.finish())?;
    Ok(())
}

fn qemu_command(lane: &Lane, kernel: &KernelFiles, initrd: &Path, out: &Path) -> Command {
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
        &format!("console={console} panic=-1 quiet loglevel=3"),
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

/// What a lane run printed and how its script ended.
pub struct LaneRun {
    pub status: i32,
    pub out_dir: PathBuf,
}

/// Boots `lane` and runs `script` (shell, in the host's root with a tmpfs overlay) as root,
/// streaming the console. Fails only when the lane itself could not run.
pub fn run_script(lane: &Lane, script: &str, timeout: Duration) -> Result<LaneRun> {
    crate::setup::lane_packages(lane.arch)?;
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
    let mut child = qemu_command(lane, &kernel, &initrd, &out)
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
        }),
        None => bail!(
            "lane {}: the guest stopped without reporting an exit status",
            lane.name
        ),
    }
}

/// Boots `lane` with an interactive shell in the host's root (the workspace is at the same
/// path as on the host). Leave with `exit` or Ctrl-A X.
pub fn shell(lane: &Lane) -> Result<()> {
    crate::setup::lane_packages(lane.arch)?;
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
        crate::root().display()
    );
    let status = qemu_command(lane, &kernel, &initrd, &out)
        .status()
        .context("starting qemu")?;
    if !status.success() {
        bail!("qemu exited with {status}");
    }
    Ok(())
}

/// The example packages (chapter02, chapter03, …), whose tests run in the lanes.
fn chapter_packages() -> Result<Vec<String>> {
    let mut names: Vec<String> = fs::read_dir(crate::root())?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("chapter") && crate::root().join(n).join("Cargo.toml").exists())
        .collect();
    names.sort();
    Ok(names)
}

/// Builds the chapters' test binaries for `arch` and returns (package dir, executable) pairs.
pub fn build_tests(arch: Arch) -> Result<TestBuild> {
    let mut cargo = crate::cargo();
    cargo.current_dir(crate::root()).args([
        "test",
        "--no-run",
        "--message-format=json-render-diagnostics",
    ]);
    for package in chapter_packages()? {
        cargo.args(["-p", &package]);
    }
    // The doctor (its tests, and its binary for the compatibility table) runs in the lanes too.
    cargo.args(["-p", "doctor"]);
    if !arch.is_host() {
        let triple = arch.target_triple();
        let env_triple = triple.replace('-', "_");
        cargo
            .args(["--target", triple])
            .env(
                format!("CARGO_TARGET_{}_LINKER", env_triple.to_uppercase()),
                "aarch64-linux-gnu-gcc",
            )
            .env(format!("CC_{env_triple}"), "aarch64-linux-gnu-gcc")
            .env("PKG_CONFIG_ALLOW_CROSS", "1")
            .env("PKG_CONFIG_PATH", "/usr/lib/aarch64-linux-gnu/pkgconfig");
    }
    let output = cargo
        .stderr(Stdio::inherit())
        .output()
        .context("building the tests")?;
    if !output.status.success() {
        bail!("building the tests for {} failed", arch.rust_name());
    }
    // Each compiler-artifact message of a test target names its executable and package.
    let mut tests = Vec::new();
    let mut doctor = None;
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        // A test executable is built with the test profile ("profile":{…"test":true}); the
        // target's own "test" flag only says whether `cargo test` would test it.
        let is_test = line
            .split_once("\"profile\":{")
            .and_then(|(_, profile)| profile.split('}').next())
            .is_some_and(|profile| profile.contains("\"test\":true"));
        if !is_test {
            let doctor_binary =
                line.contains("\"kind\":[\"bin\"],\"crate_types\":[\"bin\"],\"name\":\"doctor\"");
            if doctor_binary {
                doctor = json_string(line, "executable");
            }
            continue;
        }
        let (Some(executable), Some(manifest)) = (
            json_string(line, "executable"),
            json_string(line, "manifest_path"),
        ) else {
            continue;
        };
        let dir = Path::new(&manifest).parent().unwrap().to_path_buf();
        tests.push((dir, PathBuf::from(executable)));
    }
    if tests.is_empty() {
        bail!("cargo built no test binaries");
    }
    let doctor = doctor.context("cargo built no doctor binary")?;
    Ok(TestBuild {
        tests,
        doctor: PathBuf::from(doctor),
    })
}

/// The chapters' test binaries (with the folder each runs in) and the doctor.
pub struct TestBuild {
    pub tests: Vec<(PathBuf, PathBuf)>,
    pub doctor: PathBuf,
}

/// The string value of `"key":"…"` in one line of cargo's JSON (paths have no quotes).
fn json_string(line: &str, key: &str) -> Option<String> {
    let start = line.find(&format!("\"{key}\":\""))? + key.len() + 4;
    let end = line[start..].find('"')?;
    Some(line[start..start + end].replace("\\\\", "\\"))
}

/// The outcome of the chapters' tests in one lane.
pub struct LaneTests {
    pub passed: u64,
    pub failed: u64,
}

/// Runs every chapter's tests inside `lane`, as CI would on the host.
pub fn test(lane: &Lane) -> Result<LaneTests> {
    crate::setup::lane_packages(lane.arch)?;
    let build = build_tests(lane.arch)?;
    // insta finds snapshots through `cargo metadata`; there is no cargo in the guest.
    let mut script = format!(
        "export CI=true INSTA_UPDATE=no RUST_BACKTRACE=0 HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin\n\
         export INSTA_WORKSPACE_ROOT='{}'\n\
         echo \"lane kernel: $(uname -r) $(uname -m)\"\n\
         failed=0\n",
        crate::root().display()
    );
    script.push_str(&format!(
        "'{}' --results /lane-out/doctor.txt >/lane-out/doctor.log 2>&1\n",
        build.doctor.display()
    ));
    for (dir, executable) in &build.tests {
        script.push_str(&format!(
            "cd '{}' && '{}' --test-threads=2 >>/lane-out/tests.log 2>&1 || failed=1\n",
            dir.display(),
            executable.display()
        ));
    }
    script.push_str("cat /lane-out/tests.log\nexit $failed\n");
    crate::compat::forget(lane.name)?;
    let run = run_script(lane, &script, Duration::from_secs(20 * 60))?;
    let log = fs::read_to_string(run.out_dir.join("tests.log")).unwrap_or_default();
    let mut result = LaneTests {
        passed: 0,
        failed: 0,
    };
    for line in log.lines() {
        if let Some(rest) = line.strip_prefix("test result: ") {
            result.passed += crate::test::count_before(rest, " passed");
            result.failed += crate::test::count_before(rest, " failed");
        }
    }
    if run.status != 0 && result.failed == 0 {
        result.failed = 1;
    }
    fs::copy(
        run.out_dir.join("doctor.txt"),
        crate::compat::findings_file(lane.name),
    )
    .with_context(|| {
        let log = fs::read_to_string(run.out_dir.join("doctor.log")).unwrap_or_default();
        format!(
            "the doctor left no findings in the lane: {}",
            log.lines().last().unwrap_or("(no output)")
        )
    })?;
    crate::compat::record_tests(lane.name, result.failed == 0)?;
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_kernel_packages_by_version() {
        let mut names = [
            "linux-image-6.12.107+deb12-amd64-unsigned",
            "linux-image-6.12.9+deb12-amd64-unsigned",
        ];
        names.sort_by(|a, b| compare_versions(a, b));
        assert_eq!(names[1], "linux-image-6.12.107+deb12-amd64-unsigned");
    }

    #[test]
    fn reads_module_dependencies_from_modinfo() {
        let modinfo = b"\0license=GPL\0depends=9pnet,netfs\0intree=Y\0name=9p\0";
        assert_eq!(
            module_depends(modinfo),
            vec!["9pnet".to_string(), "netfs".to_string()]
        );
        assert!(module_depends(b"\0depends=\0name=virtio\0").is_empty());
        assert_eq!(
            module_name(Path::new("kernel/fs/9p/9p.ko.xz")).as_deref(),
            Some("9p")
        );
        assert_eq!(
            module_name(Path::new("kernel/net/9pnet-virtio.ko")).as_deref(),
            Some("9pnet_virtio")
        );
    }

    #[test]
    fn reads_strings_from_cargo_messages() {
        let line = r#"{"reason":"compiler-artifact","manifest_path":"/w/chapter02/Cargo.toml","executable":"/w/target/debug/deps/cli-1"}"#;
        assert_eq!(
            json_string(line, "executable").as_deref(),
            Some("/w/target/debug/deps/cli-1")
        );
        assert_eq!(
            json_string(line, "manifest_path").as_deref(),
            Some("/w/chapter02/Cargo.toml")
        );
        assert_eq!(json_string(line, "missing"), None);
    }
}
