//! Build-script side: compile every `src/bpf/*.bpf.c` of the calling package with clang and
//! generate a libbpf-rs skeleton for it in `OUT_DIR`.

use std::env;
use std::path::{Path, PathBuf};

/// Call from `build.rs`: `fn main() { ebpf_support::build::skeletons() }`.
pub fn skeletons() {
    skeletons_with(&[]);
}

/// Like `skeletons`, with more directories for `#include "…"`.
pub fn skeletons_with(include_dirs: &[PathBuf]) {
    if let Err(report) = try_skeletons(include_dirs) {
        stop(&report);
    }
}

/// Ends the build script with `report` as all it prints on stderr. A panic would print its
/// message a second time and add a backtrace, and cargo shows all of it to the reader.
fn stop(report: &str) -> ! {
    eprintln!("{}", report.trim_end());
    std::process::exit(1);
}

/// Fails with the report to print: clang's own diagnostics, or one `error:` line.
fn try_skeletons(include_dirs: &[PathBuf]) -> Result<(), String> {
    let package = Package::from_env().map_err(error)?;
    println!("cargo:rerun-if-env-changed=CLANG");
    println!("cargo:rerun-if-changed={}", package.bpf_dir.display());
    println!(
        "cargo:rerun-if-changed={}",
        package.include.join("vmlinux.h").display()
    );
    // Tests whose expectations depend on the compiler's code (the verifier's counts of
    // instructions) read which clang that was.
    println!(
        "cargo:rustc-env={CLANG_VERSION_VAR}={}",
        package.clang.version
    );
    let mut clang_args = package.clang_args();
    for dir in include_dirs {
        println!("cargo:rerun-if-changed={}", dir.display());
        clang_args.push(format!("-I{}", dir.display()));
    }
    // Written anew by each build; `variants` adds its objects.
    std::fs::write(package.out_dir.join(OBJECTS_FILE), "").map_err(error)?;

    let mut sources: Vec<PathBuf> = std::fs::read_dir(&package.bpf_dir)
        .map_err(|e| error(format!("cannot read {}: {e}", package.bpf_dir.display())))?
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
        let object = CompiledObject {
            object: format!("{name}.bpf.o"),
            source: path.clone(),
            clang: package.clang.path.clone(),
            args: clang_args.clone(),
        };
        object
            .compile(&object.source, &package.out_dir.join(&object.object))
            .map_err(CompileError::report)?;
        package.record(&object).map_err(error)?;
        let skeleton = package.out_dir.join(format!("{name}.skel.rs"));
        libbpf_cargo::SkeletonBuilder::new()
            .obj(package.out_dir.join(&object.object))
            .generate(&skeleton)
            .map_err(|e| error(format!("{}: {e:#}", path.display())))?;
        take_object_through_mutants(&skeleton, &package.name, &object.object).map_err(error)?;
    }
    Ok(())
}

/// Call from `build.rs` after `skeletons()`: compiles `src/bpf/FILE` once more for each of
/// `variants`, with `-DBREAK_NAME` (NAME in capitals, dashes as underscores), into
/// `OUT_DIR/STEM.NAME.bpf.o` (STEM with underscores, as the skeleton's). Chapter 6 keeps each of
/// the verifier's lessons as such a variant of one source; the binary embeds the objects.
pub fn variants(file: &str, variants: &[&str]) {
    if let Err(report) = try_variants(file, variants) {
        stop(&report);
    }
}

/// Call from `build.rs`: compiles another package's eBPF source (`../chapter02/src/bpf/x.bpf.c`)
/// with the arguments that package's own build uses, into `OUT_DIR/x.bpf.o` (dashes kept), and
/// returns the object's path. The benchmarks load it from C, beside the Rust example that
/// embeds the same object.
pub fn object_of(source: &Path) -> PathBuf {
    let compiled = Package::from_env().map_err(error).and_then(|mut package| {
        package.bpf_dir = source
            .parent()
            .ok_or_else(|| error(format!("{} has no folder", source.display())))?
            .to_path_buf();
        let file = source.file_name().unwrap_or_default().to_string_lossy();
        let path = package.out_dir.join(file.replace(".bpf.c", ".bpf.o"));
        println!("cargo:rerun-if-changed={}", source.display());
        let object = CompiledObject {
            object: path.display().to_string(),
            source: source.to_path_buf(),
            clang: package.clang.path.clone(),
            args: package.clang_args(),
        };
        object
            .compile(source, &path)
            .map_err(CompileError::report)?;
        Ok(path)
    });
    compiled.unwrap_or_else(|report| stop(&report))
}

