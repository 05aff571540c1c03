//! A batch classified on a remote backend. It lists inputs, pauses, cancels,
//! takes additions and reports events exactly like a local batch; the
//! decode/detect/classify stages are replaced by request workers, as many as
//! the requests allowed in flight.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use crossbeam_channel::{Receiver, Sender, bounded};

use super::Remote;
use crate::engine::feed::Feed;
use crate::engine::inputs::{self, InputItem};
use crate::engine::progress::ProgressTracker;
use crate::engine::{BatchControl, BatchHandle, BatchStats, EngineEvent, Notify, Summary};
use crate::postprocess::{ImageResult, Status};

/// Files above this size are refused before they are read or sent.
pub const MAX_FILE_BYTES: u64 = 512 * 1024 * 1024;

enum Work {
    Send { index: usize, path: PathBuf },
    Report(ImageResult),
}

type Emit = Arc<dyn Fn(EngineEvent) + Send + Sync>;

pub fn start(remote: Arc<Remote>, paths: Vec<PathBuf>, notify: Option<Notify>) -> BatchHandle {
    let (events_tx, events) = bounded(256);
    let control = Arc::new(BatchControl::default());
    let batch_control = control.clone();
    let emit: Emit = Arc::new(move |event: EngineEvent| {
        // A closed channel means nobody listens any more; the batch winds down on its own.
        let _ = events_tx.send(event);
        if let Some(notify) = &notify {
            notify();
        }
    });
    let coordinator = std::thread::Builder::new()
        .name("genderlens-remote-batch".into())
        .spawn(move || run(&remote, paths, &emit, &batch_control))
        .expect("spawning the batch thread");
    BatchHandle::new(events, control, coordinator)
}

fn run(remote: &Arc<Remote>, paths: Vec<PathBuf>, emit: &Emit, control: &Arc<BatchControl>) {
    let mut list = inputs::collect_inputs(&paths);
    control.total.store(list.items.len(), Ordering::SeqCst);
    let skipped_at_start = list.skipped.len();
    emit(EngineEvent::Started {
        total: list.items.len(),
        skipped: std::mem::take(&mut list.skipped),
    });
    emit(EngineEvent::Status(format!(
        "Sending photos to {}",
        remote.address()
    )));

    let workers = remote.options().max_in_flight;
    let (work_tx, work_rx) = bounded::<Work>(workers * 2);
    let (done_tx, done_rx) = bounded::<ImageResult>(workers * 2);
    let threads: Vec<_> = (0..workers)
        .map(|n| {
            let (work_rx, done_tx) = (work_rx.clone(), done_tx.clone());
            let (remote, control) = (remote.clone(), control.clone());
            std::thread::Builder::new()
                .name(format!("genderlens-remote-{n}"))
                .spawn(move || send_each(&remote, &work_rx, &done_tx, &control))
                .expect("spawning a request worker")
        })
        .collect();
    drop((work_rx, done_tx));

    let feeder = {
        let (control, emit) = (control.clone(), emit.clone());
        std::thread::Builder::new()
            .name("genderlens-remote-feed".into())
            .spawn(move || feed(list, &work_tx, &control, &emit))
            .expect("spawning the feeder")
    };

    let mut tracker = ProgressTracker::new(control.total.load(Ordering::SeqCst));
    let mut no_face = 0;
    for result in done_rx.iter() {
        if control.is_cancelled() {
            continue;
        }
        tracker.total = control.total.load(Ordering::SeqCst);
        tracker.done += 1;
        tracker.faces += result.faces.len();
        match result.status {
            Status::Error => tracker.failed += 1,
            Status::NoFace => no_face += 1,
            Status::Ok => {}
        }
        let progress = tracker.snapshot(Some(result.path.clone()));
        emit(EngineEvent::Image(Box::new(result)));
        emit(EngineEvent::Progress(progress));
    }
    let skipped_later = feeder.join().unwrap_or_default();
    for thread in threads {
        let _ = thread.join();
    }
    emit(EngineEvent::Finished(Summary {
        total: control.total.load(Ordering::SeqCst),
        ok: tracker.done - tracker.failed - no_face,
        no_face,
        failed: tracker.failed,
        faces: tracker.faces,
        skipped: skipped_at_start + skipped_later,
        cancelled: control.is_cancelled(),
        elapsed: tracker.elapsed(),
        batches: BatchStats::default(),
    }));
}

/// Hands out the listed photos, then any added while running; returns how
/// many added paths were skipped as unusable.
fn feed(
    list: inputs::InputList,
    work: &Sender<Work>,
    control: &BatchControl,
    emit: &Emit,
) -> usize {
    let mut skipped = 0;
    let mut feed = Feed::new(list);
    let mut announce = |event: EngineEvent| {
        if let EngineEvent::Added { skipped: s, .. } = &event {
            skipped += s.len();
        }
        emit(event);
    };
    while let Some((index, item)) = feed.next(control, &mut announce) {
        let job = match item {
            InputItem::Photo(path) => Work::Send { index, path },
            InputItem::Unusable { path, reason } => {
                Work::Report(ImageResult::failed(index, path, reason))
            }
        };
        if work.send(job).is_err() {
            break;
        }
    }
    skipped
}

fn send_each(
    remote: &Remote,
    work: &Receiver<Work>,
    done: &Sender<ImageResult>,
    control: &BatchControl,
) {
    for job in work.iter() {
        if control.is_cancelled() {
            continue;
        }
        let result = match job {
            Work::Report(result) => result,
            Work::Send { index, path } => match read_photo(&path) {
                Ok(bytes) => remote.classify(index, path, &bytes),
                Err(reason) => ImageResult::failed(index, path, reason),
            },
        };
        if done.send(result).is_err() {
            break;
        }
    }
}

fn read_photo(path: &std::path::Path) -> Result<Vec<u8>, String> {
    let metadata = std::fs::metadata(path).map_err(|e| format!("cannot read file: {e}"))?;
    if !metadata.is_file() {
        return Err("not a regular file".into());
    }
    if metadata.len() > MAX_FILE_BYTES {
        return Err(format!(
            "the file is {} MB, above the {} MB limit",
            metadata.len() / (1024 * 1024),
            MAX_FILE_BYTES / (1024 * 1024)
        ));
    }
    if metadata.len() == 0 {
        return Err("the file is empty".into());
    }
    std::fs::read(path).map_err(|e| format!("cannot read file: {e}"))
}
