//! `Post`: photos or videos of products, tagged, as a card shows it.
//!
//! A `Post` is resolved directly ([`direct`]) where the selection allows it, and otherwise
//! field by field as [`PostObject`], which also defines the GraphQL type. Both read every
//! value through the same field functions.

use std::sync::Arc;

use async_graphql::connection::Connection;
use async_graphql::parser::types::SelectionSet;
use async_graphql::{Context, ContextSelectionSet, ID, Object, OutputType, Value};
use sparkfeed_domain::UserId;
use sparkfeed_domain::events::{Disclosure as DisclosureRow, Media as MediaRow};
use sparkfeed_projections::rows::PostCardRow;
use sparkfeed_projections::{View, read};

use super::comment::Comment;
use super::disclosure::{self, Disclosure};
use super::media::{self, Media};
use super::nodes::{Post, User, load_user};
use super::tag::{self, ProductTag};
use super::user;
use crate::Api;
use crate::ctx::{Env, Gql, api, feeds_tree};
use crate::direct::{Walker, opt_text, strings, value};
use crate::error::ApiResult;
use crate::paging::{Cursor, Fetched, page, page_cost};
use crate::scalars::{DateTime, Int64};

mod field {
    use super::*;

    pub fn id(c: &PostCardRow) -> ID {
        ID(c.body.post.to_string())
    }
    pub fn author(c: &PostCardRow) -> &UserId {
        &c.body.author
    }
    pub fn caption(env: &Env<'_>, c: &PostCardRow) -> ApiResult<Option<String>> {
        env.unseal(&c.body.caption)
    }
    pub fn media(c: &PostCardRow) -> &[MediaRow] {
        &c.body.media
    }
    pub fn interests(c: &PostCardRow) -> Vec<&str> {
        c.body.interests.iter().map(|i| i.as_str()).collect()
    }
    pub fn tags(feeds: &View, c: &PostCardRow) -> ApiResult<Vec<ProductTag>> {
        let verified = read::verified_purchaser(feeds, c)?;
        Ok(c.body
            .tags
            .iter()
            .zip(verified)
            .map(|(tag, verified)| ProductTag {
                tag: tag.clone(),
                verified,
            })
            .collect())
    }
    pub fn sponsored(c: &PostCardRow) -> bool {
        c.body.disclosure.is_some()
    }
    pub fn disclosure(c: &PostCardRow) -> Option<&DisclosureRow> {
        c.body.disclosure.as_ref()
    }
    pub fn smile_count(c: &PostCardRow) -> Int64 {
        Int64(c.stats.smiles)
    }
    pub fn save_count(c: &PostCardRow) -> Int64 {
        Int64(c.stats.saves)
    }
    pub fn share_count(c: &PostCardRow) -> Int64 {
        Int64(c.stats.shares)
    }
    pub fn comment_count(c: &PostCardRow) -> Int64 {
        Int64(c.stats.comments)
    }
    pub fn purchase_count(c: &PostCardRow) -> Int64 {
        Int64(c.stats.purchases)
    }
    pub fn viewer_has_smiled(env: &Env<'_>, feeds: &View, c: &PostCardRow) -> ApiResult<bool> {
        match env.viewer {
            None => Ok(false),
            Some(user) => Ok(read::smiles(feeds, &c.body.post, user)?),
        }
    }
    pub fn viewer_has_saved(env: &Env<'_>, feeds: &View, c: &PostCardRow) -> ApiResult<bool> {
        match env.viewer {
            None => Ok(false),
            Some(user) => Ok(read::saved(feeds, &c.body.post, user)?),
        }
    }
    pub fn published_at(c: &PostCardRow) -> DateTime {
        DateTime::from_micros(c.body.recorded_at)
    }
    pub fn position(c: &PostCardRow) -> Int64 {
        Int64(c.body.published_at.0)
    }
    pub fn removed(c: &PostCardRow) -> bool {
        c.body.removed
    }
}

impl OutputType for Post {
    fn type_name() -> std::borrow::Cow<'static, str> {
        <PostObject as OutputType>::type_name()
    }

    fn create_type_info(registry: &mut async_graphql::registry::Registry) -> String {
        <PostObject as OutputType>::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        field: &async_graphql::Positioned<async_graphql::parser::types::Field>,
    ) -> async_graphql::ServerResult<Value> {
        let direct = Walker::of(ctx).and_then(|w| direct(&w, &ctx.item.node, &self.0));
        if let Some(api) = ctx.data_opt::<Arc<Api>>() {
            api.metrics.card_resolved(direct.is_some());
        }
        match direct {
            Some(value) => Ok(value),
            None => OutputType::resolve(&PostObject(Arc::clone(&self.0)), ctx, field).await,
        }
    }
}

/// The `Post` type resolved field by field by async-graphql's executor.
pub(crate) struct PostObject(Arc<PostCardRow>);

