//! Aggregate states: each folds the events of one stream, infallibly.

use std::collections::BTreeSet;

use crate::events::*;
use crate::{InterestSlug, Money, Role, UserId};

/// State rebuilt from one stream's events.
pub trait Aggregate: Default + Clone + Send + Sync + 'static {
    /// Folds one event of the stream into the state. Events of other aggregates are ignored.
    fn apply(&mut self, event: &DomainEvent);
}

/// `handle-<hash>`: who holds the handle.
#[derive(Clone, Default, Debug)]
pub struct HandleState {
    /// The holder.
    pub owner: Option<UserId>,
}

impl Aggregate for HandleState {
    fn apply(&mut self, event: &DomainEvent) {
        if let DomainEvent::HandleReserved(e) = event {
            self.owner = Some(e.user.clone());
        }
    }
}

/// `user-<id>`: an account.
#[derive(Clone, Default, Debug)]
pub struct UserState {
    /// Member or brand, once registered.
    pub kind: Option<AccountKind>,
    /// Whether Prime is active.
    pub prime: bool,
    /// Granted roles.
    pub roles: BTreeSet<Role>,
    /// Chosen interests.
    pub interests: Vec<InterestSlug>,
    /// A brand's public name.
    pub brand_name: Option<String>,
    /// Forgotten (`MemberForgotten`): nothing more is done in the account's name.
    pub forgotten: bool,
}

impl Aggregate for UserState {
    fn apply(&mut self, event: &DomainEvent) {
        match event {
            DomainEvent::UserRegistered(e) => {
                self.kind = Some(e.kind);
                self.brand_name = e.brand_name.clone();
            }
            DomainEvent::PrimeStarted(_) => self.prime = true,
            DomainEvent::PrimeEnded(_) => self.prime = false,
            DomainEvent::InterestsChosen(e) => self.interests = e.interests.clone(),
            DomainEvent::RoleGranted(e) => {
                self.roles.insert(e.role);
            }
            DomainEvent::RoleRevoked(e) => {
                self.roles.remove(&e.role);
            }
            DomainEvent::MemberForgotten(_) => self.forgotten = true,
            _ => {}
        }
    }
}

/// `interest-<slug>`.
#[derive(Clone, Default, Debug)]
pub struct InterestState {
    /// Whether it is in the catalog.
    pub exists: bool,
}

impl Aggregate for InterestState {
    fn apply(&mut self, event: &DomainEvent) {
        if let DomainEvent::InterestAdded(_) = event {
            self.exists = true;
        }
    }
}

/// `product-<asin>`.
#[derive(Clone, Default, Debug)]
pub struct ProductState {
    /// The current price, once listed.
    pub price: Option<Money>,
    /// Whether it was delisted.
    pub delisted: bool,
}

impl ProductState {
    /// The price when the product is in the catalog now.
    pub fn available_price(&self) -> Option<Money> {
        self.price.filter(|_| !self.delisted)
    }
}

impl Aggregate for ProductState {
    fn apply(&mut self, event: &DomainEvent) {
        match event {
            DomainEvent::ProductListed(e) => self.price = Some(e.price),
            DomainEvent::ProductRepriced(e) => self.price = Some(e.price),
            DomainEvent::ProductDelisted(_) => self.delisted = true,
            _ => {}
        }
    }
}

/// `post-<id>`.
#[derive(Clone, Default, Debug)]
pub struct PostState {
    /// The author, once published.
    pub author: Option<UserId>,
    /// How many media it has.
    pub media: usize,
    /// The current tags.
    pub tags: Vec<Tag>,
    /// Whether it was removed.
    pub removed: bool,
    /// Its disclosure, when sponsored.
    pub sponsorship: Option<Disclosure>,
}

impl Aggregate for PostState {
    fn apply(&mut self, event: &DomainEvent) {
        match event {
            DomainEvent::PostPublished(e) => {
                self.author = Some(e.author.clone());
                self.media = e.media.len();
                self.tags = e.tags.clone();
                self.sponsorship = e.sponsorship.clone();
            }
            DomainEvent::ProductTagged(e) => self.tags.push(e.tag.clone()),
            DomainEvent::ProductUntagged(e) => self
                .tags
                .retain(|t| !(t.asin == e.asin && t.media_index == e.media_index)),
            DomainEvent::PostRemoved(_) => self.removed = true,
            _ => {}
        }
    }
}

