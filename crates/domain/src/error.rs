//! Refusals: every rule a command can break, each with a stable code.

use sparkfeed_eventlog::{AppendError, LogError};

/// A command the rules refuse. Nothing was appended.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// An input does not have the required form. Code `VALIDATION`; `field` names it.
    #[error("invalid {field}: {reason}")]
    Validation {
        /// The offending input.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// Only Prime members post, smile, save, share, comment or buy. Code `NOT_PRIME`.
    #[error("only Prime members may do this")]
    NotPrime,
    /// No account acts here (unknown user). Code `UNKNOWN_USER`.
    #[error("unknown user {0}")]
    UnknownUser(String),
    /// The acting account lacks the role this needs. Code `FORBIDDEN`.
    #[error("this needs the {0} role")]
    Forbidden(&'static str),
    /// The handle belongs to someone else. Code `HANDLE_TAKEN`.
    #[error("that handle is taken")]
    HandleTaken,
    /// The user id is already registered. Code `ALREADY_REGISTERED`.
    #[error("that account is already registered")]
    AlreadyRegistered,
    /// More than five interests. Code `TOO_MANY_INTERESTS`.
    #[error("at most 5 interests, got {0}")]
    TooManyInterests(usize),
    /// An interest that is not in the catalog. Code `UNKNOWN_INTEREST`.
    #[error("unknown interest {0}")]
    UnknownInterest(String),
    /// The interest is already in the catalog. Code `INTEREST_EXISTS`.
    #[error("interest {0} already exists")]
    InterestExists(String),
    /// A product that is not in the catalog (or was delisted). Code `UNKNOWN_PRODUCT`.
    #[error("unknown product {0}")]
    UnknownProduct(String),
    /// The product is already listed. Code `PRODUCT_EXISTS`.
    #[error("product {0} is already listed")]
    ProductExists(String),
    /// No such post (or it was removed). Code `UNKNOWN_POST`.
    #[error("unknown post {0}")]
    UnknownPost(String),
    /// The post was removed by a moderator or its author. Code `POST_REMOVED`.
    #[error("post {0} was removed")]
    PostRemoved(String),
    /// Only the author may do this to a post. Code `NOT_AUTHOR`.
    #[error("only the post's author may do this")]
    NotAuthor,
    /// Brands sponsor enthusiasts; they do not post. Code `BRANDS_CANNOT_POST`.
    #[error("brands cannot post")]
    BrandsCannotPost,
    /// The product is not tagged in the post. Code `NOT_TAGGED`.
    #[error("product {0} is not tagged in this post")]
    NotTagged(String),
    /// The member already smiles at the post. Code `ALREADY_SMILED`.
    #[error("already smiling at this post")]
    AlreadySmiled,
    /// The member does not smile at the post. Code `NOT_SMILED`.
    #[error("not smiling at this post")]
    NotSmiled,
    /// The member already saved the post. Code `ALREADY_SAVED`.
    #[error("already saved")]
    AlreadySaved,
    /// The member has not saved the post. Code `NOT_SAVED`.
    #[error("not saved")]
    NotSaved,
    /// A post with this id exists. Code `POST_EXISTS`.
    #[error("post {0} already exists")]
    PostExists(String),
    /// A comment with this id exists. Code `COMMENT_EXISTS`.
    #[error("comment {0} already exists")]
    CommentExists(String),
    /// A contract with this id exists. Code `CONTRACT_EXISTS`.
    #[error("contract {0} already exists")]
    ContractExists(String),
    /// No such comment (or it was removed). Code `UNKNOWN_COMMENT`.
    #[error("unknown comment {0}")]
    UnknownComment(String),
    /// The idempotency key was used for a different request (another order, post, comment,
    /// contract or account). Code `IDEMPOTENCY_CONFLICT`.
    #[error("this idempotency key was used for a different request")]
    IdempotencyConflict,
    /// No such contract. Code `UNKNOWN_CONTRACT`.
    #[error("unknown contract {0}")]
    UnknownContract(String),
    /// The contract is not active now. Code `CONTRACT_NOT_ACTIVE`.
    #[error("contract {0} is not active")]
    ContractNotActive(String),
    /// The contract belongs to another enthusiast or brand. Code `NOT_PARTY_TO_CONTRACT`.
    #[error("not a party to contract {0}")]
    NotPartyToContract(String),
    /// The member already holds the role. Code `ALREADY_HAS_ROLE`.
    #[error("already has that role")]
    AlreadyHasRole,
    /// The member does not hold the role. Code `ROLE_NOT_HELD`.
    #[error("does not have that role")]
    RoleNotHeld,
    /// Members do not follow themselves. Code `CANNOT_FOLLOW_SELF`.
    #[error("you cannot follow yourself")]
    CannotFollowSelf,
    /// Brands never post: there is nothing of theirs to follow. Code `CANNOT_FOLLOW_BRAND`.
    #[error("brands do not post; follow the creators they sponsor")]
    CannotFollowBrand,
    /// The member follows the creator already. Code `ALREADY_FOLLOWING`.
    #[error("already following")]
    AlreadyFollowing,
    /// The member does not follow the creator. Code `NOT_FOLLOWING`.
    #[error("not following")]
    NotFollowing,
    /// The member hid it already. Code `ALREADY_HIDDEN`.
    #[error("already marked not interested")]
    AlreadyHidden,
    /// The member did not hide it. Code `NOT_HIDDEN`.
    #[error("not marked not interested")]
    NotHidden,
    /// The member holds the most "not interested" marks allowed. Code `TOO_MANY_HIDDEN`.
    #[error("at most {0} things can be marked not interested; take some back first")]
    TooManyHidden(usize),
    /// The member was forgotten already. Code `ALREADY_FORGOTTEN`.
    #[error("{0} was forgotten already")]
    AlreadyForgotten(String),
    /// The caller's own account was forgotten: nothing more is done in its name. Code
    /// `MEMBER_FORGOTTEN`.
    #[error("this account was forgotten at its member's request; nothing more is done in its name")]
    Forgotten,
    /// Members report others' posts, not their own. Code `CANNOT_REPORT_OWN_POST`.
    #[error("you cannot report your own post")]
    CannotReportOwnPost,
    /// The member already reported this post. Code `ALREADY_REPORTED`.
    #[error("you already reported this post")]
    AlreadyReported,
    /// No such report. Code `UNKNOWN_REPORT`.
    #[error("unknown report {0}")]
    UnknownReport(String),
    /// The report was decided already. Code `REPORT_ALREADY_RESOLVED`.
    #[error("report {0} was resolved already")]
    ReportAlreadyResolved(String),
    /// Too many concurrent changes to the same thing; try again. Code `CONFLICT`.
    #[error("too many concurrent changes; try again")]
    Conflict,
}

impl Refusal {
    pub(crate) fn validation(field: &'static str, reason: impl Into<String>) -> Self {
        Refusal::Validation {
            field,
            reason: reason.into(),
        }
    }

    /// Whether this says that what the command creates exists already. When this very
    /// command wrote it (a repeat), `execute` answers with what it wrote instead.
    pub(crate) fn is_taken(&self) -> bool {
        self.is_taken_key_id()
            || matches!(self, Refusal::InterestExists(_) | Refusal::ProductExists(_))
    }

    /// Whether what is taken has an id the client's key may have chosen (an account, a
    /// post, a comment, a contract): a keyed command is then refused
    /// `IDEMPOTENCY_CONFLICT` instead (see `conflict_or`).
    pub(crate) fn is_taken_key_id(&self) -> bool {
        matches!(
            self,
            Refusal::AlreadyRegistered
                | Refusal::PostExists(_)
                | Refusal::CommentExists(_)
                | Refusal::ContractExists(_)
        )
    }

    /// The stable error code (GraphQL `extensions.code`).
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::Validation { .. } => "VALIDATION",
            Refusal::NotPrime => "NOT_PRIME",
            Refusal::UnknownUser(_) => "UNKNOWN_USER",
            Refusal::Forbidden(_) => "FORBIDDEN",
            Refusal::HandleTaken => "HANDLE_TAKEN",
            Refusal::AlreadyRegistered => "ALREADY_REGISTERED",
            Refusal::TooManyInterests(_) => "TOO_MANY_INTERESTS",
            Refusal::UnknownInterest(_) => "UNKNOWN_INTEREST",
            Refusal::InterestExists(_) => "INTEREST_EXISTS",
            Refusal::UnknownProduct(_) => "UNKNOWN_PRODUCT",
            Refusal::ProductExists(_) => "PRODUCT_EXISTS",
            Refusal::UnknownPost(_) => "UNKNOWN_POST",
            Refusal::PostRemoved(_) => "POST_REMOVED",
            Refusal::NotAuthor => "NOT_AUTHOR",
            Refusal::BrandsCannotPost => "BRANDS_CANNOT_POST",
            Refusal::NotTagged(_) => "NOT_TAGGED",
            Refusal::AlreadySmiled => "ALREADY_SMILED",
            Refusal::NotSmiled => "NOT_SMILED",
            Refusal::AlreadySaved => "ALREADY_SAVED",
            Refusal::NotSaved => "NOT_SAVED",
            Refusal::PostExists(_) => "POST_EXISTS",
            Refusal::CommentExists(_) => "COMMENT_EXISTS",
            Refusal::ContractExists(_) => "CONTRACT_EXISTS",
            Refusal::UnknownComment(_) => "UNKNOWN_COMMENT",
            Refusal::IdempotencyConflict => "IDEMPOTENCY_CONFLICT",
            Refusal::UnknownContract(_) => "UNKNOWN_CONTRACT",
            Refusal::ContractNotActive(_) => "CONTRACT_NOT_ACTIVE",
            Refusal::NotPartyToContract(_) => "NOT_PARTY_TO_CONTRACT",
            Refusal::AlreadyHasRole => "ALREADY_HAS_ROLE",
            Refusal::RoleNotHeld => "ROLE_NOT_HELD",
            Refusal::AlreadyForgotten(_) => "ALREADY_FORGOTTEN",
            Refusal::CannotFollowSelf => "CANNOT_FOLLOW_SELF",
            Refusal::CannotFollowBrand => "CANNOT_FOLLOW_BRAND",
            Refusal::AlreadyFollowing => "ALREADY_FOLLOWING",
            Refusal::NotFollowing => "NOT_FOLLOWING",
            Refusal::AlreadyHidden => "ALREADY_HIDDEN",
            Refusal::NotHidden => "NOT_HIDDEN",
            Refusal::TooManyHidden(_) => "TOO_MANY_HIDDEN",
            Refusal::Forgotten => "MEMBER_FORGOTTEN",
            Refusal::CannotReportOwnPost => "CANNOT_REPORT_OWN_POST",
            Refusal::AlreadyReported => "ALREADY_REPORTED",
            Refusal::UnknownReport(_) => "UNKNOWN_REPORT",
            Refusal::ReportAlreadyResolved(_) => "REPORT_ALREADY_RESOLVED",
            Refusal::Conflict => "CONFLICT",
        }
    }
}

