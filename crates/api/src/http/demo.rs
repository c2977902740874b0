//! What `serve --demo` adds for the storefront page, and only in demo mode
//! ([`crate::Limits::demo`]): the demo members it may sign in as, and placeholder
//! pictures for the demo world's media URLs (which resolve nowhere).
//!
//! Invariant: without demo mode both answer 404 and read nothing; neither ever writes.

use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use sparkfeed_domain::events::AccountKind;
use sparkfeed_domain::{Asin, PostId, Role, UserId};
use sparkfeed_projections::read;
use sparkfeed_seed::media::{DemoPicture, PLACEHOLDER_HOSTS, Placeholder, demo_picture};

use super::files::file;
use super::respond::json;
use super::state::AppState;
use crate::Api;
use crate::auth::DEFAULT_TOKEN_TTL;

fn not_demo() -> Response {
    (
        StatusCode::NOT_FOUND,
        "not a demo server: sign in with a token (`sparkfeed token`)\n",
    )
        .into_response()
}

/// Whether an account (its kind, Prime, its roles) plays a part of the cast.
type Fits = fn(&AccountKind, bool, &[Role]) -> bool;

/// Who the page offers to sign in as: (label, how many, which accounts fit).
const CAST: [(&str, usize, Fits); 6] = [
    ("Prime member", 5, |kind, prime, roles| {
        *kind == AccountKind::Member && prime && roles.is_empty()
    }),
    ("Enthusiast", 2, |_, _, roles| roles == [Role::Enthusiast]),
    ("Member without Prime", 1, |kind, prime, roles| {
        *kind == AccountKind::Member && !prime && roles.is_empty()
    }),
    ("Brand", 1, |kind, _, _| *kind == AccountKind::Brand),
    ("Moderator", 1, |_, _, roles| {
        roles.contains(&Role::Moderator)
    }),
    ("Admin", 1, |_, _, roles| roles.contains(&Role::Admin)),
];

/// The demo world's accounts are `u0001`… and brands `b0001`…; this many of each are
/// looked at.
const LOOKED_AT: u32 = 100;

/// `GET /app/demo.json`: demo members with fresh tokens, and the hosts whose pictures
/// `/demo/media` draws.
pub(super) async fn members(State(state): State<AppState>) -> Response {
    let api = &state.api;
    if !api.limits.demo {
        return not_demo();
    }
    match cast(api) {
        Ok(members) => {
            let mut response = json(
                StatusCode::OK,
                &serde_json::json!({
                    "members": members,
                    "placeholderHosts": PLACEHOLDER_HOSTS,
                    "placeholderPath": "/demo/media",
                }),
            );
            response.headers_mut().insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-store"),
            );
            response
        }
        Err(reason) => (StatusCode::SERVICE_UNAVAILABLE, format!("{reason}\n")).into_response(),
    }
}

fn cast(api: &Api) -> Result<Vec<serde_json::Value>, String> {
    let feeds = api.projections.view("feeds").map_err(|e| e.to_string())?;
    let keys = api.domain.keys();
    let mut wanted = CAST.map(|(label, count, fits)| (label, count, fits, Vec::new()));
    let ids = (1..=LOOKED_AT)
        .map(|n| format!("u{n:04}"))
        .chain((1..=LOOKED_AT).map(|n| format!("b{n:04}")));
    for id in ids {
        let Ok(user) = UserId::parse(&id) else {
            continue;
        };
        let Some(row) =
            read::member_with(&feeds, &user, &api.rows.members).map_err(|e| e.to_string())?
        else {
            continue;
        };
        let Some((label, _, _, chosen)) = wanted.iter_mut().find(|(_, count, fits, chosen)| {
            chosen.len() < *count && fits(&row.kind, row.prime, &row.roles)
        }) else {
            continue;
        };
        let open = |sealed| keys.unseal(sealed).ok().flatten();
        let (Some(handle), Some(name)) = (open(&row.handle), open(&row.display_name)) else {
            continue; // forgotten
        };
        chosen.push(serde_json::json!({
            "id": id,
            "handle": handle,
            "displayName": row.brand_name.clone().unwrap_or(name),
            "kind": label,
            "token": api.tokens.mint(&user, DEFAULT_TOKEN_TTL),
        }));
    }
    Ok(wanted.into_iter().flat_map(|(.., chosen)| chosen).collect())
}

