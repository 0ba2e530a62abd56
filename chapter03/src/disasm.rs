//! eBPF bytecode in words, as the kernel's verifier log and `bpftool prog dump xlated` write it
//! (Learning eBPF, chapter 3, “The eBPF Virtual Machine”).
//!
//! Each instruction is 8 bytes, `struct bpf_insn`: an opcode, a destination and a source register
//! (4 bits each), a 16-bit offset and a 32-bit immediate. The opcode's low 3 bits are its class
//! (load, store, ALU, jump). Loading a 64-bit constant takes two instructions (the wide `lddw`),
//! which is why the numbering of a dump skips one after it.

/// One `struct bpf_insn`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Insn {
    pub code: u8,
    pub dst: u8,
    pub src: u8,
    pub off: i16,
    pub imm: i32,
}

/// Reads the instructions of a program, as the kernel hands them out (little-endian on the
/// machines this companion runs on; the register nibbles are `dst` low, `src` high).
pub fn decode(bytes: &[u8]) -> Vec<Insn> {
    bytes
        .chunks_exact(8)
        .map(|b| Insn {
            code: b[0],
            dst: b[1] & 0x0f,
            src: b[1] >> 4,
            off: i16::from_ne_bytes([b[2], b[3]]),
            imm: i32::from_ne_bytes([b[4], b[5], b[6], b[7]]),
        })
        .collect()
}

// ANCHOR: classes
const LD: u8 = 0x00;
const LDX: u8 = 0x01;
const ST: u8 = 0x02;
const STX: u8 = 0x03;
const ALU: u8 = 0x04;
const JMP: u8 = 0x05;
const JMP32: u8 = 0x06;
const ALU64: u8 = 0x07;
// ANCHOR_END: classes

/// `src_reg` of a `call`: a BPF-to-BPF call to `pc+imm+1`, a call to a kernel function.
const PSEUDO_CALL: u8 = 1;
const PSEUDO_KFUNC_CALL: u8 = 2;
/// `src_reg` of an `lddw`: what the 64-bit immediate stands for.
const PSEUDO_MAP_FD: u8 = 1;
const PSEUDO_MAP_VALUE: u8 = 2;
const PSEUDO_MAP_IDX: u8 = 5;
const PSEUDO_MAP_IDX_VALUE: u8 = 6;
const PSEUDO_FUNC: u8 = 4;

/// Names that the instructions alone do not carry: where a helper call and a BPF-to-BPF call go.
pub trait Symbols {
    /// The helper behind a call's immediate (in a translated program, an offset from the
    /// kernel's `__bpf_call_base`), e.g. `bpf_trace_printk`.
    fn helper(&self, imm: i32) -> Option<String>;
    /// The function called by a BPF-to-BPF call to subprogram `index` of a JIT-compiled
    /// program (the kernel puts the index in the call's `imm`), e.g.
    /// `bpf_prog_5cad2933ce89558f_get_opcode`.
    fn subprogram(&self, index: i32) -> Option<String>;
}

/// No names: calls show their immediates only.
pub struct NoSymbols;

impl Symbols for NoSymbols {
    fn helper(&self, _: i32) -> Option<String> {
        None
    }
    fn subprogram(&self, _: i32) -> Option<String> {
        None
    }
}

/// Each instruction's index and text, e.g. `(85) call pc+7#bpf_prog_…_get_opcode`; the second
/// half of a wide instruction has no line of its own.
pub fn disassemble(insns: &[Insn], symbols: &impl Symbols) -> Vec<(usize, String)> {
    let mut lines = Vec::new();
    let mut i = 0;
    while i < insns.len() {
        let insn = insns[i];
        let next = insns.get(i + 1).copied();
        lines.push((
            i,
            format!("({:02x}) {}", insn.code, text(insn, next, symbols)),
        ));
        i += if is_wide(insn) { 2 } else { 1 };
    }
    lines
}

/// `lddw`: the one instruction that takes 16 bytes.
pub fn is_wide(insn: Insn) -> bool {
    insn.code == 0x18
}

fn size(code: u8) -> &'static str {
    ["u32", "u16", "u8", "u64"][usize::from((code >> 3) & 3)]
}

fn signed_size(code: u8) -> &'static str {
    ["s32", "s16", "s8", "s64"][usize::from((code >> 3) & 3)]
}

fn alu_op(insn: Insn) -> &'static str {
    let signed = insn.off == 1;
    match insn.code >> 4 {
        0x0 => "+=",
        0x1 => "-=",
        0x2 => "*=",
        0x3 if signed => "s/=",
        0x3 => "/=",
        0x4 => "|=",
        0x5 => "&=",
        0x6 => "<<=",
        0x7 => ">>=",
        0x9 if signed => "s%=",
        0x9 => "%=",
        0xa => "^=",
        0xb => "=",
        0xc => "s>>=",
        _ => "?",
    }
}

