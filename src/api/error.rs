//! The HTTP edge's error type, each variant bound to a stable code and status from the
//! contract, and the `From` conversions of every layer's own error into it: the layers below
//! (storage, listing queries, the rate limiter, the objects, ids, auth, links, the imaging core)
//! know nothing of HTTP. Internal causes are logged, never returned to the client.

use crate::auth::AuthError;
use crate::ids::IdError;
use crate::links::LinkError;
use crate::ratelimit::object::LimitError;
use crate::render::options::OptionError;
use crate::storage::StorageError;
use crate::task::protocol::{Refusal, TaskError};
use crate::tenant::page::QueryError;
use crate::tenant::protocol::IndexError;
use functions::ImageError;
use serde_json::json;
use thiserror::Error;
use worker::Response;

#[derive(Debug, Error)]
pub enum ApiError {
    #[error("{0}")]
    InvalidJson(String),
    #[error("{0}")]
    InvalidRequest(String),
    #[error("{0}")]
    InvalidChain(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("not found")]
    NotFound,
    /// A known path asked with a method it does not answer; the methods it does (`Allow`).
    #[error("this path answers {0} only")]
    MethodNotAllowed(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    TaskNotFinished(String),
    /// Storing this would pass the tenant's `MAX_STORAGE_BYTES_PER_TENANT` (the figures).
    #[error("{0}")]
    QuotaExceeded(String),
    /// A finished task's outputs were deleted by retention.
    #[error("{0}")]
    Expired(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    ImageTooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    InvalidImage(String),
    /// The tenant's request budget is spent; retry after this many seconds.
    #[error("too many requests for this tenant; retry in {0} s")]
    RateLimited(u64),
    /// Something broke on our side; the string is logged, the client sees a generic message.
    #[error("internal: {0}")]
    Internal(String),
    #[error("{0}")]
    Unavailable(String),
}

impl ApiError {
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::InvalidJson(_) => "invalid_json",
            ApiError::InvalidRequest(_) => "invalid_request",
            ApiError::InvalidChain(_) => "invalid_chain",
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::NotFound => "not_found",
            ApiError::MethodNotAllowed(_) => "method_not_allowed",
            ApiError::Conflict(_) => "conflict",
            ApiError::TaskNotFinished(_) => "task_not_finished",
            ApiError::QuotaExceeded(_) => "quota_exceeded",
            ApiError::Expired(_) => "expired",
            ApiError::PayloadTooLarge(_) => "payload_too_large",
            ApiError::ImageTooLarge(_) => "image_too_large",
            ApiError::UnsupportedMediaType(_) => "unsupported_media_type",
            ApiError::InvalidImage(_) => "invalid_image",
            ApiError::RateLimited(_) => "rate_limited",
            ApiError::Internal(_) => "internal",
            ApiError::Unavailable(_) => "unavailable",
        }
    }

    pub fn status(&self) -> u16 {
        match self {
            ApiError::InvalidJson(_) | ApiError::InvalidRequest(_) | ApiError::InvalidChain(_) => 400,
            ApiError::Unauthorized(_) => 401,
            ApiError::QuotaExceeded(_) => 403,
            ApiError::NotFound => 404,
            ApiError::MethodNotAllowed(_) => 405,
            ApiError::Conflict(_) | ApiError::TaskNotFinished(_) => 409,
            ApiError::Expired(_) => 410,
            ApiError::PayloadTooLarge(_) | ApiError::ImageTooLarge(_) => 413,
            ApiError::UnsupportedMediaType(_) => 415,
            ApiError::InvalidImage(_) => 422,
            ApiError::RateLimited(_) => 429,
            ApiError::Internal(_) => 500,
            ApiError::Unavailable(_) => 503,
        }
    }

    /// What the client may read: everything but internal causes.
    pub fn public_message(&self) -> String {
        match self {
            ApiError::Internal(_) => "something went wrong on our side; quote the request id".into(),
            ApiError::NotFound => "no such resource".into(),
            other => other.to_string(),
        }
    }

    /// The contract's error JSON with this error's status.
    pub fn to_response(&self, request_id: &str) -> worker::Result<Response> {
        let body = json!({"error": {"code": self.code(), "message": self.public_message(), "request_id": request_id}});
        let mut resp = Response::from_json(&body)?.with_status(self.status());
        match self {
            ApiError::RateLimited(seconds) => resp.headers_mut().set("retry-after", &seconds.to_string())?,
            ApiError::MethodNotAllowed(allow) => resp.headers_mut().set("allow", allow)?,
            _ => {}
        }
        Ok(resp)
    }
}

