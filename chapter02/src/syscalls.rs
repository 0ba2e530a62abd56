//! Syscall numbers for hello-tail, taken from the target's own table (`libc::SYS_*`).
//! The book's hello-tail.py hard-codes x86_64 numbers (59, 222–226), which mean other
//! syscalls on arm64.

/// The timer syscalls that the book routes to `hello_timer` (222–226 on x86_64).
pub const TIMER_SYSCALLS: [i64; 5] = [
    libc::SYS_timer_create,
    libc::SYS_timer_settime,
    libc::SYS_timer_gettime,
    libc::SYS_timer_getoverrun,
    libc::SYS_timer_delete,
];

/// Syscalls so frequent that printing each would drown the output; the book sends them to
/// `ignore_opcode`.
pub fn noisy_syscalls() -> Vec<i64> {
    let common = [
        libc::SYS_read,
        libc::SYS_write,
        libc::SYS_futex,
        libc::SYS_ppoll,
        libc::SYS_pselect6,
        libc::SYS_epoll_pwait,
        libc::SYS_clock_nanosleep,
        libc::SYS_nanosleep,
        libc::SYS_rt_sigprocmask,
        libc::SYS_sched_yield,
        libc::SYS_ioctl,
        libc::SYS_newfstatat,
    ];
    // Older calls that arm64 never had.
    #[cfg(target_arch = "x86_64")]
    let legacy = [
        libc::SYS_poll,
        libc::SYS_select,
        libc::SYS_epoll_wait,
        libc::SYS_fstat,
    ];
    #[cfg(not(target_arch = "x86_64"))]
    let legacy = [];
    common.into_iter().chain(legacy).collect()
}