/// A picture's policy: an SVG drawn here runs nothing and loads nothing.
const PICTURE_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'";

/// `?url=` of `/demo/media`.
#[derive(Deserialize)]
pub(super) struct PictureQuery {
    url: String,
}

/// `GET /demo/media?url=URL`: the placeholder of a demo picture URL, as SVG; 404 for any
/// other URL or an unknown post or product.
pub(super) async fn picture(
    State(state): State<AppState>,
    Query(query): Query<PictureQuery>,
) -> Response {
    let api = &state.api;
    if !api.limits.demo {
        return not_demo();
    }
    let Some(picture) = demo_picture(&query.url) else {
        return (StatusCode::NOT_FOUND, "not a demo picture URL\n").into_response();
    };
    match draw(api, &picture) {
        Ok(Some(svg)) => file(svg, "image/svg+xml", PICTURE_POLICY, "public, max-age=3600"),
        Ok(None) => (StatusCode::NOT_FOUND, "no such post or product\n").into_response(),
        Err(reason) => (StatusCode::SERVICE_UNAVAILABLE, format!("{reason}\n")).into_response(),
    }
}

fn draw(api: &Api, picture: &DemoPicture) -> Result<Option<String>, String> {
    let feeds = api.projections.view("feeds").map_err(|e| e.to_string())?;
    let product = |asin: &Asin| read::product_with(&feeds, asin, &api.rows.products);
    match picture {
        DemoPicture::ProductImage { asin } => {
            let Ok(asin) = Asin::parse(asin) else {
                return Ok(None);
            };
            let Some(row) = product(&asin).map_err(|e| e.to_string())? else {
                return Ok(None);
            };
            let interest = row.interests.first().map_or("", |i| i.as_str());
            Ok(Some(
                Placeholder {
                    width: 800,
                    height: 800,
                    interest,
                    title: &row.title,
                    caption: &row.price.to_string(),
                    of: row.asin.as_str(),
                }
                .svg(),
            ))
        }
        DemoPicture::PostMedia { post, index } => {
            let Ok(id) = PostId::parse(post) else {
                return Ok(None);
            };
            let Some(card) = read::post_card_with(&feeds, &id, &api.rows.post_bodies)
                .map_err(|e| e.to_string())?
            else {
                return Ok(None);
            };
            let Some(medium) = card.body.media.get(*index) else {
                return Ok(None);
            };
            let interest = card.body.interests.first().map_or("", |i| i.as_str());
            let mut title = None;
            for tag in card
                .body
                .tags
                .iter()
                .filter(|t| usize::from(t.media_index) == *index)
            {
                if let Some(row) = product(&tag.asin).map_err(|e| e.to_string())? {
                    title = Some(row.title.clone());
                    break;
                }
            }
            let title = match (title, card.body.interests.first()) {
                (Some(title), _) => title,
                (None, Some(slug)) => read::interest(&feeds, slug)
                    .map_err(|e| e.to_string())?
                    .map_or_else(|| slug.as_str().to_owned(), |i| i.name),
                (None, None) => "A post".to_owned(),
            };
            let caption = format!("Photo {} of post {post}", index + 1);
            let of = format!("{post}/{index}");
            Ok(Some(
                Placeholder {
                    width: medium.width,
                    height: medium.height,
                    interest,
                    title: &title,
                    caption: &caption,
                    of: &of,
                }
                .svg(),
            ))
        }
    }
}
