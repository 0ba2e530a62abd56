//! Chapter 6 of Learning eBPF: the eBPF verifier. hello-verifier's description, its variants
//! (each one of the book's mistakes), and what the binary, its tests and the catalogue share:
//! reading a verifier log, and a program's control-flow graph.

use ebpf_support::needs::{Capability as C, Example, Hook, Mutant, Privilege};

pub mod catalogue;
pub mod cfg;
pub mod loader;
pub mod variants;
pub mod verifier_log;

pub const HELLO_VERIFIER: Example = Example {
    package: "chapter06",
    name: "hello-verifier",
    privilege: Privilege::Tracing,
    needs: &[C::Btf],
    // kprobe_exec is the book's kprobe on execve; xdp_hello is loaded, not attached.
    hook: Hook::Ksyscall("execve"),
    fallbacks: &[Hook::Tracepoint("syscalls", "sys_enter_execve")],
    mutants: &[
        // The fix of a variant stops being a fix: the unbroken program no longer loads.
        Mutant {
            name: "stack-bound-off-by-one",
            file: "hello-verifier.bpf.c",
            from: "if (c < sizeof(data.message)) {",
            to: "if (c <= sizeof(data.message)) {",
        },
        // A variant stops being broken: the catalogue no longer matches.
        Mutant {
            name: "null-check-in-the-broken-variant",
            file: "hello-verifier.bpf.c",
            from: "\tchar a = p->message[0];\n\tbpf_printk(\"%d\", a);\n#else",
            to: "\tif (p) bpf_printk(\"%d\", p->message[0]);\n#else",
        },
        // The counter is no longer sent: events show 0.
        Mutant {
            name: "counter-not-sent",
            file: "hello-verifier.bpf.c",
            from: "data.counter = c;",
            to: "data.counter = 0;",
        },
    ],
};

/// This chapter's examples (the doctor and the compatibility table read them).
pub const EXAMPLES: &[Example] = &[HELLO_VERIFIER];

mod objects {
    include!(concat!(env!("OUT_DIR"), "/variant_objects.rs"));
}

/// The compiled program: the unbroken one, or the variant called `name`.
pub fn object(variant: Option<&str>) -> Option<&'static [u8]> {
    let package = env!("CARGO_PKG_NAME");
    match variant {
        None => Some(ebpf_support::mutant::object(
            package,
            "hello_verifier.bpf.o",
            include_bytes!(concat!(env!("OUT_DIR"), "/hello_verifier.bpf.o")),
        )),
        Some(name) => objects::OBJECTS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, bytes)| {
                ebpf_support::mutant::object(
                    package,
                    &format!("hello_verifier.{name}.bpf.o"),
                    bytes,
                )
            }),
    }
}
