//! Handing out a batch's inputs: the photos as they are listed, then
//! whatever was added while the batch ran, waiting while it is paused and
//! stopping once it is cancelled. It serves every batch, local or remote.
//!
//! Listing runs on a thread of its own ([`list_in_background`]), ahead of
//! the workers, so the first photos of a huge folder are classified while
//! the rest is still being listed, and the total is known as early as it can be.

use std::collections::VecDeque;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};

use super::inputs::{InputItem, Lister};
use super::{BatchControl, Emitter, EngineEvent};

/// How often a long listing reports how far it has got.
const SCAN_REPORT_EVERY: Duration = Duration::from_millis(200);
/// How often a feed waiting on a slow listing looks for a pause or cancel.
const RECHECK: Duration = Duration::from_millis(100);

/// Lists everything `lister` was given, sending each item to `found` and
/// keeping the batch's total up to date; reports
/// [`EngineEvent::Scanning`] while it takes long, then
/// [`EngineEvent::Listed`]. Returns the lister (it remembers what was
/// listed, for additions) and how many paths it skipped.
pub fn list_in_background(
    mut lister: Lister,
    found: Sender<InputItem>,
    control: &BatchControl,
    emitter: &Emitter,
) -> (Lister, usize) {
    let mut count = 0;
    let mut reported = Instant::now();
    while !control.is_cancelled() {
        let Some(item) = lister.next() else { break };
        count += 1;
        control.set_total(count);
        if found.send(item).is_err() {
            break;
        }
        if reported.elapsed() >= SCAN_REPORT_EVERY {
            emitter.send(EngineEvent::Scanning { found: count });
            reported = Instant::now();
        }
    }
    let skipped = lister.take_skipped();
    let skipped_count = skipped.len();
    emitter.send(EngineEvent::Listed {
        total: count,
        skipped,
    });
    (lister, skipped_count)
}

pub struct Feed {
    /// Items as the listing thread finds them; closed when it is done.
    found: Receiver<InputItem>,
    /// An item that arrived as the batch was paused, handed out on resume.
    held_back: Option<InputItem>,
    listing: Option<JoinHandle<(Lister, usize)>>,
    /// The finished listing's lister, which lists additions.
    lister: Option<Lister>,
    added: VecDeque<InputItem>,
    next: usize,
    /// Paths skipped so far (not images, links not followed).
    pub skipped: usize,
}

impl Feed {
    pub fn new(found: Receiver<InputItem>, listing: JoinHandle<(Lister, usize)>) -> Self {
        Self {
            found,
            held_back: None,
            listing: Some(listing),
            lister: None,
            added: VecDeque::new(),
            next: 0,
            skipped: 0,
        }
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
            // Additions are listed as soon as they come, so the total says
            // what is queued rather than jumping when the queue runs dry.
            if self.lister.is_some() {
                self.list_additions(control.take_pending_additions(), control, &mut announce);
            }
            let item = match (&mut self.lister, self.held_back.take()) {
                (_, Some(item)) => Some(item),
                (None, None) => match self.found.recv_timeout(RECHECK) {
                    // It may have come in while a pause began.
                    Ok(item) if control.is_paused() => {
                        self.held_back = Some(item);
                        continue;
                    }
                    Ok(item) => Some(item),
                    // Waiting on a slow listing, but not past a cancel.
                    Err(RecvTimeoutError::Timeout) => continue,
                    Err(RecvTimeoutError::Disconnected) => {
                        self.finish_listing();
                        continue;
                    }
                },
                (Some(_), None) => self.added.pop_front(),
            };
            if let Some(item) = item {
                self.next += 1;
                return Some((self.next - 1, item));
            }
            let added = control.take_additions();
            if added.is_empty() {
                return None;
            }
            self.list_additions(added, control, &mut announce);
        }
    }

    /// Lists paths added to the running batch, queues what is new, and
    /// announces the new total.
    fn list_additions(
        &mut self,
        paths: Vec<std::path::PathBuf>,
        control: &BatchControl,
        announce: &mut impl FnMut(EngineEvent),
    ) {
        let Some(lister) = self.lister.as_mut() else {
            return;
        };
        if paths.is_empty() {
            return;
        }
        for path in paths {
            lister.push(path);
        }
        self.added.extend(&mut *lister);
        let skipped = lister.take_skipped();
        self.skipped += skipped.len();
        let total = self.next + self.added.len();
        control.set_total(total);
        announce(EngineEvent::Added { total, skipped });
    }

    /// Waits for the listing thread to end (a cancelled one stops at the
    /// next entry), so that its `Listed` comes before the batch's end and
    /// its skipped paths are counted.
    pub fn finish(&mut self) {
        if self.lister.is_none() {
            self.finish_listing();
        }
    }

    /// Takes over the lister once the listing thread is done.
    fn finish_listing(&mut self) {
        let finished = self.listing.take().map(|listing| listing.join());
        let (lister, skipped) = match finished {
            Some(Ok(done)) => done,
            // A listing that died lists nothing more; additions still work.
            _ => (Lister::new(Vec::new(), false), 0),
        };
        self.skipped += skipped;
        self.lister = Some(lister);
    }
}
