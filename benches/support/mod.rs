//! What the benchmarks share: their `--name N` arguments and the median of their runs.

use std::time::{Duration, Instant};

/// The number after `name` on the command line, or `default`.
pub fn flag(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

pub fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Runs `command` to its end (at most 120 s): its wall time and exit status.
pub async fn timed(command: &mut tokio::process::Command) -> (Duration, std::process::ExitStatus) {
    let started = Instant::now();
    let status = tokio::time::timeout(Duration::from_secs(120), command.status())
        .await
        .expect("kvdiag finished within 120 s")
        .expect("kvdiag ran");
    (started.elapsed(), status)
}
