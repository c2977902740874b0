//! The queries: public reads, the member's own reads, and the analysts' and auditors'.

use async_graphql::connection::{Connection, EmptyFields};
use async_graphql::{Context, ID, Object};
use sparkfeed_domain::{Asin, Handle, InterestSlug, PostId, Role as DomainRole};
use sparkfeed_events::{Position, Timestamp};
use sparkfeed_projections::audit::read::ContractFilter;
use sparkfeed_projections::moderation::{self, read::Queue};
use sparkfeed_projections::read;

use crate::ctx::{Gql, api, feeds_tree, may_see_removed, reads, signed_in, viewer, with_role};
use crate::error::{ApiError, ApiResult};
use crate::objects::analytics::Analytics;
use crate::objects::audit::AuditEntry;
use crate::objects::event::{Event, EventFilter, EventScan, Events, events_page};
use crate::objects::feed::{HomeFeedConnection, HomeReason};
use crate::objects::interest::Interest;
use crate::objects::ledger::{account_id, sponsorship, sponsorship_page};
use crate::objects::merkle::{ConsistencyProof, InclusionProof, TreeHead, hex, proof_refused};
use crate::objects::nodes::{Post, Product, User, load_product, load_user};
use crate::objects::projection::{ProjectionStatus, statuses};
use crate::objects::report::{Report, ReportStatus};
use crate::objects::sponsorship::Sponsorship;
use crate::objects::verify::VerifyReport;
use crate::paging::{Cursor, Fetched, page, page_cost};
use crate::scalars::{DateTime, Int64};

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
        page(first, after, api(ctx).limits.max_page, |p| {
            let all = read::interests(&feeds_tree(ctx)?)?;
            let items = (0u64..)
                .zip(all)
                .map(|(i, row)| (Position(i), Interest(row)));
            Ok(Fetched::slice(items, p))
        })
    }

    /// The posts of an interest, newest first, under the feed policy every feed shares:
    /// removed posts are gone; at most one sponsored post in any five (one over the cap
    /// waits for the first slot it fits, on this page or a later one: the cursor carries
    /// the policy's state); and, for a signed-in member, products they already bought for
    /// themselves are not pushed again (gifts do not count; consumables come back after
    /// their re-buy window).
    #[graphql(complexity = "page_cost(first, child_complexity)")]
    async fn feed(
        &self,
        ctx: &Context<'_>,
        interest: String,
        first: Option<i32>,
        after: Option<String>,
    ) -> Gql<Connection<Cursor, Post>> {
        page(first, after, api(ctx).limits.max_page, |p| {
            let slug = known_interest(ctx, &interest)?;
            let now = Timestamp::now().0;
            let walked = read::interest_feed(
                &feeds_tree(ctx)?,
                &slug,
                viewer(ctx),
                p.first,
                p.from.as_ref(),
                now,
            )?;
            let mut items = Vec::with_capacity(walked.shown.len());
            for shown in walked.shown {
                if let Some(card) = reads(ctx).card(&shown.post)? {
                    items.push((Cursor(shown.cursor), Post(card), EmptyFields));
                }
            }
            Ok(Fetched {
                items,
                has_next: walked.has_next,
                fields: EmptyFields,
            })
        })
    }

    /// The signed-in member's feed: their interests merged, newest first, under the feed
    /// policy of `feed` (removed posts gone, at most one sponsored post in any five with
    /// the extra ones deferred, products bought for themselves not pushed again).
    #[graphql(complexity = "page_cost(first, child_complexity)")]
    async fn home_feed(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Gql<HomeFeedConnection> {
        let user = signed_in(ctx)?;
        page(first, after, api(ctx).limits.max_page, |p| {
            let now = Timestamp::now().0;
            let walked = read::home_feed(&feeds_tree(ctx)?, user, p.first, p.from.as_ref(), now)?;
            let mut items = Vec::with_capacity(walked.shown.len());
            for shown in walked.shown {
                if let Some(card) = reads(ctx).card(&shown.post)? {
                    let because = shown.extra.iter().map(|i| i.to_string()).collect();
                    items.push((Cursor(shown.cursor), Post(card), HomeReason { because }));
                }
            }
            Ok(Fetched {
                items,
                has_next: walked.has_next,
                fields: EmptyFields,
            })
        })
    }

    /// "For you": posts ranked for the signed-in member (or, signed out, what is popular
    /// now), each with why it is shown. No author twice in a row, at most one sponsored post
    /// in any five, nothing the member hid, no product they bought for themselves (until a
    /// consumable's re-buy window passes). Paging walks one ranking: its cursors never
    /// repeat or skip an item while scores change; an expired or foreign cursor is
    /// `BAD_USER_INPUT`. In `CHRONOLOGICAL` mode (`setFeedMode`) the posts come newest
    /// first with no profiling signal. ARCHITECTURE.md documents the score.
    #[graphql(complexity = "page_cost(first, child_complexity)")]
    async fn for_you(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Gql<crate::objects::foryou::ForYouConnection> {
        Ok(crate::objects::foryou::for_you(ctx, first, after)?)
    }

    /// The signed-in member's feed controls: their feed mode, and what they said they are
    /// not interested in (`notInterested`, `undoNotInterested`).
    async fn feed_controls(&self, ctx: &Context<'_>) -> Gql<crate::objects::foryou::FeedControls> {
        let member = signed_in(ctx)?;
        Ok(crate::objects::foryou::feed_controls(ctx, member)?)
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
            Some(user) => Ok(load_user(ctx, user)?),
            None => Ok(None),
        }
    }

    /// An account by handle.
    async fn user(&self, ctx: &Context<'_>, handle: String) -> Gql<Option<User>> {
        let handle =
            Handle::parse(&handle).map_err(|e| ApiError::input("handle", e.to_string()))?;
        match api(ctx).domain.user_by_handle(&handle)? {
            Some(user) => Ok(load_user(ctx, &user)?),
            None => Ok(None),
        }
    }

    /// A product by ASIN.
    async fn product(&self, ctx: &Context<'_>, asin: String) -> Gql<Option<Product>> {
        let asin = Asin::parse(&asin).map_err(|e| ApiError::input("asin", e.to_string()))?;
        Ok(load_product(ctx, &asin)?)
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
        page(first, after, api.limits.max_events_page, |p| {
            events_page(api, p, &EventFilter::parse(types, stream)?)
        })
    }

    /// The whole history of a sponsored post, in log order: its contract, its disclosure,
    /// edits, removal, purchases and commissions, each entry typed by its `kind`. Needs the
    /// auditor role (entries name buyers); the public view of a contract is `sponsorship`.
    #[graphql(complexity = "page_cost(first, child_complexity)")]
    async fn sponsorship_history(
        &self,
        ctx: &Context<'_>,
        post_id: ID,
        first: Option<i32>,
        after: Option<String>,
    ) -> Gql<Connection<Cursor, AuditEntry>> {
        with_role(ctx, &[DomainRole::Auditor, DomainRole::Admin])?;
        page(first, after, api(ctx).limits.max_events_page, |p| {
            let post = self::post_id(&post_id)?;
            let audit = api(ctx).projections.tree("audit")?;
            let entries = read::sponsorship_history(&audit, &post)?;
            Ok(Fetched::slice(
                entries.into_iter().map(|e| (e.position, AuditEntry(e))),
                p,
            ))
        })
    }

    /// A sponsorship contract from the ledger: who paid (the brand), for whom (the
    /// enthusiast), the period, and every post published under it with its disclosure,
    /// each entry with its log position and hash. Public, as an EU ad repository
    /// publishes it (DSA Art. 39); its terms and sales are for its brand and enthusiast,
    /// auditors and admins, its individual orders for auditors and admins. `NOT_FOUND`
    /// for an unknown contract, `BAD_USER_INPUT` for a malformed id.
    async fn sponsorship(&self, ctx: &Context<'_>, contract_id: ID) -> Gql<Option<Sponsorship>> {
        Ok(Some(sponsorship(ctx, &contract_id)?))
    }

    /// The sponsorship contracts of the ledger, in the order they were opened: all of
    /// them, a `brand`'s, an `enthusiast`'s, or one pair's; only those in force at
    /// `activeAt`, if given. Public, field by field as `sponsorship` says. A brand lists
    /// its own with `sponsorships(brand: <its id>)`, an enthusiast the contracts they may
    /// publish under with `sponsorships(enthusiast: <their id>, activeAt: <now>)`; both
    /// also as `viewer { sponsorships }`. An unknown account is `NOT_FOUND`.
    #[graphql(complexity = "page_cost(first, child_complexity)")]
    async fn sponsorships(
        &self,
        ctx: &Context<'_>,
        brand: Option<ID>,
        enthusiast: Option<ID>,
        active_at: Option<DateTime>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Gql<Connection<Cursor, Sponsorship>> {
        let filter = ContractFilter {
            brand: brand.map(|b| account_id(ctx, "brand", &b)).transpose()?,
            enthusiast: enthusiast
                .map(|e| account_id(ctx, "enthusiast", &e))
                .transpose()?,
            active_at: active_at.map(|at| at.micros("activeAt")).transpose()?,
        };
        sponsorship_page(ctx, &filter, first, after)
    }

    /// What the analytics projection holds over the days from `from` to `to` (UTC, at
    /// most 366 days): per interest and day, the top products and posts by orders, and
    /// sponsored posts against organic ones. Needs the analyst role.
    async fn analytics(&self, ctx: &Context<'_>, from: DateTime, to: DateTime) -> Gql<Analytics> {
        with_role(ctx, &[DomainRole::Analyst, DomainRole::Admin])?;
        Ok(Analytics::over(&from, &to)?)
    }

    /// The moderators' queue: reported posts, `OPEN` (undecided, newest report first) or
    /// `RESOLVED` (newest decision first). Needs the moderator role.
    #[graphql(complexity = "page_cost(first, child_complexity)")]
    async fn reports(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "ReportStatus::Open")] status: ReportStatus,
        first: Option<i32>,
        after: Option<String>,
    ) -> Gql<Connection<Cursor, Report>> {
        with_role(ctx, &[DomainRole::Moderator])?;
        page(first, after, api(ctx).limits.max_page, |p| {
            let queue = match status {
                ReportStatus::Open => Queue::Open,
                ReportStatus::Resolved => Queue::Resolved,
            };
            let moderation = api(ctx).projections.tree("moderation")?;
            let page = moderation::read::reports(&moderation, queue, p.first, p.after)?;
            Ok(Fetched::nodes(
                page.items.into_iter().map(|(at, row)| (at, Report(row))),
                page.has_next,
            ))
        })
    }

    /// Every projection on this server: checkpoint, lag, and its last rebuild. Needs the
    /// admin role.
    async fn projections(&self, ctx: &Context<'_>) -> Gql<Vec<ProjectionStatus>> {
        with_role(ctx, &[DomainRole::Admin])?;
        Ok(statuses(api(ctx))?)
    }

    /// The Merkle tree head of the durable log (RFC 9162), signed: its size, root hash,
    /// time and Ed25519 signature. Public: save it, and ask later for a consistency proof
    /// from its size. The same head answers until the log grows (or the publishing interval
    /// passes); then a new one is signed on demand.
    async fn tree_head(&self, ctx: &Context<'_>) -> Gql<TreeHead> {
        let api = api(ctx);
        let head = api
            .heads
            .current(api.domain.log().as_ref())
            .map_err(|e| proof_refused("treeSize", e))?;
        Ok(TreeHead(head))
    }

    /// The inclusion proof of the event at `position` in the tree of the first `treeSize`
    /// events (by default, the durable log's). Public: it reveals only hashes.
    async fn inclusion_proof(
        &self,
        ctx: &Context<'_>,
        position: Int64,
        tree_size: Option<Int64>,
    ) -> Gql<InclusionProof> {
        let log = api(ctx).domain.log();
        let size = tree_size.map_or(log.head().len, |s| s.0);
        let refused = |e| proof_refused("position", e);
        let hashes = log
            .inclusion_proof(Position(position.0), size)
            .map_err(refused)?;
        let leaf = log.leaf_bytes(Position(position.0)).map_err(refused)?;
        Ok(InclusionProof {
            position,
            tree_size: Int64(size),
            leaf_hash: sparkfeed_merkle::leaf_hash(&leaf).to_hex(),
            root_hash: log.tree_root(size).map_err(refused)?.to_hex(),
            hashes: hex(&hashes),
        })
    }

    /// The consistency proof that the tree of the first `fromSize` events is a prefix of
    /// the tree of the first `toSize` (by default, the durable log's). Public.
    async fn consistency_proof(
        &self,
        ctx: &Context<'_>,
        from_size: Int64,
        to_size: Option<Int64>,
    ) -> Gql<ConsistencyProof> {
        let log = api(ctx).domain.log();
        let to = to_size.map_or(log.head().len, |s| s.0);
        let refused = |e| proof_refused("fromSize", e);
        let hashes = log.consistency_proof(from_size.0, to).map_err(refused)?;
        Ok(ConsistencyProof {
            from_size,
            to_size: Int64(to),
            from_root: log.tree_root(from_size.0).map_err(refused)?.to_hex(),
            to_root: log.tree_root(to).map_err(refused)?.to_hex(),
            hashes: hex(&hashes),
        })
    }

    /// Recomputes the log's hash chain and cross-checks its indexes. Needs the auditor role.
    async fn verify_log(&self, ctx: &Context<'_>) -> Gql<VerifyReport> {
        with_role(ctx, &[DomainRole::Auditor, DomainRole::Admin])?;
        let log = api(ctx).domain.log().clone();
        let report = tokio::task::spawn_blocking(move || log.verify(&mut |_| {}))
            .await
            .map_err(|_| ApiError::Internal { code: "INTERNAL" })??;
        Ok(VerifyReport {
            intact: report.is_intact(),
            records: Int64(report.records),
            head_hash: report.head.hash.to_hex(),
            first_bad_position: report.tamper.as_ref().map(|t| Int64(t.position.0)),
            problem: report.tamper.as_ref().map(|t| format!("{:?}", t.kind)),
        })
    }
}
