//! Learning eBPF, chapter 3, the bpftool tour (“Inspecting the Loaded Program”, “The
//! Translated Bytecode”, “BPF to BPF Calls”): what `bpftool prog show` and `bpftool prog dump
//! xlated` tell about a loaded program, asked of the kernel through libbpf-rs.

use std::collections::HashMap;
use std::ffi::CStr;
use std::path::PathBuf;

use anyhow::{Context, bail};
use chapter03::disasm::{self, Symbols};
use clap::Parser;
use libbpf_rs::btf::{Btf, BtfType};
use libbpf_rs::query::{ProgInfoIter, ProgInfoQueryOptions, ProgramInfo};

/// Show a loaded program as bpftool does, following the book's bpftool tour (Learning eBPF, chapter 3, “Inspecting the Loaded Program”).
///
/// Like `bpftool prog show` it prints the kernel's record of the program: id, type, name, tag,
/// load time, owner, sizes, map ids and BTF id; like `bpftool prog dump xlated` it decodes the
/// bytecode after the verifier's rewrites into eBPF assembly, helper calls and BPF-to-BPF calls
/// (`call pc+N`) named. Run e.g. hello-func in another terminal, then `inspect --name hello`.
#[derive(Parser)]
#[command(name = "inspect")]
#[command(group = clap::ArgGroup::new("program").required(true))]
struct Args {
    /// The program with this id (`bpftool prog show id N`).
    #[arg(long, value_name = "N", group = "program")]
    id: Option<u32>,
    /// Every program with this name (`bpftool prog show name NAME`).
    #[arg(long, value_name = "NAME", group = "program")]
    name: Option<String>,
    /// The program pinned at this path in bpffs (`bpftool prog show pinned PATH`).
    #[arg(long, value_name = "PATH", group = "program")]
    pinned: Option<PathBuf>,
    /// Also print the JIT-compiled machine code, as bytes (`bpftool prog dump jited` needs libbfd to decode them).
    #[arg(long)]
    jited: bool,
}

fn main() -> std::process::ExitCode {
    ebpf_support::main(&chapter03::INSPECT, |args: Args| {
        let id = match &args.pinned {
            // A pin is a file that holds the program; opening it gives a descriptor, whose
            // info says the id.
            Some(path) => {
                let fd = libbpf_rs::Program::fd_from_pinned_path(path)
                    .with_context(|| format!("no program pinned at {}", path.display()))?;
                Some(libbpf_rs::Program::id_from_fd(std::os::fd::AsFd::as_fd(
                    &fd,
                ))?)
            }
            None => args.id,
        };
        // ANCHOR: query
        // BPF_PROG_GET_NEXT_ID walks every program; BPF_OBJ_GET_INFO_BY_FD tells about each.
        let options = ProgInfoQueryOptions::default()
            .include_xlated_prog_insns(true)
            .include_jited_prog_insns(args.jited)
            .include_map_ids(true)
            .include_func_info(true)
            .include_jited_ksyms(true)
            .include_jited_func_lens(true);
        let programs: Vec<ProgramInfo> = ProgInfoIter::with_query_opts(options)
            .filter(|info| match (&id, &args.name) {
                (Some(id), _) => info.id == *id,
                (None, Some(name)) => info.name.to_str() == Some(name.as_str()),
                (None, None) => false,
            })
            .collect();
        // ANCHOR_END: query
        if programs.is_empty() {
            match (id, &args.name) {
                (Some(id), _) => bail!("there is no program with id {id}"),
                (None, name) => bail!(
                    "there is no program named {}",
                    name.as_deref().unwrap_or_default()
                ),
            }
        }
        let symbols = KernelSymbols::read();
        for (n, info) in programs.iter().enumerate() {
            if n > 0 {
                println!();
            }
            show(info);
            println!();
            dump_xlated(info, &symbols);
            if args.jited {
                dump_jited(info);
            }
        }
        Ok(())
    })
}

// ANCHOR: show
/// `bpftool prog show`'s lines.
fn show(info: &ProgramInfo) {
    let tag: String = info.tag.0.iter().map(|b| format!("{b:02x}")).collect();
    let gpl = if info.gpl_compatible { "  gpl" } else { "" };
    println!(
        "{}: {}  name {}  tag {tag}{gpl}",
        info.id,
        type_name(info.ty),
        info.name.to_string_lossy()
    );
    println!(
        "\tloaded_at {}  uid {}",
        wall_clock(info.load_time),
        info.created_by_uid
    );
    let maps: Vec<String> = info.map_ids.iter().map(u32::to_string).collect();
    let mut sizes = format!("\txlated {}B", info.xlated_prog_insns.len());
    match info.jited_func_lens.iter().sum::<u32>() {
        0 => sizes.push_str("  not jited"),
        jited => sizes.push_str(&format!("  jited {jited}B")),
    }
    if !maps.is_empty() {
        sizes.push_str(&format!("  map_ids {}", maps.join(",")));
    }
    println!("{sizes}");
    if info.btf_id != 0 {
        println!("\tbtf_id {}", info.btf_id);
    }
    println!(
        "\t{} instructions in {} function(s); the verifier checked {}",
        info.xlated_prog_insns.len() / 8,
        info.func_info.len().max(1),
        info.verified_insns
    );
}
// ANCHOR_END: show