/// The preprocessor symbol of a variant: `missing-null-check` is `BREAK_MISSING_NULL_CHECK`.
pub fn variant_define(name: &str) -> String {
    format!("BREAK_{}", name.to_uppercase().replace('-', "_"))
}

fn try_variants(file: &str, variants: &[&str]) -> Result<(), String> {
    let package = Package::from_env().map_err(error)?;
    let stem = file
        .strip_suffix(".bpf.c")
        .ok_or_else(|| error(format!("{file} is not a .bpf.c file")))?
        .replace('-', "_");
    for name in variants {
        let mut args = package.clang_args();
        args.push(format!("-D{}", variant_define(name)));
        let object = CompiledObject {
            object: format!("{stem}.{name}.bpf.o"),
            source: package.bpf_dir.join(file),
            clang: package.clang.path.clone(),
            args,
        };
        object
            .compile(&object.source, &package.out_dir.join(&object.object))
            .map_err(|e| match e {
                CompileError::Rejected(diagnostics) => {
                    format!("variant {name} of {file}:\n{diagnostics}")
                }
                CompileError::Failed(why) => error(format!("variant {name} of {file}: {why}")),
            })?;
        package.record(&object).map_err(error)?;
    }
    Ok(())
}

/// Why an object did not compile.
#[derive(Debug)]
pub enum CompileError {
    /// Clang rejected the program: its diagnostics.
    Rejected(String),
    /// Clang could not run, or libbpf-cargo failed after it.
    Failed(String),
}

impl CompileError {
    /// What to print: a mistake in the C program is best told by clang's own report.
    pub fn report(self) -> String {
        match self {
            CompileError::Rejected(diagnostics) => diagnostics,
            CompileError::Failed(why) => error(why),
        }
    }
}

fn error(message: impl std::fmt::Display) -> String {
    format!("error: {message}")
}

/// The variable, set at compile time for the package's crates, that holds the major version of
/// the clang that compiled its eBPF programs.
pub const CLANG_VERSION_VAR: &str = "LEARNING_EBPF_CLANG_VERSION";

/// The file in `OUT_DIR` that lists every object the build compiled, one `CompiledObject` a
/// line, so that `cargo xtask mutants` can compile a mutated source exactly the same way.
pub const OBJECTS_FILE: &str = "objects.tsv";

/// One object the build compiled, and how.
#[derive(Debug, PartialEq)]
pub struct CompiledObject {
    /// Its file name in `OUT_DIR` (`hello_verifier.bpf.o`), which is also the name
    /// `mutant::object` looks for.
    pub object: String,
    pub source: PathBuf,
    pub clang: PathBuf,
    pub args: Vec<String>,
}

impl CompiledObject {
    /// Compiles `source` (the recorded one, or a mutant of it) into `object_path` with the
    /// recorded clang and arguments, as libbpf-cargo does (it also links the object, which drops
    /// the DWARF that names temporary paths).
    pub fn compile(&self, source: &Path, object_path: &Path) -> Result<(), CompileError> {
        libbpf_cargo::SkeletonBuilder::new()
            .source(source)
            .obj(object_path)
            .clang(&self.clang)
            .clang_args(&self.args)
            .build()
            .map_err(|error| {
                let chain: Vec<String> = error.chain().map(|e| e.to_string()).collect();
                match compiler_diagnostics(&chain) {
                    Some(diagnostics) => CompileError::Rejected(diagnostics.to_string()),
                    None => CompileError::Failed(format!("{}: {error:#}", source.display())),
                }
            })
    }

    fn to_line(&self) -> String {
        let mut fields = vec![
            self.object.clone(),
            self.source.display().to_string(),
            self.clang.display().to_string(),
        ];
        fields.extend(self.args.iter().cloned());
        fields.join("\t")
    }

    fn from_line(line: &str) -> Option<Self> {
        let mut fields = line.split('\t');
        Some(CompiledObject {
            object: fields.next()?.to_string(),
            source: fields.next()?.into(),
            clang: fields.next()?.into(),
            args: fields.map(str::to_string).collect(),
        })
    }
}

