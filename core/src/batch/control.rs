//! What the owner of a running batch can do to it from another thread:
//! cancel, pause and resume, and add more photos.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

#[derive(Default)]
pub struct BatchControl {
    cancel: AtomicBool,
    paused: Mutex<bool>,
    /// When the current pause began, and how long earlier pauses lasted:
    /// the rate and time left count working time only.
    pause_clock: Mutex<(Option<Instant>, Duration)>,
    wake: Condvar,
    additions: Mutex<Additions>,
    additions_changed: Condvar,
    /// Photos listed so far; grows when photos are added to a running batch.
    total: AtomicUsize,
}

struct Additions {
    /// False once the feeder has run dry and the batch is finishing.
    open: bool,
    paths: Vec<PathBuf>,
    /// More photos are on their way (a folder still being listed): running
    /// dry waits for them instead of finishing the batch.
    held: bool,
}

impl Default for Additions {
    fn default() -> Self {
        Self {
            open: true,
            paths: Vec::new(),
            held: false,
        }
    }
}

impl BatchControl {
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::SeqCst);
        // A paused feeder must wake up to see it.
        self.set_paused(false);
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancel.load(Ordering::SeqCst)
    }

    /// Photos listed so far.
    pub fn total(&self) -> usize {
        self.total.load(Ordering::SeqCst)
    }

    pub(crate) fn set_total(&self, total: usize) {
        self.total.store(total, Ordering::SeqCst);
    }

    /// While paused no new photo enters the pipeline; photos in flight finish.
    pub fn set_paused(&self, paused: bool) {
        *self.paused.lock().unwrap_or_else(|e| e.into_inner()) = paused;
        let mut clock = self.pause_clock.lock().unwrap_or_else(|e| e.into_inner());
        match (paused, clock.0) {
            (true, None) => clock.0 = Some(Instant::now()),
            (false, Some(since)) => *clock = (None, clock.1 + since.elapsed()),
            _ => {}
        }
        drop(clock);
        self.wake.notify_all();
    }

    /// How long this batch has been paused in all, the current pause included.
    pub fn paused_for(&self) -> Duration {
        let clock = self.pause_clock.lock().unwrap_or_else(|e| e.into_inner());
        clock.1 + clock.0.map_or(Duration::ZERO, |since| since.elapsed())
    }

    pub fn is_paused(&self) -> bool {
        *self.paused.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn wait_while_paused(&self) {
        let mut paused = self.paused.lock().unwrap_or_else(|e| e.into_inner());
        while *paused && !self.is_cancelled() {
            paused = self.wake.wait(paused).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Queues more files or folders; false when the batch has already finished
    /// feeding (start a new batch for them instead).
    pub fn add(&self, paths: impl IntoIterator<Item = PathBuf>) -> bool {
        let mut additions = self.additions.lock().unwrap_or_else(|e| e.into_inner());
        if !additions.open || self.is_cancelled() {
            return false;
        }
        additions.paths.extend(paths);
        self.additions_changed.notify_all();
        true
    }

    /// While held, a batch that runs out of photos waits for additions
    /// rather than finishing: its owner is still listing what to add.
    pub fn set_held(&self, held: bool) {
        let mut additions = self.additions.lock().unwrap_or_else(|e| e.into_inner());
        additions.held = held;
        self.additions_changed.notify_all();
    }

    /// Takes the queued additions, leaving the batch open to more.
    pub(crate) fn take_pending_additions(&self) -> Vec<PathBuf> {
        let mut additions = self.additions.lock().unwrap_or_else(|e| e.into_inner());
        std::mem::take(&mut additions.paths)
    }

    /// Takes the queued additions, or closes the batch to additions when
    /// there are none and none are on their way (see [`Self::set_held`]).
    pub(crate) fn take_additions(&self) -> Vec<PathBuf> {
        // Cancel does not take this lock, so the wait wakes now and then to look.
        const RECHECK: Duration = Duration::from_millis(100);
        let mut additions = self.additions.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if !additions.paths.is_empty() {
                return std::mem::take(&mut additions.paths);
            }
            if !additions.held || self.is_cancelled() {
                additions.open = false;
                return Vec::new();
            }
            additions = self
                .additions_changed
                .wait_timeout(additions, RECHECK)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paused_time_adds_up_across_pauses_and_stops_on_resume() {
        let control = BatchControl::default();
        assert_eq!(control.paused_for(), Duration::ZERO);
        control.set_paused(true);
        control.set_paused(true);
        std::thread::sleep(Duration::from_millis(30));
        control.set_paused(false);
        let first = control.paused_for();
        assert!(first >= Duration::from_millis(30), "{first:?}");
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(
            control.paused_for(),
            first,
            "running time is not paused time"
        );
        control.set_paused(true);
        std::thread::sleep(Duration::from_millis(20));
        assert!(control.paused_for() >= first + Duration::from_millis(20));
    }
}
