//! Each request's id: the client's `x-request-id` when it sends a usable
//! one, else a new one. It is echoed in the answer, written in the
//! request's log line and passed on to a remote server.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::http::HeaderMap;

pub const HEADER: &str = "x-request-id";

/// Longer ids, or ones with spaces or control characters, are replaced:
/// they would break the log line and the headers they travel in.
const MAX_LEN: usize = 128;

#[derive(Debug, Clone)]
pub struct RequestId(pub String);

pub fn from_headers(headers: &HeaderMap) -> Option<String> {
    let id = headers.get(HEADER)?.to_str().ok()?;
    let usable = !id.is_empty() && id.len() <= MAX_LEN && id.bytes().all(|b| b.is_ascii_graphic());
    usable.then(|| id.to_string())
}

/// `gl-` and a per-process random prefix, then a counter: unique across
/// restarts and replicas without a shared source.
pub fn generate() -> String {
    static PREFIX: OnceLock<u32> = OnceLock::new();
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let prefix = PREFIX.get_or_init(|| {
        use std::hash::{BuildHasher, Hasher};
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u32(std::process::id());
        hasher.finish() as u32
    });
    format!("gl-{prefix:08x}-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_id_is_kept_only_when_usable() {
        let mut headers = HeaderMap::new();
        assert_eq!(from_headers(&headers), None);
        headers.insert(HEADER, "batch-7/photo-3".parse().unwrap());
        assert_eq!(from_headers(&headers).as_deref(), Some("batch-7/photo-3"));
        headers.insert(HEADER, "has a space".parse().unwrap());
        assert_eq!(from_headers(&headers), None);
        headers.insert(HEADER, "x".repeat(129).parse().unwrap());
        assert_eq!(from_headers(&headers), None);
    }

    #[test]
    fn generated_ids_differ() {
        let (a, b) = (generate(), generate());
        assert_ne!(a, b);
        assert!(
            a.starts_with("gl-")
                && from_headers(&{
                    let mut h = HeaderMap::new();
                    h.insert(HEADER, a.parse().unwrap());
                    h
                })
                .is_some()
        );
    }
}
