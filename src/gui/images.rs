//! Thumbnails and full-size previews, decoded on loader threads. The UI
//! says which pictures it wants now; requests it no longer needs (scrolled
//! away) are dropped before anyone decodes them.

use std::collections::{HashSet, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex};

use image::RgbImage;

use super::results::ResultId;
use crate::preprocess::decode::{DecodeLimits, decode_file_at_least};

/// Where a loader thread hands each finished picture (to the UI's channel).
pub type Deliver = Arc<dyn Fn(ImageReady) + Send + Sync>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImageKind {
    Thumbnail,
    Detail,
    /// Only the face crops (the review); the picture itself is a token.
    Faces,
}

/// One picture the UI wants: result `id`'s photo, in the given kind.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageRequest {
    pub id: ResultId,
    pub kind: ImageKind,
    pub path: PathBuf,
    /// Face boxes to cut out as chips (detail view and review), in photo pixels.
    pub faces: Vec<[f32; 4]>,
}

impl ImageRequest {
    fn key(&self) -> (ResultId, ImageKind) {
        (self.id, self.kind)
    }
}

pub struct LoadedImage {
    pub image: egui::ColorImage,
    /// The upright photo's size, to place face boxes on the scaled picture.
    pub source_size: [u32; 2],
    pub chips: Vec<egui::ColorImage>,
}

pub struct ImageReady {
    pub id: ResultId,
    pub kind: ImageKind,
    pub outcome: Result<LoadedImage, String>,
}

pub const THUMBNAIL_SIDE: u32 = 160;
const DETAIL_SIDE: u32 = 1600;
const CHIP_SIDE: u32 = 96;

#[derive(Default)]
struct Queue {
    wanted: VecDeque<ImageRequest>,
    in_flight: HashSet<(ResultId, ImageKind)>,
    closed: bool,
}

pub struct ImageLoader {
    shared: Arc<(Mutex<Queue>, Condvar)>,
    last_wanted: Vec<(ResultId, ImageKind)>,
}

impl ImageLoader {
    /// `limits` are the pipeline's own (megapixels and file size), so a
    /// photo the engine refuses is not decoded for its picture either.
    pub fn spawn(workers: usize, limits: DecodeLimits, deliver: Deliver) -> Self {
        let shared = Arc::new((Mutex::new(Queue::default()), Condvar::new()));
        for n in 0..workers.max(1) {
            let (shared, deliver, limits) = (shared.clone(), deliver.clone(), limits.clone());
            let spawned = std::thread::Builder::new()
                .name(format!("genderlens-images-{n}"))
                .spawn(move || worker(&shared, limits, &deliver));
            if let Err(e) = spawned {
                tracing::error!("cannot start an image loader thread: {e}");
            }
        }
        Self {
            shared,
            last_wanted: Vec::new(),
        }
    }

    /// Replaces the queue with `requests`, first first. Pictures already being
    /// decoded are not asked for twice.
    pub fn want(&mut self, requests: Vec<ImageRequest>) {
        let keys: Vec<_> = requests.iter().map(ImageRequest::key).collect();
        if keys == self.last_wanted {
            return;
        }
        self.last_wanted = keys;
        let (lock, wake) = &*self.shared;
        let mut queue = lock.lock().unwrap_or_else(|e| e.into_inner());
        let in_flight = &queue.in_flight;
        let fresh: VecDeque<_> = requests
            .into_iter()
            .filter(|r| !in_flight.contains(&r.key()))
            .collect();
        queue.wanted = fresh;
        wake.notify_all();
    }

    /// Pictures queued but not started (for tests and the status line).
    pub fn queued(&self) -> usize {
        let queue = self.shared.0.lock().unwrap_or_else(|e| e.into_inner());
        queue.wanted.len() + queue.in_flight.len()
    }
}

impl Drop for ImageLoader {
    fn drop(&mut self) {
        let (lock, wake) = &*self.shared;
        lock.lock().unwrap_or_else(|e| e.into_inner()).closed = true;
        wake.notify_all();
    }
}

fn worker(shared: &(Mutex<Queue>, Condvar), limits: DecodeLimits, deliver: &Deliver) {
    let (lock, wake) = shared;
    loop {
        let request = {
            let mut queue = lock.lock().unwrap_or_else(|e| e.into_inner());
            loop {
                if queue.closed {
                    return;
                }
                if let Some(request) = queue.wanted.pop_front() {
                    queue.in_flight.insert(request.key());
                    break request;
                }
                queue = wake.wait(queue).unwrap_or_else(|e| e.into_inner());
            }
        };
        let outcome = load(&request, &limits);
        lock.lock()
            .unwrap_or_else(|e| e.into_inner())
            .in_flight
            .remove(&request.key());
        deliver(ImageReady {
            id: request.id,
            kind: request.kind,
            outcome,
        });
    }
}

fn load(request: &ImageRequest, limits: &DecodeLimits) -> Result<LoadedImage, String> {
    let side = match request.kind {
        ImageKind::Thumbnail => THUMBNAIL_SIDE,
        ImageKind::Detail => DETAIL_SIDE,
        ImageKind::Faces => 8,
    };
    // A picture needs no more pixels than it shows; a face's chip, its own.
    let long_side = if request.faces.is_empty() {
        Some(side)
    } else {
        None
    };
    let decoded =
        decode_file_at_least(&request.path, limits, long_side).map_err(|e| e.to_string())?;
    let photo = decoded.rgb;
    let chips = request
        .faces
        .iter()
        .map(|bbox| to_color_image(&face_chip(&photo, *bbox)))
        .collect();
    Ok(LoadedImage {
        image: to_color_image(&fit_within(&photo, side)),
        source_size: [decoded.full_size.0, decoded.full_size.1],
        chips,
    })
}

fn fit_within(photo: &RgbImage, side: u32) -> RgbImage {
    let (w, h) = photo.dimensions();
    if w <= side && h <= side {
        return photo.clone();
    }
    let scale = side as f32 / w.max(h) as f32;
    let (tw, th) = (
        ((w as f32 * scale).round() as u32).max(1),
        ((h as f32 * scale).round() as u32).max(1),
    );
    image::imageops::thumbnail(photo, tw, th)
}

/// The face box with a margin, as a square picture for the detail view.
fn face_chip(photo: &RgbImage, bbox: [f32; 4]) -> RgbImage {
    let (w, h) = (photo.width() as f32, photo.height() as f32);
    let (cx, cy) = ((bbox[0] + bbox[2]) / 2.0, (bbox[1] + bbox[3]) / 2.0);
    let half = ((bbox[2] - bbox[0]).max(bbox[3] - bbox[1]) * 0.6).max(1.0);
    let left = (cx - half).clamp(0.0, w - 1.0) as u32;
    let top = (cy - half).clamp(0.0, h - 1.0) as u32;
    let right = (cx + half).clamp(left as f32 + 1.0, w) as u32;
    let bottom = (cy + half).clamp(top as f32 + 1.0, h) as u32;
    let crop = image::imageops::crop_imm(photo, left, top, right - left, bottom - top).to_image();
    image::imageops::thumbnail(&crop, CHIP_SIDE, CHIP_SIDE)
}

fn to_color_image(rgb: &RgbImage) -> egui::ColorImage {
    egui::ColorImage::from_rgb([rgb.width() as usize, rgb.height() as usize], rgb.as_raw())
}
