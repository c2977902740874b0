//! `User`: a member or brand account, with `AccountKind` and `Role`.

use async_graphql::connection::Connection;
use async_graphql::parser::types::SelectionSet;
use async_graphql::resolver_utils::enum_value;
use async_graphql::{Context, Enum, ID, Object, Value};
use sparkfeed_domain::events::AccountKind as DomainAccountKind;
use sparkfeed_domain::{Role as DomainRole, UserId};
use sparkfeed_projections::audit::AUDIT;
use sparkfeed_projections::audit::read::{self as ledger, ContractFilter};
use sparkfeed_projections::read;
use sparkfeed_projections::rows::MemberRow;

use super::earnings::Earnings;
use super::follows::{self, List};
use super::ledger::sponsorship_page;
use super::nodes::{Post, User, post_page};
use super::order::Order;
use super::sponsorship::Sponsorship;
use super::storefront::Storefront;
use crate::ctx::{Env, Gql, api, feeds_tree, viewer};
use crate::direct::{Walker, opt_text, strings, text, value};
use crate::error::{ApiError, ApiResult};
use crate::paging::{Cursor, Fetched, page, page_cost};
use crate::scalars::{DateTime, Int64};

/// Member or brand.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub(crate) enum AccountKind {
    /// A person.
    Member,
    /// A brand: sponsors enthusiasts, never posts.
    Brand,
}

/// What a member may do beyond the basics.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub(crate) enum Role {
    /// Posts as a product enthusiast; may be sponsored.
    Enthusiast,
    /// Removes posts and comments.
    Moderator,
    /// Reads the whole log.
    Analyst,
    /// Traces sponsorships and verifies the log.
    Auditor,
    /// Manages the catalog and roles.
    Admin,
}

impl From<DomainRole> for Role {
    fn from(r: DomainRole) -> Self {
        match r {
            DomainRole::Enthusiast => Role::Enthusiast,
            DomainRole::Moderator => Role::Moderator,
            DomainRole::Analyst => Role::Analyst,
            DomainRole::Auditor => Role::Auditor,
            DomainRole::Admin => Role::Admin,
        }
    }
}

impl From<Role> for DomainRole {
    fn from(r: Role) -> Self {
        match r {
            Role::Enthusiast => DomainRole::Enthusiast,
            Role::Moderator => DomainRole::Moderator,
            Role::Analyst => DomainRole::Analyst,
            Role::Auditor => DomainRole::Auditor,
            Role::Admin => DomainRole::Admin,
        }
    }
}

mod field {
    use super::*;

    pub fn id(u: &MemberRow) -> ID {
        ID(u.user.to_string())
    }
    pub fn handle(env: &Env<'_>, u: &MemberRow) -> ApiResult<Option<String>> {
        env.unseal(&u.handle)
    }
    pub fn display_name(env: &Env<'_>, u: &MemberRow) -> ApiResult<Option<String>> {
        env.unseal(&u.display_name)
    }
    pub fn kind(u: &MemberRow) -> AccountKind {
        match u.kind {
            DomainAccountKind::Member => AccountKind::Member,
            DomainAccountKind::Brand => AccountKind::Brand,
        }
    }
    pub fn brand_name(u: &MemberRow) -> Option<&str> {
        u.brand_name.as_deref()
    }
    pub fn prime(u: &MemberRow) -> bool {
        u.prime
    }
    pub fn roles(u: &MemberRow) -> Vec<Role> {
        u.roles.iter().copied().map(Role::from).collect()
    }
    pub fn interests(u: &MemberRow) -> Vec<&str> {
        u.interests.iter().map(|i| i.as_str()).collect()
    }
    pub fn post_count(u: &MemberRow) -> Int64 {
        Int64(u.posts)
    }
}

impl User {
    /// `Ok` when the viewer is this account; else `UNAUTHENTICATED` or `FORBIDDEN`.
    fn own(&self, ctx: &Context<'_>, what: &str) -> ApiResult<()> {
        match viewer(ctx) {
            Some(user) if *user == self.0.user => Ok(()),
            None => Err(ApiError::Unauthenticated),
            Some(_) => Err(ApiError::Forbidden(format!(
                "only {} may see their {what}",
                self.0.user
            ))),
        }
    }
}

