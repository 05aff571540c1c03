//! Reading the `image` field of a `/predict` form, within the upload limit.

use axum::extract::Multipart;
use axum::http::StatusCode;
use axum::response::Response;

use super::routes::error;

/// The upload in the `image` field, or the answer that refuses the form.
pub async fn read_upload(mut form: Multipart, limit: usize) -> Result<(String, Vec<u8>), Response> {
    let mut upload = None;
    let mut oversized = false;
    // Every field is read to the end, even past the limit, so that the client
    // has finished sending when the answer comes and sees it.
    loop {
        let mut field = match form.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) => return Err(error(e.status(), e.body_text())),
        };
        let wanted = field.name() == Some("image") && upload.is_none();
        let name = field.file_name().unwrap_or("upload").to_string();
        let mut bytes = Vec::new();
        loop {
            match field.chunk().await {
                Ok(Some(chunk)) => {
                    if wanted && !oversized {
                        if bytes.len() + chunk.len() > limit {
                            oversized = true;
                            bytes = Vec::new();
                        } else {
                            bytes.extend_from_slice(&chunk);
                        }
                    }
                }
                Ok(None) => break,
                Err(e) => return Err(error(e.status(), e.body_text())),
            }
        }
        if wanted && !oversized {
            upload = Some((name, bytes));
        }
    }
    if oversized {
        return Err(error(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "the image is larger than this server's {} MB upload limit",
                limit / (1024 * 1024)
            ),
        ));
    }
    let Some((name, bytes)) = upload else {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "the form has no file in the field named \"image\"",
        ));
    };
    if bytes.is_empty() {
        return Err(error(StatusCode::BAD_REQUEST, "the uploaded file is empty"));
    }
    Ok((name, bytes))
}
