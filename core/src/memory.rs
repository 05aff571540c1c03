//! This process's memory: its peak, for the benchmark report, and giving
//! back what a burst of large photos left behind.

/// Peak RSS in bytes (Linux `VmHWM`); `None` where the platform does not expose it.
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Gives freed memory back to the system. The allocator keeps what a burst
/// of large photos or uploads freed, for reuse; after the burst that would
/// stay resident for good. Called once a batch ends, and by `serve` once it
/// is idle again.
pub fn release_freed() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks the allocator's own free lists, under
    // its locks; it takes no pointers from us and is safe at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}
