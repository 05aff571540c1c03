//! The gateway's routes: the upload page and its files, `/health`,
//! `/predict` and `/metrics`.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, MatchedPath, Multipart, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;

use super::ServeLimits;
use super::metrics::Metrics;
use super::request_id;
use crate::backend::{Backend, PredictError};
use crate::error::ErrorKind;
use crate::postprocess::Status;

pub struct AppState {
    pub backend: Arc<Backend>,
    pub metrics: Metrics,
    pub max_upload_bytes: usize,
    body_timeout: std::time::Duration,
    /// One permit per upload being classified.
    pending: Arc<tokio::sync::Semaphore>,
    /// One permit per megabyte of upload held in memory, from the moment
    /// its body is read until its answer is sent.
    upload_memory: Arc<tokio::sync::Semaphore>,
    upload_memory_mb: usize,
    /// How long an upload may wait for that memory.
    request_timeout: std::time::Duration,
    max_pending: usize,
    /// Set by every upload; cleared when the memory it left is given back.
    used_memory: std::sync::atomic::AtomicBool,
}

/// How often an idle gateway checks whether uploads left memory to give back.
const RELEASE_CHECK: std::time::Duration = std::time::Duration::from_secs(1);

/// Once no upload is held or classified any more, gives the memory the last
/// ones used back to the system, so a burst does not stay resident.
async fn release_memory_when_idle(state: std::sync::Weak<AppState>) {
    use std::sync::atomic::Ordering;
    let mut every = tokio::time::interval(RELEASE_CHECK);
    loop {
        every.tick().await;
        let Some(state) = state.upgrade() else { return };
        // Cleared before looking, so an upload that starts meanwhile sets it again.
        if !state.used_memory.swap(false, Ordering::SeqCst) {
            continue;
        }
        let idle = state.upload_memory.available_permits() == state.upload_memory_mb
            && state.pending.available_permits() == state.max_pending;
        if idle {
            let _ = tokio::task::spawn_blocking(crate::memory::release_freed).await;
        } else {
            state.used_memory.store(true, Ordering::SeqCst);
        }
    }
}

/// Bodies up to this many times the upload limit are read to the end so the
/// client gets a clean 413; larger ones are cut off.
const DRAIN_FACTOR: usize = 8;

pub fn router(backend: Arc<Backend>, limits: &ServeLimits) -> Router {
    let max_upload_bytes = limits.max_upload_bytes;
    let state = Arc::new(AppState {
        backend,
        metrics: Metrics::default(),
        max_upload_bytes,
        body_timeout: limits.body_timeout,
        pending: Arc::new(tokio::sync::Semaphore::new(limits.max_pending)),
        upload_memory: Arc::new(tokio::sync::Semaphore::new(limits.upload_memory_mb)),
        upload_memory_mb: limits.upload_memory_mb,
        request_timeout: limits.request_timeout,
        max_pending: limits.max_pending,
        used_memory: std::sync::atomic::AtomicBool::new(false),
    });
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        runtime.spawn(release_memory_when_idle(Arc::downgrade(&state)));
    }
    Router::new()
        .route("/", get(index))
        .route("/page.css", get(super::page::style))
        .route("/page.js", get(super::page::script))
        .route("/favicon.svg", get(super::page::icon))
        .route("/favicon.ico", get(super::page::icon))
        .route("/health", get(health))
        .route("/predict", post(predict))
        .route("/metrics", get(metrics))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(
            max_upload_bytes.saturating_mul(DRAIN_FACTOR),
        ))
        .layer(middleware::from_fn_with_state(state.clone(), record))
        .with_state(state)
}

/// How many faces an answer held, for the request's log line.
#[derive(Clone, Copy)]
struct FaceCount(usize);

