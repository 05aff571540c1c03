//! The upload page at `/` and the files it loads, compiled into the binary
//! so the gateway serves them with no install step.

use axum::http::header;
use axum::response::{IntoResponse, Response};

const INDEX: &str = include_str!("page/index.html");
const STYLE: &str = include_str!("page/page.css");
const SCRIPT: &str = include_str!("page/page.js");
const ICON: &str = include_str!("page/favicon.svg");

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            // A browser checks again each time, so that after an upgrade
            // the page never runs with the last version's script.
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

/// The page, told this server's upload limit, so that a larger photo is
/// refused before it is sent.
pub fn index(max_upload_bytes: usize) -> Response {
    let page = INDEX.replace("{{max_upload_bytes}}", &max_upload_bytes.to_string());
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        page,
    )
        .into_response()
}

pub async fn style() -> Response {
    asset("text/css; charset=utf-8", STYLE)
}

pub async fn script() -> Response {
    asset("text/javascript; charset=utf-8", SCRIPT)
}

/// Served at `/favicon.ico` too: browsers ask for it there on their own.
pub async fn icon() -> Response {
    asset("image/svg+xml", ICON)
}
