//! Learning eBPF, chapter 6, “The eBPF Verifier” (hello-verifier.c): loads the book's two
//! programs and always prints the verifier's log, as the book's loader does with
//! `kernel_log_level`: the summary when the verifier accepts a program, the path that failed
//! when it rejects one. `--break NAME` loads one of the book's mistakes instead.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use chapter06::cfg;
use chapter06::loader::load_with_logs;
use chapter06::variants::{self, VARIANTS, Variant};
use clap::Parser;
use ebpf_support::needs::{Hook, HookKind};
use ebpf_support::{Run, c_string};
use libbpf_rs::query::{ProgInfoIter, ProgInfoQueryOptions};
use libbpf_rs::{MapCore, MapFlags, Object, PerfBufferBuilder, Program};

ebpf_support::skeleton!(hello_verifier_types);
use hello_verifier_types::types::{data_t, msg_t};

unsafe impl plain::Plain for data_t {}
unsafe impl plain::Plain for msg_t {}

/// Load the book's kprobe on execve and its XDP program, printing the verifier's log, then send
/// an event per execve (Learning eBPF, chapter 6, “The eBPF Verifier”, hello-verifier.c).
///
/// Prints the log of each program, then one line per event: `PID UID COUNTER COMMAND MESSAGE`.
/// With --break NAME it loads one of the book's mistakes instead, prints the log and a line
/// naming the mistake, and exits (non-zero when the verifier rejects it). xdp_hello is loaded,
/// not attached.
#[derive(Parser)]
#[command(name = "hello-verifier")]
struct Args {
    /// Load the variant NAME, which makes one of the book's mistakes (see --list).
    #[arg(long = "break", value_name = "NAME", value_parser = variant)]
    variant: Option<&'static Variant>,
    /// List the variants, with the book section each comes from.
    #[arg(long)]
    list: bool,
    /// Write the control-flow graph of the loaded program (see --cfg-program) to FILE, in
    /// Graphviz's DOT, and render FILE.png when Graphviz's `dot` is installed.
    #[arg(long, value_name = "FILE")]
    cfg: Option<PathBuf>,
    /// The program whose graph --cfg writes.
    #[arg(long, value_name = "PROGRAM", default_value = "kprobe_exec")]
    cfg_program: String,
    /// Force a hook for kprobe_exec: `kprobe` (the book's) or `tracepoint` (its stand-in where a
    /// kernel has no kprobes). By default the book's, where this kernel has it.
    #[arg(long, value_name = "HOOK", value_parser = execve_hook)]
    attach: Option<HookKind>,
    #[command(flatten)]
    trigger: ebpf_support::ExecTrigger,
    /// (--verbose also asks the verifier for log level 2: every instruction of every path.)
    #[command(flatten)]
    run: ebpf_support::RunArgs,
}

fn variant(name: &str) -> Result<&'static Variant, String> {
    variants::find(name).ok_or_else(|| {
        let names: Vec<&str> = VARIANTS.iter().map(|v| v.name).collect();
        format!("no variant {name:?}; there are {}", names.join(", "))
    })
}

fn execve_hook(value: &str) -> Result<HookKind, String> {
    match value {
        "kprobe" => Ok(HookKind::Kprobe),
        "tracepoint" => Ok(HookKind::Tracepoint),
        _ => Err("kprobe_exec attaches to `kprobe` or `tracepoint`".into()),
    }
}

fn main() -> std::process::ExitCode {
    if std::env::args().any(|a| a == "--list") {
        // Listing needs neither root nor a kernel.
        list();
        return std::process::ExitCode::SUCCESS;
    }
    ebpf_support::main(&chapter06::HELLO_VERIFIER, |args: Args| {
        let level = if args.run.verbose { 2 } else { 1 };
        let bytes = chapter06::object(args.variant.map(|v| v.name)).context("no such object")?;
        // The variants are loaded as the book's program types, which any kernel can verify
        // (loading a kprobe program needs no kprobes); the unbroken program is attached, so
        // kprobe_exec gets the hook this kernel has.
        let mut hook = None;
        // ANCHOR: load
        let loaded = load_with_logs(bytes, level, |open| {
            if args.variant.is_none() {
                let mut program = open
                    .progs_mut()
                    .find(|p| p.name() == "kprobe_exec")
                    .context("no kprobe_exec in the object")?;
                hook = Some(ebpf_support::choose_hook(
                    &chapter06::HELLO_VERIFIER,
                    &mut program,
                    args.attach,
                )?);
            }
            Ok(())
        })?;
        // The book prints the log whatever the outcome.
        loaded.print_logs();
        // ANCHOR_END: load
        let rejected = loaded.rejected().map(|(p, what)| (p.to_string(), what));
        let object = match (loaded.object, rejected, args.variant) {
            (Ok(object), _, _) => object,
            (Err(error), None, _) => {
                return Err(anyhow::Error::from(error).context("loading the programs"));
            }
            (Err(_), Some((program, what)), Some(v)) => bail!(
                "the verifier rejected {program}: {what} (variant {}: {}; book: “{}”)",
                v.name,
                v.change,
                v.book
            ),
            (Err(_), Some((program, what)), None) => {
                bail!("the verifier rejected {program}: {what}")
            }
        };
        let ids: Vec<String> = object
            .progs()
            .map(|p| format!("{} (id {})", p.name().to_string_lossy(), program_id(&p)))
            .collect();
        eprintln!("hello-verifier: loaded {}", ids.join(" and "));
        if let Some(file) = &args.cfg {
            write_cfg(&object, &args.cfg_program, file)?;
        }
        if let Some(v) = args.variant {
            eprintln!(
                "hello-verifier: the verifier accepted variant {} ({}; book: “{}”){}",
                v.name,
                v.change,
                v.book,
                if v.loads {
                    ""
                } else {
                    ", which the book expects it to reject"
                }
            );
            return Ok(());
        }
        run(&object, hook.context("no hook chosen")?, &args)
    })
}

