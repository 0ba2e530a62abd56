//! Exercise 1 of Learning eBPF's chapter 5: hello-buffer-config, loaded and attached, with its
//! config map and its program pinned, so that bpftool can find them by every kind of handle.
//! The exercise is in commands.sh; this program stays as it is.

use std::mem::MaybeUninit;
use std::path::Path;

use anyhow::Context;
use clap::Parser;
use ebpf_support::{Run, RunArgs};
use libbpf_rs::query::ProgInfoIter;
use libbpf_rs::skel::{OpenSkel, SkelBuilder};
use libbpf_rs::{MapCore, Program};
use std::os::fd::AsFd;

ebpf_support::skeleton!(hello_buffer_config);
use hello_buffer_config::HelloBufferConfigSkelBuilder;

/// Where the map and the program are pinned while this runs.
const PINS: &str = "/sys/fs/bpf/ch05-1-btf-handles";

/// Runs hello-buffer-config with `my_config` and `hello` pinned under /sys/fs/bpf/ch05-1-btf-handles,
/// and prints their IDs and the program's tag (Learning eBPF, chapter 5, exercise 1).
#[derive(Parser)]
#[command(name = "ch05-1-btf-handles")]
struct Args {
    #[command(flatten)]
    run: RunArgs,
}

/// Removes the pins however the program ends.
struct Pins;

impl Drop for Pins {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(PINS);
    }
}

fn main() -> std::process::ExitCode {
    ebpf_support::main(&chapter05::HELLO_BUFFER_CONFIG_CORE, |args: Args| {
        let mut object = MaybeUninit::uninit();
        let mut open = HelloBufferConfigSkelBuilder::default().open(&mut object)?;
        let hook = ebpf_support::choose_hook(
            &chapter05::HELLO_BUFFER_CONFIG_CORE,
            &mut open.progs.hello,
            None,
        )?;
        let mut skel = open.load()?;
        let _link = ebpf_support::attach_to(hook, &skel.progs.hello)?;

        std::fs::create_dir_all(PINS).with_context(|| format!("creating {PINS}"))?;
        let _pins = Pins;
        let map_pin = Path::new(PINS).join("my_config");
        let prog_pin = Path::new(PINS).join("hello");
        skel.maps.my_config.pin(&map_pin)?;
        skel.progs.hello.pin(&prog_pin)?;

        let map_id = skel.maps.my_config.info()?.info.id;
        let prog_id = Program::id_from_fd(skel.progs.hello.as_fd())?;
        let tag = ProgInfoIter::default()
            .find(|prog| prog.id == prog_id)
            .map(|prog| {
                prog.tag
                    .0
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect::<String>()
            })
            .context("reading the program's tag")?;
        eprintln!(
            "ch05-1-btf-handles: attached ({hook}); my_config is pinned at {}, hello at {}",
            map_pin.display(),
            prog_pin.display()
        );
        // The values that commands.sh can use, in a line the shell can run.
        println!("export MAP_ID={map_id} PROG_ID={prog_id} PROG_TAG={tag}");

        let run = Run::new(&args.run);
        while !run.finished() {
            run.sleep(run.poll_interval());
        }
        Ok(())
    })
}