fn jmp_op(code: u8) -> Option<&'static str> {
    Some(match code >> 4 {
        0x1 => "==",
        0x2 => ">",
        0x3 => ">=",
        0x4 => "&",
        0x5 => "!=",
        0x6 => "s>",
        0x7 => "s>=",
        0xa => "<",
        0xb => "<=",
        0xc => "s<",
        0xd => "s<=",
        _ => return None,
    })
}

fn text(insn: Insn, next: Option<Insn>, symbols: &impl Symbols) -> String {
    let Insn {
        code,
        dst,
        src,
        off,
        imm,
    } = insn;
    let uses_src = code & 0x08 != 0;
    match code & 0x07 {
        class @ (ALU | ALU64) => {
            // 32-bit operations name their registers w0…w10.
            let r = if class == ALU { 'w' } else { 'r' };
            match code >> 4 {
                // neg
                0x8 => format!("{r}{dst} = -{r}{dst}"),
                // Byte swaps: be16/le32 convert to an endianness, bswap64 always swaps.
                0xd => {
                    let how = match (class, uses_src) {
                        (ALU64, _) => "bswap",
                        (_, true) => "be",
                        _ => "le",
                    };
                    format!("r{dst} = {how}{imm} r{dst}")
                }
                // mov with sign extension: r1 = (s8)r2
                0xb if uses_src && off != 0 => format!("{r}{dst} = (s{off}){r}{src}"),
                _ if uses_src => format!("{r}{dst} {} {r}{src}", alu_op(insn)),
                _ => format!("{r}{dst} {} {imm}", alu_op(insn)),
            }
        }
        LDX => match code & 0xe0 {
            0x60 => format!("r{dst} = *({} *)(r{src} {off:+})", size(code)),
            0x80 => format!("r{dst} = *({} *)(r{src} {off:+})", signed_size(code)),
            _ => format!("unknown ldx {code:#04x}"),
        },
        ST => format!("*({} *)(r{dst} {off:+}) = {imm}", size(code)),
        STX => match code & 0xe0 {
            0x60 => format!("*({} *)(r{dst} {off:+}) = r{src}", size(code)),
            0xc0 => atomic(insn),
            _ => format!("unknown stx {code:#04x}"),
        },
        LD => match code {
            // lddw: the immediate is 64 bits, the low half here and the high half in the
            // next instruction's imm. src_reg says whether it is a map, a map's value, …
            0x18 => {
                let high = next.map_or(0, |n| n.imm);
                let value = match src {
                    PSEUDO_MAP_FD => format!("map[id:{}]", imm as u32),
                    PSEUDO_MAP_VALUE => format!("map[id:{}][0]+{}", imm as u32, high as u32),
                    PSEUDO_MAP_IDX => format!("map[idx:{}]", imm as u32),
                    PSEUDO_MAP_IDX_VALUE => format!("map[idx:{}]+{}", imm as u32, high as u32),
                    PSEUDO_FUNC => format!("subprog[{imm:+}]"),
                    _ => format!(
                        "{:#x}",
                        (u64::from(high as u32) << 32) | u64::from(imm as u32)
                    ),
                };
                format!("r{dst} = {value}")
            }
            0x20 | 0x28 | 0x30 | 0x38 => format!("r0 = *({} *)skb[{imm}]", size(code)),
            0x40 | 0x48 | 0x50 | 0x58 => {
                format!("r0 = *({} *)skb[r{src} + {imm}]", size(code))
            }
            _ => format!("unknown ld {code:#04x}"),
        },
        class @ (JMP | JMP32) => match code >> 4 {
            0x8 if class == JMP => match src {
                // A BPF-to-BPF call, N+1 instructions further on. In an object file N is in
                // imm; once the kernel has JIT-compiled the program, N is in off and imm
                // numbers the called subprogram instead.
                PSEUDO_CALL if off != 0 => match symbols.subprogram(imm) {
                    Some(name) => format!("call pc{off:+}#{name}"),
                    None => format!("call pc{off:+}"),
                },
                PSEUDO_CALL => format!("call pc{imm:+}"),
                PSEUDO_KFUNC_CALL => format!("call kernel-function#{imm}"),
                // A helper: the kernel's own function, such as bpf_trace_printk.
                _ => match symbols.helper(imm) {
                    Some(name) => format!("call {name}#{imm}"),
                    None => format!("call {imm:+}#{imm}"),
                },
            },
            0x9 if class == JMP => "exit".into(),
            0x0 if class == JMP => format!("goto pc{off:+}"),
            0x0 => format!("gotol pc{imm:+}"),
            0xe => format!("may_goto pc{off:+}"),
            _ => {
                let r = if class == JMP32 { 'w' } else { 'r' };
                let Some(op) = jmp_op(code) else {
                    return format!("unknown jump {code:#04x}");
                };
                if uses_src {
                    format!("if {r}{dst} {op} {r}{src} goto pc{off:+}")
                } else {
                    format!("if {r}{dst} {op} {:#x} goto pc{off:+}", imm as u32)
                }
            }
        },
        _ => unreachable!("three bits make eight classes"),
    }
}