fn list() {
    println!("Variants of hello-verifier.bpf.c (hello-verifier --break NAME):");
    for v in VARIANTS {
        let verdict = if v.loads { "loads" } else { "rejected" };
        println!(
            "  {:<22} {:<12} {:<9} {} (book: “{}”)",
            v.name, v.program, verdict, v.change, v.book
        );
    }
}

fn program_id(program: &Program) -> u32 {
    Program::id_from_fd(std::os::fd::AsFd::as_fd(program)).unwrap_or(0)
}

/// `bpftool prog dump xlated id N visual`, and `dot -Tpng`.
fn write_cfg(object: &Object, name: &str, file: &Path) -> Result<()> {
    let program = object
        .progs()
        .find(|p| p.name() == name)
        .with_context(|| format!("--cfg-program {name}: no such program in the object"))?;
    let id = program_id(&program);
    let options = ProgInfoQueryOptions::default().include_xlated_prog_insns(true);
    let info = ProgInfoIter::with_query_opts(options)
        .find(|info| info.id == id)
        .context("the kernel has no info about the loaded program")?;
    let insns = chapter03::disasm::decode(&info.xlated_prog_insns);
    std::fs::write(file, cfg::dot(name, &insns, &cfg::KernelHelpers::read()))
        .with_context(|| format!("writing {}", file.display()))?;
    let png = file.with_extension("png");
    match Command::new("dot")
        .arg("-Tpng")
        .arg(file)
        .arg("-o")
        .arg(&png)
        .output()
    {
        Ok(out) if out.status.success() => eprintln!(
            "hello-verifier: wrote the control-flow graph of {name} to {} and {}",
            file.display(),
            png.display()
        ),
        Ok(out) => bail!(
            "dot -Tpng {}: {}",
            file.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ),
        Err(_) => eprintln!(
            "hello-verifier: wrote the control-flow graph of {name} to {}; Graphviz's dot is not installed, so no image (cargo xtask setup installs it)",
            file.display()
        ),
    }
    Ok(())
}

/// The rest of the book's loader: a message for user 501, attach, read the perf buffer.
fn run(object: &Object, hook: Hook, args: &Args) -> Result<()> {
    let map = |name: &str| {
        object
            .maps()
            .find(|m| m.name() == name)
            .with_context(|| format!("no map {name}"))
    };
    let mut message = msg_t::default();
    for (byte, c) in message.message.iter_mut().zip(b"hello Liz") {
        *byte = *c as i8;
    }
    map("my_config")?
        .update(
            &501u32.to_ne_bytes(),
            unsafe { plain::as_bytes(&message) },
            MapFlags::ANY,
        )
        .context("writing the message for UID 501")?;

    let program = object
        .progs_mut()
        .find(|p| p.name() == "kprobe_exec")
        .context("no kprobe_exec")?;
    let _link = ebpf_support::attach_to(hook, &program)?;
    eprintln!(
        "hello-verifier: attached kprobe_exec ({hook}); reading the perf buffer, Ctrl-C to stop"
    );

    let run = Run::new(&args.run);
    let _trigger = args.trigger.start();
    let output = map("output")?;
    let perf = PerfBufferBuilder::new(&output)
        .sample_cb(|_cpu, bytes: &[u8]| {
            let mut data = data_t::default();
            if plain::copy_from_bytes(&mut data, bytes).is_ok() && run.record() {
                println!(
                    "{:<6} {:<6} {:<4} {:<16} {}",
                    data.pid,
                    data.uid,
                    data.counter,
                    c_string(&data.command),
                    c_string(&data.message)
                );
            }
        })
        .lost_cb(|cpu, lost| eprintln!("lost {lost} events on CPU {cpu}"))
        .build()
        .context("opening the perf buffer")?;
    while !run.finished() {
        perf.poll(run.poll_interval())?;
    }
    Ok(())
}