/// Why a command did not happen.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The rules refused it; nothing was appended.
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// The log or the key store failed (fail-stop).
    #[error(transparent)]
    Failed(#[from] Failure),
}

impl CommandError {
    /// The stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            CommandError::Refused(r) => r.code(),
            CommandError::Failed(f) => f.code(),
        }
    }
}

/// A fail-stop failure below the rules.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// The log failed.
    #[error("log: {0}")]
    Log(#[from] LogError),
    /// A stored event does not decode as any known event.
    #[error("undecodable event at position {position}: {reason}")]
    Undecodable {
        /// Where.
        position: u64,
        /// Why.
        reason: String,
    },
    /// The key store failed.
    #[error("key store: {0}")]
    Keys(String),
    /// The log refused an append the rules had accepted: a bug, reported, never hidden.
    #[error("the log refused an accepted command: {0}")]
    Unexpected(String),
}

impl Failure {
    /// The stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            Failure::Log(e) => e.code(),
            Failure::Undecodable { .. } => "CORRUPT",
            Failure::Keys(_) => "KEY_STORE",
            Failure::Unexpected(_) => "INTERNAL",
        }
    }
}

impl From<LogError> for CommandError {
    fn from(e: LogError) -> Self {
        CommandError::Failed(Failure::Log(e))
    }
}

impl From<AppendError> for Failure {
    fn from(e: AppendError) -> Self {
        match e {
            AppendError::Failed(e) => Failure::Log(e),
            AppendError::Refused(r) => Failure::Unexpected(r.to_string()),
        }
    }
}
