//! Kernel feature probes that examples use to pick an attach type or explain a refusal.

use std::path::Path;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Feature {
    /// kprobes and ksyscall programs (CONFIG_KPROBES and CONFIG_KPROBE_EVENTS).
    Kprobes,
    /// Kernel BTF, which CO-RE relocations are resolved against (CONFIG_DEBUG_INFO_BTF).
    Btf,
}

impl Feature {
    /// Why the feature is missing, for one-line messages.
    pub fn missing_reason(self) -> &'static str {
        match self {
            Feature::Kprobes => {
                "this kernel has no kprobes (CONFIG_KPROBES is off: /sys/bus/event_source/devices/kprobe is missing)"
            }
            Feature::Btf => {
                "this kernel has no BTF (CONFIG_DEBUG_INFO_BTF is off: /sys/kernel/btf/vmlinux is missing)"
            }
        }
    }
}

/// Whether the running kernel offers `feature`.
pub fn has(feature: Feature) -> bool {
    match feature {
        // The kprobe PMU is what libbpf uses to create kprobe perf events; without it every
        // kprobe and ksyscall attach fails with ENOENT.
        Feature::Kprobes => Path::new("/sys/bus/event_source/devices/kprobe/type").exists(),
        Feature::Btf => Path::new("/sys/kernel/btf/vmlinux").exists(),
    }
}
