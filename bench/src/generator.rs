//! The syscall generator of the buffers and counters cases: threads that call getppid(2) in a
//! loop, the cheapest system call there is (glibc does not cache it), so that the eBPF program
//! on its tracepoint is most of what each call costs.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use libbpf_rs::{Link, ProgramMut, TracepointCategory};

/// Attaches `program` to the tracepoint that the generator's calls hit.
pub fn attach(program: &ProgramMut) -> Result<Link> {
    ebpf_support::tracefs()?;
    program
        .attach_tracepoint(
            TracepointCategory::Custom("syscalls".into()),
            "sys_enter_getppid",
        )
        .context("attaching to the tracepoint syscalls/sys_enter_getppid")
}

/// How long the generator runs.
#[derive(Clone, Copy, Debug)]
pub enum Until {
    /// This many calls in all, shared out among the threads.
    Calls(u64),
    Elapsed(Duration),
}

/// What a run of the generator did.
#[derive(Clone, Copy, Debug)]
pub struct Generated {
    pub calls: u64,
    pub elapsed: Duration,
}

/// Calls getppid() from `threads` threads, thread i pinned to CPU i (modulo the CPUs this
/// process may use), so that two threads run on two cores.
pub fn run(threads: usize, until: Until) -> Result<Generated> {
    let cpus = allowed_cpus()?;
    let stop = AtomicBool::new(false);
    let started = Instant::now();
    let calls = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|i| {
                let cpu = cpus[i % cpus.len()];
                let stop = &stop;
                let share = match until {
                    Until::Calls(n) => {
                        Some(n / threads as u64 + u64::from((i as u64) < n % threads as u64))
                    }
                    Until::Elapsed(_) => None,
                };
                scope.spawn(move || -> Result<u64> {
                    pin_to(cpu)?;
                    Ok(call_getppid(share, stop))
                })
            })
            .collect();
        if let Until::Elapsed(duration) = until {
            std::thread::sleep(duration);
            stop.store(true, Ordering::Relaxed);
        }
        workers
            .into_iter()
            .map(|w| w.join().expect("a generator thread panicked"))
            .sum::<Result<u64>>()
    })?;
    Ok(Generated {
        calls,
        elapsed: started.elapsed(),
    })
}

fn call_getppid(count: Option<u64>, stop: &AtomicBool) -> u64 {
    let mut calls = 0;
    while count.map_or(!stop.load(Ordering::Relaxed), |n| calls < n) {
        // SAFETY: getppid has no arguments and cannot fail.
        unsafe { libc::getppid() };
        calls += 1;
    }
    calls
}

/// The CPUs this process may run on, in order.
pub fn allowed_cpus() -> Result<Vec<usize>> {
    // SAFETY: cpu_set_t is plain data, and the kernel fills at most its size.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: as above; 0 is this thread.
    if unsafe { libc::sched_getaffinity(0, std::mem::size_of_val(&set), &mut set) } != 0 {
        bail!("sched_getaffinity: {}", std::io::Error::last_os_error());
    }
    // SAFETY: CPU_ISSET only reads the set.
    let cpus: Vec<usize> = (0..libc::CPU_SETSIZE as usize)
        .filter(|&cpu| unsafe { libc::CPU_ISSET(cpu, &set) })
        .collect();
    Ok(cpus)
}

/// Pins the calling thread (or, in a child between fork and exec, the child) to one CPU.
pub fn pin_to(cpu: usize) -> std::io::Result<()> {
    // SAFETY: as in allowed_cpus; CPU_SET writes only into the set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    unsafe { libc::CPU_SET(cpu, &mut set) };
    // SAFETY: a plain system call on a set of the right size.
    match unsafe { libc::sched_setaffinity(0, std::mem::size_of_val(&set), &set) } {
        0 => Ok(()),
        _ => Err(std::io::Error::last_os_error()),
    }
}
