//! The home feed's items: a post and why it is there (`HomeFeedEdge.because`).

use async_graphql::connection::{Connection, ConnectionNameType, EdgeNameType, EmptyFields};
use async_graphql::{OutputType, SimpleObject};

use super::nodes::Post;
use crate::paging::Cursor;

/// Why a post is in the member's home feed.
#[derive(SimpleObject)]
#[graphql(serial)]
pub(crate) struct HomeReason {
    /// The member's interests that put it there.
    pub because: Vec<String>,
}

/// The names of the home feed's connection types.
pub(crate) struct HomeFeed;

impl ConnectionNameType for HomeFeed {
    fn type_name<T: OutputType>() -> String {
        "HomeFeedConnection".into()
    }
}

impl EdgeNameType for HomeFeed {
    fn type_name<T: OutputType>() -> String {
        "HomeFeedEdge".into()
    }
}

/// The home feed: posts, each with its reason.
pub(crate) type HomeFeedConnection =
    Connection<Cursor, Post, EmptyFields, HomeReason, HomeFeed, HomeFeed>;
