//! Relay connections: cursors, the checked `first`/`after` of every list, and
//! [`page`], the one helper every connection resolver goes through.

use async_graphql::connection::{
    Connection, ConnectionNameType, CursorType, Edge, EdgeNameType, EmptyFields,
};
use async_graphql::{ObjectType, OutputType};
use sparkfeed_events::Position;
use sparkfeed_projections::feeds::walk::{Carry, FeedCursor};

use crate::ctx::Gql;
use crate::error::{ApiError, ApiResult};

/// A cursor: the log position of the item it points at, and, in a feed walked under the
/// feed policy, the policy's state ([`FeedCursor`]). Opaque to clients.
#[derive(Clone, PartialEq, Eq, Debug)]
pub(crate) struct Cursor(pub FeedCursor);

impl Cursor {
    /// The cursor of the item at `position`, with no policy state.
    pub fn at(position: Position) -> Self {
        Cursor(FeedCursor {
            position,
            carry: Carry::default(),
        })
    }
}

impl CursorType for Cursor {
    type Error = String;

    fn decode_cursor(s: &str) -> Result<Self, String> {
        FeedCursor::parse(s)
            .map(Cursor)
            .ok_or_else(|| format!("{s:?} is not a cursor of this list"))
    }

    fn encode_cursor(&self) -> String {
        self.0.encode()
    }
}

/// Checked paging arguments.
pub(crate) struct Paging {
    /// How many items the page holds at most.
    pub first: usize,
    /// The position the page starts after.
    pub after: Option<Position>,
    /// The whole cursor the page starts after (a feed's carries the policy's state).
    pub from: Option<FeedCursor>,
}

/// The default page size when `first` is not given.
pub(crate) const DEFAULT_PAGE: usize = 20;

/// Parses `first` (0 to `max`, refused above) and `after` (a cursor of this list).
fn paging(first: Option<i32>, after: Option<String>, max: usize) -> ApiResult<Paging> {
    let first = first_of(first, max)?;
    let from = full_cursor(after)?;
    Ok(Paging {
        first,
        after: from.as_ref().map(|c| c.position),
        from,
    })
}

/// Parses `first`: 0 to `max` ([`DEFAULT_PAGE`] when absent), refused above.
pub(crate) fn first_of(first: Option<i32>, max: usize) -> ApiResult<usize> {
    Ok(match first {
        None => DEFAULT_PAGE.min(max),
        Some(n) => usize::try_from(n)
            .ok()
            .filter(|n| *n <= max)
            .ok_or_else(|| {
                ApiError::input(
                    "first",
                    format!("expected 0 to {max} items per page, got {n}"),
                )
            })?,
    })
}

/// Parses an `after` cursor.
pub(crate) fn cursor(after: Option<String>) -> ApiResult<Option<Position>> {
    Ok(full_cursor(after)?.map(|c| c.position))
}

/// Parses an `after` cursor, policy state and all.
fn full_cursor(after: Option<String>) -> ApiResult<Option<FeedCursor>> {
    Ok(after
        .map(|a| Cursor::decode_cursor(&a).map_err(|e| ApiError::input("after", e)))
        .transpose()?
        .map(|c| c.0))
}

/// Checks a connection's `first` and `after` as every list does: the page size and the
/// position to page after, or a `BAD_USER_INPUT` refusal. Public for the fuzzers (`fuzz/`).
pub fn check_paging(
    first: Option<i32>,
    after: Option<String>,
    max: usize,
) -> ApiResult<(usize, Option<Position>)> {
    let p = paging(first, after, max)?;
    Ok((p.first, p.after))
}

/// The cursor a connection gives the item at `position`. Public for the fuzzers (`fuzz/`).
pub fn cursor_of(position: Position) -> String {
    Cursor::at(position).encode_cursor()
}

/// The most one field can cost: far above any complexity limit, and far below the sums
/// async-graphql makes of its fields' costs without checking (`1 + children`, siblings
/// added up), which overflowed when nested pages of `first: 2^31-1` reached `usize::MAX`.
const MAX_FIELD_COST: usize = 1 << 32;

/// What a connection field costs: its page size times what each item selects, at most
/// [`MAX_FIELD_COST`].
pub(crate) fn page_cost(first: Option<i32>, child: usize) -> usize {
    let first = first
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(DEFAULT_PAGE);
    first
        .max(1)
        .saturating_mul(child)
        .saturating_add(1)
        .min(MAX_FIELD_COST)
}

/// One fetched page: its items (each with its position, node and edge fields), whether
/// more follow, and the connection's own fields.
pub(crate) struct Fetched<N, E = EmptyFields, C = EmptyFields> {
    /// The items, in the list's order.
    pub items: Vec<(Cursor, N, E)>,
    /// Whether more items follow.
    pub has_next: bool,
    /// The connection's fields beyond its edges and page info.
    pub fields: C,
}

impl<N> Fetched<N> {
    /// A page of `items` with nothing beyond cursor and node.
    pub fn nodes(items: impl IntoIterator<Item = (Position, N)>, has_next: bool) -> Self {
        Self {
            items: items
                .into_iter()
                .map(|(p, n)| (Cursor::at(p), n, EmptyFields))
                .collect(),
            has_next,
            fields: EmptyFields,
        }
    }

    /// The first `first` of `items` after `after`, where `items` is the whole list in order.
    pub fn slice(items: impl IntoIterator<Item = (Position, N)>, paging: &Paging) -> Self {
        let mut page: Vec<_> = items
            .into_iter()
            .filter(|(p, _)| paging.after.is_none_or(|a| *p > a))
            .take(paging.first.saturating_add(1))
            .collect();
        let has_next = page.len() > paging.first;
        page.truncate(paging.first);
        Self::nodes(page, has_next)
    }
}

/// A connection resolved the way every list is: checks `first` (0 to `max`) and `after`,
/// fetches one page with them, and builds its edges and page info (a previous page exists
/// when `after` was given).
pub(crate) fn page<N, E, C, CN, EN>(
    first: Option<i32>,
    after: Option<String>,
    max: usize,
    fetch: impl FnOnce(&Paging) -> ApiResult<Fetched<N, E, C>>,
) -> Gql<Connection<Cursor, N, C, E, CN, EN>>
where
    N: OutputType,
    E: ObjectType,
    C: ObjectType,
    CN: ConnectionNameType,
    EN: EdgeNameType,
{
    let paging = paging(first, after, max)?;
    let fetched = fetch(&paging)?;
    let mut connection = Connection::with_additional_fields(
        paging.after.is_some(),
        fetched.has_next,
        fetched.fields,
    );
    connection.edges.extend(
        fetched
            .items
            .into_iter()
            .map(|(c, node, fields)| Edge::with_additional_fields(c, node, fields)),
    );
    Ok(connection)
}
