//! The media type of a GraphQL answer, as the GraphQL-over-HTTP specification has it.
//!
//! A client that accepts `application/graphql-response+json` gets it, and with it status
//! codes that say whether the request was executed at all: a document that does not parse
//! or validate, or variables that do not coerce, answer 400 with no `data` entry. A client
//! that accepts only `application/json` (or says nothing) gets the legacy form: 200 with
//! the errors in the body. A client that accepts neither is answered 406.

use axum::http::{HeaderMap, HeaderValue, header};

/// What the answer is sent as.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Media {
    /// `application/graphql-response+json`.
    GraphqlResponse,
    /// `application/json` (legacy, and what an absent `Accept` means).
    Json,
}

impl Media {
    /// The `Content-Type` of the answer.
    pub(crate) fn content_type(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            Media::GraphqlResponse => "application/graphql-response+json; charset=utf-8",
            Media::Json => "application/json; charset=utf-8",
        })
    }

    /// What the request's `Accept` header asks for; `None` when it accepts neither.
    pub(crate) fn accepted(headers: &HeaderMap) -> Option<Media> {
        let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
            return Some(Media::Json);
        };
        let mut json = false;
        for range in accept.split(',') {
            let mut parts = range.split(';');
            let kind = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let refused = parts.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            if refused {
                continue;
            }
            match kind.as_str() {
                "application/graphql-response+json" => return Some(Media::GraphqlResponse),
                "application/json" | "application/*" | "*/*" => json = true,
                _ => {}
            }
        }
        json.then_some(Media::Json)
    }
}

/// Whether `response` is a request error: nothing was executed (a document that does not
/// parse or validate, variables that do not coerce, a limit of the document). Every error
/// raised while executing has a path; these have none, and there is no data.
pub(crate) fn is_request_error(response: &async_graphql::Response) -> bool {
    !response.errors.is_empty()
        && response.data == async_graphql::Value::Null
        && response.errors.iter().all(|e| e.path.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &str) -> Option<Media> {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_str(value).expect("valid"));
        Media::accepted(&headers)
    }

    #[test]
    fn the_accept_header_picks_the_media_type() {
        assert_eq!(Media::accepted(&HeaderMap::new()), Some(Media::Json));
        assert_eq!(accept("application/json"), Some(Media::Json));
        assert_eq!(accept("*/*"), Some(Media::Json));
        assert_eq!(
            accept("application/graphql-response+json, application/json;q=0.9"),
            Some(Media::GraphqlResponse)
        );
        assert_eq!(
            accept("application/json, application/graphql-response+json;q=0"),
            Some(Media::Json)
        );
        assert_eq!(accept("text/html"), None);
        assert_eq!(accept("application/json;q=0"), None);
    }
}
