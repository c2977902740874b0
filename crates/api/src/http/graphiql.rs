//! GraphiQL, served from the binary: `GET /` and its files under `/graphiql/`, pinned
//! production builds embedded at compile time (`crates/api/assets/graphiql/README.md`).
//!
//! Invariant: the page loads nothing from anywhere but this server, and says so to the
//! browser: its Content-Security-Policy allows scripts, styles, fonts, images and
//! connections from this origin only, so no third-party script sees a pasted token.

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// The page's policy: this origin only (inline styles: GraphiQL's editor sets some).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; \
     connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// One embedded file.
pub struct Asset {
    /// Its name under `/graphiql/`.
    pub name: &'static str,
    /// Its bytes.
    pub bytes: &'static [u8],
    /// Its media type.
    pub content_type: &'static str,
}

macro_rules! asset {
    ($name:literal, $type:literal) => {
        Asset {
            name: $name,
            bytes: include_bytes!(concat!("../../assets/graphiql/", $name)),
            content_type: $type,
        }
    };
}

/// Every file the page loads.
pub const ASSETS: [Asset; 6] = [
    asset!("graphiql.min.js", "text/javascript; charset=utf-8"),
    asset!("graphiql.min.css", "text/css; charset=utf-8"),
    asset!("react.production.min.js", "text/javascript; charset=utf-8"),
    asset!(
        "react-dom.production.min.js",
        "text/javascript; charset=utf-8"
    ),
    asset!("start.js", "text/javascript; charset=utf-8"),
    asset!("page.css", "text/css; charset=utf-8"),
];

const INDEX: &[u8] = include_bytes!("../../assets/graphiql/index.html");

fn with_policy(
    mut response: Response,
    content_type: &'static str,
    cache: &'static str,
) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// `GET /`: the page.
pub(super) async fn page() -> Response {
    with_policy(
        (StatusCode::OK, INDEX).into_response(),
        "text/html; charset=utf-8",
        "no-cache",
    )
}

/// `GET /graphiql/NAME`: one of its files, or 404.
pub(super) async fn asset(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|a| a.name == name) {
        Some(found) => with_policy(
            (StatusCode::OK, found.bytes).into_response(),
            found.content_type,
            "public, max-age=3600",
        ),
        None => (StatusCode::NOT_FOUND, "no such file\n").into_response(),
    }
}
