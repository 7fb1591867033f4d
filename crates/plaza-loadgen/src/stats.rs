//! Latency percentiles and progress lines shared by `usage-load` and `usage-floor`.

use std::time::{Duration, Instant};

/// The `q`-quantile (0 < q ≤ 1) of `sorted` by nearest rank, in milliseconds; 0 when empty.
pub fn percentile_ms(sorted: &[Duration], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    let index = rank.clamp(1, sorted.len()) - 1;
    sorted[index].as_secs_f64() * 1_000.0
}

/// Rounds to three decimals, for the summary line.
pub fn round3(x: f64) -> f64 {
    (x * 1_000.0).round() / 1_000.0
}

/// Prints a progress line to stderr every `every`, with the rate since the last line and
/// since the start.
#[derive(Debug)]
pub struct Progress {
    label: &'static str,
    total: u64,
    start: Instant,
    every: Duration,
    last: Instant,
    last_done: u64,
}

impl Progress {
    /// Starts the clock now.
    pub fn new(label: &'static str, total: u64, every: Duration) -> Progress {
        let now = Instant::now();
        Progress {
            label,
            total,
            start: now,
            every,
            last: now,
            last_done: 0,
        }
    }

    /// Reports `done` events so far; prints a line when `every` has passed since the last one.
    pub fn update(&mut self, done: u64) {
        let now = Instant::now();
        let since_last = now.duration_since(self.last);
        if since_last < self.every {
            return;
        }
        let recent = (done - self.last_done) as f64 / since_last.as_secs_f64();
        let overall = done as f64 / now.duration_since(self.start).as_secs_f64();
        eprintln!(
            "{}: {done}/{} events ({:.1}%), {recent:.0} events/s now, {overall:.0} events/s overall",
            self.label,
            self.total,
            100.0 * done as f64 / self.total.max(1) as f64,
        );
        self.last = now;
        self.last_done = done;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let sorted: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile_ms(&sorted, 0.50), 50.0);
        assert_eq!(percentile_ms(&sorted, 0.99), 99.0);
        assert_eq!(percentile_ms(&sorted, 1.0), 100.0);
        assert_eq!(percentile_ms(&sorted[..1], 0.99), 1.0);
        assert_eq!(percentile_ms(&[], 0.5), 0.0);
    }
}
