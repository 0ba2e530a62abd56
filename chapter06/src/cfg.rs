//! A program's control-flow graph, as `bpftool prog dump xlated … visual` draws it (Learning
//! eBPF, chapter 6, “Visualizing Control Flow”): the instructions cut into basic blocks, each a
//! run that is entered only at its top and left only at its bottom, and the edges between them.
//! The verifier walks these edges, one path at a time.

use std::collections::{BTreeMap, BTreeSet};

use chapter03::disasm::{self, Insn, Symbols};

const CLASS_JMP: u8 = 0x05;
const CLASS_JMP32: u8 = 0x06;
const OP_JA: u8 = 0x00;
const OP_CALL: u8 = 0x80;
const OP_EXIT: u8 = 0x90;

/// Instructions `start..=last` (indexes of 8-byte slots, as the log numbers them).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Block {
    pub start: usize,
    pub last: usize,
}

/// Where an edge goes: a block (by its first instruction) or the program's exit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Target {
    Block(usize),
    Exit,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Edge {
    /// The first instruction of the block the edge leaves.
    pub from: usize,
    pub to: Target,
    /// A jump taken, rather than falling through to the next instruction.
    pub jump: bool,
}

pub struct Cfg {
    pub blocks: Vec<Block>,
    pub edges: Vec<Edge>,
}

/// A jump that can go elsewhere than the next instruction: not a call, not an exit.
fn jump_target(index: usize, insn: Insn) -> Option<usize> {
    let class = insn.code & 0x07;
    let op = insn.code & 0xf0;
    if !(class == CLASS_JMP || class == CLASS_JMP32) || op == OP_CALL || op == OP_EXIT {
        return None;
    }
    // `gotol` (JMP32 | JA) keeps its long offset in the immediate.
    let offset = if class == CLASS_JMP32 && op == OP_JA {
        i64::from(insn.imm)
    } else {
        i64::from(insn.off)
    };
    usize::try_from(index as i64 + offset + 1).ok()
}

fn is_exit(insn: Insn) -> bool {
    insn.code == (CLASS_JMP | OP_EXIT)
}

/// `goto`: a jump that never falls through.
fn is_unconditional(insn: Insn) -> bool {
    let class = insn.code & 0x07;
    (class == CLASS_JMP || class == CLASS_JMP32) && insn.code & 0xf0 == OP_JA
}

// ANCHOR: build
/// Cuts `insns` into basic blocks: a block starts at the first instruction, at every jump's
/// target and after every jump or exit.
pub fn build(insns: &[Insn]) -> Cfg {
    let mut starts = Vec::new();
    let mut i = 0;
    while i < insns.len() {
        starts.push(i);
        i += if disasm::is_wide(insns[i]) { 2 } else { 1 };
    }
    let next = |i: usize| starts.iter().copied().find(|&s| s > i);
    let mut leaders = BTreeSet::from([0]);
    for &i in &starts {
        if let Some(target) = jump_target(i, insns[i]) {
            leaders.insert(target);
            leaders.extend(next(i));
        } else if is_exit(insns[i]) {
            leaders.extend(next(i));
        }
    }
    let mut blocks: Vec<Block> = Vec::new();
    for &i in &starts {
        match blocks.last_mut() {
            Some(block) if !leaders.contains(&i) => block.last = i,
            _ => blocks.push(Block { start: i, last: i }),
        }
    }
    let mut edges = Vec::new();
    for (n, block) in blocks.iter().enumerate() {
        let last = insns[block.last];
        let fall_through = match blocks.get(n + 1) {
            Some(next) => Target::Block(next.start),
            None => Target::Exit,
        };
        if is_exit(last) {
            edges.push(Edge {
                from: block.start,
                to: Target::Exit,
                jump: false,
            });
            continue;
        }
        if let Some(target) = jump_target(block.last, last) {
            edges.push(Edge {
                from: block.start,
                to: Target::Block(target),
                jump: true,
            });
            if is_unconditional(last) {
                continue;
            }
        }
        edges.push(Edge {
            from: block.start,
            to: fall_through,
            jump: false,
        });
    }
    Cfg { blocks, edges }
}
// ANCHOR_END: build

fn node(target: Target) -> String {
    match target {
        Target::Block(start) => format!("b{start}"),
        Target::Exit => "EXIT".into(),
    }
}

/// Helper names for the translated program: the kernel turned each helper call's immediate
/// into the helper's address less `__bpf_call_base`, and /proc/kallsyms names the address.
pub struct KernelHelpers {
    names: BTreeMap<u64, String>,
    call_base: Option<u64>,
}

