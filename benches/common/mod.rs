//! What the benchmarks share.

/// A memory figure of a process from `/proc/PROCESS/status` (Linux), in MiB: `field` is `VmRSS` (resident now) or
/// `VmHWM` (peak resident), `process` a pid or `self`. `None` where there is no such file or field.
pub fn status_mib(process: &str, field: &str) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{process}/status")).ok()?;
    let line = status.lines().find(|l| {
        l.strip_prefix(field)
            .is_some_and(|rest| rest.starts_with(':'))
    })?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}
