//! `Media` (an image or a video of a post) and `MediaKind`, which serves as output and as
//! input.

use async_graphql::parser::types::SelectionSet;
use async_graphql::resolver_utils::enum_value;
use async_graphql::{Context, Enum, Object, Value};
use sparkfeed_domain::events::{Media as MediaRow, MediaKind as DomainMediaKind};

use crate::ctx::{Env, Gql};
use crate::direct::{Walker, opt_text, value};
use crate::error::ApiResult;

/// Image or video.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub(crate) enum MediaKind {
    /// A photo.
    Image,
    /// A video.
    Video,
}

impl From<DomainMediaKind> for MediaKind {
    fn from(kind: DomainMediaKind) -> Self {
        match kind {
            DomainMediaKind::Image => MediaKind::Image,
            DomainMediaKind::Video => MediaKind::Video,
        }
    }
}

impl From<MediaKind> for DomainMediaKind {
    fn from(kind: MediaKind) -> Self {
        match kind {
            MediaKind::Image => DomainMediaKind::Image,
            MediaKind::Video => DomainMediaKind::Video,
        }
    }
}

/// An image or a video of a post.
#[derive(Clone)]
pub(crate) struct Media(pub MediaRow);

mod field {
    use super::*;

    pub fn kind(m: &MediaRow) -> MediaKind {
        m.kind.into()
    }
    pub fn url(env: &Env<'_>, m: &MediaRow) -> ApiResult<Option<String>> {
        env.unseal(&m.url)
    }
    pub fn width(m: &MediaRow) -> u32 {
        m.width
    }
    pub fn height(m: &MediaRow) -> u32 {
        m.height
    }
    pub fn alt(env: &Env<'_>, m: &MediaRow) -> ApiResult<Option<String>> {
        env.unseal(&m.alt)
    }
}

/// An image or a video of a post.
#[Object(serial)]
impl Media {
    /// Image or video.
    async fn kind(&self) -> MediaKind {
        field::kind(&self.0)
    }
    /// Where it is served from; `null` once the author was forgotten.
    async fn url(&self, ctx: &Context<'_>) -> Gql<Option<String>> {
        Ok(field::url(&Env::from_ctx(ctx), &self.0)?)
    }
    /// Pixels.
    async fn width(&self) -> u32 {
        field::width(&self.0)
    }
    /// Pixels.
    async fn height(&self) -> u32 {
        field::height(&self.0)
    }
    /// Alternative text; `null` once the author was forgotten.
    async fn alt(&self, ctx: &Context<'_>) -> Gql<Option<String>> {
        Ok(field::alt(&Env::from_ctx(ctx), &self.0)?)
    }
}

/// `media` as the selection `set` asks for it.
pub(crate) fn direct(w: &Walker<'_>, set: &SelectionSet, media: &MediaRow) -> Option<Value> {
    w.object(set, "Media", &mut |f| {
        Some(match f.name.node.as_str() {
            "kind" => enum_value(field::kind(media)),
            "url" => opt_text(field::url(&w.env, media).ok()?),
            "width" => value(field::width(media)),
            "height" => value(field::height(media)),
            "alt" => opt_text(field::alt(&w.env, media).ok()?),
            _ => return None,
        })
    })
}
