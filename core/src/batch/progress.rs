//! Progress figures for a running batch.

use std::time::{Duration, Instant};

#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    pub done: usize,
    pub total: usize,
    pub failed: usize,
    pub faces: usize,
    pub images_per_second: f64,
    pub eta: Option<Duration>,
    pub current: Option<std::path::PathBuf>,
}

pub struct ProgressTracker {
    started: Instant,
    pub done: usize,
    pub total: usize,
    pub failed: usize,
    pub faces: usize,
}

impl ProgressTracker {
    pub fn new(total: usize) -> Self {
        Self {
            started: Instant::now(),
            done: 0,
            total,
            failed: 0,
            faces: 0,
        }
    }

    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// The figures now; `paused` is time the batch spent paused, which the
    /// rate and the time left leave out.
    pub fn snapshot(&self, current: Option<std::path::PathBuf>, paused: Duration) -> Progress {
        let seconds = self.started.elapsed().saturating_sub(paused).as_secs_f64();
        let rate = if seconds > 0.0 {
            self.done as f64 / seconds
        } else {
            0.0
        };
        let remaining = self.total.saturating_sub(self.done);
        let eta = (rate > 0.0).then(|| Duration::from_secs_f64(remaining as f64 / rate));
        Progress {
            done: self.done,
            total: self.total,
            failed: self.failed,
            faces: self.faces,
            images_per_second: rate,
            eta,
            current,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_spent_paused_does_not_slow_the_rate() {
        let mut tracker = ProgressTracker::new(20);
        tracker.started = Instant::now() - Duration::from_secs(100);
        tracker.done = 10;
        let working = tracker.snapshot(None, Duration::from_secs(90));
        assert!(
            (working.images_per_second - 1.0).abs() < 0.05,
            "{working:?}"
        );
        let eta = working.eta.unwrap().as_secs_f64();
        assert!((eta - 10.0).abs() < 0.5, "ten left at one a second: {eta}");
        let wall = tracker.snapshot(None, Duration::ZERO);
        assert!((wall.images_per_second - 0.1).abs() < 0.01, "{wall:?}");
    }
}
