//! One photo on its way to a remote server. Its content is sniffed before
//! anything is sent, and it is read once: a photo up to [`IN_MEMORY_LIMIT`]
//! goes as one buffer, shared by every retry; a larger one streams from disk
//! as the request is written, so a 500 MB file never sits in memory twice.
//! gRPC messages are whole, so there the file is read once, straight into
//! the BYTES element it travels as.

use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};

use bytes::Bytes;

use super::RemoteError;
use crate::error::PhotoError;

/// Above this, HTTP bodies stream from the file instead of from memory.
pub const IN_MEMORY_LIMIT: u64 = 8 << 20;

/// Enough of a file to tell its format.
const SNIFF_BYTES: usize = 64;

pub struct Upload {
    source: Source,
    len: u64,
    /// The id of the request this photo answers, passed on to the server
    /// so one request can be followed through every log.
    request_id: Option<String>,
}

enum Source {
    File(PathBuf),
    Memory(Bytes),
}

impl Upload {
    /// The file at `path`, when it is a non-empty image within the size limit.
    pub fn file(path: &Path, max_file_bytes: u64) -> Result<Self, PhotoError> {
        let cannot_read = |e: std::io::Error| PhotoError::input(format!("cannot read file: {e}"));
        let metadata = std::fs::metadata(path).map_err(cannot_read)?;
        if !metadata.is_file() {
            return Err(PhotoError::input("not a regular file"));
        }
        check_size(metadata.len(), max_file_bytes)?;
        let mut head = Vec::with_capacity(SNIFF_BYTES);
        std::fs::File::open(path)
            .and_then(|file| file.take(SNIFF_BYTES as u64).read_to_end(&mut head))
            .map_err(cannot_read)?;
        sniff(&head)?;
        Ok(Self {
            source: Source::File(path.to_path_buf()),
            len: metadata.len(),
            request_id: None,
        })
    }

    /// An image already in memory (an upload being forwarded).
    pub fn memory(bytes: Vec<u8>, max_file_bytes: u64) -> Result<Self, PhotoError> {
        check_size(bytes.len() as u64, max_file_bytes)?;
        sniff(&bytes)?;
        Ok(Self {
            len: bytes.len() as u64,
            source: Source::Memory(bytes.into()),
            request_id: None,
        })
    }

    pub fn with_request_id(mut self, id: Option<&str>) -> Self {
        self.request_id = id.map(str::to_string);
        self
    }

    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The image, from its first byte, for exactly [`Self::len`] bytes.
    fn reader(&self) -> Result<Box<dyn Read + Send>, RemoteError> {
        match &self.source {
            Source::Memory(bytes) => Ok(Box::new(Cursor::new(bytes.clone()))),
            Source::File(path) => {
                let file = std::fs::File::open(path).map_err(unreadable)?;
                Ok(Box::new(ExactLength {
                    inner: file,
                    left: self.len,
                }))
            }
        }
    }

    /// `head`, the image, then `tail`, as an HTTP body: one buffer for a
    /// photo of usual size, a stream from disk for a large file.
    pub fn http_body(
        &self,
        head: Vec<u8>,
        tail: Vec<u8>,
    ) -> Result<reqwest::blocking::Body, RemoteError> {
        let total = head.len() as u64 + self.len + tail.len() as u64;
        let streamed = matches!(self.source, Source::File(_)) && self.len > IN_MEMORY_LIMIT;
        if streamed {
            let body = Cursor::new(head)
                .chain(self.reader()?)
                .chain(Cursor::new(tail));
            return Ok(reqwest::blocking::Body::sized(body, total));
        }
        let mut body = Vec::with_capacity(usize::try_from(total).unwrap_or(0));
        body.extend_from_slice(&head);
        self.reader()?.read_to_end(&mut body).map_err(unreadable)?;
        body.extend_from_slice(&tail);
        Ok(body.into())
    }

    /// The KServe BYTES element (a little-endian u32 length, then the
    /// image), read once into one buffer.
    pub fn element(&self) -> Result<Bytes, RemoteError> {
        let len = u32::try_from(self.len).map_err(|_| {
            RemoteError::Unreadable("the file is larger than a BYTES tensor can hold".into())
        })?;
        let mut element = Vec::with_capacity(4 + self.len as usize);
        element.extend_from_slice(&len.to_le_bytes());
        self.reader()?
            .read_to_end(&mut element)
            .map_err(unreadable)?;
        Ok(element.into())
    }

