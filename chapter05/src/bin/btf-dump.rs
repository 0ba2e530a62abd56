//! Learning eBPF, chapter 5, “Inspecting BTF Data for Maps and Programs”: what
//! `bpftool btf dump map …` and `bpftool btf dump prog …` print, with libbpf's BTF API.

use std::ffi::CStr;
use std::io::Write;
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, AsRawFd};
use std::path::PathBuf;
use std::ptr::NonNull;

use anyhow::{Context, bail};
use clap::Parser;
use libbpf_rs::libbpf_sys::{self as sys, btf};
use libbpf_rs::query::{MapInfoIter, ProgInfoIter};
use libbpf_rs::skel::{OpenSkel, SkelBuilder};
use libbpf_rs::{MapCore, MapHandle};

ebpf_support::skeleton!(hello_buffer_config);
use hello_buffer_config::HelloBufferConfigSkelBuilder;

/// List the BTF types of a map or a program, as `bpftool btf dump` does (Learning eBPF, chapter 5, “Inspecting BTF Data for Maps and Programs”).
///
/// A map's dump has only its key and value types (`bpftool btf dump map …`); a program's has
/// every type of its object (`bpftool btf dump prog …`). Without a selector it loads
/// hello-buffer-config-core's program and dumps its my_config map, then the program.
#[derive(Parser)]
#[command(name = "btf-dump")]
#[command(group = clap::ArgGroup::new("source").multiple(false))]
struct Args {
    /// The map with this ID (`bpftool btf dump map id N`).
    #[arg(long, value_name = "N", group = "source")]
    map_id: Option<u32>,
    /// The map with this name (`bpftool btf dump map name NAME`).
    #[arg(long, value_name = "NAME", group = "source")]
    map_name: Option<String>,
    /// The program with this ID (`bpftool btf dump prog id N`).
    #[arg(long, value_name = "N", group = "source")]
    prog_id: Option<u32>,
    /// The program with this name (`bpftool btf dump prog name NAME`).
    #[arg(long, value_name = "NAME", group = "source")]
    prog_name: Option<String>,
    /// The map or program pinned at PATH (`bpftool btf dump map pinned PATH`).
    #[arg(long, value_name = "PATH", group = "source")]
    pinned: Option<PathBuf>,
    /// The BTF in a file: an object's .BTF section, or /sys/kernel/btf/vmlinux
    /// (`bpftool btf dump file PATH`).
    #[arg(long, value_name = "PATH", group = "source")]
    file: Option<PathBuf>,
    /// Show libbpf's log as it happens.
    #[arg(long, short)]
    verbose: bool,
}

/// BTF that this process owns, as libbpf parsed it.
struct Btf(NonNull<btf>);

impl Btf {
    // ANCHOR: load
    /// The kernel's copy of BTF object `id`: BPF_BTF_GET_FD_BY_ID, then BPF_OBJ_GET_INFO_BY_FD
    /// fetches its raw bytes, which libbpf parses.
    fn from_kernel(id: u32) -> anyhow::Result<Btf> {
        let btf = unsafe { sys::btf__load_from_kernel_by_id(id) };
        NonNull::new(btf).map(Btf).with_context(|| {
            format!(
                "loading BTF object {id}: {}",
                std::io::Error::last_os_error()
            )
        })
    }
    // ANCHOR_END: load

    fn from_file(path: &std::path::Path) -> anyhow::Result<Btf> {
        let c_path = std::ffi::CString::new(path.as_os_str().as_encoded_bytes())?;
        let btf = unsafe { sys::btf__parse(c_path.as_ptr(), std::ptr::null_mut()) };
        NonNull::new(btf)
            .with_context(|| {
                format!(
                    "no BTF in {}: {}",
                    path.display(),
                    std::io::Error::last_os_error()
                )
            })
            .map(Btf)
    }

    fn ptr(&self) -> *const btf {
        self.0.as_ptr()
    }

    /// The name at `offset` in the string section, or `(anon)` for none.
    fn name(&self, offset: u32) -> String {
        let name = unsafe { sys::btf__name_by_offset(self.ptr(), offset) };
        match name.is_null() {
            true => "(anon)".into(),
            false => match unsafe { CStr::from_ptr(name) }.to_string_lossy() {
                name if name.is_empty() => "(anon)".into(),
                name => name.into_owned(),
            },
        }
    }
}

