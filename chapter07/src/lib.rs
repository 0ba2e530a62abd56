//! Chapter 7 of Learning eBPF: eBPF Program and Attachment Types. The example's description,
//! and the list of attach points that hello-attach, its tests and the exercises share.

pub mod ip_link;

use ebpf_support::needs::{Capability as C, Example, Hook, Mutant, Privilege};

/// hello-attach attaches one program per kind of hook. Its book hook is the first of them, the
/// kprobe on the execve syscall: where a kernel lacks it, the kernel lanes prove the example.
pub const HELLO_ATTACH: Example = Example {
    package: "chapter07",
    name: "hello-attach",
    privilege: Privilege::Tracing,
    needs: &[C::Btf, C::Tracefs],
    hook: Hook::Ksyscall("execve"),
    // What still shows execs where the kernel has no kprobes.
    fallbacks: &[
        Hook::Tracepoint("syscalls", "sys_enter_execve"),
        Hook::RawTracepoint("sched_process_exec"),
    ],
    mutants: &[
        Mutant {
            name: "tracepoint-reads-kernel-memory",
            file: "hello.bpf.c",
            from: "bpf_probe_read_user_str(&data.path, sizeof(data.path), (void *)ctx->filename_ptr);",
            to: "bpf_probe_read_kernel_str(&data.path, sizeof(data.path), (void *)ctx->filename_ptr);",
        },
        Mutant {
            name: "raw-tracepoint-first-argument",
            file: "hello.bpf.c",
            from: "(struct linux_binprm *)ctx->args[2];",
            to: "(struct linux_binprm *)ctx->args[0];",
        },
        Mutant {
            name: "tp-btf-labelled-raw",
            file: "hello.bpf.c",
            from: "start(&data, SOURCE_TP_BTF);",
            to: "start(&data, SOURCE_RAW_TP);",
        },
        Mutant {
            name: "libc-uprobe-reads-kernel-memory",
            file: "hello.bpf.c",
            from: "start(&data, SOURCE_UPROBE_LIBC);\n\tbpf_probe_read_user_str(",
            to: "start(&data, SOURCE_UPROBE_LIBC);\n\tbpf_probe_read_kernel_str(",
        },
        Mutant {
            name: "uretprobe-labelled-uprobe",
            file: "hello.bpf.c",
            from: "start(&data, SOURCE_URETPROBE);",
            to: "start(&data, SOURCE_UPROBE);",
        },
    ],
};

/// This chapter's examples (the doctor and the compatibility table read them).
pub const EXAMPLES: &[Example] = &[HELLO_ATTACH];

/// What a hook shows of the function it is on: the arguments, the return value, or both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sees {
    Arguments,
    ReturnValue,
    Both,
}

/// One program of hello.bpf.c and where it attaches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AttachPoint {
    /// The name hello-attach prints its events under: `tp`, `fexit`, …
    pub name: &'static str,
    /// The program's function in hello.bpf.c.
    pub program: &'static str,
    /// Its section, as in the source (uprobes get their target from user space).
    pub section: &'static str,
    /// The function or event it sees, as its events name it.
    pub function: &'static str,
    /// Whether it runs before the exec has replaced the program (the command is still the
    /// caller's) or after (it is the new program's).
    pub after_exec: bool,
    pub sees: Sees,
    /// What the kernel must offer: the doctor probes the same capability on its own.
    pub capability: C,
}

const fn point(
    name: &'static str,
    program: &'static str,
    section: &'static str,
    function: &'static str,
    after_exec: bool,
    sees: Sees,
    capability: C,
) -> AttachPoint {
    AttachPoint {
        name,
        program,
        section,
        function,
        after_exec,
        sees,
        capability,
    }
}

