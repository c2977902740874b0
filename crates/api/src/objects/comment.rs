//! `Comment`: a comment on a post.

use async_graphql::{Context, ID, Object};
use sparkfeed_projections::rows::CommentRow;

use super::nodes::{User, load_user};
use crate::ctx::{Gql, unseal};
use crate::scalars::Int64;

/// A comment on a post.
pub(crate) struct Comment(pub CommentRow);

/// A comment on a post.
#[Object(serial)]
impl Comment {
    /// The comment id.
    async fn id(&self) -> ID {
        ID(self.0.comment.to_string())
    }
    /// Its author.
    async fn author(&self, ctx: &Context<'_>) -> Gql<Option<User>> {
        Ok(load_user(ctx, &self.0.author)?)
    }
    /// The text; `null` once the author was forgotten.
    async fn text(&self, ctx: &Context<'_>) -> Gql<Option<String>> {
        Ok(unseal(ctx, &self.0.text)?)
    }
    /// The log position of the comment.
    async fn position(&self) -> Int64 {
        Int64(self.0.position.0)
    }
}
