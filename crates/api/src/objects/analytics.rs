//! `Analytics`: what analysts read from the analytics projection over a range of days:
//! per interest and day, the top products and posts by orders, and sponsored posts
//! against organic ones. Typed fields throughout.

use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use sparkfeed_domain::InterestSlug;
use sparkfeed_projections::analytics::read::{self as figures, KindFigures};
use sparkfeed_projections::analytics::rows::{DayCounters, Sales};
use sparkfeed_projections::read;

use crate::ctx::{Gql, api, feeds_tree};
use crate::error::{ApiError, ApiResult};
use crate::objects::nodes::{Post, Product, load_post, load_product};
use crate::query::known_interest;
use crate::scalars::{DateTime, Int64};

/// The longest range one `analytics` read covers, in days.
pub(crate) const MAX_ANALYTICS_DAYS: u64 = 366;

/// The most entries a top list answers.
const MAX_TOP: i32 = 50;

const DAY_MICROS: i64 = 86_400_000_000;

/// The analytics of the days from `from` to `to` (day numbers, inclusive).
pub(crate) struct Analytics {
    from: u64,
    to: u64,
}

impl Analytics {
    /// The days holding `from` and `to`, or `BAD_USER_INPUT` when `to` is before `from` or
    /// the range is longer than [`MAX_ANALYTICS_DAYS`].
    pub fn over(from: &DateTime, to: &DateTime) -> ApiResult<Self> {
        let (from_micros, to_micros) = (from.micros("from")?, to.micros("to")?);
        if to_micros < from_micros {
            return Err(ApiError::input("to", "is before from"));
        }
        let day = sparkfeed_projections::analytics::day_of;
        let (from, to) = (day(from_micros), day(to_micros));
        if to - from >= MAX_ANALYTICS_DAYS {
            return Err(ApiError::input(
                "to",
                format!("a range covers at most {MAX_ANALYTICS_DAYS} days"),
            ));
        }
        Ok(Self { from, to })
    }
}

/// How many entries a top list answers: 1 to 50.
fn top_size(first: i32) -> ApiResult<usize> {
    if !(1..=MAX_TOP).contains(&first) {
        return Err(ApiError::input("first", format!("expected 1 to {MAX_TOP}")));
    }
    Ok(usize::try_from(first).unwrap_or(1))
}

fn day_start(day: u64) -> DateTime {
    let day = i64::try_from(day).unwrap_or(i64::MAX);
    DateTime::from_micros(day.saturating_mul(DAY_MICROS))
}

/// What analysts read over a range of days (UTC).
#[Object(serial)]
impl Analytics {
    /// The first day of the range (its start, UTC).
    async fn from(&self) -> DateTime {
        day_start(self.from)
    }
    /// The last day of the range (its start, UTC).
    async fn to(&self) -> DateTime {
        day_start(self.to)
    }
    /// Per interest and day, days without activity left out: one interest, or every
    /// interest of the catalog.
    async fn interest_days(
        &self,
        ctx: &Context<'_>,
        interest: Option<String>,
    ) -> Gql<Vec<InterestDay>> {
        let interests: Vec<InterestSlug> = match interest {
            Some(slug) => vec![known_interest(ctx, &slug)?],
            None => read::interests(&feeds_tree(ctx)?)?
                .into_iter()
                .map(|row| row.interest)
                .collect(),
        };
        let tree = api(ctx).projections.tree("analytics")?;
        let mut days = Vec::new();
        for interest in interests {
            for (day, counters) in figures::analytics(&tree, &interest, self.from, self.to)? {
                days.push(InterestDay::new(&interest, day, counters));
            }
        }
        Ok(days)
    }
    /// The products with the most orders in the range, most first (ties: more revenue).
    async fn top_products(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 10)] first: i32,
    ) -> Gql<Vec<ProductSales>> {
        let tree = api(ctx).projections.tree("analytics")?;
        let top = figures::top_products(&tree, self.from, self.to, top_size(first)?)?;
        top.into_iter()
            .map(|(asin, sales)| {
                Ok(ProductSales {
                    asin: asin.to_string(),
                    product: load_product(ctx, &asin)?,
                    sales: SalesFigures::from(sales),
                })
            })
            .collect::<ApiResult<_>>()
            .map_err(Into::into)
    }
    /// The posts with the most orders through them in the range, most first.
    async fn top_posts(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 10)] first: i32,
    ) -> Gql<Vec<PostSales>> {
        let tree = api(ctx).projections.tree("analytics")?;
        let top = figures::top_posts(&tree, self.from, self.to, top_size(first)?)?;
        top.into_iter()
            .map(|(post, sales)| {
                Ok(PostSales {
                    post_id: ID(post.to_string()),
                    post: load_post(ctx, &post)?,
                    sales: SalesFigures::from(sales),
                })
            })
            .collect::<ApiResult<_>>()
            .map_err(Into::into)
    }
    /// Sponsored posts against organic ones: orders in the range per post published.
    async fn sponsored_vs_organic(&self, ctx: &Context<'_>) -> Gql<Vec<PostKindFigures>> {
        let tree = api(ctx).projections.tree("analytics")?;
        let (sponsored, organic) = figures::sponsored_and_organic(&tree, self.from, self.to)?;
        Ok(vec![
            PostKindFigures::new(PostKind::Sponsored, sponsored),
            PostKindFigures::new(PostKind::Organic, organic),
        ])
    }
}