/// Every request: its id (echoed in the answer), its metrics, and one log
/// line with method, route, status, time, faces and id.
async fn record(State(state): State<Arc<AppState>>, mut request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "other".to_string(), |p| p.as_str().to_string());
    let method = request.method().clone();
    let id = request_id::from_headers(request.headers()).unwrap_or_else(request_id::generate);
    request
        .extensions_mut()
        .insert(request_id::RequestId(id.clone()));
    let started = Instant::now();
    let mut response = next.run(request).await;
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    state.metrics.record(&route, status, elapsed.as_secs_f64());
    let faces = response.extensions().get::<FaceCount>().map(|f| f.0);
    tracing::info!(
        target: "genderlens::gateway",
        method = %method,
        route = %route,
        status,
        ms = elapsed.as_millis() as u64,
        faces = %faces.map_or_else(|| "-".to_string(), |n| n.to_string()),
        request_id = %id,
        "request"
    );
    if let Ok(value) = header::HeaderValue::from_str(&id) {
        response.headers_mut().insert(request_id::HEADER, value);
    }
    response
}

pub(crate) fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

async fn index(State(state): State<Arc<AppState>>) -> Response {
    super::page::index(state.max_upload_bytes)
}

/// Unknown routes and methods answer in JSON like every other error, or as
/// a page to a browser.
async fn not_found(headers: header::HeaderMap) -> Response {
    let response = error(
        StatusCode::NOT_FOUND,
        "no such route; the gateway serves GET /, GET /health, POST /predict and GET /metrics",
    );
    for_browser(&headers, response).await
}

async fn method_not_allowed(headers: header::HeaderMap) -> Response {
    let response = error(
        StatusCode::METHOD_NOT_ALLOWED,
        "this route does not take that method; /predict takes POST, the others GET",
    );
    for_browser(&headers, response).await
}

async fn for_browser(headers: &header::HeaderMap, response: Response) -> Response {
    let mut response = if super::answer_page::wants_html(headers) {
        as_page(response).await
    } else {
        response
    };
    // Caches must not give a browser's page to an API client, or back.
    response.headers_mut().insert(
        header::VARY,
        header::HeaderValue::from_static("Accept, Sec-Fetch-Dest"),
    );
    response
}

async fn health(State(state): State<Arc<AppState>>) -> Response {
    let backend = state.clone();
    let health = tokio::task::spawn_blocking(move || backend.backend.health()).await;
    match health {
        Ok(health) => {
            let status = if health.ready {
                StatusCode::OK
            } else {
                StatusCode::SERVICE_UNAVAILABLE
            };
            let body = json!({
                "status": if health.ready { "ok" } else { "unavailable" },
                "gateway": "ok",
                "backend": health,
            });
            (status, Json(body)).into_response()
        }
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

/// OpenMetrics for a scraper that asks for it (Prometheus does), the classic
/// text format for everyone else; each labelled with its own content type.
async fn metrics(State(state): State<Arc<AppState>>, headers: header::HeaderMap) -> Response {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let (content_type, body) = if accept.contains("application/openmetrics-text") {
        (
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
            state.metrics.render_openmetrics(),
        )
    } else {
        (
            "text/plain; version=0.0.4; charset=utf-8",
            state.metrics.render_classic_text(),
        )
    };
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::VARY, "Accept"),
        ],
        body,
    )
        .into_response()
}

/// `/predict`: JSON, or a page for a browser's plain form post.
async fn predict(
    State(state): State<Arc<AppState>>,
    headers: header::HeaderMap,
    id: Option<axum::Extension<request_id::RequestId>>,
    form: Result<Multipart, MultipartRejection>,
) -> Response {
    let id = id.map(|axum::Extension(id)| id.0);
    let response = predict_json(state, headers.clone(), id, form).await;
    for_browser(&headers, response).await
}

/// The same answer, status and headers, with its JSON shown as a page.
async fn as_page(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    // Answers are a few kilobytes; anything past this is not one of ours.
    let answer = match axum::body::to_bytes(body, 1 << 20).await {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| json!({"error": "the answer could not be read"})),
        Err(e) => json!({ "error": e.to_string() }),
    };
    let page = super::answer_page::render(parts.status.as_u16(), &answer);
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/html; charset=utf-8"),
    );
    Response::from_parts(parts, axum::body::Body::from(page))
}