/// libbpf's name for a program type, the one bpftool prints (`raw_tracepoint`, `xdp`).
fn type_name(ty: libbpf_rs::ProgramType) -> String {
    // SAFETY: libbpf returns a static string, or NULL for a type it does not know.
    let name = unsafe { libbpf_sys::libbpf_bpf_prog_type_str(ty as u32) };
    if name.is_null() {
        return format!("type {}", ty as u32);
    }
    // SAFETY: non-NULL: a NUL-terminated static string.
    unsafe { CStr::from_ptr(name) }
        .to_string_lossy()
        .into_owned()
}

/// The kernel records the load time since boot; bpftool shows it on the wall clock.
fn wall_clock(since_boot: std::time::Duration) -> String {
    let now = |clock| {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: clock_gettime fills the timespec.
        unsafe { libc::clock_gettime(clock, &mut ts) };
        ts.tv_sec as f64 + ts.tv_nsec as f64 / 1e9
    };
    let booted = now(libc::CLOCK_REALTIME) - now(libc::CLOCK_BOOTTIME);
    let time = (booted + since_boot.as_secs_f64()) as libc::time_t;
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    let mut text = [0u8; 64];
    // SAFETY: localtime_r fills tm; strftime writes at most text.len() bytes.
    let n = unsafe {
        libc::localtime_r(&time, &mut tm);
        libc::strftime(
            text.as_mut_ptr().cast(),
            text.len(),
            c"%FT%T%z".as_ptr(),
            &tm,
        )
    };
    String::from_utf8_lossy(&text[..n]).into_owned()
}

// ANCHOR: xlated
/// `bpftool prog dump xlated`: the instructions as the verifier left them, each function
/// under its name from the program's BTF.
fn dump_xlated(info: &ProgramInfo, symbols: &KernelSymbols) {
    let insns = disasm::decode(&info.xlated_prog_insns);
    let btf = Btf::from_prog_id(info.id).ok();
    let function_at: HashMap<usize, String> = info
        .func_info
        .iter()
        .map(|f| {
            let name = btf
                .as_ref()
                .and_then(|btf| btf.type_by_id::<BtfType>(f.type_id.into()))
                .and_then(|t| t.name().map(|n| n.to_string_lossy().into_owned()))
                .unwrap_or_else(|| "?".into());
            (f.insn_off as usize, name)
        })
        .collect();
    let names = ProgramSymbols { info, symbols };
    for (index, text) in disasm::disassemble(&insns, &names) {
        if let Some(function) = function_at.get(&index) {
            println!("{function}:");
        }
        println!("{index:4}: {text}");
    }
}
// ANCHOR_END: xlated

/// `bpftool prog dump jited` without libbfd: the machine code of each function, as bytes.
fn dump_jited(info: &ProgramInfo) {
    println!("\njited:");
    let mut start = 0;
    for (n, len) in info.jited_func_lens.iter().enumerate() {
        let end = (start + *len as usize).min(info.jited_prog_insns.len());
        println!("function {n} ({len} bytes):");
        for line in info.jited_prog_insns[start..end].chunks(16) {
            let bytes: Vec<String> = line.iter().map(|b| format!("{b:02x}")).collect();
            println!("\t{}", bytes.join(" "));
        }
        start = end;
    }
}

/// /proc/kallsyms, where bpftool too looks up the helpers and the JIT-compiled functions.
struct KernelSymbols {
    by_address: HashMap<u64, String>,
    call_base: Option<u64>,
}

impl KernelSymbols {
    fn read() -> KernelSymbols {
        let text = std::fs::read_to_string("/proc/kallsyms").unwrap_or_default();
        let mut by_address = HashMap::new();
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
            by_address
                .entry(address)
                .or_insert_with(|| name.to_string());
        }
        KernelSymbols {
            by_address,
            call_base,
        }
    }
}

struct ProgramSymbols<'a> {
    info: &'a ProgramInfo,
    symbols: &'a KernelSymbols,
}

impl Symbols for ProgramSymbols<'_> {
    /// After the verifier, a helper call's immediate is the helper's address less `__bpf_call_base`.
    fn helper(&self, imm: i32) -> Option<String> {
        let address = self.symbols.call_base?.wrapping_add_signed(imm.into());
        self.symbols.by_address.get(&address).cloned()
    }

    /// A BPF-to-BPF call's subprogram was JIT-compiled to a kernel symbol of its own,
    /// `bpf_prog_TAG_NAME`, whose address the program's info lists.
    fn subprogram(&self, index: i32) -> Option<String> {
        let address = *self.info.jited_ksyms.get(usize::try_from(index).ok()?)? as u64;
        self.symbols.by_address.get(&address).cloned()
    }
}