impl KernelHelpers {
    pub fn read() -> KernelHelpers {
        let text = std::fs::read_to_string("/proc/kallsyms").unwrap_or_default();
        let mut names = BTreeMap::new();
        let mut call_base = None;
        for line in text.lines() {
            let mut fields = line.split_whitespace();
            let (Some(address), Some(_), Some(name)) =
                (fields.next(), fields.next(), fields.next())
            else {
                continue;
            };
            let Ok(address) = u64::from_str_radix(address, 16) else {
                continue;
            };
            if name == "__bpf_call_base" {
                call_base = Some(address);
            }
            if name.starts_with("bpf_") {
                names.entry(address).or_insert_with(|| name.to_string());
            }
        }
        KernelHelpers { names, call_base }
    }
}

impl Symbols for KernelHelpers {
    fn helper(&self, imm: i32) -> Option<String> {
        let address = self.call_base?.wrapping_add_signed(imm.into());
        self.names.get(&address).cloned()
    }
    fn subprogram(&self, _: i32) -> Option<String> {
        None
    }
}

/// The graph in Graphviz's DOT language: one box per block listing its instructions, solid
/// edges where the program falls through, dashed ones where a jump is taken.
pub fn dot(name: &str, insns: &[Insn], symbols: &impl Symbols) -> String {
    let cfg = build(insns);
    let text: BTreeMap<usize, String> = disasm::disassemble(insns, symbols).into_iter().collect();
    let mut out = format!(
        "digraph \"{name}\" {{\n\tnode [shape=box, fontname=\"monospace\"];\n\tENTRY [shape=Mdiamond];\n\tEXIT [shape=Msquare];\n"
    );
    for block in &cfg.blocks {
        let lines: String = text
            .range(block.start..=block.last)
            .map(|(i, t)| format!("{i}: {t}\\l").replace('"', "\\\""))
            .collect();
        out.push_str(&format!("\tb{} [label=\"{lines}\"];\n", block.start));
    }
    out.push_str("\tENTRY -> b0;\n");
    for edge in &cfg.edges {
        let style = if edge.jump { " [style=dashed]" } else { "" };
        out.push_str(&format!("\tb{} -> {}{style};\n", edge.from, node(edge.to)));
    }
    out.push_str("}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn insn(code: u8, off: i16) -> Insn {
        Insn {
            code,
            dst: 0,
            src: 0,
            off,
            imm: 0,
        }
    }

    #[test]
    fn blocks_start_at_targets_and_after_jumps() {
        // 0: r0 = 0; 1: if r0 == 0 goto +2; 2: lddw (two slots); 4: exit; 5: r0 = 1; 6: exit
        let insns = [
            insn(0xb7, 0),
            insn(0x15, 3),
            insn(0x18, 0),
            insn(0x00, 0),
            insn(0x95, 0),
            insn(0xb7, 0),
            insn(0x95, 0),
        ];
        let cfg = build(&insns);
        assert_eq!(
            cfg.blocks,
            [
                Block { start: 0, last: 1 },
                Block { start: 2, last: 4 },
                Block { start: 5, last: 6 }
            ]
        );
        assert_eq!(
            cfg.edges,
            [
                Edge {
                    from: 0,
                    to: Target::Block(5),
                    jump: true
                },
                Edge {
                    from: 0,
                    to: Target::Block(2),
                    jump: false
                },
                Edge {
                    from: 2,
                    to: Target::Exit,
                    jump: false
                },
                Edge {
                    from: 5,
                    to: Target::Exit,
                    jump: false
                },
            ]
        );
        let dot = dot("t", &insns, &disasm::NoSymbols);
        assert!(dot.contains("b0 -> b5 [style=dashed];"), "{dot}");
        assert!(dot.contains("b2 -> EXIT;"), "{dot}");
    }

    #[test]
    fn a_loop_jumps_back() {
        // 0: r1 += 1; 1: if r1 != 10 goto -2 (to 0); 2: exit
        // 0: r1 += 1; 1: if r1 == 10 goto +1; 2: goto -3 (to 0); 3: exit
        let insns = [insn(0x07, 0), insn(0x15, 1), insn(0x05, -3), insn(0x95, 0)];
        let cfg = build(&insns);
        assert_eq!(
            cfg.edges,
            [
                Edge {
                    from: 0,
                    to: Target::Block(3),
                    jump: true
                },
                Edge {
                    from: 0,
                    to: Target::Block(2),
                    jump: false
                },
                Edge {
                    from: 2,
                    to: Target::Block(0),
                    jump: true
                },
                Edge {
                    from: 3,
                    to: Target::Exit,
                    jump: false
                },
            ]
        );
    }
}