impl Drop for Btf {
    fn drop(&mut self) {
        unsafe { sys::btf__free(self.0.as_ptr()) };
    }
}

// ANCHOR: kinds
/// BTF_KIND_INT = 1 … BTF_KIND_ENUM64 = 19, as bpftool names them.
const KINDS: [&str; 20] = [
    "UNKNOWN",
    "INT",
    "PTR",
    "ARRAY",
    "STRUCT",
    "UNION",
    "ENUM",
    "FWD",
    "TYPEDEF",
    "VOLATILE",
    "CONST",
    "RESTRICT",
    "FUNC",
    "FUNC_PROTO",
    "VAR",
    "DATASEC",
    "FLOAT",
    "DECL_TAG",
    "TYPE_TAG",
    "ENUM64",
];
// ANCHOR_END: kinds

const LINKAGES: [&str; 3] = ["static", "global", "extern"];

/// The `count` records of type `T` that follow a `struct btf_type` (a struct's members, a
/// function prototype's parameters, …).
///
/// # Safety
/// `t` points into libbpf's parsed BTF, and its kind has `count` records of `T` after it.
unsafe fn after<T>(t: &sys::btf_type, count: usize) -> &[T] {
    unsafe { std::slice::from_raw_parts((t as *const sys::btf_type).add(1).cast(), count) }
}

// ANCHOR: dump_type
/// One type in bpftool's plain format: `[ID] KIND 'name' details`, then one line per member.
fn dump_type(btf: &Btf, id: u32) -> String {
    // SAFETY: id < btf__type_cnt, so libbpf returns a valid type; the records after it are
    // read as its kind defines them (linux/btf.h).
    let t = unsafe { &*sys::btf__type_by_id(btf.ptr(), id) };
    let kind = (t.info >> 24) & 0x1f;
    let vlen = (t.info & 0xffff) as usize;
    let kind_flag = t.info >> 31 == 1;
    // One u32 that is a size for some kinds and a type ID for others.
    let (size, type_id) = unsafe { (t.__bindgen_anon_1.size, t.__bindgen_anon_1.type_) };
    let mut line = format!(
        "[{id}] {} '{}'",
        KINDS.get(kind as usize).unwrap_or(&"UNKNOWN"),
        btf.name(t.name_off)
    );
    match kind {
        sys::BTF_KIND_INT => {
            let bits = unsafe { after::<u32>(t, 1) }[0];
            let encoding = match (bits >> 24) & 0x0f {
                1 => "SIGNED",
                2 => "CHAR",
                4 => "BOOL",
                _ => "(none)",
            };
            line += &format!(
                " size={size} bits_offset={} nr_bits={} encoding={encoding}",
                (bits >> 16) & 0xff,
                bits & 0xff
            );
        }
        sys::BTF_KIND_PTR
        | sys::BTF_KIND_TYPEDEF
        | sys::BTF_KIND_VOLATILE
        | sys::BTF_KIND_CONST
        | sys::BTF_KIND_RESTRICT
        | sys::BTF_KIND_TYPE_TAG => line += &format!(" type_id={type_id}"),
        sys::BTF_KIND_ARRAY => {
            let array = &unsafe { after::<sys::btf_array>(t, 1) }[0];
            line += &format!(
                " type_id={} index_type_id={} nr_elems={}",
                array.type_, array.index_type, array.nelems
            );
        }
        sys::BTF_KIND_STRUCT | sys::BTF_KIND_UNION => {
            line += &format!(" size={size} vlen={vlen}");
            for member in unsafe { after::<sys::btf_member>(t, vlen) } {
                // With the kind flag, the top 8 bits of the offset are a bitfield's size.
                let (offset, bitfield) = match kind_flag {
                    true => (member.offset & 0xff_ffff, member.offset >> 24),
                    false => (member.offset, 0),
                };
                line += &format!(
                    "\n\t'{}' type_id={} bits_offset={offset}",
                    btf.name(member.name_off),
                    member.type_
                );
                if bitfield != 0 {
                    line += &format!(" bitfield_size={bitfield}");
                }
            }
        }
        sys::BTF_KIND_ENUM => {
            let signed = if kind_flag { "SIGNED" } else { "UNSIGNED" };
            line += &format!(" encoding={signed} size={size} vlen={vlen}");
            for value in unsafe { after::<sys::btf_enum>(t, vlen) } {
                let val = match kind_flag {
                    true => value.val.to_string(),
                    false => (value.val as u32).to_string(),
                };
                line += &format!("\n\t'{}' val={val}", btf.name(value.name_off));
            }
        }
        sys::BTF_KIND_ENUM64 => {
            let signed = if kind_flag { "SIGNED" } else { "UNSIGNED" };
            line += &format!(" encoding={signed} size={size} vlen={vlen}");
            for value in unsafe { after::<sys::btf_enum64>(t, vlen) } {
                let bits = (u64::from(value.val_hi32) << 32) | u64::from(value.val_lo32);
                let val = match kind_flag {
                    true => format!("{}LL", bits as i64),
                    false => format!("{bits}ULL"),
                };
                line += &format!("\n\t'{}' val={val}", btf.name(value.name_off));
            }
        }
        sys::BTF_KIND_FWD => {
            line += if kind_flag {
                " fwd_kind=union"
            } else {
                " fwd_kind=struct"
            }
        }
        sys::BTF_KIND_FUNC => {
            // A function keeps its linkage where other kinds keep vlen.
            let linkage = LINKAGES.get(vlen).unwrap_or(&"(unknown)");
            line += &format!(" type_id={type_id} linkage={linkage}");
        }
        sys::BTF_KIND_FUNC_PROTO => {
            line += &format!(" ret_type_id={type_id} vlen={vlen}");
            for param in unsafe { after::<sys::btf_param>(t, vlen) } {
                let name = btf.name(param.name_off);
                line += &format!("\n\t'{name}' type_id={}", param.type_);
            }
        }
        sys::BTF_KIND_VAR => {
            let var = &unsafe { after::<sys::btf_var>(t, 1) }[0];
            let linkage = LINKAGES.get(var.linkage as usize).unwrap_or(&"(unknown)");
            line += &format!(" type_id={type_id}, linkage={linkage}");
        }
        sys::BTF_KIND_DATASEC => {
            line += &format!(" size={size} vlen={vlen}");
            for var in unsafe { after::<sys::btf_var_secinfo>(t, vlen) } {
                line += &format!(
                    "\n\ttype_id={} offset={} size={}",
                    var.type_, var.offset, var.size
                );
                let target = unsafe { sys::btf__type_by_id(btf.ptr(), var.type_) };
                if let Some(target) = unsafe { target.as_ref() } {
                    let kind = (target.info >> 24) & 0x1f;
                    let kind = KINDS.get(kind as usize).unwrap_or(&"UNKNOWN");
                    line += &format!(" ({kind} '{}')", btf.name(target.name_off));
                }
            }
        }
        sys::BTF_KIND_FLOAT => line += &format!(" size={size}"),
        sys::BTF_KIND_DECL_TAG => {
            let tag = &unsafe { after::<sys::btf_decl_tag>(t, 1) }[0];
            line += &format!(" type_id={type_id} component_idx={}", tag.component_idx);
        }
        _ => {}
    }
    line
}
// ANCHOR_END: dump_type