/// Atomic operations (Linux 5.12): which one is in the immediate.
fn atomic(insn: Insn) -> String {
    let Insn {
        code,
        dst,
        src,
        off,
        imm,
    } = insn;
    let (size, bits) = (size(code), if code & 0x18 == 0x18 { "64" } else { "" });
    const FETCH: i32 = 0x01;
    let name = match imm & !FETCH {
        0x00 => "add",
        0x40 => "or",
        0x50 => "and",
        0xa0 => "xor",
        _ => "",
    };
    match imm {
        0xe1 => format!("r{src} = atomic{bits}_xchg(({size} *)(r{dst} {off:+}), r{src})"),
        0xf1 => format!("r0 = atomic{bits}_cmpxchg(({size} *)(r{dst} {off:+}), r0, r{src})"),
        _ if name.is_empty() => format!("unknown atomic {imm:#x}"),
        _ if imm & FETCH != 0 => {
            format!("r{src} = atomic{bits}_fetch_{name}(({size} *)(r{dst} {off:+}), r{src})")
        }
        _ => {
            let op = match name {
                "add" => "+=",
                "or" => "|=",
                "and" => "&=",
                _ => "^=",
            };
            format!("lock *({size} *)(r{dst} {off:+}) {op} r{src}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Insn {
        Insn {
            code,
            dst,
            src,
            off,
            imm,
        }
    }

    fn one(i: Insn) -> String {
        disassemble(&[i, insn(0, 0, 0, 0, 0)], &NoSymbols)[0]
            .1
            .clone()
    }

    struct Named;
    impl Symbols for Named {
        fn helper(&self, imm: i32) -> Option<String> {
            (imm == -63248).then(|| "bpf_trace_printk".into())
        }
        fn subprogram(&self, index: i32) -> Option<String> {
            (index == 1).then(|| "bpf_prog_5cad2933ce89558f_get_opcode".into())
        }
    }

    /// The bytes of the book's first instructions decode to what llvm-objdump shows.
    #[test]
    fn decodes_the_bytes_of_an_instruction() {
        // 5: b7 02 00 00 0f 00 00 00  r2 = 15
        let bytes = [0xb7, 0x02, 0x00, 0x00, 0x0f, 0x00, 0x00, 0x00];
        assert_eq!(decode(&bytes), [insn(0xb7, 2, 0, 0, 15)]);
        assert_eq!(one(decode(&bytes)[0]), "(b7) r2 = 15");
        // r0 = *(u64 *)(r1 +8): dst 0, src 1 in one byte, 0x10.
        let bytes = [0x79, 0x10, 0x08, 0x00, 0, 0, 0, 0];
        assert_eq!(one(decode(&bytes)[0]), "(79) r0 = *(u64 *)(r1 +8)");
    }

    /// hello-func's translated program, as `bpftool prog dump xlated` prints it.
    #[test]
    fn hello_func_reads_as_bpftool_shows_it() {
        let program = [
            insn(0x85, 0, PSEUDO_CALL, 7, 1),
            insn(0x18, 1, PSEUDO_MAP_VALUE, 0, 1610),
            insn(0, 0, 0, 0, 0),
            insn(0xb7, 2, 0, 0, 12),
            insn(0xbf, 3, 0, 0, 0),
            insn(0x85, 0, 0, 0, -63248),
            insn(0xb7, 0, 0, 0, 0),
            insn(0x95, 0, 0, 0, 0),
            insn(0x79, 0, 1, 8, 0),
            insn(0x95, 0, 0, 0, 0),
        ];
        let lines = disassemble(&program, &Named);
        let expected = [
            (0, "(85) call pc+7#bpf_prog_5cad2933ce89558f_get_opcode"),
            (1, "(18) r1 = map[id:1610][0]+0"),
            (3, "(b7) r2 = 12"),
            (4, "(bf) r3 = r0"),
            (5, "(85) call bpf_trace_printk#-63248"),
            (6, "(b7) r0 = 0"),
            (7, "(95) exit"),
            (8, "(79) r0 = *(u64 *)(r1 +8)"),
            (9, "(95) exit"),
        ];
        let lines: Vec<(usize, &str)> = lines.iter().map(|(i, t)| (*i, t.as_str())).collect();
        assert_eq!(lines, expected);
        // Without names, the calls still say where they go; so does an object file's call.
        assert_eq!(one(program[0]), "(85) call pc+7");
        assert_eq!(one(insn(0x85, 0, PSEUDO_CALL, 0, 7)), "(85) call pc+7");
        assert_eq!(one(program[5]), "(85) call -63248#-63248");
    }

    #[test]
    fn wide_immediates_and_maps() {
        let plain = [insn(0x18, 1, 0, 0, 0x5678), insn(0, 0, 0, 0, 0x1234)];
        assert_eq!(one_of(&plain), "(18) r1 = 0x123400005678");
        let map = [insn(0x18, 2, PSEUDO_MAP_FD, 0, 42), insn(0, 0, 0, 0, 0)];
        assert_eq!(one_of(&map), "(18) r2 = map[id:42]");
        let value = [insn(0x18, 6, PSEUDO_MAP_VALUE, 0, 165), insn(0, 0, 0, 0, 4)];
        assert_eq!(one_of(&value), "(18) r6 = map[id:165][0]+4");
    }

    fn one_of(insns: &[Insn]) -> String {
        disassemble(insns, &NoSymbols)[0].1.clone()
    }

    #[test]
    fn alu_loads_stores_and_jumps() {
        assert_eq!(one(insn(0x07, 10, 0, 0, -8)), "(07) r10 += -8");
        assert_eq!(one(insn(0x04, 1, 0, 0, 1)), "(04) w1 += 1");
        assert_eq!(one(insn(0x0c, 1, 2, 0, 0)), "(0c) w1 += w2");
        assert_eq!(one(insn(0xbc, 1, 2, 0, 0)), "(bc) w1 = w2");
        assert_eq!(one(insn(0xbf, 1, 2, 8, 0)), "(bf) r1 = (s8)r2");
        assert_eq!(one(insn(0x77, 0, 0, 0, 32)), "(77) r0 >>= 32");
        assert_eq!(one(insn(0xc7, 0, 0, 0, 32)), "(c7) r0 s>>= 32");
        assert_eq!(one(insn(0x3f, 0, 1, 1, 0)), "(3f) r0 s/= r1");
        assert_eq!(one(insn(0x87, 3, 0, 0, 0)), "(87) r3 = -r3");
        assert_eq!(one(insn(0xdc, 1, 0, 0, 16)), "(dc) r1 = be16 r1");
        assert_eq!(one(insn(0xd4, 1, 0, 0, 32)), "(d4) r1 = le32 r1");
        assert_eq!(one(insn(0x61, 2, 1, 4, 0)), "(61) r2 = *(u32 *)(r1 +4)");
        assert_eq!(one(insn(0x91, 2, 1, -2, 0)), "(91) r2 = *(s8 *)(r1 -2)");
        assert_eq!(one(insn(0x7b, 10, 1, -8, 0)), "(7b) *(u64 *)(r10 -8) = r1");
        assert_eq!(one(insn(0x62, 10, 0, -4, 7)), "(62) *(u32 *)(r10 -4) = 7");
        assert_eq!(one(insn(0x05, 0, 0, 3, 0)), "(05) goto pc+3");
        assert_eq!(one(insn(0x15, 1, 0, 2, 0)), "(15) if r1 == 0x0 goto pc+2");
        assert_eq!(one(insn(0x5d, 1, 2, -4, 0)), "(5d) if r1 != r2 goto pc-4");
        assert_eq!(one(insn(0x16, 1, 0, 2, 59)), "(16) if w1 == 0x3b goto pc+2");
        assert_eq!(
            one(insn(0xa5, 1, 0, 1, -1)),
            "(a5) if r1 < 0xffffffff goto pc+1"
        );
    }

    #[test]
    fn atomics() {
        assert_eq!(
            one(insn(0xdb, 1, 2, 0, 0x00)),
            "(db) lock *(u64 *)(r1 +0) += r2"
        );
        assert_eq!(
            one(insn(0xc3, 1, 2, 4, 0x01)),
            "(c3) r2 = atomic_fetch_add((u32 *)(r1 +4), r2)"
        );
        assert_eq!(
            one(insn(0xdb, 1, 2, 0, 0xe1)),
            "(db) r2 = atomic64_xchg((u64 *)(r1 +0), r2)"
        );
        assert_eq!(
            one(insn(0xdb, 1, 2, 0, 0xf1)),
            "(db) r0 = atomic64_cmpxchg((u64 *)(r1 +0), r0, r2)"
        );
    }
}
