//! Files embedded in the binary, served with the page's Content-Security-Policy.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// One embedded file.
pub struct Asset {
    /// Its name under its page's directory.
    pub name: &'static str,
    /// Its bytes.
    pub bytes: &'static [u8],
    /// Its media type.
    pub content_type: &'static str,
}

/// `bytes` as a 200 of `content_type`, under `policy`, cacheable as `cache`.
pub(super) fn file(
    bytes: &'static [u8],
    content_type: &'static str,
    policy: &'static str,
    cache: &'static str,
) -> Response {
    let mut response = (StatusCode::OK, bytes).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(policy),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// The file called `name` of `assets` (cacheable for an hour), or 404.
pub(super) fn asset(assets: &[Asset], name: &str, policy: &'static str) -> Response {
    match assets.iter().find(|a| a.name == name) {
        Some(found) => file(
            found.bytes,
            found.content_type,
            policy,
            "public, max-age=3600",
        ),
        None => (StatusCode::NOT_FOUND, "no such file\n").into_response(),
    }
}
