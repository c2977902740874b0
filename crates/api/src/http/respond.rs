//! JSON answers, and the 401 of a token that proves nothing.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::error::{ApiError, request_error};

/// `body` as a JSON answer with `status`.
pub(super) fn json(status: StatusCode, body: &serde_json::Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// Encoded JSON as a 200 answer.
pub(super) fn json_bytes(body: hyper::body::Bytes) -> Response {
    let mut response = (StatusCode::OK, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// 401 with `WWW-Authenticate`, for a token that is not valid.
pub(super) fn unauthenticated(error: &ApiError) -> Response {
    let mut response = json(
        StatusCode::UNAUTHORIZED,
        &request_error(error.code(), &error.to_string()),
    );
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer error=\"invalid_token\""),
    );
    response
}
