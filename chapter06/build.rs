// The skeleton of hello-verifier.bpf.c, one more object per variant (src/variants.rs), and the
// list that embeds those objects in the binary.
use std::fmt::Write;

#[path = "src/variants.rs"]
#[allow(dead_code)]
mod variants;

fn main() {
    ebpf_support::build::skeletons();
    let names: Vec<&str> = variants::VARIANTS.iter().map(|v| v.name).collect();
    ebpf_support::build::variants("hello-verifier.bpf.c", &names);

    let out_dir = std::env::var("OUT_DIR").unwrap();
    let mut list = String::from("pub const OBJECTS: &[(&str, &[u8])] = &[\n");
    for name in names {
        writeln!(
            list,
            "    ({name:?}, include_bytes!(concat!(env!(\"OUT_DIR\"), \"/hello_verifier.{name}.bpf.o\"))),"
        )
        .unwrap();
    }
    list.push_str("];\n");
    std::fs::write(format!("{out_dir}/variant_objects.rs"), list).unwrap();
    println!("cargo:rerun-if-changed=src/variants.rs");
}
