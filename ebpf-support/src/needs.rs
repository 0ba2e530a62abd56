//! What each example needs from the kernel, declared next to the example (each chapter's
//! `EXAMPLES`) and checked against the running kernel by the doctor.

/// A kernel capability the book's examples rely on. The doctor probes each one for real.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Capability {
    Btf,
    Jit,
    Tracefs,
    Bpffs,
    Tracepoint,
    RawTracepoint,
    Kprobe,
    Ksyscall,
    Fentry,
    Fexit,
    Lsm,
    BpfLsmActive,
    RingBuffer,
    BpfLoop,
    TailCallsWithSubprograms,
    XdpOnVeth,
    CapBpf,
    CapPerfmon,
    CapNetAdmin,
    UnprivilegedBpf,
}

impl Capability {
    pub const ALL: [Capability; 20] = [
        Capability::Btf,
        Capability::Jit,
        Capability::Tracefs,
        Capability::Bpffs,
        Capability::Tracepoint,
        Capability::RawTracepoint,
        Capability::Kprobe,
        Capability::Ksyscall,
        Capability::Fentry,
        Capability::Fexit,
        Capability::Lsm,
        Capability::BpfLsmActive,
        Capability::RingBuffer,
        Capability::BpfLoop,
        Capability::TailCallsWithSubprograms,
        Capability::XdpOnVeth,
        Capability::CapBpf,
        Capability::CapPerfmon,
        Capability::CapNetAdmin,
        Capability::UnprivilegedBpf,
    ];

    /// A short name, as in the doctor's report and the compatibility table.
    pub fn name(self) -> &'static str {
        match self {
            Capability::Btf => "BTF",
            Capability::Jit => "JIT",
            Capability::Tracefs => "tracefs",
            Capability::Bpffs => "bpffs",
            Capability::Tracepoint => "tracepoint",
            Capability::RawTracepoint => "raw tracepoint",
            Capability::Kprobe => "kprobe",
            Capability::Ksyscall => "ksyscall kprobe",
            Capability::Fentry => "fentry",
            Capability::Fexit => "fexit",
            Capability::Lsm => "LSM programs",
            Capability::BpfLsmActive => "bpf in the LSM list",
            Capability::RingBuffer => "ring buffer",
            Capability::BpfLoop => "bpf_loop",
            Capability::TailCallsWithSubprograms => "tail calls + BPF-to-BPF calls",
            Capability::XdpOnVeth => "XDP on veth",
            Capability::CapBpf => "CAP_BPF",
            Capability::CapPerfmon => "CAP_PERFMON",
            Capability::CapNetAdmin => "CAP_NET_ADMIN",
            Capability::UnprivilegedBpf => "unprivileged BPF",
        }
    }

    /// What it means for a reader of the book.
    pub fn meaning(self) -> &'static str {
        match self {
            Capability::Btf => "CO-RE programs (every example here) need it (chapter 5)",
            Capability::Jit => "programs run as native code (chapter 3)",
            Capability::Tracefs => "trace_pipe (bpf_printk output) and tracepoint attach",
            Capability::Bpffs => "pinning programs and maps (chapter 3)",
            Capability::Tracepoint => "the tracepoint stand-in for kprobes",
            Capability::RawTracepoint => "hello-tail's sys_enter hook (chapter 2)",
            Capability::Kprobe => "the book's kprobe examples (chapters 2, 7)",
            Capability::Ksyscall => "kprobes on syscalls, as chapter 2's hello attaches",
            Capability::Fentry => "fentry programs (chapter 7)",
            Capability::Fexit => "fexit programs (chapter 7)",
            Capability::Lsm => "BPF LSM programs (chapter 9)",
            Capability::BpfLsmActive => {
                "LSM programs run only if bpf is in the active LSM list (lsm=…,bpf)"
            }
            Capability::RingBuffer => "BPF ring buffers (chapter 2, 5.8+)",
            Capability::BpfLoop => "bpf_loop (chapter 6, 5.17+)",
            Capability::TailCallsWithSubprograms => {
                "mixing tail calls and function calls (chapter 2, 5.10+)"
            }
            Capability::XdpOnVeth => "XDP examples in a private network lab (chapter 8)",
            Capability::CapBpf => "loading programs (5.8+); root has it",
            Capability::CapPerfmon => "tracing programs (5.8+); root has it",
            Capability::CapNetAdmin => "networking programs; root has it",
            Capability::UnprivilegedBpf => {
                "users without privileges may load some programs (informational)"
            }
        }
    }
}

/// Where a program attaches: the book's hook for an example, or one of its stand-ins.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hook {
    /// A kprobe on a syscall's kernel function, found by libbpf's `ksyscall` (the name
    /// differs per architecture: `__x64_sys_execve`, `__arm64_sys_execve`).
    Ksyscall(&'static str),
    /// A tracepoint, by category and name: `syscalls/sys_enter_execve`.
    Tracepoint(&'static str, &'static str),
    /// A raw tracepoint: `sys_enter`.
    RawTracepoint(&'static str),
}

/// `--attach KIND`: the kinds of hook a reader can ask for by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "runtime", derive(clap::ValueEnum))]
pub enum HookKind {
    Kprobe,
    Tracepoint,
    RawTracepoint,
}

impl Hook {
    /// The capability a kernel needs to offer this hook.
    pub fn capability(self) -> Capability {
        match self {
            Hook::Ksyscall(_) => Capability::Ksyscall,
            Hook::Tracepoint(..) => Capability::Tracepoint,
            Hook::RawTracepoint(_) => Capability::RawTracepoint,
        }
    }

    pub fn kind(self) -> HookKind {
        match self {
            Hook::Ksyscall(_) => HookKind::Kprobe,
            Hook::Tracepoint(..) => HookKind::Tracepoint,
            Hook::RawTracepoint(_) => HookKind::RawTracepoint,
        }
    }
}

impl std::fmt::Display for Hook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Hook::Ksyscall(syscall) => write!(f, "kprobe on the {syscall} syscall"),
            Hook::Tracepoint(category, name) => write!(f, "tracepoint {category}/{name}"),
            Hook::RawTracepoint(name) => write!(f, "raw tracepoint {name}"),
        }
    }
}

impl std::fmt::Display for HookKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            HookKind::Kprobe => "kprobe",
            HookKind::Tracepoint => "tracepoint",
            HookKind::RawTracepoint => "raw-tracepoint",
        })
    }
}

/// One example of the book, as its chapter declares it: everything else (the example's own
/// choice of hook, the doctor, the compatibility table) reads this.
#[derive(Clone, Copy, Debug)]
pub struct Example {
    pub package: &'static str,
    pub name: &'static str,
    /// What it cannot run without.
    pub needs: &'static [Capability],
    /// Where the book attaches it.
    pub hook: Hook,
    /// The nearest stand-ins, in order, where the kernel lacks `hook`. The same eBPF function
    /// serves each: the loader changes the program's type before it loads.
    pub fallbacks: &'static [Hook],
}
