//! Learning eBPF, chapter 5, “Accessing Existing Maps” (find-map.c): a program that loads nothing and
//! finds a map that someone else made, through the path it is pinned at.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Parser;
use libbpf_rs::libbpf_sys;
use libbpf_rs::{MapCore, MapHandle, MapType};

/// Open a pinned map by its path and print what the kernel knows about it (Learning eBPF, chapter 5, “Accessing Existing Maps”, find-map.c).
///
/// Loads no program. With --path it opens an existing pin, e.g. the book's
/// `bpftool map create /sys/fs/bpf/findme type array key 4 value 32 entries 4 name findme`,
/// and never removes it. Without --path it makes that map itself, pins it at
/// /sys/fs/bpf/findme (or /sys/fs/bpf/findme-PID if that is taken), opens it again by the path,
/// and removes its pin before it exits.
#[derive(Parser)]
#[command(name = "find-map")]
struct Args {
    /// The pinned map to open, in a BPF file system (/sys/fs/bpf/…).
    #[arg(long, value_name = "PATH")]
    path: Option<PathBuf>,
    /// Show libbpf's log as it happens.
    #[arg(long, short)]
    verbose: bool,
}

// ANCHOR: create
/// What `bpftool map create /sys/fs/bpf/findme type array key 4 value 32 entries 4 name findme`
/// does: a map, then a pin. The pin is removed when this is dropped, also on an error.
struct OwnPin(PathBuf);

fn create_findme() -> anyhow::Result<OwnPin> {
    let mut path = PathBuf::from("/sys/fs/bpf/findme");
    if path.exists() {
        path = PathBuf::from(format!("/sys/fs/bpf/findme-{}", std::process::id()));
    }
    let opts = libbpf_sys::bpf_map_create_opts {
        sz: size_of::<libbpf_sys::bpf_map_create_opts>() as _,
        ..Default::default()
    };
    let mut map = MapHandle::create(MapType::Array, Some("findme"), 4, 32, 4, &opts)
        .context("creating the findme map")?;
    map.pin(&path)
        .with_context(|| format!("pinning the map at {}", path.display()))?;
    // `map` closes its fd here: from now on only the pin keeps the map alive.
    Ok(OwnPin(path))
}

impl Drop for OwnPin {
    fn drop(&mut self) {
        // Unpinning is removing the file; the kernel frees the map once no fd holds it.
        let _ = std::fs::remove_file(&self.0);
    }
}
// ANCHOR_END: create

/// bpftool's name for a map type (`array`, `hash`), which libbpf knows.
fn type_name(map_type: libbpf_sys::bpf_map_type) -> String {
    // SAFETY: returns a static string, or NULL for a type this libbpf does not know.
    let name = unsafe { libbpf_sys::libbpf_bpf_map_type_str(map_type) };
    if name.is_null() {
        return format!("type {map_type}");
    }
    unsafe { std::ffi::CStr::from_ptr(name) }
        .to_string_lossy()
        .into_owned()
}

fn main() -> std::process::ExitCode {
    ebpf_support::main(&chapter05::FIND_MAP, |args: Args| {
        let own = match args.path {
            Some(_) => None,
            None => Some(create_findme()?),
        };
        let path: &Path = match (&args.path, &own) {
            (Some(path), _) => path,
            (None, Some(own)) => &own.0,
            (None, None) => unreachable!(),
        };
        if own.is_some() {
            eprintln!(
                "find-map: made the findme map and pinned it at {}",
                path.display()
            );
        }

        // ANCHOR: find
        // bpf_obj_get("/sys/fs/bpf/findme"): the kernel gives us a new fd for the object pinned
        // there (and refuses if the path is not in a BPF file system).
        let map = MapHandle::from_pinned_path(path)
            .with_context(|| format!("no pinned map at {}", path.display()))?;
        // bpf_obj_get_info_by_fd(findme, &info, &len): a struct bpf_map_info.
        let info = map.info().context("reading the map's info")?;
        println!("Name: {}", info.name()?);
        println!("ID: {}", info.info.id);
        println!("Type: {}", type_name(info.info.type_));
        println!("Key: {} bytes", info.info.key_size);
        println!("Value: {} bytes", info.info.value_size);
        println!("Max entries: {}", info.info.max_entries);
        println!("BTF ID: {}", info.info.btf_id);
        // ANCHOR_END: find
        Ok(())
    })
}
