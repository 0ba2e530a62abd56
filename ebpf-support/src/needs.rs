//! The description of each example, declared once next to it (each chapter's `EXAMPLES`) and
//! read by everything else: the example's own choice of hook and privilege check, its tests'
//! preconditions, the doctor's verdicts, the compatibility table, the mutants that prove its
//! tests, and the kernel lanes.
//!
//! Every example binary prints its description with the hidden flag `--describe`; that is how
//! the doctor and xtask find the examples of any chapter without naming them.

/// A kernel capability the book's examples rely on. The doctor probes each one for real.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Capability {
    Btf,
    Jit,
    Tracefs,
    Bpffs,
    Tracepoint,
    RawTracepoint,
    BtfTracepoint,
    Uprobe,
    Kprobe,
    Ksyscall,
    Fentry,
    Fexit,
    Lsm,
    BpfLsmActive,
    RingBuffer,
    BpfLoop,
    TaskPtRegs,
    PerfEventLink,
    TailCallsWithSubprograms,
    XdpOnVeth,
    TcOnVeth,
    SocketFilter,
    CapBpf,
    CapPerfmon,
    CapNetAdmin,
    UnprivilegedBpf,
}

impl Capability {
    pub const ALL: [Capability; 26] = [
        Capability::Btf,
        Capability::Jit,
        Capability::Tracefs,
        Capability::Bpffs,
        Capability::Tracepoint,
        Capability::RawTracepoint,
        Capability::BtfTracepoint,
        Capability::Uprobe,
        Capability::Kprobe,
        Capability::Ksyscall,
        Capability::Fentry,
        Capability::Fexit,
        Capability::Lsm,
        Capability::BpfLsmActive,
        Capability::RingBuffer,
        Capability::BpfLoop,
        Capability::TaskPtRegs,
        Capability::PerfEventLink,
        Capability::TailCallsWithSubprograms,
        Capability::XdpOnVeth,
        Capability::TcOnVeth,
        Capability::SocketFilter,
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
            Capability::BtfTracepoint => "BTF tracepoint",
            Capability::Uprobe => "uprobe",
            Capability::Kprobe => "kprobe",
            Capability::Ksyscall => "ksyscall kprobe",
            Capability::Fentry => "fentry",
            Capability::Fexit => "fexit",
            Capability::Lsm => "LSM programs",
            Capability::BpfLsmActive => "bpf in the LSM list",
            Capability::RingBuffer => "ring buffer",
            Capability::BpfLoop => "bpf_loop",
            Capability::TaskPtRegs => "bpf_task_pt_regs",
            Capability::PerfEventLink => "perf-event links",
            Capability::TailCallsWithSubprograms => "tail calls + BPF-to-BPF calls",
            Capability::XdpOnVeth => "XDP on veth",
            Capability::TcOnVeth => "TC on veth",
            Capability::SocketFilter => "socket filter",
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
            Capability::BtfTracepoint => {
                "tp_btf programs: tracepoints with typed arguments (chapter 7)"
            }
            Capability::Uprobe => "uprobes on user-space functions (chapters 7, 8)",
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
            Capability::TaskPtRegs => {
                "a tracing program reads any task's registers (chapter 5's CO-RE example, 5.15+)"
            }
            Capability::PerfEventLink => {
                "kprobes and tracepoints attach as BPF links that can be pinned (chapter 4, 5.15+)"
            }
            Capability::TailCallsWithSubprograms => {
                "mixing tail calls and function calls (chapter 2, 5.10+)"
            }
            Capability::XdpOnVeth => "XDP examples in a private network lab (chapter 8)",
            Capability::TcOnVeth => "TC examples on clsact in a private network lab (chapter 8)",
            Capability::SocketFilter => {
                "socket filters on a socket of the example's own (chapter 8)"
            }
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
    /// XDP on a network interface: which one is the example's choice (a lab's, or `--iface`).
    Xdp,
    /// A TC program on the clsact qdisc of a network interface (ingress or egress): which
    /// interface is the example's choice (a lab's, or `--iface`).
    Tc,
    /// A socket filter on a socket the example opens (a raw packet socket in a lab).
    SocketFilter,
    /// A uprobe (and uretprobe) on a library's function, e.g. libssl's `SSL_write`: which copy
    /// of the library is the example's choice.
    Uprobe(&'static str),
    /// None: the example loads no program and only talks to the kernel through bpf() (a pinned
    /// map, BTF by id), so all it needs from the kernel is BTF.
    UserSpace,
}

/// `--attach KIND`: the kinds of hook a reader can ask for by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "runtime", derive(clap::ValueEnum))]
pub enum HookKind {
    Kprobe,
    Tracepoint,
    RawTracepoint,
    Xdp,
    Tc,
    SocketFilter,
    Uprobe,
    UserSpace,
}

impl Hook {
    /// The capability a kernel needs to offer this hook.
    pub fn capability(self) -> Capability {
        match self {
            Hook::Ksyscall(_) => Capability::Ksyscall,
            Hook::Tracepoint(..) => Capability::Tracepoint,
            Hook::RawTracepoint(_) => Capability::RawTracepoint,
            Hook::Xdp => Capability::XdpOnVeth,
            // clsact and direct-action BPF filters are in every kernel with BTF (4.5+): beyond
            // that the example needs only the BTF that its CO-RE object relies on.
            Hook::Tc => Capability::TcOnVeth,
            // Socket filters are as old as eBPF (3.19): beyond that the example needs only the
            // BTF that its CO-RE object relies on.
            Hook::SocketFilter => Capability::SocketFilter,
            Hook::Uprobe(_) => Capability::Uprobe,
            Hook::UserSpace => Capability::Btf,
        }
    }

    pub fn kind(self) -> HookKind {
        match self {
            Hook::Ksyscall(_) => HookKind::Kprobe,
            Hook::Tracepoint(..) => HookKind::Tracepoint,
            Hook::RawTracepoint(_) => HookKind::RawTracepoint,
            Hook::Xdp => HookKind::Xdp,
            Hook::Tc => HookKind::Tc,
            Hook::SocketFilter => HookKind::SocketFilter,
            Hook::Uprobe(_) => HookKind::Uprobe,
            Hook::UserSpace => HookKind::UserSpace,
        }
    }
}

impl std::fmt::Display for Hook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Hook::Ksyscall(syscall) => write!(f, "kprobe on the {syscall} syscall"),
            Hook::Tracepoint(category, name) => write!(f, "tracepoint {category}/{name}"),
            Hook::RawTracepoint(name) => write!(f, "raw tracepoint {name}"),
            Hook::Xdp => f.write_str("XDP"),
            Hook::Tc => f.write_str("TC (clsact)"),
            Hook::SocketFilter => f.write_str("socket filter"),
            Hook::Uprobe(function) => write!(f, "uprobe on {function}"),
            Hook::UserSpace => f.write_str("no hook (user space only)"),
        }
    }
}