/// The programs of hello.bpf.c, in the order of its `enum source` (hello.h), which is how an
/// event names the program that sent it.
pub const ATTACH_POINTS: [AttachPoint; 11] = [
    point(
        "ksyscall",
        "kprobe_sys_execve",
        "ksyscall/execve",
        "execve",
        false,
        Sees::Arguments,
        C::Ksyscall,
    ),
    point(
        "kprobe",
        "kprobe_bprm_execve",
        "kprobe/bprm_execve",
        "bprm_execve",
        false,
        Sees::Arguments,
        C::Kprobe,
    ),
    point(
        "kretprobe",
        "kretprobe_bprm_execve",
        "kretprobe/bprm_execve",
        "bprm_execve",
        true,
        Sees::ReturnValue,
        C::Kprobe,
    ),
    point(
        "fentry",
        "fentry_bprm_execve",
        "fentry/bprm_execve",
        "bprm_execve",
        false,
        Sees::Arguments,
        C::Fentry,
    ),
    point(
        "fexit",
        "fexit_bprm_execve",
        "fexit/bprm_execve",
        "bprm_execve",
        true,
        Sees::Both,
        C::Fexit,
    ),
    point(
        "tp",
        "tp_sys_enter_execve",
        "tp/syscalls/sys_enter_execve",
        "execve",
        false,
        Sees::Arguments,
        C::Tracepoint,
    ),
    point(
        "tp_btf",
        "tp_btf_exec",
        "tp_btf/sched_process_exec",
        "sched_process_exec",
        true,
        Sees::Arguments,
        C::BtfTracepoint,
    ),
    point(
        "raw_tp",
        "raw_tp_exec",
        "raw_tp/sched_process_exec",
        "sched_process_exec",
        true,
        Sees::Arguments,
        C::RawTracepoint,
    ),
    point(
        "uprobe",
        "uprobe_square",
        "uprobe",
        SQUARE,
        false,
        Sees::Arguments,
        C::Uprobe,
    ),
    point(
        "uretprobe",
        "uretprobe_square",
        "uretprobe",
        SQUARE,
        false,
        Sees::ReturnValue,
        C::Uprobe,
    ),
    point(
        "uprobe-libc",
        "uprobe_libc_execve",
        "uprobe",
        "execve",
        false,
        Sees::Arguments,
        C::Uprobe,
    ),
];

/// The function of hello-attach's own that its uprobes attach to.
pub const SQUARE: &str = "hello_attach_square";

/// The attach point called `name`.
pub fn attach_point(name: &str) -> Option<&'static AttachPoint> {
    ATTACH_POINTS.iter().find(|p| p.name == name)
}

/// One event as hello-attach prints it: `NAME: CALL in PID (COMMAND)`, where CALL shows what
/// the hook saw: `execve(/bin/true)`, `bprm_execve(?) = 0`, `hello_attach_square(3) = 9`.
pub fn event_line(
    point: &AttachPoint,
    pid: i32,
    command: &str,
    argument: &str,
    value: i64,
) -> String {
    let call = match point.sees {
        Sees::Arguments => format!("{}({argument})", point.function),
        Sees::ReturnValue => format!("{}(?) = {value}", point.function),
        Sees::Both => format!("{}({argument}) = {value}", point.function),
    };
    format!("{}: {call} in {pid} ({command})", point.name)
}

/// How many arguments the kernel function `name` takes, from the running kernel's BTF.
pub fn function_arguments(name: &str) -> Option<u16> {
    use libbpf_rs::libbpf_sys as sys;
    let name = std::ffi::CString::new(name).ok()?;
    // SAFETY: libbpf reads the kernel's BTF into an object this function frees; the types it
    // hands out point into that object and are read before it is freed.
    unsafe {
        let btf = sys::btf__load_vmlinux_btf();
        if btf.is_null() {
            return None;
        }
        let id = sys::btf__find_by_name_kind(btf, name.as_ptr(), sys::BTF_KIND_FUNC);
        let arguments = (id > 0)
            .then(|| sys::btf__type_by_id(btf, id as u32))
            .filter(|function| !function.is_null())
            .map(|function| sys::btf__type_by_id(btf, (*function).__bindgen_anon_1.type_))
            .filter(|prototype| !prototype.is_null())
            // A type's vlen, its number of members or parameters, is the low 16 bits of info.
            .map(|prototype| ((*prototype).info & 0xffff) as u16);
        sys::btf__free(btf);
        arguments
    }
}
