//! GraphiQL, served from the binary: `GET /` and its files under `/graphiql/`, pinned
//! production builds embedded at compile time (`crates/api/assets/graphiql/README.md`).
//!
//! Invariant: the page loads nothing from anywhere but this server, and says so to the
//! browser: its Content-Security-Policy allows scripts, styles, fonts, images and
//! connections from this origin only, so no third-party script sees a pasted token.

pub use super::files::Asset;
use super::files::{Page, embedded};

/// The page's policy: this origin only (inline styles: GraphiQL's editor sets some).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; \
     connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

macro_rules! asset {
    ($name:literal, $type:literal) => {
        embedded!("graphiql", $name, $type)
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

/// GraphiQL, as the router serves it.
pub const PAGE: Page = Page {
    index: INDEX,
    assets: &ASSETS,
    policy: CONTENT_SECURITY_POLICY,
};
