//! Chapter 5 of Learning eBPF: CO-RE, BTF, and libbpf. Each example's description (where the
//! book attaches it, the stand-ins, what it needs), and the few user-space pieces that more
//! than one example, exercise or test uses.

use ebpf_support::needs::{Capability as C, Example, Hook, HookKind, Mutant, Privilege};

pub const HELLO_BUFFER_CONFIG_CORE: Example = Example {
    package: "chapter05",
    name: "hello-buffer-config-core",
    privilege: Privilege::Tracing,
    needs: &[C::Btf, C::RingBuffer, C::TaskPtRegs],
    // The book's kprobe on execve and, for a kernel without kprobes, the tracepoint that
    // fires at the same moment.
    hook: Hook::Ksyscall("execve"),
    fallbacks: &[Hook::Tracepoint("syscalls", "sys_enter_execve")],
    mutants: &[
        Mutant {
            name: "kernel-read-of-the-path",
            file: "hello-buffer-config.bpf.c",
            from: "bpf_probe_read_user_str(&data->path",
            to: "bpf_probe_read_kernel_str(&data->path",
        },
        Mutant {
            name: "lookup-by-pid",
            file: "hello-buffer-config.bpf.c",
            from: "bpf_map_lookup_elem(&my_config, &uid);",
            to: "bpf_map_lookup_elem(&my_config, &data->pid);",
        },
    ],
};

/// find-map loads no program: it opens a pinned map and asks for its info. Its tests also
/// open a pin of hello-buffer-config's `my_config` and compare the kernel's facts with the
/// book's definition, so its mutant is a wrong size of that map.
pub const FIND_MAP: Example = Example {
    package: "chapter05",
    name: "find-map",
    privilege: Privilege::Tracing,
    needs: &[C::Btf],
    hook: Hook::UserSpace,
    fallbacks: &[],
    mutants: &[Mutant {
        name: "config-map-size",
        file: "hello-buffer-config.bpf.c",
        from: "__uint(max_entries, 10240);",
        to: "__uint(max_entries, 1024);",
    }],
};

/// btf-dump reads BTF by ID, and without a selector loads hello-buffer-config's program
/// (without attaching it) to dump its own map and program: so it needs the hook to load for.
/// Its tests check the types that the book shows, so its mutants change them.
pub const BTF_DUMP: Example = Example {
    package: "chapter05",
    name: "btf-dump",
    privilege: Privilege::Tracing,
    needs: &[C::Btf],
    hook: Hook::Ksyscall("execve"),
    fallbacks: &[Hook::Tracepoint("syscalls", "sys_enter_execve")],
    mutants: &[
        Mutant {
            name: "int-key",
            file: "hello-buffer-config.bpf.c",
            from: "__type(key, u32);",
            to: "__type(key, int);",
        },
        Mutant {
            name: "no-value-type",
            file: "hello-buffer-config.bpf.c",
            from: "__type(value, struct user_msg_t);",
            to: "__uint(value_size, sizeof(struct user_msg_t));",
        },
    ],
};

/// This chapter's examples (the doctor and the compatibility table read them).
pub const EXAMPLES: &[Example] = &[HELLO_BUFFER_CONFIG_CORE, FIND_MAP, BTF_DUMP];

/// `--attach`'s values for the execve example: the two hooks it offers.
fn execve_hook(value: &str) -> Result<HookKind, String> {
    match value {
        "kprobe" => Ok(HookKind::Kprobe),
        "tracepoint" => Ok(HookKind::Tracepoint),
        _ => Err("the execve examples attach to `kprobe` or `tracepoint`".into()),
    }
}

/// The size of `user_msg_t.message`: a message may fill it, with no terminating NUL.
pub const MESSAGE_LEN: usize = 12;

/// `--message UID=TEXT`: one entry of the config map.
fn uid_message(value: &str) -> Result<(u32, String), String> {
    let Some((uid, text)) = value.split_once('=') else {
        return Err("expected UID=TEXT, e.g. 0=Hey root!".into());
    };
    let uid = uid
        .parse()
        .map_err(|_| format!("{uid:?} is not a user ID"))?;
    if text.is_empty() || text.len() > MESSAGE_LEN {
        return Err(format!(
            "a message is 1 to {MESSAGE_LEN} bytes (user_msg_t.message), not {}",
            text.len()
        ));
    }
    Ok((uid, text.to_string()))
}

/// The options of hello-buffer-config-core.
#[derive(Clone, Debug, clap::Args)]
pub struct ConfigArgs {
    /// Processes of user UID get TEXT (at most 12 bytes) instead of "Hello World": an entry
    /// of the my_config map. Repeatable. Root gets "Hey root!" unless given here.
    #[arg(long = "message", value_name = "UID=TEXT", value_parser = uid_message)]
    pub messages: Vec<(u32, String)>,
    /// Force a hook: `kprobe` (the book's) or `tracepoint` (its stand-in where a kernel has no
    /// kprobes). By default the book's, where this kernel has it.
    #[arg(long, value_name = "HOOK", value_parser = execve_hook)]
    pub attach: Option<HookKind>,
    #[command(flatten)]
    pub trigger: ebpf_support::ExecTrigger,
    #[command(flatten)]
    pub run: ebpf_support::RunArgs,
}

impl ConfigArgs {
    /// The config map's entries: root's "Hey root!" (as in the book's chapter 4), then
    /// `--message`'s, which win.
    pub fn entries(&self) -> Vec<(u32, String)> {
        let mut entries = vec![(0, "Hey root!".to_string())];
        for (uid, text) in &self.messages {
            entries.retain(|(u, _)| u != uid);
            entries.push((*uid, text.clone()));
        }
        entries
    }
}

/// A message as the map stores it: `char message[12]`, padded with NULs.
pub fn message_bytes(text: &str) -> [u8; MESSAGE_LEN] {
    let mut bytes = [0; MESSAGE_LEN];
    bytes[..text.len()].copy_from_slice(text.as_bytes());
    bytes
}
