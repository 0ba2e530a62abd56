//! Choosing where a program attaches. An example declares the book's hook and its stand-ins
//! (`needs::Example`); where this kernel lacks the book's hook (no kprobes, say), the same
//! eBPF function is retyped before it loads, so that one program serves every hook.

use anyhow::{Context, Result, bail};
use libbpf_rs::{Link, OpenProgramMut, ProgramMut, ProgramType, TracepointCategory};

use crate::needs::{Capability, Example, Hook, HookKind};

/// Why this kernel cannot offer `hook`, or `None` when it can.
fn missing(hook: Hook) -> Option<String> {
    match hook {
        // libbpf finds a tracepoint's id in tracefs.
        Hook::Tracepoint(..) => super::kernel::missing(Capability::Tracefs),
        _ => super::kernel::missing(hook.capability()),
    }
}

fn program_type(hook: Hook) -> ProgramType {
    match hook {
        Hook::Ksyscall(_) => ProgramType::Kprobe,
        Hook::Tracepoint(..) => ProgramType::Tracepoint,
        Hook::RawTracepoint(_) => ProgramType::RawTracepoint,
        Hook::Xdp => ProgramType::Xdp,
        Hook::Tc => ProgramType::SchedCls,
        Hook::SocketFilter => ProgramType::SocketFilter,
        Hook::Uprobe(_) => ProgramType::Kprobe,
        Hook::UserSpace => ProgramType::Unspec,
    }
}

/// Picks the hook for `program`: the one `--attach` asked for, else the book's where this
/// kernel has it, else the first stand-in it has (saying so in one line). Then makes the
/// opened program's type match, before it is loaded.
pub fn choose_hook(
    example: &Example,
    program: &mut OpenProgramMut,
    asked: Option<HookKind>,
) -> Result<Hook> {
    let offered: Vec<Hook> = std::iter::once(example.hook)
        .chain(example.fallbacks.iter().copied())
        .collect();
    let hook = match asked {
        Some(kind) => {
            let Some(hook) = offered.iter().copied().find(|h| h.kind() == kind) else {
                bail!(
                    "--attach {kind}: {} attaches to {}",
                    example.name,
                    kinds(&offered)
                );
            };
            if let Some(reason) = missing(hook) {
                let others: Vec<Hook> = offered.into_iter().filter(|h| *h != hook).collect();
                bail!(
                    "cannot attach to the {hook}: {reason}; try --attach {}",
                    kinds(&others)
                );
            }
            hook
        }
        None => {
            let mut reasons = Vec::new();
            let Some(hook) = offered.iter().copied().find(|&hook| match missing(hook) {
                Some(reason) => {
                    reasons.push(reason);
                    false
                }
                None => true,
            }) else {
                bail!("{}", reasons.join("; "));
            };
            if hook != example.hook {
                super::cli::say(&format!(
                    "{}: {}; using the {hook} instead",
                    super::cli::program_name(),
                    reasons[0]
                ));
            }
            hook
        }
    };
    if program.prog_type() != program_type(hook) {
        program.set_prog_type(program_type(hook));
    }
    Ok(hook)
}

fn kinds(hooks: &[Hook]) -> String {
    hooks
        .iter()
        .map(|h| h.kind().to_string())
        .collect::<Vec<_>>()
        .join(" or ")
}

/// Attaches a loaded program to `hook` with the libbpf-rs call for that kind of hook.
pub fn attach_to(hook: Hook, program: &ProgramMut) -> Result<Link> {
    match hook {
        Hook::Ksyscall(syscall) => program.attach_ksyscall(false, syscall),
        Hook::Tracepoint(category, name) => {
            program.attach_tracepoint(TracepointCategory::Custom(category.into()), name)
        }
        Hook::RawTracepoint(name) => program.attach_raw_tracepoint(name),
        // An XDP program attaches to an interface, which the hook does not name: the example
        // calls `attach_xdp(ifindex)` itself.
        Hook::Xdp => anyhow::bail!("an XDP program attaches with attach_xdp(ifindex)"),
        Hook::Tc => anyhow::bail!("a TC program attaches through a TcHook on an interface"),
        // Both name only half of the target: the socket, or the library file, is the example's.
        Hook::SocketFilter => {
            anyhow::bail!("a socket filter attaches with setsockopt(SO_ATTACH_BPF)")
        }
        Hook::Uprobe(_) => {
            anyhow::bail!("a uprobe attaches with attach_uprobe_with_opts(pid, library, …)")
        }
        Hook::UserSpace => anyhow::bail!("a user-space example attaches nothing"),
    }
    .with_context(|| format!("attaching to the {hook}"))
}
