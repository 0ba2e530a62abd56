//! Learning eBPF, chapter 3, exercise 1: writes the compiled hello.bpf.o (the book's XDP hello,
//! built by `cargo build`) into the current directory, for `ip link set … xdp obj hello.bpf.o`.

fn main() -> anyhow::Result<()> {
    let object = concat!(env!("OUT_DIR"), "/hello.bpf.o");
    std::fs::copy(object, "hello.bpf.o")?;
    println!("wrote hello.bpf.o (the book's hello.bpf.c, compiled with clang -target bpf -g -O2)");
    Ok(())
}
