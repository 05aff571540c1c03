//! Handing out a batch's inputs: the listed photos in order, then whatever
//! was added while the batch ran, waiting while it is paused and stopping
//! once it is cancelled. It serves every batch, local or remote.

use super::inputs::{InputItem, InputList};
use super::{BatchControl, EngineEvent};

pub struct Feed {
    list: InputList,
    next: usize,
}

impl Feed {
    pub fn new(list: InputList) -> Self {
        Self { list, next: 0 }
    }

    /// The next input and its index; `None` once the batch is cancelled or
    /// nothing is left. Additions are listed on the way and announced with
    /// an [`EngineEvent::Added`] through `announce`.
    pub fn next(
        &mut self,
        control: &BatchControl,
        mut announce: impl FnMut(EngineEvent),
    ) -> Option<(usize, InputItem)> {
        loop {
            control.wait_while_paused();
            if control.is_cancelled() {
                return None;
            }
            if let Some(item) = self.list.items.get(self.next).cloned() {
                self.next += 1;
                return Some((self.next - 1, item));
            }
            let added = control.take_additions();
            if added.is_empty() {
                return None;
            }
            for path in &added {
                self.list.add(path);
            }
            control.set_total(self.list.items.len());
            announce(EngineEvent::Added {
                total: self.list.items.len(),
                skipped: std::mem::take(&mut self.list.skipped),
            });
        }
    }
}