impl std::fmt::Display for HookKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            HookKind::Kprobe => "kprobe",
            HookKind::Tracepoint => "tracepoint",
            HookKind::RawTracepoint => "raw-tracepoint",
            HookKind::Xdp => "xdp",
            HookKind::Tc => "tc",
            HookKind::SocketFilter => "socket-filter",
            HookKind::Uprobe => "uprobe",
            HookKind::UserSpace => "user-space",
        })
    }
}

/// What kind of program an example loads: the kernel asks for different capabilities
/// (Learning eBPF, chapter 2, “Running Hello World”).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Privilege {
    /// kprobes, tracepoints, perf events: CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN).
    Tracing,
    /// XDP, TC, sockets: CAP_BPF and CAP_NET_ADMIN (or CAP_SYS_ADMIN).
    Networking,
}

/// A plausible wrong version of an example's eBPF program: `from` replaced by `to` (once) in
/// `src/bpf/FILE`. `cargo xtask mutants` compiles it and requires the example's tests to fail on
/// it (see `mutant`); a mutant that passes them shows a test that cannot fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mutant {
    pub name: &'static str,
    pub file: &'static str,
    pub from: &'static str,
    pub to: &'static str,
}

/// `text` with `from` replaced by `to`. The text to replace must occur exactly once, so that a
/// mutant cannot silently stop applying.
pub fn replace_once(text: &str, from: &str, to: &str) -> Result<String, String> {
    match text.matches(from).count() {
        1 => Ok(text.replacen(from, to, 1)),
        found => Err(format!("`{from}` occurs {found} times, not once")),
    }
}

