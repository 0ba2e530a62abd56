//! An eBPF program's global variables as user space sees them: libbpf maps the object's .bss
//! into this process, and the kernel writes it behind Rust's back, so every access is volatile.

pub fn read<T: Copy>(global: &T) -> T {
    // SAFETY: the reference is live and aligned; the read only has to happen now.
    unsafe { std::ptr::read_volatile(global) }
}

pub fn write<T>(global: &mut T, value: T) {
    // SAFETY: as in `read`.
    unsafe { std::ptr::write_volatile(global, value) }
}
