//! The storefront page at `/app`: plain HTML, CSS and JavaScript embedded at compile time
//! (`crates/api/assets/app`), with no build step. It uses the public GraphQL API only
//! (`/graphql` over HTTP and `graphql-transport-ws`), plus, in demo mode, what
//! [`super::demo`] serves.
//!
//! Invariant: the page's own files come from this origin only and it connects only to
//! it; pictures may come from any `https:` host (a post's media live where its author
//! put them), and pictures never see a token.

use axum::extract::Path;
use axum::response::Response;

use super::files::{self, Asset, file};

/// The page's policy: scripts, styles and connections from this origin only.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' data: https:; connect-src 'self'; base-uri 'none'; \
     form-action 'none'; frame-ancestors 'none'";

macro_rules! asset {
    ($name:literal, $type:literal) => {
        Asset {
            name: $name,
            bytes: include_bytes!(concat!("../../assets/app/", $name)),
            content_type: $type,
        }
    };
}

/// Every file the page loads.
pub const ASSETS: [Asset; 6] = [
    asset!("app.js", "text/javascript; charset=utf-8"),
    asset!("operations.js", "text/javascript; charset=utf-8"),
    asset!("graphql.js", "text/javascript; charset=utf-8"),
    asset!("messages.js", "text/javascript; charset=utf-8"),
    asset!("app.css", "text/css; charset=utf-8"),
    asset!("favicon.svg", "image/svg+xml"),
];

const INDEX: &[u8] = include_bytes!("../../assets/app/index.html");

/// `GET /app`: the page.
pub(super) async fn page() -> Response {
    file(
        INDEX,
        "text/html; charset=utf-8",
        CONTENT_SECURITY_POLICY,
        "no-cache",
    )
}

/// `GET /app/NAME`: one of its files, or 404.
pub(super) async fn asset(Path(name): Path<String>) -> Response {
    files::asset(&ASSETS, &name, CONTENT_SECURITY_POLICY)
}
