//! Mutants at run time. `cargo xtask mutants` compiles a wrong version of one eBPF program into
//! a folder and runs the example's tests with two variables set: the package and that folder.
//! Every object of that package is then taken from the folder when it holds one of that name,
//! and from the bytes embedded at build time otherwise. Nothing is rebuilt, so a mutant costs
//! one clang run instead of relinking every binary and test of its chapter.
//!
//! The skeletons that `build::skeletons` generates call `object` for their bytes; an example
//! that embeds an object itself (`include_bytes!`) calls it too.

use std::path::Path;

/// The package whose objects the mutant replaces.
pub const PACKAGE_VAR: &str = "LEARNING_EBPF_MUTANT_PACKAGE";
/// The folder that holds the mutant's objects, named as the build names them (`hello.bpf.o`).
pub const OBJECTS_VAR: &str = "LEARNING_EBPF_MUTANT_OBJECTS";

/// The object `file` of `package`: the mutant's, while a mutant of that package is being
/// tested and its folder holds one of that name, else `embedded`.
pub fn object(package: &str, file: &str, embedded: &'static [u8]) -> &'static [u8] {
    if std::env::var(PACKAGE_VAR).ok().as_deref() != Some(package) {
        return embedded;
    }
    let Some(dir) = std::env::var_os(OBJECTS_VAR) else {
        return embedded;
    };
    match std::fs::read(Path::new(&dir).join(file)) {
        // Leaked: libbpf-rs keeps a skeleton's bytes for as long as the program runs.
        Ok(bytes) => Box::leak(bytes.into_boxed_slice()),
        Err(_) => embedded,
    }
}
