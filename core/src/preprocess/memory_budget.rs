//! Memory that decoding may hold at once, shared by every worker of an
//! engine (and so by every upload a server classifies). A photo reserves
//! what its decode will cost before anything is allocated, and holds what
//! its pixels take until the photo is dropped; when the budget is spent,
//! the next decode waits instead of overrunning it.

use std::sync::{Arc, Condvar, Mutex};

pub struct MemoryBudget {
    limit: u64,
    used: Mutex<u64>,
    freed: Condvar,
}

/// Bytes held from a budget; given back when dropped.
pub struct Reservation {
    budget: Arc<MemoryBudget>,
    bytes: u64,
}

impl MemoryBudget {
    pub fn new(limit_bytes: u64) -> Arc<Self> {
        Arc::new(Self {
            limit: limit_bytes,
            used: Mutex::new(0),
            freed: Condvar::new(),
        })
    }

    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// Waits until `bytes` fit, then holds them; `None` when they never
    /// could (more than the whole budget).
    pub fn reserve(self: &Arc<Self>, bytes: u64) -> Option<Reservation> {
        if bytes > self.limit {
            return None;
        }
        let mut used = self.used.lock().unwrap_or_else(|e| e.into_inner());
        while *used + bytes > self.limit {
            used = self.freed.wait(used).unwrap_or_else(|e| e.into_inner());
        }
        *used += bytes;
        Some(Reservation {
            budget: self.clone(),
            bytes,
        })
    }

    /// Bytes held now (for tests and reports).
    pub fn in_use(&self) -> u64 {
        *self.used.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn give_back(&self, bytes: u64) {
        if bytes == 0 {
            return;
        }
        let mut used = self.used.lock().unwrap_or_else(|e| e.into_inner());
        *used = used.saturating_sub(bytes);
        self.freed.notify_all();
    }
}

impl Reservation {
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Gives back all but `bytes` (what the photo keeps holding).
    pub fn shrink_to(&mut self, bytes: u64) {
        if bytes < self.bytes {
            self.budget.give_back(self.bytes - bytes);
            self.bytes = bytes;
        }
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.budget.give_back(self.bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn reservations_wait_for_room_and_give_it_back() {
        let budget = MemoryBudget::new(100);
        assert!(budget.reserve(101).is_none(), "more than the whole budget");
        let mut first = budget.reserve(80).unwrap();
        let waiting = {
            let budget = budget.clone();
            std::thread::spawn(move || budget.reserve(50).map(|r| r.bytes()))
        };
        std::thread::sleep(Duration::from_millis(50));
        assert!(!waiting.is_finished(), "80 + 50 does not fit in 100");
        first.shrink_to(30);
        assert_eq!(waiting.join().unwrap(), Some(50));
        assert_eq!(budget.in_use(), 30);
        drop(first);
        assert_eq!(budget.in_use(), 0);
    }
}
