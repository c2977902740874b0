//! The storefront page at `/app`: plain HTML, CSS and JavaScript embedded at compile time
//! (`crates/api/assets/app`), with no build step. It uses the public GraphQL API only
//! (`/graphql` over HTTP and `graphql-transport-ws`), plus, in demo mode, what
//! [`super::demo`] serves.
//!
//! Invariant: the page's own files come from this origin only and it connects only to
//! it; pictures may come from any `https:` host (a post's media live where its author
//! put them), and pictures never see a token.

use super::files::{Asset, Page, embedded};

/// The page's policy: scripts, styles and connections from this origin only.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' data: https:; connect-src 'self'; base-uri 'none'; \
     form-action 'none'; frame-ancestors 'none'";

macro_rules! asset {
    ($name:literal, $type:literal) => {
        embedded!("app", $name, $type)
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

/// The storefront, as the router serves it.
pub const PAGE: Page = Page {
    index: INDEX,
    assets: &ASSETS,
    policy: CONTENT_SECURITY_POLICY,
};