    /// The whole image in memory, as the server receives it.
    #[cfg(test)]
    fn to_vec(&self) -> Result<Vec<u8>, RemoteError> {
        let mut image = Vec::with_capacity(self.len as usize);
        self.reader()?.read_to_end(&mut image).map_err(unreadable)?;
        Ok(image)
    }
}

fn check_size(size: u64, max_file_bytes: u64) -> Result<(), PhotoError> {
    if size > max_file_bytes {
        return Err(PhotoError::input(format!(
            "the file is {} MB, above the {} MB limit",
            size / (1024 * 1024),
            max_file_bytes / (1024 * 1024)
        )));
    }
    if size == 0 {
        return Err(PhotoError::input("the file is empty"));
    }
    Ok(())
}

/// What is not an image stays here: it fails as it would locally, and is
/// never uploaded.
fn sniff(head: &[u8]) -> Result<(), PhotoError> {
    crate::preprocess::decode::sniff_format(head)
        .map(|_| ())
        .map_err(|e| PhotoError::input(e.to_string()))
}

fn unreadable(error: std::io::Error) -> RemoteError {
    RemoteError::Unreadable(error.to_string())
}

/// A file read for exactly the length announced for it: one that shrank
/// since is an error, not a short body the server waits on.
struct ExactLength<R> {
    inner: R,
    left: u64,
}

impl<R: Read> Read for ExactLength<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let changed = || std::io::Error::new(std::io::ErrorKind::InvalidData, FileChanged);
        if self.left == 0 {
            // At the announced end, the file must end too.
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => Err(changed()),
            };
        }
        let wanted = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..wanted])?;
        if n == 0 && wanted > 0 {
            return Err(changed());
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// The marker of a file that changed while it was being sent.
#[derive(Debug)]
pub struct FileChanged;

impl std::fmt::Display for FileChanged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the file changed while it was being sent")
    }
}

impl std::error::Error for FileChanged {}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG_MAGIC: &[u8] = b"\x89PNG\r\n\x1a\n";

    #[test]
    fn non_images_empty_and_oversized_files_are_refused_before_sending() {
        let dir = tempfile::tempdir().unwrap();
        let text = dir.path().join("holiday.jpg");
        std::fs::write(&text, b"root:x:0:0:root:/root:/bin/bash\n").unwrap();
        let error = Upload::file(&text, 1 << 20).err().unwrap();
        assert!(
            error.message.contains("not a recognised image"),
            "{}",
            error.message
        );
        let empty = dir.path().join("empty.png");
        std::fs::write(&empty, b"").unwrap();
        assert!(Upload::file(&empty, 1 << 20).is_err());
        let big = dir.path().join("big.png");
        std::fs::write(&big, [PNG_MAGIC, &[0; 2048]].concat()).unwrap();
        assert!(Upload::file(&big, 1024).is_err());
        assert!(Upload::memory(b"GIF87a-but-not-really".to_vec(), 1024).is_ok());
    }

    #[test]
    fn bodies_and_elements_frame_the_image_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.png");
        let image = [PNG_MAGIC, &[7; 100]].concat();
        std::fs::write(&path, &image).unwrap();
        let upload = Upload::file(&path, 1 << 20).unwrap();
        assert_eq!(upload.to_vec().unwrap(), image);
        let element = upload.element().unwrap();
        assert_eq!(&element[..4], &(image.len() as u32).to_le_bytes());
        assert_eq!(&element[4..], &image[..]);
        let body = upload
            .http_body(b"head".to_vec(), b"tail".to_vec())
            .unwrap();
        assert_eq!(
            body.as_bytes().unwrap(),
            [b"head", &image[..], b"tail"].concat()
        );
    }

    #[test]
    fn a_large_file_streams_and_one_that_shrank_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("large.png");
        let size = IN_MEMORY_LIMIT as usize + 10;
        std::fs::write(&path, [PNG_MAGIC, &vec![1; size - 8]].concat()).unwrap();
        let upload = Upload::file(&path, 1 << 30).unwrap();
        let body = upload.http_body(b"h".to_vec(), Vec::new()).unwrap();
        assert!(
            body.as_bytes().is_none(),
            "a large file is not held in memory"
        );
        assert!(upload.element().is_ok());
        std::fs::write(&path, PNG_MAGIC).unwrap();
        let error = upload.to_vec().unwrap_err();
        assert!(matches!(error, RemoteError::Unreadable(_)), "{error}");
        assert!(error.to_string().contains("changed"), "{error}");
        std::fs::write(&path, [PNG_MAGIC, &vec![2; size]].concat()).unwrap();
        let error = upload.element().unwrap_err();
        assert!(
            error.to_string().contains("changed"),
            "a file that grew: {error}"
        );
    }
}