/// A task object's refusal as the HTTP edge answers it; a route that gives a conflict its own
/// meaning (download, cancel, idempotency) matches [`Refusal::Conflict`] itself first.
impl From<TaskError> for ApiError {
    fn from(e: TaskError) -> Self {
        match e {
            TaskError::Refused(Refusal::NotFound) => ApiError::NotFound,
            TaskError::Refused(refusal @ Refusal::Conflict(_)) => ApiError::Conflict(refusal.to_string()),
            TaskError::Refused(refusal @ Refusal::Misconfigured(_)) => ApiError::Unavailable(refusal.to_string()),
            TaskError::Refused(refusal @ Refusal::Expired(_)) => ApiError::Expired(refusal.to_string()),
            TaskError::Platform(cause) => ApiError::Internal(cause),
        }
    }
}

/// Errors whose message is all the edge needs: each becomes one variant carrying its text.
macro_rules! from_message {
    ($($source:ty => $variant:ident),* $(,)?) => {$(
        impl From<$source> for ApiError {
            fn from(e: $source) -> Self {
                ApiError::$variant(e.to_string())
            }
        }
    )*};
}

from_message! {
    AuthError => Unauthorized,
    LinkError => Unauthorized,
    QueryError => InvalidRequest,
    OptionError => InvalidChain,
    worker::Error => Internal,
}

impl From<IdError> for ApiError {
    fn from(e: IdError) -> Self {
        match e {
            IdError::Malformed { .. } => ApiError::NotFound,
            IdError::NoRandomness(cause) => ApiError::Internal(cause),
        }
    }
}

impl From<IndexError> for ApiError {
    fn from(e: IndexError) -> Self {
        match e {
            IndexError::NotFound => ApiError::NotFound,
            IndexError::OverQuota(over) => ApiError::QuotaExceeded(over.to_string()),
            IndexError::Platform(cause) => ApiError::Internal(cause),
        }
    }
}

impl From<ImageError> for ApiError {
    fn from(e: ImageError) -> Self {
        match e {
            ImageError::Invalid(m) => ApiError::InvalidImage(m),
            ImageError::Unsupported(m) => ApiError::UnsupportedMediaType(m),
            ImageError::TooLarge(m) => ApiError::ImageTooLarge(m),
            ImageError::Params(m) => ApiError::InvalidChain(m),
        }
    }
}

impl From<StorageError> for ApiError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::NotFound => ApiError::NotFound,
            StorageError::Id(e) => e.into(),
            StorageError::Image(e) => e.into(),
            StorageError::Platform(cause) => ApiError::Internal(cause),
        }
    }
}

impl From<LimitError> for ApiError {
    fn from(e: LimitError) -> Self {
        match e {
            LimitError::Limited(seconds) => ApiError::RateLimited(seconds),
            unavailable @ LimitError::Unavailable => ApiError::Unavailable(unavailable.to_string()),
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_never_leak_their_cause() {
        let e = ApiError::Internal("R2 said: bucket secret-name".into());
        assert_eq!((e.code(), e.status()), ("internal", 500));
        assert!(!e.public_message().contains("secret-name"));
    }

    #[test]
    fn image_errors_map_onto_contract_codes() {
        assert_eq!(ApiError::from(ImageError::Invalid("x".into())).status(), 422);
        assert_eq!(ApiError::from(ImageError::TooLarge("x".into())).code(), "image_too_large");
        assert_eq!(ApiError::from(ImageError::Unsupported("x".into())).status(), 415);
    }

    /// What each layer's error becomes at the edge: the codes and statuses clients rely on.
    #[test]
    fn layer_errors_keep_their_contract_codes_and_statuses() {
        let answered = |e: ApiError| (e.code(), e.status(), e.public_message());
        let malformed = IdError::Malformed { kind: "image" };
        let cases = [
            (ApiError::from(StorageError::NotFound), ("not_found", 404, "no such resource")),
            (ApiError::from(StorageError::Id(malformed)), ("not_found", 404, "no such resource")),
            (ApiError::from(StorageError::Image(ImageError::TooLarge("big".into()))), ("image_too_large", 413, "big")),
            (
                ApiError::from(StorageError::Platform("R2 down".into())),
                ("internal", 500, "something went wrong on our side; quote the request id"),
            ),
            (ApiError::from(QueryError::Cursor), ("invalid_request", 400, "cursor: not a cursor from a previous page's next_cursor")),
            (ApiError::from(QueryError::Limit), ("invalid_request", 400, "limit: must be an integer from 1 to 100")),
            (ApiError::from(LimitError::Limited(7)), ("rate_limited", 429, "too many requests for this tenant; retry in 7 s")),
            (ApiError::from(LimitError::Unavailable), ("unavailable", 503, "the rate limiter is unavailable; try again shortly")),
        ];
        for (error, (code, status, message)) in cases {
            assert_eq!(answered(error), (code, status, message.to_string()));
        }
    }

    #[test]
    fn refused_credentials_are_401_with_their_reason() {
        let token = ApiError::from(AuthError::Expired);
        assert_eq!((token.code(), token.status(), token.public_message().as_str()), ("unauthorized", 401, "the token has expired"));
        let link = ApiError::from(LinkError::WrongResource);
        assert_eq!((link.status(), link.public_message().as_str()), (401, "the link signature does not match this resource"));
    }
}
