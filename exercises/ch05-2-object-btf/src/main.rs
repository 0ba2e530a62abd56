//! Exercise 2 of Learning eBPF's chapter 5: hello-buffer-config, loaded and attached, with the
//! path of the object file it was loaded from. The exercise is in answer.sh; this program stays
//! as it is.

use std::mem::MaybeUninit;
use std::os::fd::AsFd;

use clap::Parser;
use ebpf_support::{Run, RunArgs};
use libbpf_rs::Program;
use libbpf_rs::skel::{OpenSkel, SkelBuilder};

ebpf_support::skeleton!(hello_buffer_config);
use hello_buffer_config::HelloBufferConfigSkelBuilder;

/// The object file that the build compiled, which the skeleton embeds.
const OBJECT: &str = concat!(env!("OUT_DIR"), "/hello_buffer_config.bpf.o");

/// Runs hello-buffer-config and prints its program's ID and the path of its object file
/// (Learning eBPF, chapter 5, exercise 2).
#[derive(Parser)]
#[command(name = "ch05-2-object-btf")]
struct Args {
    #[command(flatten)]
    run: RunArgs,
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
        let skel = open.load()?;
        let _link = ebpf_support::attach_to(hook, &skel.progs.hello)?;
        let prog_id = Program::id_from_fd(skel.progs.hello.as_fd())?;
        eprintln!("ch05-2-object-btf: attached ({hook}); Ctrl-C to stop");
        // The values that answer.sh can use, in a line the shell can run.
        println!("export PROG_ID={prog_id} OBJECT={OBJECT}");

        let run = Run::new(&args.run);
        while !run.finished() {
            run.sleep(run.poll_interval());
        }
        Ok(())
    })
}