/// What to dump: all the types of a BTF object, or only some (a map's key and value).
fn dump(btf: &Btf, only: Option<&[u32]>) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    // ANCHOR: walk
    // Type IDs count from 1 (0 is void) to btf__type_cnt() - 1.
    let all: Vec<u32> = (1..unsafe { sys::btf__type_cnt(btf.ptr()) }).collect();
    for &id in only.unwrap_or(&all) {
        writeln!(out, "{}", dump_type(btf, id))?;
    }
    // ANCHOR_END: walk
    Ok(())
}

// ANCHOR: map
/// A map's BTF: the object its creator loaded (bpf_map_info.btf_id), and in it the types of its
/// key and value, which are all that `bpftool btf dump map` shows.
fn map_btf(info: &sys::bpf_map_info) -> anyhow::Result<(Btf, [u32; 2])> {
    if info.btf_id == 0 {
        bail!("map {} has no BTF", info.id);
    }
    let btf = Btf::from_kernel(info.btf_id)?;
    Ok((btf, [info.btf_key_type_id, info.btf_value_type_id]))
}
// ANCHOR_END: map

fn map_by_id(id: u32) -> anyhow::Result<sys::bpf_map_info> {
    let map = MapHandle::from_map_id(id).with_context(|| format!("no map with ID {id}"))?;
    Ok(map.info()?.info)
}

