//! Chapter 4 of Learning eBPF: the bpf() system call. Each example's description (where the
//! book attaches it, the stand-ins, what it needs), and the few user-space pieces that more
//! than one example, exercise or test uses.

use ebpf_support::needs::{Capability as C, Example, Hook, HookKind, Mutant, Privilege};

/// The book's kprobe on execve and, for a kernel without kprobes, the tracepoint that fires
/// at the same moment.
const EXECVE: Hook = Hook::Ksyscall("execve");
const EXECVE_TRACEPOINT: &[Hook] = &[Hook::Tracepoint("syscalls", "sys_enter_execve")];

pub const HELLO_BUFFER_CONFIG: Example = Example {
    package: "chapter04",
    name: "hello-buffer-config",
    privilege: Privilege::Tracing,
    needs: &[C::Btf],
    hook: EXECVE,
    fallbacks: EXECVE_TRACEPOINT,
    mutants: &[Mutant {
        name: "lookup-by-pid",
        file: "hello-buffer-config.bpf.c",
        from: "p = bpf_map_lookup_elem(&config, &data.uid);",
        to: "p = bpf_map_lookup_elem(&config, &data.pid);",
    }],
};

pub const HELLO_RING_BUFFER_CONFIG: Example = Example {
    package: "chapter04",
    name: "hello-ring-buffer-config",
    privilege: Privilege::Tracing,
    needs: &[C::Btf, C::RingBuffer],
    hook: EXECVE,
    fallbacks: EXECVE_TRACEPOINT,
    mutants: &[Mutant {
        name: "default-message-always",
        file: "hello-ring-buffer-config.bpf.c",
        from: "sizeof(data.message), p->message);",
        to: "sizeof(data.message), \"Hello World\");",
    }],
};

pub const BPF_WATCH: Example = Example {
    package: "chapter04",
    name: "bpf-watch",
    privilege: Privilege::Tracing,
    needs: &[C::Btf, C::Tracefs, C::RingBuffer],
    // The entry of bpf(); a second program of the same kind takes its exit
    // (syscalls/sys_exit_bpf). Syscall tracepoints need no kprobes.
    hook: Hook::Tracepoint("syscalls", "sys_enter_bpf"),
    fallbacks: &[],
    mutants: &[Mutant {
        name: "value-size-for-key-size",
        file: "bpf-watch.bpf.c",
        from: "bpf_probe_read_user(&call.key_size, sizeof(u32), &attr->key_size);",
        to: "bpf_probe_read_user(&call.key_size, sizeof(u32), &attr->value_size);",
    }],
};

pub const PIN_DEMO: Example = Example {
    package: "chapter04",
    name: "pin-demo",
    privilege: Privilege::Tracing,
    needs: &[C::Btf, C::Tracefs, C::Bpffs, C::PerfEventLink],
    hook: Hook::Tracepoint("syscalls", "sys_enter_execve"),
    fallbacks: &[],
    mutants: &[Mutant {
        name: "no-count",
        file: "pin-demo.bpf.c",
        from: "__sync_fetch_and_add(&execs, 1);",
        to: "",
    }],
};

/// This chapter's examples (the doctor and the compatibility table read them).
pub const EXAMPLES: &[Example] = &[
    HELLO_BUFFER_CONFIG,
    HELLO_RING_BUFFER_CONFIG,
    BPF_WATCH,
    PIN_DEMO,
];

/// `--attach`'s values for the execve examples: the two hooks they offer.
fn execve_hook(value: &str) -> Result<HookKind, String> {
    match value {
        "kprobe" => Ok(HookKind::Kprobe),
        "tracepoint" => Ok(HookKind::Tracepoint),
        _ => Err("the execve examples attach to `kprobe` or `tracepoint`".into()),
    }
}

/// The options of every example that hooks execve: `--attach`, `--trigger`, `--count`,
/// `--timeout`, `--verbose`.
#[derive(Clone, Debug, clap::Args)]
pub struct ExecveArgs {
    /// Force a hook: `kprobe` (the book's) or `tracepoint` (its stand-in where a kernel has no
    /// kprobes). By default the book's, where this kernel has it.
    #[arg(long, value_name = "HOOK", value_parser = execve_hook)]
    pub attach: Option<HookKind>,
    #[command(flatten)]
    pub trigger: ebpf_support::ExecTrigger,
    #[command(flatten)]
    pub run: ebpf_support::RunArgs,
}

/// The size of `user_msg_t.message`: a message may fill it, with no terminating NUL.
pub const MESSAGE_LEN: usize = 12;

/// `--message UID=TEXT`: one entry of the config map.
pub fn uid_message(value: &str) -> Result<(u32, String), String> {
    let (uid, text) = value
        .split_once('=')
        .ok_or("expected UID=TEXT, e.g. 0=Hey root!")?;
    let uid = uid
        .parse()
        .map_err(|_| format!("{uid:?} is not a user ID"))?;
    if text.is_empty() || text.len() > MESSAGE_LEN {
        return Err(format!(
            "the message must be 1 to {MESSAGE_LEN} bytes (user_msg_t.message), got {}",
            text.len()
        ));
    }
    Ok((uid, text.to_string()))
}

/// The config map's entries: the book's (`Hey root!` for UID 0, `Hi user N!` for the user who
/// ran sudo), then `--message` entries, which win.
pub fn config_entries(extra: &[(u32, String)]) -> Vec<(u32, String)> {
    let mut entries = vec![(0, "Hey root!".to_string())];
    if let Some(uid) = std::env::var("SUDO_UID")
        .ok()
        .and_then(|uid| uid.parse::<u32>().ok())
        .filter(|&uid| uid != 0)
    {
        let mut text = format!("Hi user {uid}!");
        text.truncate(MESSAGE_LEN);
        entries.push((uid, text));
    }
    for (uid, text) in extra {
        entries.retain(|(u, _)| u != uid);
        entries.push((*uid, text.clone()));
    }
    entries
}

/// The options of both config examples.
#[derive(Clone, Debug, clap::Args)]
pub struct ConfigArgs {
    /// Add an entry to the config map: processes of user UID get TEXT (at most 12 bytes)
    /// instead of "Hello World". Repeatable. UID 0 gets "Hey root!" and the user who ran
    /// sudo "Hi user N!" unless given here.
    #[arg(long = "message", value_name = "UID=TEXT", value_parser = uid_message)]
    pub messages: Vec<(u32, String)>,
    #[command(flatten)]
    pub execve: ExecveArgs,
}

pub mod bpf_commands;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_parsed_and_bounded() {
        assert_eq!(
            uid_message("501=Hi user 501!"),
            Ok((501, "Hi user 501!".into()))
        );
        assert!(uid_message("501=Hi user 5011!").is_err());
        assert!(uid_message("bob=hi").is_err());
        assert!(uid_message("7").is_err());
        let entries = config_entries(&[(0, "Hi boss".into())]);
        assert_eq!(entries.last(), Some(&(0, "Hi boss".into())));
        assert_eq!(entries.iter().filter(|(uid, _)| *uid == 0).count(), 1);
    }
}
