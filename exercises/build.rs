// Every exercise's build script: compile src/bpf/*.bpf.c and generate its skeleton.
fn main() {
    ebpf_support::build::skeletons();
}