fn map_by_name(name: &str) -> anyhow::Result<sys::bpf_map_info> {
    let ids: Vec<u32> = MapInfoIter::default()
        .filter(|map| map.name.to_str() == Some(name))
        .map(|map| map.id)
        .collect();
    match ids[..] {
        [id] => map_by_id(id),
        [] => bail!("no map is called {name}"),
        _ => bail!("several maps are called {name}: IDs {ids:?}; choose one with --map-id"),
    }
}

/// A program's BTF: that of the object it was loaded from, every type in it.
fn prog_btf_id(id: u32) -> anyhow::Result<u32> {
    let prog = ProgInfoIter::default()
        .find(|prog| prog.id == id)
        .with_context(|| format!("no program with ID {id}"))?;
    match prog.btf_id {
        0 => bail!("program {id} has no BTF"),
        btf_id => Ok(btf_id),
    }
}

fn prog_by_name(name: &str) -> anyhow::Result<u32> {
    let ids: Vec<u32> = ProgInfoIter::default()
        .filter(|prog| prog.name.to_str() == Some(name))
        .map(|prog| prog.id)
        .collect();
    match ids[..] {
        [id] => Ok(id),
        [] => bail!("no program is called {name}"),
        _ => bail!("several programs are called {name}: IDs {ids:?}; choose one with --prog-id"),
    }
}

/// The map or program pinned at `path`: its ID, from the fd's /proc/self/fdinfo.
fn pinned(path: &std::path::Path) -> anyhow::Result<(&'static str, u32)> {
    let c_path = std::ffi::CString::new(path.as_os_str().as_encoded_bytes())?;
    let fd = unsafe { sys::bpf_obj_get(c_path.as_ptr()) };
    if fd < 0 {
        bail!(
            "nothing pinned at {}: {}",
            path.display(),
            std::io::Error::last_os_error()
        );
    }
    let fd = unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) };
    let fdinfo = std::fs::read_to_string(format!("/proc/self/fdinfo/{}", fd.as_raw_fd()))?;
    for line in fdinfo.lines() {
        for kind in ["map_id", "prog_id"] {
            if let Some(id) = line.strip_prefix(kind).and_then(|l| l.strip_prefix(':')) {
                return Ok((kind, id.trim().parse()?));
            }
        }
    }
    bail!("{} is neither a map nor a program", path.display())
}

fn main() -> std::process::ExitCode {
    ebpf_support::main(&chapter05::BTF_DUMP, |args: Args| {
        let (map, prog) = match (&args.pinned, args.map_name, args.prog_name) {
            (Some(path), _, _) => match pinned(path)? {
                ("map_id", id) => (Some(map_by_id(id)?), None),
                (_, id) => (None, Some(id)),
            },
            (_, Some(name), _) => (Some(map_by_name(&name)?), None),
            (_, _, Some(name)) => (None, Some(prog_by_name(&name)?)),
            _ => (args.map_id.map(map_by_id).transpose()?, args.prog_id),
        };
        if let Some(path) = &args.file {
            return dump(&Btf::from_file(path)?, None);
        }
        if let Some(info) = map {
            let (btf, key_and_value) = map_btf(&info)?;
            return dump(&btf, Some(&key_and_value));
        }
        if let Some(id) = prog {
            return dump(&Btf::from_kernel(prog_btf_id(id)?)?, None);
        }
        own_example()
    })
}

// ANCHOR: own
/// Loads hello-buffer-config-core's program (without attaching it) and dumps the BTF of its
/// config map and of the program: one BTF object, seen two ways.
fn own_example() -> anyhow::Result<()> {
    let mut object = MaybeUninit::uninit();
    ebpf_support::require_needs(&chapter05::HELLO_BUFFER_CONFIG_CORE)?;
    let mut open = HelloBufferConfigSkelBuilder::default().open(&mut object)?;
    ebpf_support::choose_hook(&chapter05::BTF_DUMP, &mut open.progs.hello, None)?;
    let skel = open.load()?;

    let config = skel.maps.my_config.info()?.info;
    let (btf, key_and_value) = map_btf(&config)?;
    println!(
        "# map my_config (ID {}, BTF ID {}): its key and value types",
        config.id, config.btf_id
    );
    dump(&btf, Some(&key_and_value))?;

    let prog = libbpf_rs::Program::id_from_fd(skel.progs.hello.as_fd())?;
    let btf_id = prog_btf_id(prog)?;
    println!("# prog hello (ID {prog}, BTF ID {btf_id}): every type");
    dump(&Btf::from_kernel(btf_id)?, None)
}
// ANCHOR_END: own
