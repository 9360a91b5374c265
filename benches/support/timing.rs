//! The benches' timing: the median of `rounds` timed runs of a step, after three untimed
//! ones (caches, lazy set-up). Included by each bench with `#[path]`.

use std::time::{Duration, Instant};

pub fn median_ms(rounds: usize, mut step: impl FnMut()) -> f64 {
    for _ in 0..3 {
        step();
    }
    let mut times: Vec<Duration> = (0..rounds.max(1))
        .map(|_| {
            let started = Instant::now();
            step();
            started.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2].as_secs_f64() * 1000.0
}

/// The timed rounds per step: `EKYC_BENCH_ROUNDS`, else `default`. `None` when the binary
/// was not started by `cargo bench` (`cargo test --all-targets` runs benches without
/// `--bench`): then the bench does nothing.
pub fn bench_rounds(default: usize) -> Option<usize> {
    if !std::env::args().any(|argument| argument == "--bench") {
        return None;
    }
    let rounds = std::env::var("EKYC_BENCH_ROUNDS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default);
    Some(rounds)
}
