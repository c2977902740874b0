//! What the API answers when it cannot do what was asked: one enum, each variant with the
//! `extensions.code` clients switch on.
//!
//! Invariant: every error a response carries has `extensions.code`; errors async-graphql
//! raises itself (parse, validation, limits) get theirs in [`classify`].

use async_graphql::{ErrorExtensionValues, ServerError};
use sparkfeed_domain::{CommandError, Refusal};
use sparkfeed_projections::ProjectionError;

/// Why an operation was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No valid token was presented where one is needed. Code `UNAUTHENTICATED`.
    #[error("sign in first: send `Authorization: Bearer <token>`")]
    Unauthenticated,
    /// The token was presented but is not valid (bad signature, expired, malformed).
    /// Code `UNAUTHENTICATED`.
    #[error("invalid token: {0}")]
    InvalidToken(String),
    /// The caller lacks the role or the ownership this needs. Code `FORBIDDEN`.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// An argument is malformed or out of range. Code `BAD_USER_INPUT`.
    #[error("invalid {field}: {reason}")]
    BadUserInput {
        /// The argument.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The thing asked for does not exist. Code `NOT_FOUND`.
    #[error("{0} not found")]
    NotFound(String),
    /// The domain refused the command; nothing was written. Code: the refusal's.
    #[error(transparent)]
    Refused(Refusal),
    /// The caller holds as many of something as the limits allow (open WebSockets,
    /// subscriptions on one socket, a running rebuild of a projection), or sends too fast.
    /// Code: `code`.
    #[error("{reason}")]
    TooMany {
        /// `TOO_MANY_SOCKETS`, `TOO_MANY_SUBSCRIPTIONS`, `RATE_LIMITED` or
        /// `REBUILD_RUNNING`.
        code: &'static str,
        /// What the limit is.
        reason: String,
    },
    /// The server serves a replayed directory as it stood and takes no mutation. Code
    /// `READ_ONLY`.
    #[error("this server is read-only: it serves the log as it stood, and takes no mutation")]
    ReadOnly,
    /// The log, the key store or a projection failed. Code: the failure's.
    #[error("internal failure ({code}); the operation may be retried")]
    Internal {
        /// The failure's stable code.
        code: &'static str,
    },
}

impl ApiError {
    /// A malformed or out-of-range argument.
    pub fn input(field: &'static str, reason: impl Into<String>) -> Self {
        ApiError::BadUserInput {
            field,
            reason: reason.into(),
        }
    }

    /// The stable code clients see as `extensions.code`.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthenticated | ApiError::InvalidToken(_) => "UNAUTHENTICATED",
            ApiError::Forbidden(_) => "FORBIDDEN",
            ApiError::BadUserInput { .. } => "BAD_USER_INPUT",
            ApiError::NotFound(_) => "NOT_FOUND",
            ApiError::ReadOnly => "READ_ONLY",
            ApiError::Refused(r) => r.code(),
            ApiError::TooMany { code, .. } | ApiError::Internal { code } => code,
        }
    }
}

impl From<CommandError> for ApiError {
    fn from(e: CommandError) -> Self {
        match e {
            CommandError::Refused(r) => ApiError::Refused(r),
            CommandError::Failed(f) => {
                tracing::error!(error = %f, code = f.code(), "command failed");
                ApiError::Internal { code: f.code() }
            }
        }
    }
}

impl From<Refusal> for ApiError {
    fn from(r: Refusal) -> Self {
        ApiError::Refused(r)
    }
}

impl From<ProjectionError> for ApiError {
    fn from(e: ProjectionError) -> Self {
        tracing::error!(error = %e, code = e.code(), "read failed");
        ApiError::Internal { code: e.code() }
    }
}

impl From<sparkfeed_eventlog::LogError> for ApiError {
    fn from(e: sparkfeed_eventlog::LogError) -> Self {
        tracing::error!(error = %e, code = e.code(), "log read failed");
        ApiError::Internal { code: e.code() }
    }
}

/// The result of a resolver: an [`ApiError`] becomes a GraphQL error through
/// async-graphql's `From<impl Display>`, keeping the `ApiError` as its source.
pub type ApiResult<T> = Result<T, ApiError>;

/// The code of an error raised by async-graphql itself rather than by a resolver.
pub const QUERY_TOO_DEEP: &str = "QUERY_TOO_DEEP";
/// The code of a query over the complexity budget.
pub const QUERY_TOO_COMPLEX: &str = "QUERY_TOO_COMPLEX";
/// The code of a document that is not GraphQL.
pub const GRAPHQL_PARSE_FAILED: &str = "GRAPHQL_PARSE_FAILED";
/// The code of a document that does not validate against the schema.
pub const GRAPHQL_VALIDATION_FAILED: &str = "GRAPHQL_VALIDATION_FAILED";

/// Gives an error async-graphql raised itself a code: limits get their own, anything else
/// without a path is a document that failed to parse or validate, and an error inside a
/// resolver without one (an argument that did not coerce) is bad input.
/// Parse errors are told apart from validation errors by the parser's ` --> ` pointer.
///
/// Resolvers return [`ApiError`]s, which async-graphql carries as the error's source; their
/// code (and the offending field of bad input) is copied into the extensions here.
pub fn classify(error: &mut ServerError) {
    if let Some(api) = error.source::<ApiError>() {
        let code = api.code();
        let field = match api {
            ApiError::BadUserInput { field, .. }
            | ApiError::Refused(Refusal::Validation { field, .. }) => Some(*field),
            _ => None,
        };
        let extensions = error
            .extensions
            .get_or_insert_with(ErrorExtensionValues::default);
        extensions.set("code", code);
        if let Some(field) = field {
            extensions.set("field", field);
        }
        return;
    }
    if error
        .extensions
        .as_ref()
        .is_some_and(|e| e.get("code").is_some())
    {
        return;
    }
    let code = match error.message.as_str() {
        "Query is nested too deep." => QUERY_TOO_DEEP,
        "Query is too complex." => QUERY_TOO_COMPLEX,
        // The parser's errors point at the offending text: ` --> line:column`.
        m if m.trim_start().starts_with("-->") => GRAPHQL_PARSE_FAILED,
        _ if error.path.is_empty() => GRAPHQL_VALIDATION_FAILED,
        _ => "BAD_USER_INPUT",
    };
    error
        .extensions
        .get_or_insert_with(ErrorExtensionValues::default)
        .set("code", code);
}

/// A response body carrying one request-level error (the request never reached GraphQL).
pub fn request_error(code: &str, message: &str) -> serde_json::Value {
    serde_json::json!({
        "errors": [{ "message": message, "extensions": { "code": code } }]
    })
}
