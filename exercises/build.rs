// Every exercise's build script (and every solution's): compile src/bpf/*.bpf.c and generate
// its skeleton. Chapter 2's headers (hello-buffer.h) are found too, and those of chapters 4, 6
// and 8.
use std::path::Path;

fn main() {
    // Starters and solutions both sit two folders below the repository root.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    ebpf_support::build::skeletons_with(&[
        root.join("chapter02/src/bpf"),
        root.join("chapter04/src/bpf"),
        root.join("chapter06/src/bpf"),
        root.join("chapter08/src/bpf"),
    ]);
}
