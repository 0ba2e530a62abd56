//! The variants of hello-verifier.bpf.c: each is the same source compiled with
//! `-DBREAK_NAME`, which swaps one line for the mistake that the book makes there. This list is
//! the one place that names them: the build compiles one object per entry, `--list` prints
//! them, the catalogue test loads each, and CATALOGUE.md is generated from it.

/// One variant of the program.
pub struct Variant {
    /// `--break NAME`; the preprocessor symbol is `BREAK_NAME` in capitals.
    pub name: &'static str,
    /// The program that the variant changes.
    pub program: &'static str,
    /// Where the book makes this change.
    pub book: &'static str,
    /// What the variant changes, in words.
    pub change: &'static str,
    /// Whether the book expects the verifier to accept it.
    pub loads: bool,
    /// Why the verifier is right.
    pub why: &'static str,
}

// ANCHOR: variants
pub const VARIANTS: &[Variant] = &[
    Variant {
        name: "kprobe-as-xdp",
        program: "kprobe_exec",
        book: "Validating Helper Functions",
        change: "kprobe_exec's section is `xdp` instead of `ksyscall/execve`",
        loads: false,
        why: "Each program type has its own set of helpers. An XDP program runs when a packet \
              arrives, in whatever task happens to be running, so the book's kernel refuses \
              the helpers that read the current task there (bpf_get_current_pid_tgid is the \
              first). Newer kernels offer those helpers to every program type, and then this \
              variant loads (see the kernels above): xdp-helper-in-kprobe teaches the same \
              lesson on every kernel.",
    },
    Variant {
        name: "xdp-helper-in-kprobe",
        program: "kprobe_exec",
        book: "Validating Helper Functions",
        change: "kprobe_exec calls bpf_xdp_adjust_head",
        loads: false,
        why: "The same lesson the other way round, and refused by every kernel: \
              bpf_xdp_adjust_head moves the start of a packet, and a kprobe has no packet.",
    },
    Variant {
        name: "wrong-map-argument",
        program: "kprobe_exec",
        book: "Helper Function Arguments",
        change: "bpf_map_lookup_elem(&data, &uid): a stack address where a map belongs",
        loads: false,
        why: "bpf_map_lookup_elem's prototype says that its first argument is a map \
              (ARG_CONST_MAP_PTR). The verifier tracks the type of every register, and R1 holds \
              a pointer into the stack (fp), which the helper would read as a struct bpf_map.",
    },
    Variant {
        name: "missing-license",
        program: "kprobe_exec",
        book: "Checking the License",
        change: "no `license` section",
        loads: false,
        why: "Helpers marked gpl_only (bpf_probe_read_kernel, bpf_trace_printk) expose kernel \
              internals, and the kernel lets only GPL-compatible programs call them. Without a \
              license section the program declares none.",
    },
    Variant {
        name: "data-end-arithmetic",
        program: "xdp_hello",
        book: "Checking Memory Access",
        change: "data_end++ in xdp_hello",
        loads: false,
        why: "data_end is the bound that every packet access is checked against. Moving it \
              would let the program read past the packet, so the verifier allows no arithmetic \
              on a pointer of type pkt_end.",
    },
    Variant {
        name: "global-off-by-one",
        program: "kprobe_exec",
        book: "Checking Memory Access",
        change: "if (c <= sizeof(message)): message[12] may be read",
        loads: false,
        why: "Globals live in a map value (.data) whose size the verifier knows. After the \
              check, c can still be 12, and message[12] is past the 12 bytes of the array \
              (into the map value's padding or beyond), so the read is refused.",
    },
    Variant {
        name: "stack-off-by-one",
        program: "kprobe_exec",
        book: "Exercise 1",
        change: "if (c <= sizeof(data.message)): data.message[12] may be read",
        loads: false,
        why: "The same mistake on the stack: data.message[c] with c up to 12 reads one byte \
              past the array, at an offset that depends on a value, which the verifier cannot \
              prove stays inside the initialised stack.",
    },
    Variant {
        name: "missing-null-check",
        program: "kprobe_exec",
        book: "Checking Pointers Before Dereferencing Them",
        change: "p->message[0] read without `if (p != 0)`",
        loads: false,
        why: "bpf_map_lookup_elem returns NULL when the key is missing, so its result has the \
              type map_value_or_null. Only after a comparison with 0 does the verifier change \
              the type to map_value, on the branch where the pointer is not NULL.",
    },
    Variant {
        name: "no-return-value",
        program: "xdp_hello",
        book: "Checking the Return Code",
        change: "xdp_hello without its bpf_printk and return",
        loads: false,
        why: "R0 holds a program's return value, and the kernel acts on it (XDP_PASS, \
              XDP_DROP…). Nothing writes R0 before the exit, so the program would return \
              whatever was there. With the bpf_printk left in, R0 holds its result and the \
              program loads, which is why the book removes both lines.",
    },
    Variant {
        name: "bad-context-access",
        program: "xdp_hello",
        book: "Accessing Context",
        change: "xdp_hello reads its context as one 8-byte word",
        loads: false,
        why: "A program sees its context through a structure (xdp_md) whose fields the verifier \
              rewrites into accesses to the kernel's own structure (xdp_buff). Only whole fields \
              of the right size can be rewritten; an 8-byte read across data and data_end \
              matches no field.",
    },
    Variant {
        name: "unbounded-loop",
        program: "xdp_hello",
        book: "Exercise 3",
        change: "for (int i = 0; i < c; i++) in xdp_hello",
        loads: false,
        why: "The loop runs c times, and c is a global that user space can change, so the \
              verifier knows no bound. It walks the loop again for each value of i that might \
              pass the test, until it has processed a million instructions, the limit for a \
              program, and gives up.",
    },
    Variant {
        name: "bounded-loop",
        program: "xdp_hello",
        book: "Exercise 2",
        change: "for (int i = 0; i < 10; i++) in xdp_hello",
        loads: true,
        why: "From 5.3 the verifier accepts a loop that it can follow to its end: it walks the \
              body once per iteration (the log repeats ten times), so the cost grows with the \
              bound.",
    },
    Variant {
        name: "bpf-loop",
        program: "xdp_hello",
        book: "Loops",
        change: "bpf_loop(10, print_i, 0, 0) in xdp_hello",
        loads: true,
        why: "bpf_loop (5.17) calls a function up to a given number of times. The verifier \
              checks the callback once, whatever the count, so it processes fewer instructions \
              than the bounded loop. Older kernels do not know the helper.",
    },
];
// ANCHOR_END: variants

/// The variant called `name`.
pub fn find(name: &str) -> Option<&'static Variant> {
    VARIANTS.iter().find(|v| v.name == name)
}