async fn predict_json(
    state: Arc<AppState>,
    headers: header::HeaderMap,
    id: Option<String>,
    form: Result<Multipart, MultipartRejection>,
) -> Response {
    // A request that is not a multipart form gets the same JSON errors as the rest.
    let form = match form {
        Ok(form) => form,
        Err(rejection) => return error(rejection.status(), rejection.body_text()),
    };
    // The upload's memory is reserved before its body is read, so that many
    // large uploads at once wait their turn instead of all being held.
    state
        .used_memory
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let Some(_memory) = reserve_upload_memory(&state, &headers).await else {
        return busy("too many uploads are held in memory; try again in a moment");
    };
    // A body that stops arriving must not hold the request forever.
    let upload = match tokio::time::timeout(
        state.body_timeout,
        super::upload::read_upload(form, state.max_upload_bytes),
    )
    .await
    {
        Ok(Ok(upload)) => upload,
        Ok(Err(response)) => return response,
        Err(_) => {
            return error(
                StatusCode::REQUEST_TIMEOUT,
                format!(
                    "the upload did not arrive within {} s",
                    state.body_timeout.as_secs()
                ),
            );
        }
    };
    let (name, bytes) = upload;
    if let Err(e) = crate::preprocess::decode::sniff_format(&bytes) {
        return error(StatusCode::UNSUPPORTED_MEDIA_TYPE, e.to_string());
    }
    // Beyond the cap, say when to come back instead of queueing without bound.
    let Ok(permit) = state.pending.clone().try_acquire_owned() else {
        return busy("too many photos are being classified; try again in a moment");
    };
    let backend = state.backend.clone();
    let outcome = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        backend.predict(&name, bytes, id.as_deref())
    })
    .await;
    answer(outcome)
}

/// A `503` that says when to come back.
fn busy(message: &str) -> Response {
    let mut response = error(StatusCode::SERVICE_UNAVAILABLE, message);
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
    response
}

/// Waits (at most the request timeout) for the memory an upload will hold:
/// its announced length, or the upload limit when none is announced; never
/// more than the limit, since a larger body is not kept.
async fn reserve_upload_memory(
    state: &AppState,
    headers: &header::HeaderMap,
) -> Option<tokio::sync::OwnedSemaphorePermit> {
    let announced = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(state.max_upload_bytes);
    let megabytes = announced
        .min(state.max_upload_bytes)
        .div_ceil(1 << 20)
        .max(1);
    // One upload may take the whole budget, once it is free; never more.
    let megabytes = u32::try_from(megabytes.min(state.upload_memory_mb)).unwrap_or(u32::MAX);
    let wanted = state.upload_memory.clone().acquire_many_owned(megabytes);
    tokio::time::timeout(state.request_timeout, wanted)
        .await
        .ok()?
        .ok()
}

/// The JSON answer for a classification's outcome.
fn answer(
    outcome: Result<Result<crate::postprocess::ImageResult, PredictError>, tokio::task::JoinError>,
) -> Response {
    match outcome {
        Ok(Ok(result)) if result.status == Status::Error => {
            let failure = result.failure();
            let kind = failure.as_ref().map_or(ErrorKind::Internal, |f| f.kind);
            let message =
                failure.map_or_else(|| "the image could not be classified".into(), |f| f.message);
            // The upload's own fault is the client's; anything else is ours or upstream's.
            let status = match kind {
                ErrorKind::Input => StatusCode::UNPROCESSABLE_ENTITY,
                ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
                ErrorKind::Upstream => StatusCode::BAD_GATEWAY,
            };
            error(status, message)
        }
        Ok(Ok(result)) => {
            let faces = FaceCount(result.faces.len());
            let mut response = Json(crate::postprocess::answer_json(&result)).into_response();
            response.extensions_mut().insert(faces);
            response
        }
        Ok(Err(PredictError::Unavailable(message))) => {
            error(StatusCode::SERVICE_UNAVAILABLE, message)
        }
        Ok(Err(PredictError::Timeout(message))) => error(StatusCode::GATEWAY_TIMEOUT, message),
        Ok(Err(PredictError::Upstream(message))) => error(StatusCode::BAD_GATEWAY, message),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}
