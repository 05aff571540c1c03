//! What each frame costs the UI thread (logic plus layout and painting
//! commands, not the GPU), for the frame-time benchmark.

use std::time::{Duration, Instant};

use serde::Serialize;

#[derive(Default)]
pub struct FrameStats {
    started: Option<Instant>,
    samples_us: Vec<u32>,
    /// eframe's own figure for whole frames: our code plus tessellation and
    /// handing the frame to the renderer.
    whole_frames_us: Vec<u32>,
}

#[derive(Debug, Serialize)]
pub struct FrameReport {
    /// logic + ui: what GenderLens itself costs per frame.
    pub app: Percentiles,
    /// The whole frame on the UI thread, as eframe measures it.
    pub whole_frame: Percentiles,
    pub peak_rss_mib: Option<f64>,
    pub results: usize,
}

#[derive(Debug, Serialize)]
pub struct Percentiles {
    pub frames: usize,
    pub mean_ms: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub over_16ms: usize,
}

impl FrameStats {
    pub fn begin(&mut self) {
        self.started = Some(Instant::now());
    }

    /// The previous frame's whole cost, from `eframe::Frame::info`.
    pub fn record_whole_frame(&mut self, seconds: Option<f32>) {
        if let Some(seconds) = seconds {
            self.whole_frames_us
                .push((seconds.clamp(0.0, 60.0) * 1e6) as u32);
        }
    }

    pub fn end(&mut self) {
        if let Some(started) = self.started.take() {
            let micros = started.elapsed().min(Duration::from_secs(60)).as_micros();
            self.samples_us.push(micros as u32);
        }
    }

    pub fn report(&self, results: usize) -> FrameReport {
        FrameReport {
            app: percentiles(&self.samples_us),
            whole_frame: percentiles(&self.whole_frames_us),
            peak_rss_mib: crate::memory::peak_rss_bytes().map(|b| b as f64 / 1024.0 / 1024.0),
            results,
        }
    }
}

fn percentiles(samples_us: &[u32]) -> Percentiles {
    let mut sorted = samples_us.to_vec();
    sorted.sort_unstable();
    let ms = |us: u32| f64::from(us) / 1000.0;
    let at = |q: f64| {
        sorted
            .get(((sorted.len() as f64 - 1.0) * q).round() as usize)
            .map_or(0.0, |&us| ms(us))
    };
    let mean = if sorted.is_empty() {
        0.0
    } else {
        sorted.iter().map(|&us| f64::from(us)).sum::<f64>() / sorted.len() as f64 / 1000.0
    };
    Percentiles {
        frames: sorted.len(),
        mean_ms: mean,
        p50_ms: at(0.5),
        p95_ms: at(0.95),
        p99_ms: at(0.99),
        max_ms: sorted.last().map_or(0.0, |&us| ms(us)),
        over_16ms: sorted.iter().filter(|&&us| us > 16_000).count(),
    }
}
