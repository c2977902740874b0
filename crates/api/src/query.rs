//! The queries: public reads, the member's own reads, and the analysts' and auditors'.

use async_graphql::connection::{Connection, ConnectionNameType, EdgeNameType, EmptyFields};
use async_graphql::{Context, ID, Object, OutputType, SimpleObject};
use sparkfeed_domain::{Asin, Handle, InterestSlug, PostId, Role as DomainRole};
use sparkfeed_eventlog::Direction;
use sparkfeed_events::{Position, StreamName, StreamVersion, Timestamp};
use sparkfeed_projections::read;

use crate::error::{ApiError, ApiResult};
use crate::types::*;

/// How many events one `events` page may examine while looking for matching ones; past
/// it the page ends early with `continueAfter` set.
const EVENT_SCAN_BUDGET: usize = 20_000;

pub(crate) fn interest_slug(text: &str) -> ApiResult<InterestSlug> {
    InterestSlug::parse(text).map_err(|e| ApiError::input("interest", e.to_string()))
}

pub(crate) fn post_id(id: &ID) -> ApiResult<PostId> {
    PostId::parse(id).map_err(|e| ApiError::input("postId", e.to_string()))
}

/// An interest that exists, or `NOT_FOUND`.
pub(crate) fn known_interest(ctx: &Context<'_>, text: &str) -> ApiResult<InterestSlug> {
    let slug = interest_slug(text)?;
    if read::interest(&feeds_tree(ctx)?, &slug)?.is_none() {
        return Err(ApiError::NotFound(format!("interest {slug}")));
    }
    Ok(slug)
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

/// Why a post is in the member's home feed.
#[derive(SimpleObject)]
#[graphql(serial)]
pub(crate) struct HomeReason {
    /// The member's interests that put it there.
    pub because: Vec<String>,
}

/// Where an `events` page stopped looking.
#[derive(SimpleObject)]
#[graphql(serial)]
pub(crate) struct EventScan {
    /// The last position examined: pass it as `after` to continue, even when a filtered
    /// page came back with fewer edges than asked for (or none).
    pub continue_after: Option<String>,
}

/// The names of the analysts' event connection types.
pub(crate) struct Events;

impl ConnectionNameType for Events {
    fn type_name<T: OutputType>() -> String {
        "EventConnection".into()
    }
}

impl EdgeNameType for Events {
    fn type_name<T: OutputType>() -> String {
        "EventEdge".into()
    }
}

type HomeFeedConnection = Connection<Cursor, Post, EmptyFields, HomeReason, HomeFeed, HomeFeed>;
type EventConnection = Connection<Cursor, Event, EventScan, EmptyFields, Events, Events>;

/// Every read sparkfeed offers.
pub struct Query;

#[Object]
impl Query {
    /// The interests of the catalog, by slug.
    #[graphql(complexity = "page_cost(first, child_complexity)")]
    async fn interests(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Gql<Connection<Cursor, Interest>> {
        let p = paging(first, after, api(ctx).limits.max_page)?;
        let all = read::interests(&feeds_tree(ctx)?)?;
        let start = p.after.map_or(0, |c| c.0.saturating_add(1));
        let items: Vec<_> = (0u64..)
            .zip(all)
            .skip_while(|(i, _)| *i < start)
            .take(p.first.saturating_add(1))
            .map(|(i, row)| (Position(i), Interest(row)))
            .collect();
        let has_next = items.len() > p.first;
        let items = items.into_iter().take(p.first).collect();
        Ok(connection(items, p.after.is_some(), has_next))
    }

    /// The posts of an interest, newest first. Removed posts are gone.
    #[graphql(complexity = "page_cost(first, child_complexity)")]
    async fn feed(
        &self,
        ctx: &Context<'_>,
        interest: String,
        first: Option<i32>,
        after: Option<String>,
    ) -> Gql<Connection<Cursor, Post>> {
        let p = paging(first, after, api(ctx).limits.max_page)?;
        let slug = known_interest(ctx, &interest)?;
        let page = read::feed(&feeds_tree(ctx)?, &slug, p.first, p.after)?;
        let items = posts(ctx, page.items).await?;
        Ok(connection(items, p.after.is_some(), page.has_next))
    }

    /// The signed-in member's feed: their interests merged, newest first; at most one
    /// sponsored post in five; products they already bought for themselves are not pushed
    /// again (consumables come back after their re-buy window).
    #[graphql(complexity = "page_cost(first, child_complexity)")]
    async fn home_feed(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Gql<HomeFeedConnection> {
        let user = signed_in(ctx)?;
        let p = paging(first, after, api(ctx).limits.max_page)?;
        let page = read::home_feed(
            &feeds_tree(ctx)?,
            user,
            p.first,
            p.after,
            Timestamp::now().0,
        )?;
        let mut reasons = std::collections::HashMap::new();
        let ids = page
            .items
            .into_iter()
            .map(|(cursor, item)| {
                reasons.insert(cursor, item.because);
                (cursor, item.post)
            })
            .collect();
        let mut connection = HomeFeedConnection::new(p.after.is_some(), page.has_next);
        for (cursor, post) in posts(ctx, ids).await? {
            let because = reasons
                .remove(&cursor)
                .unwrap_or_default()
                .iter()
                .map(|i| i.to_string())
                .collect();
            connection
                .edges
                .push(async_graphql::connection::Edge::with_additional_fields(
                    Cursor(cursor),
                    post,
                    HomeReason { because },
                ));
        }
        Ok(connection)
    }

    /// A post. Removed posts are `null` except to their author, moderators and auditors.
    async fn post(&self, ctx: &Context<'_>, id: ID) -> Gql<Option<Post>> {
        let id = post_id(&id)?;
        let card = reads(ctx).card(&id)?;
        Ok(card
            .filter(|c| !c.body.removed || may_see_removed(ctx, c))
            .map(Post))
    }

    /// The signed-in account; `null` when signed out.
    async fn viewer(&self, ctx: &Context<'_>) -> Gql<Option<User>> {
        match viewer(ctx) {
            Some(user) => load_user(ctx, user).await,
            None => Ok(None),
        }
    }

    /// An account by handle.
    async fn user(&self, ctx: &Context<'_>, handle: String) -> Gql<Option<User>> {
        let handle =
            Handle::parse(&handle).map_err(|e| ApiError::input("handle", e.to_string()))?;
        match api(ctx).domain.user_by_handle(&handle)? {
            Some(user) => load_user(ctx, &user).await,
            None => Ok(None),
        }
    }

    /// A product by ASIN.
    async fn product(&self, ctx: &Context<'_>, asin: String) -> Gql<Option<Product>> {
        let asin = Asin::parse(&asin).map_err(|e| ApiError::input("asin", e.to_string()))?;
        load_product(ctx, &asin).await
    }

    /// The log itself, oldest first, for analysts: every event after `after`, optionally
    /// only of some `types` or of one `stream`. Needs the analyst role.
    #[graphql(complexity = "page_cost(first, child_complexity)")]
    async fn events(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        first: Option<i32>,
        types: Option<Vec<String>>,
        stream: Option<String>,
    ) -> Gql<EventConnection> {
        with_role(ctx, &[DomainRole::Analyst, DomainRole::Admin])?;
        let api = api(ctx);
        let p = paging(first, after, api.limits.max_events_page)?;
        let types = types.unwrap_or_default();
        // Saturating: `after` is the client's; past the end the page is empty.
        let from = p
            .after
            .map_or(Position(0), |a| Position(a.0.saturating_add(1)));
        let log = api.domain.log();
        let wanted = |e: &sparkfeed_events::RecordedEvent| {
            types.is_empty() || types.iter().any(|t| t == e.record.event_type.as_str())
        };
        let mut items = Vec::new();
        let mut has_next = false;
        let mut examined: Option<Position> = None;
        match stream {
            Some(name) => {
                let name = StreamName::parse(&name)
                    .map_err(|e| ApiError::input("stream", e.to_string()))?;
                let mut version = StreamVersion::FIRST;
                'pages: loop {
                    let slice = log.read_stream(&name, version, Direction::Forward, 512)?;
                    for e in slice.events {
                        if e.record.position < from || !wanted(&e) {
                            continue;
                        }
                        if items.len() == p.first {
                            has_next = true;
                            break 'pages;
                        }
                        examined = Some(e.record.position);
                        items.push((e.record.position, Event::decode(api, e)?));
                    }
                    match slice.next {
                        Some(next) => version = next,
                        None => break,
                    }
                }
            }
            None => {
                // `at` is the next position to examine.
                let mut at = from;
                let mut scanned = 0usize;
                'scan: while scanned < EVENT_SCAN_BUDGET {
                    let batch = log.read_all(at, 1024.min(EVENT_SCAN_BUDGET - scanned))?;
                    if batch.is_empty() {
                        break;
                    }
                    for e in batch {
                        let position = e.record.position;
                        if wanted(&e) {
                            if items.len() == p.first {
                                has_next = true;
                                break 'scan;
                            }
                            items.push((position, Event::decode(api, e)?));
                        }
                        at = position.next();
                        scanned += 1;
                    }
                }
                if !has_next && at.0 < log.head().len {
                    has_next = true;
                }
                if at > from {
                    examined = Some(Position(at.0 - 1));
                }
            }
        }
        let scan = EventScan {
            continue_after: examined.map(|p| p.0.to_string()),
        };
        let mut c = EventConnection::with_additional_fields(p.after.is_some(), has_next, scan);
        c.edges.extend(
            items
                .into_iter()
                .map(|(pos, e)| async_graphql::connection::Edge::new(Cursor(pos), e)),
        );
        Ok(c)
    }

    /// The whole history of a sponsored post, in log order: its contract, its disclosure,
    /// edits, removal, purchases and commissions. Needs the auditor role.
    #[graphql(complexity = "page_cost(first, child_complexity)")]
    async fn sponsorship_history(
        &self,
        ctx: &Context<'_>,
        post_id: ID,
        first: Option<i32>,
        after: Option<String>,
    ) -> Gql<Connection<Cursor, AuditEntry>> {
        with_role(ctx, &[DomainRole::Auditor, DomainRole::Admin])?;
        let p = paging(first, after, api(ctx).limits.max_events_page)?;
        let post = self::post_id(&post_id)?;
        let audit = api(ctx).projections.tree("audit")?;
        let entries = read::sponsorship_history(&audit, &post)?;
        let mut items: Vec<_> = entries
            .into_iter()
            .filter(|e| p.after.is_none_or(|a| e.position > a))
            .map(|e| (e.position, AuditEntry(e)))
            .take(p.first.saturating_add(1))
            .collect();
        let has_next = items.len() > p.first;
        items.truncate(p.first);
        Ok(connection(items, p.after.is_some(), has_next))
    }

    /// Recomputes the log's hash chain and cross-checks its indexes. Needs the auditor role.
    async fn verify_log(&self, ctx: &Context<'_>) -> Gql<VerifyReport> {
        with_role(ctx, &[DomainRole::Auditor, DomainRole::Admin])?;
        let log = api(ctx).domain.log().clone();
        let report = tokio::task::spawn_blocking(move || log.verify(|_| {}))
            .await
            .map_err(|_| ApiError::Internal { code: "INTERNAL" })??;
        Ok(VerifyReport {
            intact: report.is_intact(),
            records: report.records,
            head_hash: report.head.hash.to_hex(),
            first_bad_position: report.tamper.as_ref().map(|t| t.position.0),
            problem: report.tamper.as_ref().map(|t| format!("{:?}", t.kind)),
        })
    }
}