/// The objects a package's build compiled, read from its `OUT_DIR`.
pub fn compiled_objects(out_dir: &Path) -> Result<Vec<CompiledObject>, String> {
    let path = out_dir.join(OBJECTS_FILE);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    text.lines()
        .map(|line| {
            CompiledObject::from_line(line).ok_or(format!("bad line in {}: {line}", path.display()))
        })
        .collect()
}

/// Compiles a mutant of `file` (in `src/bpf/`) into `into`: every object that the build whose
/// `OUT_DIR` is `out_dir` made from that file, compiled the same way from the mutated source,
/// under the object's own name. Returns how many objects that was.
pub fn compile_mutant(
    out_dir: &Path,
    file: &str,
    from: &str,
    to: &str,
    into: &Path,
) -> Result<usize, String> {
    let sources = into.join("src");
    std::fs::create_dir_all(&sources).map_err(|e| format!("{}: {e}", sources.display()))?;
    let mut compiled = 0;
    for object in compiled_objects(out_dir)?
        .iter()
        .filter(|o| o.source.file_name().is_some_and(|f| f == file))
    {
        let original = std::fs::read_to_string(&object.source)
            .map_err(|e| format!("{}: {e}", object.source.display()))?;
        let mutated = crate::needs::replace_once(&original, from, to)
            .map_err(|e| format!("{}: {e}", object.source.display()))?;
        let source = sources.join(file);
        std::fs::write(&source, mutated).map_err(|e| format!("{}: {e}", source.display()))?;
        object
            .compile(&source, &into.join(&object.object))
            .map_err(|e| format!("the mutant does not compile: {}", e.report()))?;
        compiled += 1;
    }
    if compiled == 0 {
        return Err(format!("the build compiles no object from {file}"));
    }
    Ok(compiled)
}

/// Makes the generated skeleton take its bytes through `mutant::object`, so that a mutant can
/// stand in for them at run time. Fails if libbpf-cargo's skeleton no longer has the one call
/// this replaces.
fn take_object_through_mutants(skeleton: &Path, package: &str, object: &str) -> Result<(), String> {
    const EMBEDDED: &str = "ObjectSkeletonConfigBuilder::new(&DATA)";
    let text = std::fs::read_to_string(skeleton).map_err(|e| e.to_string())?;
    if text.matches(EMBEDDED).count() != 1 {
        return Err(format!(
            "{}: the generated skeleton does not build its config from `{EMBEDDED}` once; \
             the libbpf-cargo version changed what build::skeletons relies on",
            skeleton.display()
        ));
    }
    let through = format!(
        "ObjectSkeletonConfigBuilder::new(::ebpf_support::mutant::object({package:?}, {object:?}, &DATA))"
    );
    std::fs::write(skeleton, text.replacen(EMBEDDED, &through, 1)).map_err(|e| e.to_string())
}

/// What every object of the package being built shares.
struct Package {
    name: String,
    bpf_dir: PathBuf,
    out_dir: PathBuf,
    include: PathBuf,
    clang: crate::clang::Clang,
}

impl Package {
    fn from_env() -> Result<Self, String> {
        let var = |name: &str| env::var(name).map_err(|e| format!("{name}: {e}"));
        let manifest_dir = PathBuf::from(var("CARGO_MANIFEST_DIR")?);
        let arch = var("CARGO_CFG_TARGET_ARCH")?;
        Ok(Package {
            name: var("CARGO_PKG_NAME")?,
            bpf_dir: manifest_dir.join("src/bpf"),
            out_dir: PathBuf::from(var("OUT_DIR")?),
            include: vmlinux_dir(&manifest_dir, &arch)?,
            clang: crate::clang::find()?,
        })
    }

    /// vmlinux.h's folder, and the source's own folder for its headers: a mutant is compiled
    /// from a copy elsewhere.
    fn clang_args(&self) -> Vec<String> {
        vec![
            format!("-I{}", self.include.display()),
            format!("-I{}", self.bpf_dir.display()),
            "-Wall".to_string(),
        ]
    }

    fn record(&self, object: &CompiledObject) -> Result<(), String> {
        use std::io::Write;
        let path = self.out_dir.join(OBJECTS_FILE);
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .and_then(|mut f| writeln!(f, "{}", object.to_line()))
            .map_err(|e| format!("{}: {e}", path.display()))
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
            .clang(crate::clang::find().unwrap().path)
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
