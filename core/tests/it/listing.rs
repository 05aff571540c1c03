//! Listing streams: the workers get their first photo of a big folder while
//! the rest is still being listed, and every listed photo is handed out once.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crossbeam_channel::{Receiver, Sender};
use genderlens_core::batch::{
    self, BatchControl, BatchStats, EngineEvent, Job, Source, StageContext, Stages,
};
use genderlens_core::{ImageResult, PhotoError};

use crate::common;

/// Stages that fail every photo at once. On the first photo they note how
/// many were listed so far, and delete the folder that is listed last: a
/// listing still under way no longer finds it.
struct Recording {
    listed_at_first_job: Arc<AtomicUsize>,
    listed_last: std::path::PathBuf,
}

impl Stages for Recording {
    fn run(
        self: Box<Self>,
        jobs: Receiver<Job>,
        results: Sender<ImageResult>,
        context: StageContext,
    ) -> Result<BatchStats, String> {
        for (n, job) in jobs.iter().enumerate() {
            if n == 0 {
                self.listed_at_first_job
                    .store(context.control.total(), Ordering::SeqCst);
                std::fs::remove_dir_all(&self.listed_last).unwrap();
            }
            let _ = results.send(ImageResult::failed(
                job.index,
                job.path,
                PhotoError::input("not classified in this test"),
            ));
        }
        Ok(BatchStats::default())
    }
}

#[test]
fn the_first_photo_is_handed_out_before_a_big_folder_is_listed() {
    const FOLDERS: usize = 100;
    const PER_FOLDER: usize = 200;
    let dir = tempfile::tempdir().unwrap();
    for f in 0..FOLDERS {
        let folder = dir.path().join(format!("{f:03}"));
        std::fs::create_dir(&folder).unwrap();
        for n in 0..PER_FOLDER {
            std::fs::write(folder.join(format!("{n:03}.jpg")), b"").unwrap();
        }
    }
    let listed_at_first_job = Arc::new(AtomicUsize::new(usize::MAX));
    let handle = batch::start(
        Source::Paths {
            paths: vec![dir.path().to_path_buf()],
            follow_symlinks: false,
        },
        Box::new(Recording {
            listed_at_first_job: listed_at_first_job.clone(),
            listed_last: dir.path().join(format!("{:03}", FOLDERS - 1)),
        }),
        None,
    );
    let events = handle.wait();
    // The last folder was deleted before the listing reached it: its photos
    // are not listed, and the folder that went missing is one failed item.
    let total = (FOLDERS - 1) * PER_FOLDER + 1;
    let first = listed_at_first_job.load(Ordering::SeqCst);
    assert!(
        first < total / 2,
        "the first photo waited until {first} of {total} were listed"
    );
    let position = |wanted: fn(&EngineEvent) -> bool| events.iter().position(wanted);
    let first_result = position(|e| matches!(e, EngineEvent::Image(_))).unwrap();
    let listed = position(|e| matches!(e, EngineEvent::Listed { .. })).unwrap();
    assert!(
        first_result < listed,
        "results came only after the listing ended"
    );
    let Some(EngineEvent::Listed {
        total: listed_total,
        ..
    }) = events.get(listed)
    else {
        unreachable!()
    };
    assert_eq!(*listed_total, total);
    let indices = common::result_indices(&events);
    assert_eq!(indices, (0..total).collect(), "every photo once, in order");
    assert_eq!(common::finished_summary(&events).total, total);
}

/// Stages that fail every photo at once, for tests about the feed alone.
struct Instant;

impl Stages for Instant {
    fn run(
        self: Box<Self>,
        jobs: Receiver<Job>,
        results: Sender<ImageResult>,
        _: StageContext,
    ) -> Result<BatchStats, String> {
        for job in jobs {
            let _ = results.send(ImageResult::failed(
                job.index,
                job.path,
                PhotoError::input("not classified in this test"),
            ));
        }
        Ok(BatchStats::default())
    }
}

fn paths_batch(paths: Vec<std::path::PathBuf>, control: Arc<BatchControl>) -> batch::BatchHandle {
    batch::start_with(
        Source::Paths {
            paths,
            follow_symlinks: false,
        },
        Box::new(Instant),
        None,
        batch::Setup::with_control(control),
    )
}

/// Cancel stops a listing even in a folder of thousands of non-images, and
/// the batch reports its listing before its end.
#[test]
fn cancel_stops_a_listing_among_non_images() {
    let dir = tempfile::tempdir().unwrap();
    for n in 0..30_000 {
        std::fs::write(dir.path().join(format!("{n:05}.txt")), b"").unwrap();
    }
    std::fs::write(dir.path().join("zzz.jpg"), b"").unwrap();
    let control = Arc::new(BatchControl::default());
    control.cancel();
    let started = std::time::Instant::now();
    let events = paths_batch(vec![dir.path().to_path_buf()], control).wait();
    assert!(
        started.elapsed() < std::time::Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
    let position = |wanted: fn(&EngineEvent) -> bool| events.iter().position(wanted);
    let listed = position(|e| matches!(e, EngineEvent::Listed { .. })).expect("Listed");
    let finished = position(|e| matches!(e, EngineEvent::Finished(_))).expect("Finished");
    assert!(listed < finished, "{events:?}");
    let Some(EngineEvent::Listed { skipped, .. }) = events.get(listed) else {
        unreachable!()
    };
    assert!(skipped.len() < 30_000, "the whole folder was listed");
}

/// A held batch that runs out of photos waits for more instead of
/// finishing, so photos still being listed join the same batch.
#[test]
fn a_held_batch_waits_for_additions_instead_of_finishing() {
    let dir = tempfile::tempdir().unwrap();
    let (first, second) = (dir.path().join("a.jpg"), dir.path().join("b.jpg"));
    std::fs::write(&first, b"").unwrap();
    std::fs::write(&second, b"").unwrap();
    let control = Arc::new(BatchControl::default());
    control.set_held(true);
    let handle = paths_batch(vec![first], control.clone());
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(control.add([second]), "the held batch still takes photos");
    control.set_held(false);
    let events = handle.wait();
    assert_eq!(common::finished_summary(&events).total, 2, "{events:?}");
    let finished = events
        .iter()
        .filter(|e| matches!(e, EngineEvent::Finished(_)))
        .count();
    assert_eq!(finished, 1);
}