/// One interest's activity on one day.
#[derive(SimpleObject)]
pub(crate) struct InterestDay {
    /// The interest's slug.
    interest: String,
    /// The day (its start, UTC).
    day: DateTime,
    /// Posts published.
    posts: Int64,
    /// Smiles, net of smiles taken back (negative when more were taken back that day).
    smiles: i64,
    /// Saves, net of unsaves.
    saves: i64,
    /// Shares.
    shares: Int64,
    /// Comments posted.
    comments: Int64,
    /// Orders through its posts.
    purchases: Int64,
    /// Their revenue in cents.
    revenue_cents: Int64,
}

impl InterestDay {
    fn new(interest: &InterestSlug, day: u64, c: DayCounters) -> Self {
        Self {
            interest: interest.to_string(),
            day: day_start(day),
            posts: Int64(c.posts),
            smiles: c.smiles,
            saves: c.saves,
            shares: Int64(c.shares),
            comments: Int64(c.comments),
            purchases: Int64(c.purchases),
            revenue_cents: Int64(c.revenue_cents),
        }
    }
}

/// Orders over a range.
#[derive(SimpleObject)]
pub(crate) struct SalesFigures {
    /// Orders.
    purchases: Int64,
    /// Units ordered.
    units: Int64,
    /// Revenue in cents.
    revenue_cents: Int64,
}

impl From<Sales> for SalesFigures {
    fn from(s: Sales) -> Self {
        Self {
            purchases: Int64(s.purchases),
            units: Int64(s.units),
            revenue_cents: Int64(s.revenue_cents),
        }
    }
}

/// A product's orders over a range.
#[derive(SimpleObject)]
pub(crate) struct ProductSales {
    /// Its ASIN.
    asin: String,
    /// The product (`null` if the catalog no longer has it).
    product: Option<Product>,
    /// Its orders.
    sales: SalesFigures,
}

/// The orders through a post over a range.
#[derive(SimpleObject)]
pub(crate) struct PostSales {
    /// The post's id.
    post_id: ID,
    /// The post.
    post: Option<Post>,
    /// The orders through it.
    sales: SalesFigures,
}

/// Sponsored or organic.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub(crate) enum PostKind {
    /// Published under a sponsorship contract, with its disclosure.
    Sponsored,
    /// Every other post.
    Organic,
}

/// What the posts of one kind did.
#[derive(SimpleObject)]
pub(crate) struct PostKindFigures {
    /// Sponsored or organic.
    kind: PostKind,
    /// Posts of the kind published up to the end of the range.
    posts: Int64,
    /// Orders through them in the range.
    sales: SalesFigures,
    /// Orders in the range per post published (0 when there are none).
    purchases_per_post: f64,
}

impl PostKindFigures {
    fn new(kind: PostKind, f: KindFigures) -> Self {
        let per_post = if f.posts == 0 {
            0.0
        } else {
            f.sales.purchases as f64 / f.posts as f64
        };
        Self {
            kind,
            posts: Int64(f.posts),
            sales: SalesFigures::from(f.sales),
            purchases_per_post: per_post,
        }
    }
}
