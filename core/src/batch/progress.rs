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

    pub fn snapshot(&self, current: Option<std::path::PathBuf>) -> Progress {
        let seconds = self.started.elapsed().as_secs_f64();
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
