//! Decoded pictures uploaded as textures, kept in a bounded cache: the
//! least recently drawn are dropped first, so scrolling through tens of
//! thousands of photos keeps memory flat.

use std::collections::HashMap;

use egui::TextureHandle;

use super::images::{ImageKind, ImageReady};
use super::results::ResultId;

pub struct CachedImage {
    pub texture: TextureHandle,
    pub source_size: [u32; 2],
    pub chips: Vec<TextureHandle>,
    last_used: u64,
}

pub struct TextureCache {
    entries: HashMap<(ResultId, ImageKind), CachedImage>,
    failed: HashMap<(ResultId, ImageKind), String>,
    capacity: usize,
    clock: u64,
}

impl TextureCache {
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: HashMap::new(),
            failed: HashMap::new(),
            capacity,
            clock: 0,
        }
    }

    pub fn insert(&mut self, ctx: &egui::Context, ready: ImageReady) {
        let key = (ready.id, ready.kind);
        match ready.outcome {
            Ok(loaded) => {
                let name = format!("photo-{}-{:?}", ready.id, ready.kind);
                let texture = ctx.load_texture(&name, loaded.image, egui::TextureOptions::LINEAR);
                let chips = loaded
                    .chips
                    .into_iter()
                    .enumerate()
                    .map(|(n, chip)| {
                        ctx.load_texture(format!("{name}-chip-{n}"), chip, Default::default())
                    })
                    .collect();
                self.clock += 1;
                self.entries.insert(
                    key,
                    CachedImage {
                        texture,
                        source_size: loaded.source_size,
                        chips,
                        last_used: self.clock,
                    },
                );
                self.evict();
            }
            Err(message) => {
                self.failed.insert(key, message);
            }
        }
    }

    /// The picture if it is loaded; marks it as recently used.
    pub fn get(&mut self, id: ResultId, kind: ImageKind) -> Option<&CachedImage> {
        self.clock += 1;
        let clock = self.clock;
        self.entries.get_mut(&(id, kind)).map(|entry| {
            entry.last_used = clock;
            &*entry
        })
    }

    pub fn failure(&self, id: ResultId, kind: ImageKind) -> Option<&str> {
        self.failed.get(&(id, kind)).map(String::as_str)
    }

    /// Neither loaded nor known to fail: worth asking the loader for.
    pub fn needs(&self, id: ResultId, kind: ImageKind) -> bool {
        !self.entries.contains_key(&(id, kind)) && !self.failed.contains_key(&(id, kind))
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Drops every picture of one result (it was answered anew).
    pub fn forget(&mut self, id: ResultId) {
        self.entries.retain(|(entry, _), _| *entry != id);
        self.failed.retain(|(entry, _), _| *entry != id);
    }

    pub fn clear(&mut self) {
        self.entries.clear();
        self.failed.clear();
    }

    fn evict(&mut self) {
        while self.entries.len() > self.capacity {
            let oldest = self
                .entries
                .iter()
                .min_by_key(|(_, e)| e.last_used)
                .map(|(k, _)| *k);
            match oldest {
                Some(key) => {
                    self.entries.remove(&key);
                }
                None => break,
            }
        }
    }
}
