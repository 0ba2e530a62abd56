//! Build-script side: compile every `src/bpf/*.bpf.c` of the calling package with clang and
//! generate a libbpf-rs skeleton for it in `OUT_DIR`.

use std::env;
use std::path::{Path, PathBuf};

use crate::needs::MUTANT_VARS;

/// Call from `build.rs`: `fn main() { ebpf_support::build::skeletons() }`.
pub fn skeletons() {
    skeletons_with(&[]);
}

/// Like `skeletons`, with more directories for `#include "…"`.
pub fn skeletons_with(include_dirs: &[PathBuf]) {
    if let Err(message) = try_skeletons(include_dirs) {
        stop(&format!("error: {message}"));
    }
}

/// Ends the build script with `report` as all it prints on stderr. A panic would print its
/// message a second time and add a backtrace, and cargo shows all of it to the reader.
fn stop(report: &str) -> ! {
    eprintln!("{}", report.trim_end());
    std::process::exit(1);
}

fn try_skeletons(include_dirs: &[PathBuf]) -> Result<(), String> {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").map_err(|e| e.to_string())?);
    let out_dir = PathBuf::from(env::var("OUT_DIR").map_err(|e| e.to_string())?);
    let bpf_dir = manifest_dir.join("src/bpf");
    let clang = find_clang()?;
    let arch = env::var("CARGO_CFG_TARGET_ARCH").map_err(|e| e.to_string())?;
    let include = vmlinux_dir(&manifest_dir, &arch)?;

    println!("cargo:rerun-if-env-changed=CLANG");
    for var in MUTANT_VARS {
        println!("cargo:rerun-if-env-changed={var}");
    }
    let mutant = mutant_from_env();
    println!("cargo:rerun-if-changed={}", bpf_dir.display());
    println!(
        "cargo:rerun-if-changed={}",
        include.join("vmlinux.h").display()
    );
    // The source's own folder too, for a mutant compiled from OUT_DIR.
    let mut clang_args = vec![
        format!("-I{}", include.display()),
        format!("-I{}", bpf_dir.display()),
        "-Wall".to_string(),
    ];
    for dir in include_dirs {
        println!("cargo:rerun-if-changed={}", dir.display());
        clang_args.push(format!("-I{}", dir.display()));
    }

    let mut sources: Vec<PathBuf> = std::fs::read_dir(&bpf_dir)
        .map_err(|e| format!("cannot read {}: {e}", bpf_dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .collect();
    sources.sort();
    for path in &sources {
        let file = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if file.ends_with(".h") {
            println!("cargo:rerun-if-changed={}", path.display());
        }
        let Some(stem) = file.strip_suffix(".bpf.c") else {
            continue;
        };
        println!("cargo:rerun-if-changed={}", path.display());
        // The skeleton's module and type names come from the object's file name, so the
        // book's dashed names (hello-buffer.bpf.c) become hello_buffer.
        let name = stem.replace('-', "_");
        let source = match &mutant {
            Some(mutant) if mutant.file == file => mutant.apply(path, &out_dir)?,
            _ => path.clone(),
        };
        let mut skeleton = libbpf_cargo::SkeletonBuilder::new();
        skeleton
            .source(&source)
            .obj(out_dir.join(format!("{name}.bpf.o")))
            .clang(&clang)
            .clang_args(&clang_args);
        if let Err(error) = skeleton.build() {
            let chain: Vec<String> = error.chain().map(|e| e.to_string()).collect();
            if let Some(diagnostics) = compiler_diagnostics(&chain) {
                // A mistake in the C program: clang's own report says all there is to say.
                stop(diagnostics);
            }
            return Err(format!("{}: {error:#}", path.display()));
        }
        skeleton
            .generate(out_dir.join(format!("{name}.skel.rs")))
            .map_err(|e| format!("{}: {e:#}", path.display()))?;
    }
    Ok(())
}

/// Call from `build.rs` after `skeletons()`: compiles `src/bpf/FILE` once more for each of
/// `variants`, with `-DBREAK_NAME` (NAME in capitals, dashes as underscores), into
/// `OUT_DIR/STEM.NAME.bpf.o` (STEM with underscores, as the skeleton's). Chapter 6 keeps each of
/// the verifier's lessons as such a variant of one source; the binary embeds the objects.
pub fn variants(file: &str, variants: &[&str]) {
    if let Err(message) = try_variants(file, variants) {
        stop(&format!("error: {message}"));
    }
}

/// The preprocessor symbol of a variant: `missing-null-check` is `BREAK_MISSING_NULL_CHECK`.
pub fn variant_define(name: &str) -> String {
    format!("BREAK_{}", name.to_uppercase().replace('-', "_"))
}

fn try_variants(file: &str, variants: &[&str]) -> Result<(), String> {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").map_err(|e| e.to_string())?);
    let out_dir = PathBuf::from(env::var("OUT_DIR").map_err(|e| e.to_string())?);
    let bpf_dir = manifest_dir.join("src/bpf");
    let arch = env::var("CARGO_CFG_TARGET_ARCH").map_err(|e| e.to_string())?;
    let include = vmlinux_dir(&manifest_dir, &arch)?;
    let clang = find_clang()?;
    let original = bpf_dir.join(file);
    let source = match mutant_from_env() {
        Some(mutant) if mutant.file == file => mutant.apply(&original, &out_dir)?,
        _ => original,
    };
    let stem = file
        .strip_suffix(".bpf.c")
        .ok_or_else(|| format!("{file} is not a .bpf.c file"))?
        .replace('-', "_");
    for name in variants {
        let object = out_dir.join(format!("{stem}.{name}.bpf.o"));
        let args = vec![
            format!("-I{}", include.display()),
            format!("-I{}", bpf_dir.display()),
            "-Wall".to_string(),
            format!("-D{}", variant_define(name)),
        ];
        let mut builder = libbpf_cargo::SkeletonBuilder::new();
        builder
            .source(&source)
            .obj(&object)
            .clang(&clang)
            .clang_args(&args);
        if let Err(error) = builder.build() {
            let chain: Vec<String> = error.chain().map(|e| e.to_string()).collect();
            if let Some(diagnostics) = compiler_diagnostics(&chain) {
                stop(&format!("variant {name} of {file}:\n{diagnostics}"));
            }
            return Err(format!("variant {name} of {file}: {error:#}"));
        }
    }
    Ok(())
}

struct MutantSource {
    file: String,
    from: String,
    to: String,
}

/// The mutant asked for, if it is one of this package's programs.
fn mutant_from_env() -> Option<MutantSource> {
    let [package, file, from, to] = MUTANT_VARS.map(|var| env::var(var).ok());
    if package? != env::var("CARGO_PKG_NAME").ok()? {
        return None;
    }
    Some(MutantSource {
        file: file?,
        from: from?,
        to: to?,
    })
}

impl MutantSource {
    /// Writes the mutated program to OUT_DIR and returns its path. The text to replace must
    /// occur exactly once, so that a mutant cannot silently stop applying.
    fn apply(&self, original: &Path, out_dir: &Path) -> Result<PathBuf, String> {
        let text = std::fs::read_to_string(original).map_err(|e| e.to_string())?;
        let found = text.matches(self.from.as_str()).count();
        if found != 1 {
            return Err(format!(
                "mutant of {}: `{}` occurs {found} times, not once",
                original.display(),
                self.from
            ));
        }
        let dir = out_dir.join("mutant");
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let path = dir.join(&self.file);
        std::fs::write(&path, text.replacen(&self.from, &self.to, 1)).map_err(|e| e.to_string())?;
        Ok(path)
    }
}

/// Clang's diagnostics, when clang ran and rejected the program. libbpf-cargo 0.27 makes clang's
/// stderr the root cause of its error (`chain` lists the messages outermost first), right under a
/// "command `…` failed" context that holds the whole command line.
fn compiler_diagnostics(chain: &[String]) -> Option<&str> {
    match chain {
        [.., command, stderr] if command.starts_with("command `") => Some(stderr),
        _ => None,
    }
}

/// `CLANG` wins; otherwise the newest clang on PATH (see `crate::clang` for the minimum).
fn find_clang() -> Result<PathBuf, String> {
    crate::clang::find().map(|clang| clang.path)
}

/// The `vmlinux.h` for the target architecture, kept in the repository's `vmlinux/<arch>/`: the
/// nearest one above the package being built. It is looked up at run time because cargo does not
/// rebuild a build script when its checkout is copied or moved, so a path compiled in (like
/// `env!("CARGO_MANIFEST_DIR")`) can name the original checkout, or one that is gone.
fn vmlinux_dir(package_dir: &Path, arch: &str) -> Result<PathBuf, String> {
    package_dir
        .ancestors()
        .map(|dir| dir.join("vmlinux").join(arch))
        .find(|dir| dir.join("vmlinux.h").is_file())
        .ok_or_else(|| {
            format!(
                "no vmlinux/{arch}/vmlinux.h in {} or above: generate it with `cargo xtask vmlinux`",
                package_dir.display()
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diagnostics_are_the_root_cause_under_the_command() {
        let chain = [
            "failed to build `a.bpf.c`",
            "failed to compile `a.bpf.c`",
            "command `clang -g -O2 -target bpf -c a.bpf.c -o a.o` failed (exit status: 1)",
            "a.bpf.c:1:25: error: expected ';' after return statement\n1 error generated.\n",
        ]
        .map(String::from);
        assert_eq!(
            compiler_diagnostics(&chain),
            Some("a.bpf.c:1:25: error: expected ';' after return statement\n1 error generated.\n")
        );
        let no_clang = [
            "failed to build `a.bpf.c`",
            "failed to compile `a.bpf.c`",
            "failed to execute `clang-19`",
            "No such file or directory (os error 2)",
        ]
        .map(String::from);
        assert_eq!(compiler_diagnostics(&no_clang), None);
    }

    #[test]
    fn a_variant_is_a_preprocessor_symbol() {
        assert_eq!(
            variant_define("missing-null-check"),
            "BREAK_MISSING_NULL_CHECK"
        );
    }

    #[test]
    fn vmlinux_is_found_above_chapters_and_exercises() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        for package in [
            "chapter02",
            "exercises/ch02-1-odd-even",
            "solutions/ch02-1-odd-even",
        ] {
            assert_eq!(
                vmlinux_dir(&root.join(package), "x86_64"),
                Ok(root.join("vmlinux/x86_64"))
            );
        }
        assert!(vmlinux_dir(&root.join("chapter02"), "sparc64").is_err());
    }

    /// The shape above is libbpf-cargo's: a real clang rejecting a real file.
    #[test]
    fn libbpf_cargo_reports_clang_errors_that_way() {
        let dir = env::temp_dir().join(format!("ebpf-support-build-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let source = dir.join("broken.bpf.c");
        std::fs::write(&source, "int broken(void) { return 0 }\n").unwrap();
        let error = libbpf_cargo::SkeletonBuilder::new()
            .source(&source)
            .obj(dir.join("broken.bpf.o"))
            .clang(find_clang().unwrap())
            .build()
            .unwrap_err();
        std::fs::remove_dir_all(&dir).unwrap();
        let chain: Vec<String> = error.chain().map(|e| e.to_string()).collect();
        let diagnostics = compiler_diagnostics(&chain).expect("clang's diagnostics");
        assert!(diagnostics.contains("broken.bpf.c:1:"), "{diagnostics}");
        assert!(diagnostics.contains("error: expected ';'"), "{diagnostics}");
        assert!(!diagnostics.contains("-target"), "{diagnostics}");
    }
}
