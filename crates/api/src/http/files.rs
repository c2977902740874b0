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

/// The file `$name` of `crates/api/assets/$dir`, embedded at compile time, as an [`Asset`].
macro_rules! embedded {
    ($dir:literal, $name:literal, $type:literal) => {
        $crate::http::files::Asset {
            name: $name,
            bytes: include_bytes!(concat!("../../assets/", $dir, "/", $name)),
            content_type: $type,
        }
    };
}
pub(super) use embedded;

/// `body` as a 200 of `content_type`, under `policy`, cacheable as `cache`.
pub(super) fn file(
    body: impl IntoResponse,
    content_type: &'static str,
    policy: &'static str,
    cache: &'static str,
) -> Response {
    let mut response = (StatusCode::OK, body).into_response();
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

/// A page: its HTML, the files it loads and the policy all of them are served under.
pub struct Page {
    /// Its HTML.
    pub index: &'static [u8],
    /// Every file it loads.
    pub assets: &'static [Asset],
    /// Its Content-Security-Policy.
    pub policy: &'static str,
}

impl Page {
    /// The page itself (revalidated on every load).
    pub(super) fn index(&self) -> Response {
        file(
            self.index,
            "text/html; charset=utf-8",
            self.policy,
            "no-cache",
        )
    }

    /// The file called `name` (cacheable for an hour), or 404.
    pub(super) fn asset(&self, name: &str) -> Response {
        match self.assets.iter().find(|a| a.name == name) {
            Some(found) => file(
                found.bytes,
                found.content_type,
                self.policy,
                "public, max-age=3600",
            ),
            None => (StatusCode::NOT_FOUND, "no such file\n").into_response(),
        }
    }
}