/// One example of the book, as its chapter declares it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Example {
    pub package: &'static str,
    /// The binary's name; its tests live in modules named after it (`hello_map::…`).
    pub name: &'static str,
    pub privilege: Privilege,
    /// What it cannot run without.
    pub needs: &'static [Capability],
    /// Where the book attaches it.
    pub hook: Hook,
    /// The nearest stand-ins, in order, where the kernel lacks `hook`. The same eBPF function
    /// serves each: the loader changes the program's type before it loads.
    pub fallbacks: &'static [Hook],
    pub mutants: &'static [Mutant],
}

impl Example {
    /// The libtest filter that selects this example's tests: `hello_map::`.
    pub fn test_prefix(&self) -> String {
        format!("{}::", self.name.replace('-', "_"))
    }

    /// Where the kernel lanes must prove it: wherever its book hook is one that `host` lacks.
    /// Elsewhere the host's run proves it, and the lanes run a smoke test.
    pub fn needs_lanes(&self, host_has: impl Fn(Capability) -> bool) -> bool {
        !host_has(self.hook.capability())
    }

    /// The description as `--describe` prints it: one tab-separated record per line.
    pub fn describe(&self) -> String {
        let mut lines = vec![format!(
            "example\t{}\t{}\t{}",
            self.package,
            self.name,
            match self.privilege {
                Privilege::Tracing => "tracing",
                Privilege::Networking => "networking",
            }
        )];
        let needs: Vec<String> = self.needs.iter().map(|c| format!("{c:?}")).collect();
        lines.push(format!("needs\t{}", needs.join("\t")));
        for (record, hook) in std::iter::once(("hook", &self.hook))
            .chain(self.fallbacks.iter().map(|h| ("fallback", h)))
        {
            lines.push(match hook {
                Hook::Ksyscall(name) => format!("{record}\tksyscall\t{name}"),
                Hook::Tracepoint(category, name) => {
                    format!("{record}\ttracepoint\t{category}\t{name}")
                }
                Hook::RawTracepoint(name) => format!("{record}\traw_tp\t{name}"),
                Hook::Xdp => format!("{record}\txdp"),
                Hook::Tc => format!("{record}\ttc"),
                Hook::SocketFilter => format!("{record}\tsocket_filter"),
                Hook::Uprobe(function) => format!("{record}\tuprobe\t{function}"),
                Hook::UserSpace => format!("{record}\tuser_space"),
            });
        }
        for mutant in self.mutants {
            let escape = |text: &str| {
                text.replace('\\', "\\\\")
                    .replace('\t', "\\t")
                    .replace('\n', "\\n")
            };
            lines.push(format!(
                "mutant\t{}\t{}\t{}\t{}",
                mutant.name,
                mutant.file,
                escape(mutant.from),
                escape(mutant.to)
            ));
        }
        lines.join("\n") + "\n"
    }