/// A post: photos or videos of products, tagged, as a card shows it.
#[Object(serial, name = "Post")]
impl PostObject {
    /// The post id.
    async fn id(&self) -> ID {
        field::id(&self.0)
    }
    /// Its author.
    async fn author(&self, ctx: &Context<'_>) -> Gql<Option<User>> {
        Ok(load_user(ctx, field::author(&self.0))?)
    }
    /// The caption; `null` once the author was forgotten.
    async fn caption(&self, ctx: &Context<'_>) -> Gql<Option<String>> {
        Ok(field::caption(&Env::from_ctx(ctx), &self.0)?)
    }
    /// Its media, in order.
    async fn media(&self) -> Vec<Media> {
        field::media(&self.0).iter().cloned().map(Media).collect()
    }
    /// Its interests (slugs).
    async fn interests(&self) -> Vec<&str> {
        field::interests(&self.0)
    }
    /// Its product tags, each with a "verified purchaser" badge.
    async fn tags(&self, ctx: &Context<'_>) -> Gql<Vec<ProductTag>> {
        Ok(field::tags(&feeds_tree(ctx)?, &self.0)?)
    }
    /// Whether a brand sponsors it.
    async fn sponsored(&self) -> bool {
        field::sponsored(&self.0)
    }
    /// "Paid partnership with <brand>", on every sponsored post.
    async fn disclosure(&self) -> Option<Disclosure> {
        field::disclosure(&self.0).cloned().map(Disclosure)
    }
    /// Smiles.
    async fn smile_count(&self) -> Int64 {
        field::smile_count(&self.0)
    }
    /// Saves.
    async fn save_count(&self) -> Int64 {
        field::save_count(&self.0)
    }
    /// Shares.
    async fn share_count(&self) -> Int64 {
        field::share_count(&self.0)
    }
    /// Comments.
    async fn comment_count(&self) -> Int64 {
        field::comment_count(&self.0)
    }
    /// Orders placed through it.
    async fn purchase_count(&self) -> Int64 {
        field::purchase_count(&self.0)
    }
    /// Whether the signed-in member smiles at it (`false` when signed out).
    async fn viewer_has_smiled(&self, ctx: &Context<'_>) -> Gql<bool> {
        let env = Env::from_ctx(ctx);
        Ok(field::viewer_has_smiled(&env, &env.feeds()?, &self.0)?)
    }
    /// Whether the signed-in member saved it (`false` when signed out).
    async fn viewer_has_saved(&self, ctx: &Context<'_>) -> Gql<bool> {
        let env = Env::from_ctx(ctx);
        Ok(field::viewer_has_saved(&env, &env.feeds()?, &self.0)?)
    }
    /// When it was published.
    async fn published_at(&self) -> DateTime {
        field::published_at(&self.0)
    }
    /// The log position of its publication.
    async fn position(&self) -> Int64 {
        field::position(&self.0)
    }
    /// Removed by its author or a moderator (only they and auditors still see it).
    async fn removed(&self) -> bool {
        field::removed(&self.0)
    }
    /// Its comments, newest first.
    #[graphql(complexity = "page_cost(first, child_complexity)")]
    async fn comments(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Gql<Connection<Cursor, Comment>> {
        page(first, after, api(ctx).limits.max_page, |p| {
            let page = read::comments(&feeds_tree(ctx)?, &self.0.body.post, p.first, p.after)?;
            let comments = page.items.into_iter().map(|(c, row)| (c, Comment(row)));
            Ok(Fetched::nodes(comments, page.has_next))
        })
    }
}

/// The card `card` as the selection `set` asks for it, or `None` when the general executor
/// must resolve it: a field this does not cover (one with arguments), or any error, which
/// the executor then reports with its path.
fn direct(w: &Walker<'_>, set: &SelectionSet, card: &PostCardRow) -> Option<Value> {
    w.object(set, "Post", &mut |f| {
        let sub = &f.selection_set.node;
        Some(match f.name.node.as_str() {
            "id" => value(field::id(card)),
            "author" => user::direct_by_id(w, sub, field::author(card))?,
            "caption" => opt_text(field::caption(&w.env, card).ok()?),
            "media" => w.list(field::media(card), |m| media::direct(w, sub, m))?,
            "interests" => strings(field::interests(card).into_iter()),
            "tags" => w.list(field::tags(&w.feeds, card).ok()?, |t| {
                tag::direct(w, sub, &t.tag, t.verified)
            })?,
            "sponsored" => value(field::sponsored(card)),
            "disclosure" => match field::disclosure(card) {
                None => Value::Null,
                Some(d) => disclosure::direct(w, sub, d)?,
            },
            "smileCount" => value(field::smile_count(card)),
            "saveCount" => value(field::save_count(card)),
            "shareCount" => value(field::share_count(card)),
            "commentCount" => value(field::comment_count(card)),
            "purchaseCount" => value(field::purchase_count(card)),
            "viewerHasSmiled" => value(field::viewer_has_smiled(&w.env, &w.feeds, card).ok()?),
            "viewerHasSaved" => value(field::viewer_has_saved(&w.env, &w.feeds, card).ok()?),
            "publishedAt" => value(field::published_at(card)),
            "position" => value(field::position(card)),
            "removed" => value(field::removed(card)),
            _ => return None,
        })
    })
}