/// `engagement-<post>.<member>`: one member's smile and save on one post.
///
/// One stream per member and post keeps a viral post from making every smile contend on
/// one stream, while "at most one live smile per member and post" stays a single-stream
/// expected-version check.
#[derive(Clone, Default, Debug)]
pub struct EngagementState {
    /// Whether the member smiles at the post now.
    pub smiling: bool,
    /// Whether the member has the post saved now.
    pub saved: bool,
}

impl Aggregate for EngagementState {
    fn apply(&mut self, event: &DomainEvent) {
        match event {
            DomainEvent::Smiled(_) => self.smiling = true,
            DomainEvent::Unsmiled(_) => self.smiling = false,
            DomainEvent::Saved(_) => self.saved = true,
            DomainEvent::Unsaved(_) => self.saved = false,
            _ => {}
        }
    }
}

/// `comment-<id>`.
#[derive(Clone, Default, Debug)]
pub struct CommentState {
    /// The comment as posted.
    pub posted: Option<CommentPosted>,
    /// Whether it was removed.
    pub removed: bool,
}

impl Aggregate for CommentState {
    fn apply(&mut self, event: &DomainEvent) {
        match event {
            DomainEvent::CommentPosted(e) => self.posted = Some(e.clone()),
            DomainEvent::CommentRemoved(_) => self.removed = true,
            _ => {}
        }
    }
}

/// `order-<id>`.
#[derive(Clone, Default, Debug)]
pub struct OrderState {
    /// The order, once placed.
    pub placed: Option<OrderPlaced>,
}

impl Aggregate for OrderState {
    fn apply(&mut self, event: &DomainEvent) {
        if let DomainEvent::OrderPlaced(e) = event {
            self.placed = Some(e.clone());
        }
    }
}

/// `sponsorship-<id>`.
#[derive(Clone, Default, Debug)]
pub struct ContractState {
    /// The contract, once opened.
    pub opened: Option<ContractOpened>,
    /// Whether it was ended early.
    pub ended: bool,
}

impl ContractState {
    /// Whether the contract is in force at `now` (microseconds since the epoch).
    pub fn is_active(&self, now: i64) -> bool {
        self.opened
            .as_ref()
            .is_some_and(|c| !self.ended && c.starts_at <= now && now < c.ends_at)
    }
}

impl Aggregate for ContractState {
    fn apply(&mut self, event: &DomainEvent) {
        match event {
            DomainEvent::ContractOpened(e) => self.opened = Some(e.clone()),
            DomainEvent::ContractEnded(_) => self.ended = true,
            _ => {}
        }
    }
}

/// `report-<id>`: a member's report of a post.
#[derive(Clone, Default, Debug)]
pub struct ReportState {
    /// The report as filed.
    pub filed: Option<PostReported>,
    /// The moderator's decision, once made.
    pub decision: Option<ReportDecision>,
}

impl Aggregate for ReportState {
    fn apply(&mut self, event: &DomainEvent) {
        match event {
            DomainEvent::PostReported(e) => self.filed = Some(e.clone()),
            DomainEvent::ReportResolved(e) => self.decision = Some(e.decision),
            _ => {}
        }
    }
}

/// `follow-<member>.<creator>`.
#[derive(Clone, Default, Debug)]
pub struct FollowState {
    /// Whether the member follows the creator now.
    pub following: bool,
}

impl Aggregate for FollowState {
    fn apply(&mut self, event: &DomainEvent) {
        match event {
            DomainEvent::Followed(_) => self.following = true,
            DomainEvent::Unfollowed(_) => self.following = false,
            _ => {}
        }
    }
}

/// `feedprefs-<member>`: what the member hid, and their feed mode.
#[derive(Clone, Default, Debug)]
pub struct FeedPrefsState {
    /// What they said they are not interested in.
    pub hidden: std::collections::BTreeSet<crate::events::FeedTarget>,
    /// How `forYou` is ordered.
    pub mode: crate::events::FeedMode,
}

impl Aggregate for FeedPrefsState {
    fn apply(&mut self, event: &DomainEvent) {
        match event {
            DomainEvent::MarkedNotInterested(e) => {
                self.hidden.insert(e.target.clone());
            }
            DomainEvent::NotInterestedUndone(e) => {
                self.hidden.remove(&e.target);
            }
            DomainEvent::FeedModeSet(e) => self.mode = e.mode,
            _ => {}
        }
    }
}
