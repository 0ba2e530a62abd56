fn main() {
    ebpf_support::build::skeletons();
}
