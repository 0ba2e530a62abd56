// Every exercise's build script (and every solution's): compile src/bpf/*.bpf.c and generate
// its skeleton. Headers shared by the exercises live in exercises/include/.
use std::path::Path;

fn main() {
    // Starters and solutions both sit two folders below the repository root.
    let include = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../exercises/include");
    ebpf_support::build::skeletons_with(&[include]);
}
