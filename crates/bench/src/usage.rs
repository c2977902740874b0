//! What this process uses: CPU time and resident memory, from `/proc` (Linux only; `None`
//! elsewhere, and the reports print n/a).

/// CPU seconds (user and system, every thread) this process has used, from
/// `/proc/self/stat` (its clock ticks are 1/100 s on every Linux ABI).
pub(crate) fn process_cpu_secs() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The fields after the command name, which is in parentheses and may hold spaces.
    let (_, after) = stat.rsplit_once(')')?;
    let fields: Vec<&str> = after.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line: 12 and 13 after the name.
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / 100.0)
}

/// The process's resident memory, from `/proc/self/status`.
#[derive(Clone, Copy)]
pub(crate) struct Memory {
    /// Resident now, in bytes.
    pub(crate) rss: u64,
    /// The most resident since the peak was last reset, in bytes.
    pub(crate) peak: u64,
}

impl Memory {
    /// Now.
    pub(crate) fn now() -> Option<Self> {
        Self::from_status("/proc/self/status")
    }

    /// Process `pid`'s, now.
    pub(crate) fn of(pid: u32) -> Option<Self> {
        Self::from_status(&format!("/proc/{pid}/status"))
    }

    fn from_status(path: &str) -> Option<Self> {
        let status = std::fs::read_to_string(path).ok()?;
        let field = |name: &str| -> Option<u64> {
            let kib: u64 = status
                .lines()
                .find_map(|l| l.strip_prefix(name))?
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse()
                .ok()?;
            Some(kib * 1024)
        };
        Some(Self {
            rss: field("VmRSS:")?,
            peak: field("VmHWM:")?,
        })
    }

    /// Resets the peak to the current resident size (`clear_refs` 5) and answers that.
    pub(crate) fn reset_peak() -> Option<Self> {
        std::fs::write("/proc/self/clear_refs", "5").ok()?;
        Self::now()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn process_cpu_time_is_read_and_grows_with_work_on_linux() {
        let Some(before) = process_cpu_secs() else {
            // Not Linux, or /proc is not mounted: the bench prints n/a.
            return;
        };
        let spin = Instant::now();
        let mut x = 0u64;
        while spin.elapsed() < Duration::from_millis(100) {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
        }
        let after = process_cpu_secs().expect("read again");
        assert!(after - before >= 0.05, "{before} -> {after}");
    }

    #[test]
    fn resident_memory_is_read_and_its_peak_reset_on_linux() {
        let Some(now) = Memory::reset_peak() else {
            // Not Linux, or /proc is not mounted: the bench prints n/a.
            return;
        };
        assert!(
            now.rss > 0 && now.peak >= now.rss / 2,
            "{}/{}",
            now.rss,
            now.peak
        );
        let big = std::hint::black_box(vec![1u8; 64 << 20]);
        let after = Memory::now().expect("readable once read");
        assert!(
            after.peak >= now.rss + (32 << 20),
            "a 64 MiB allocation touched shows in the peak: {} -> {}",
            now.rss,
            after.peak
        );
        drop(big);
    }
}
