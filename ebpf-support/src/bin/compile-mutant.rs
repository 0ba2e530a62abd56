//! `compile-mutant OUT_DIR FILE FROM TO INTO`: compiles a mutant of `src/bpf/FILE` (FROM
//! replaced by TO) as the build whose `OUT_DIR` is given compiled the original, into the folder
//! INTO. `cargo xtask mutants` runs it; it is a program of its own because compiling needs
//! libbpf-cargo, which xtask must build without (xtask installs libelf and zlib, which
//! libbpf needs, before anything else is built).

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [out_dir, file, from, to, into] = &args[..] else {
        eprintln!("usage: compile-mutant OUT_DIR FILE FROM TO INTO");
        return std::process::ExitCode::from(2);
    };
    match ebpf_support::build::compile_mutant(out_dir.as_ref(), file, from, to, into.as_ref()) {
        Ok(count) => {
            println!("{count}");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            std::process::ExitCode::FAILURE
        }
    }
}
