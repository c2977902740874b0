//! The rules: for each command, a pure `decide` from the states it reads to the events it
//! yields, or a typed [`Refusal`].
//!
//! Pure means no I/O, no clock, no randomness, no lock, no log: `Domain::execute` loads
//! the states (a `Given` struct per family), calls `decide`, seals what is personal and
//! appends. So a rule is tested in memory: given the events that built the states, when a
//! command, then these events or that refusal.
//!
//! Personal data stays plain here: a rule answers [`Decided`], whose personal variants
//! carry the text in the clear, and `execute` seals it with its owner's key after the
//! decision (the key store is I/O, and no key is made for a command that is refused).
//!
//! One module per aggregate family; a new action is a [`crate::Command`] variant, a
//! `decide` arm in the module of the family it writes to, an event in
//! [`crate::events`] and its `apply` in [`crate::state`].

pub mod account;
pub mod catalog;
mod checks;
pub mod contract;
pub mod controls;
pub mod engagement;
pub mod moderation;
pub mod order;
pub mod post;

pub use checks::is_author;

use crate::commands::{Caller, MediaInput};
use crate::events::{
    AccountKind, CaptionEdited, CommentPosted, Disclosure, DomainEvent, Media, PostPublished, Tag,
    UserRegistered,
};
use crate::state::UserState;
use crate::{CommentId, Handle, InterestSlug, PostId, Refusal, Sealed, UserId};

/// Who issues a command, with their account as the log has it.
#[derive(Clone, Debug)]
pub struct Actor {
    /// Who signed the command.
    pub caller: Caller,
    /// The caller's account when the caller is a user (empty when unregistered).
    pub account: UserState,
}

impl Actor {
    /// `caller` with no account (anonymous, system, or a user not registered).
    pub fn new(caller: Caller) -> Self {
        Self {
            caller,
            account: UserState::default(),
        }
    }
}

/// An event as a rule decides it. Personal data is still plain text: `execute` seals it
/// with its owner's key before it is appended, and nothing else changes.
#[derive(Clone, PartialEq, Debug)]
pub enum Decided {
    /// An event that carries no personal data, appended as it is.
    Event(DomainEvent),
    /// [`crate::events::UserRegistered`], before `handle` and `display_name` are sealed
    /// with the account's key.
    UserRegistered {
        /// The account.
        user: UserId,
        /// Member or brand.
        kind: AccountKind,
        /// The reserved handle.
        handle: Handle,
        /// The name shown.
        display_name: String,
        /// A brand's public name.
        brand_name: Option<String>,
    },
    /// [`crate::events::PostPublished`], before the caption and the media's URL and
    /// alternative text are sealed with the author's key.
    PostPublished {
        /// The post.
        post: PostId,
        /// Its author.
        author: UserId,
        /// The caption.
        caption: String,
        /// The media, checked.
        media: Vec<MediaInput>,
        /// Its interests.
        interests: Vec<InterestSlug>,
        /// Its tags, checked.
        tags: Vec<Tag>,
        /// Its disclosure, when sponsored.
        sponsorship: Option<Disclosure>,
    },
    /// [`crate::events::CaptionEdited`], before the caption is sealed with the author's key.
    CaptionEdited {
        /// The post.
        post: PostId,
        /// Its author, whose key seals the caption.
        author: UserId,
        /// The new caption.
        caption: String,
    },
    /// [`crate::events::CommentPosted`], before the text is sealed with the author's key.
    CommentPosted {
        /// The comment.
        comment: CommentId,
        /// The post commented on.
        post: PostId,
        /// Who commented.
        author: UserId,
        /// The text.
        text: String,
    },
}

impl Decided {
    /// `event`, which carries no personal data.
    pub fn event(event: impl Into<DomainEvent>) -> Self {
        Decided::Event(event.into())
    }

    /// The event to store: each personal text sealed by `seal` with its owner, in the
    /// order the event's fields name them; nothing else changes.
    pub fn into_event<E>(
        self,
        mut seal: impl FnMut(&UserId, &str) -> Result<Sealed, E>,
    ) -> Result<DomainEvent, E> {
        Ok(match self {
            Decided::Event(event) => event,
            Decided::UserRegistered {
                user,
                kind,
                handle,
                display_name,
                brand_name,
            } => UserRegistered {
                handle: seal(&user, handle.as_str())?,
                display_name: seal(&user, &display_name)?,
                user,
                kind,
                brand_name,
            }
            .into(),
            Decided::PostPublished {
                post,
                author,
                caption,
                media,
                interests,
                tags,
                sponsorship,
            } => {
                let caption = seal(&author, &caption)?;
                let mut sealed = Vec::with_capacity(media.len());
                for m in media {
                    sealed.push(Media {
                        kind: m.kind,
                        url: seal(&author, &m.url)?,
                        width: m.width,
                        height: m.height,
                        alt: seal(&author, &m.alt)?,
                    });
                }
                PostPublished {
                    post,
                    author,
                    caption,
                    media: sealed,
                    interests,
                    tags,
                    sponsorship,
                }
                .into()
            }
            Decided::CaptionEdited {
                post,
                author,
                caption,
            } => CaptionEdited {
                post,
                caption: seal(&author, &caption)?,
            }
            .into(),
            Decided::CommentPosted {
                comment,
                post,
                author,
                text,
            } => CommentPosted {
                text: seal(&author, &text)?,
                comment,
                post,
                author,
            }
            .into(),
        })
    }
}

/// What a rule answers: the events to append (none when the command had already been
/// carried out, such as a buy repeated with its key), or why not.
pub type Decision = Result<Vec<Decided>, Refusal>;

/// The refusal for a command routed to a family that does not decide it: unreachable, as
/// `execute` routes each command to its family by an exhaustive match.
fn not_decided_here(family: &'static str) -> Refusal {
    Refusal::validation("command", format!("not a {family} command"))
}