/// A member or brand account.
#[Object(serial)]
impl User {
    /// The account id.
    async fn id(&self) -> ID {
        field::id(&self.0)
    }
    /// The handle; `null` once the member was forgotten.
    async fn handle(&self, ctx: &Context<'_>) -> Gql<Option<String>> {
        Ok(field::handle(&Env::from_ctx(ctx), &self.0)?)
    }
    /// The name shown; `null` once the member was forgotten.
    async fn display_name(&self, ctx: &Context<'_>) -> Gql<Option<String>> {
        Ok(field::display_name(&Env::from_ctx(ctx), &self.0)?)
    }
    /// Member or brand.
    async fn kind(&self) -> AccountKind {
        field::kind(&self.0)
    }
    /// A brand's public name.
    async fn brand_name(&self) -> Option<&str> {
        field::brand_name(&self.0)
    }
    /// Whether Prime is active (only Prime members post, smile, save, share or buy).
    async fn prime(&self) -> bool {
        field::prime(&self.0)
    }
    /// Roles held.
    async fn roles(&self) -> Vec<Role> {
        field::roles(&self.0)
    }
    /// Chosen interests (slugs).
    async fn interests(&self) -> Vec<&str> {
        field::interests(&self.0)
    }
    /// Posts published, removed ones included.
    async fn post_count(&self) -> Int64 {
        field::post_count(&self.0)
    }
    /// Their posts, newest first.
    #[graphql(complexity = "page_cost(first, child_complexity)")]
    async fn posts(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Gql<Connection<Cursor, Post>> {
        post_page(ctx, first, after, |feeds, first, after| {
            read::posts_by(feeds, &self.0.user, first, after)
        })
    }
    /// Their saved posts, most recently saved first. Only they may see these.
    #[graphql(complexity = "page_cost(first, child_complexity)")]
    async fn saved(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Gql<Connection<Cursor, Post>> {
        self.own(ctx, "saved posts")?;
        post_page(ctx, first, after, |feeds, first, after| {
            read::saved_by(feeds, &self.0.user, first, after)
        })
    }
    /// Their orders, newest first. Only they may see these.
    #[graphql(complexity = "page_cost(first, child_complexity)")]
    async fn orders(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Gql<Connection<Cursor, Order>> {
        self.own(ctx, "orders")?;
        page(first, after, api(ctx).limits.max_page, |p| {
            let page = read::orders_of(&feeds_tree(ctx)?, &self.0.user, p.first, p.after)?;
            let orders = page.items.into_iter().map(|(c, o)| (c, Order(o)));
            Ok(Fetched::nodes(orders, page.has_next))
        })
    }
    /// The sponsorship contracts this account is party to, in the order they were opened:
    /// a brand's contracts, or the contracts an enthusiast publishes under (pass their
    /// `contractId` to `publishPost`); only those in force at `activeAt`, if given. Public,
    /// like `sponsorships(brand:)` and `sponsorships(enthusiast:)`; each contract's terms
    /// and sales are visible to its two parties (`viewer { sponsorships { edges { node {
    /// flatFee sales { purchases commissionsEarned { formatted } } } } } }`).
    #[graphql(complexity = "page_cost(first, child_complexity)")]
    async fn sponsorships(
        &self,
        ctx: &Context<'_>,
        active_at: Option<DateTime>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Gql<Connection<Cursor, Sponsorship>> {
        let mut filter = ContractFilter {
            active_at: active_at.map(|at| at.micros("activeAt")).transpose()?,
            ..ContractFilter::default()
        };
        match self.0.kind {
            DomainAccountKind::Brand => filter.brand = Some(self.0.user.clone()),
            DomainAccountKind::Member => filter.enthusiast = Some(self.0.user.clone()),
        }
        sponsorship_page(ctx, &filter, first, after)
    }
    /// What they earned: commissions on purchases through their posts and the flat fees of
    /// their contracts, in all, `byMonth` and `byContract`. Only they may see these.
    async fn earnings(&self, ctx: &Context<'_>) -> Gql<Option<Earnings>> {
        self.own(ctx, "earnings")?;
        let earned = || -> ApiResult<_> {
            let audit = api(ctx).projections.tree(AUDIT)?;
            Ok(ledger::earnings(&audit, &self.0.user)?)
        };
        Ok(Some(Earnings::new(self.0.user.clone(), earned()?)))
    }
    /// Members following them.
    async fn follower_count(&self, ctx: &Context<'_>) -> Gql<Int64> {
        Ok(Int64(follows::counts(ctx, &self.0.user)?.followers))
    }
    /// Creators they follow.
    async fn following_count(&self, ctx: &Context<'_>) -> Gql<Int64> {
        Ok(Int64(follows::counts(ctx, &self.0.user)?.following))
    }
    /// Members following them, the latest to follow first.
    #[graphql(complexity = "page_cost(first, child_complexity)")]
    async fn followers(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Gql<Connection<Cursor, User>> {
        follows::list(ctx, &self.0.user, List::Followers, first, after)
    }
    /// Creators they follow, the latest followed first.
    #[graphql(complexity = "page_cost(first, child_complexity)")]
    async fn following(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Gql<Connection<Cursor, User>> {
        follows::list(ctx, &self.0.user, List::Following, first, after)
    }
    /// Whether the signed-in member follows them; false when signed out.
    async fn viewer_follows(&self, ctx: &Context<'_>) -> Gql<bool> {
        Ok(follows::viewer_follows(ctx, &self.0.user)?)
    }
    /// Their storefront: the products they recommend (tagged in their posts), most bought
    /// through their posts first, and their posts. Public.
    async fn storefront(&self) -> Storefront {
        Storefront(self.0.user.clone())
    }
}

/// The account `row` as the selection `set` asks for it.
pub(crate) fn direct(w: &Walker<'_>, set: &SelectionSet, row: &MemberRow) -> Option<Value> {
    w.object(set, "User", &mut |f| {
        Some(match f.name.node.as_str() {
            "id" => value(field::id(row)),
            "handle" => opt_text(field::handle(&w.env, row).ok()?),
            "displayName" => opt_text(field::display_name(&w.env, row).ok()?),
            "kind" => enum_value(field::kind(row)),
            "brandName" => field::brand_name(row).map_or(Value::Null, text),
            "prime" => value(field::prime(row)),
            "roles" => Value::List(field::roles(row).into_iter().map(enum_value).collect()),
            "interests" => strings(field::interests(row).into_iter()),
            "postCount" => value(field::post_count(row)),
            _ => return None,
        })
    })
}

/// The account `user` as the selection `set` asks for it (`null` when there is none).
pub(crate) fn direct_by_id(w: &Walker<'_>, set: &SelectionSet, user: &UserId) -> Option<Value> {
    crate::direct::nullable(w.env.reads.member(user).ok()?, |row| direct(w, set, &row))
}