    /// Reads what `describe` printed. The strings are leaked: a description is read once and
    /// lives as long as the program that asked for it.
    pub fn parse(text: &str) -> Option<Example> {
        fn leak(text: &str) -> &'static str {
            Box::leak(text.to_string().into_boxed_str())
        }
        fn unescape(text: &str) -> &'static str {
            let mut out = String::new();
            let mut chars = text.chars();
            while let Some(c) = chars.next() {
                match (c, c == '\\') {
                    (_, true) => match chars.next() {
                        Some('t') => out.push('\t'),
                        Some('n') => out.push('\n'),
                        Some(other) => out.push(other),
                        None => {}
                    },
                    (c, false) => out.push(c),
                }
            }
            leak(&out)
        }
        let mut example: Option<Example> = None;
        let (mut needs, mut fallbacks, mut mutants) = (Vec::new(), Vec::new(), Vec::new());
        for line in text.lines() {
            let fields: Vec<&str> = line.split('\t').collect();
            let hook = || match fields[1..] {
                ["ksyscall", name] => Some(Hook::Ksyscall(leak(name))),
                ["tracepoint", category, name] => {
                    Some(Hook::Tracepoint(leak(category), leak(name)))
                }
                ["raw_tp", name] => Some(Hook::RawTracepoint(leak(name))),
                ["xdp"] => Some(Hook::Xdp),
                ["tc"] => Some(Hook::Tc),
                ["socket_filter"] => Some(Hook::SocketFilter),
                ["uprobe", function] => Some(Hook::Uprobe(leak(function))),
                ["user_space"] => Some(Hook::UserSpace),
                _ => None,
            };
            match fields[0] {
                "example" => {
                    let [_, package, name, privilege] = fields[..] else {
                        return None;
                    };
                    example = Some(Example {
                        package: leak(package),
                        name: leak(name),
                        privilege: match privilege {
                            "tracing" => Privilege::Tracing,
                            "networking" => Privilege::Networking,
                            _ => return None,
                        },
                        needs: &[],
                        hook: Hook::RawTracepoint(""),
                        fallbacks: &[],
                        mutants: &[],
                    });
                }
                "needs" => {
                    for name in fields[1..].iter().filter(|n| !n.is_empty()) {
                        needs.push(
                            Capability::ALL
                                .into_iter()
                                .find(|c| format!("{c:?}") == *name)?,
                        );
                    }
                }
                "hook" => example.as_mut()?.hook = hook()?,
                "fallback" => fallbacks.push(hook()?),
                "mutant" => {
                    let [_, name, file, from, to] = fields[..] else {
                        return None;
                    };
                    mutants.push(Mutant {
                        name: leak(name),
                        file: leak(file),
                        from: unescape(from),
                        to: unescape(to),
                    });
                }
                _ => return None,
            }
        }
        let mut example = example?;
        example.needs = Box::leak(needs.into_boxed_slice());
        example.fallbacks = Box::leak(fallbacks.into_boxed_slice());
        example.mutants = Box::leak(mutants.into_boxed_slice());
        Some(example)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_description_reads_back_as_it_was_written() {
        const EXAMPLE: Example = Example {
            package: "chapter02",
            name: "hello-map",
            privilege: Privilege::Tracing,
            needs: &[Capability::Btf, Capability::Tracefs],
            hook: Hook::Ksyscall("execve"),
            fallbacks: &[Hook::Tracepoint("syscalls", "sys_enter_execve")],
            mutants: &[Mutant {
                name: "gid-for-uid",
                file: "hello-map.bpf.c",
                from: "uid = x & 0xFFFFFFFF;\n\tif",
                to: "uid = x >> 32; // \\ too",
            }],
        };
        let text = EXAMPLE.describe();
        assert_eq!(Example::parse(&text), Some(EXAMPLE), "{text}");
        assert_eq!(EXAMPLE.test_prefix(), "hello_map::");
        assert_eq!(Example::parse("example\tonly three"), None);
        let xdp = Example {
            hook: Hook::Xdp,
            fallbacks: &[],
            ..EXAMPLE
        };
        assert_eq!(Example::parse(&xdp.describe()), Some(xdp));
        let user_space = Example {
            hook: Hook::UserSpace,
            fallbacks: &[],
            ..EXAMPLE
        };
        assert_eq!(Example::parse(&user_space.describe()), Some(user_space));
        for hook in [Hook::Tc, Hook::SocketFilter, Hook::Uprobe("SSL_write")] {
            let example = Example {
                hook,
                fallbacks: &[],
                ..EXAMPLE
            };
            assert_eq!(Example::parse(&example.describe()), Some(example));
        }
    }
}
