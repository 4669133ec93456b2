//! API errors in Okta's shape: `{errorCode, errorSummary, errorLink, errorId, errorCauses}`.
//! Every API failure becomes an HTTP response here and nowhere else. What the
//! client sees is kept apart from internal detail: a 500 says only that
//! something failed and gives the errorId under which the detail was logged.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::store::StoreError;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub summary: String,
    pub causes: Vec<String>,
    /// Extra headers, e.g. `WWW-Authenticate` or `Allow`.
    pub headers: Vec<(&'static str, String)>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, summary: impl Into<String>) -> Self {
        Self { status, code, summary: summary.into(), causes: Vec::new(), headers: Vec::new() }
    }

    pub fn with_cause(mut self, cause: impl Into<String>) -> Self {
        self.causes.push(cause.into());
        self
    }

    /// E0000001: one or more fields are invalid; each cause names its field.
    pub fn validation(causes: Vec<String>) -> Self {
        Self { causes, ..Self::new(StatusCode::BAD_REQUEST, "E0000001", "Api validation failed") }
    }

    pub fn field(field: &str, message: &str) -> Self {
        Self::validation(vec![format!("{field}: {message}")])
    }

    /// E0000003: the body is not JSON of the expected shape.
    pub fn malformed(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "E0000003", "The request body was not well-formed.").with_cause(detail)
    }

    pub fn too_large(limit: usize) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "E0000003", "The request body was not well-formed.")
            .with_cause(format!("body: larger than the {limit}-byte limit"))
    }

    /// E0000004: sign-in failed. Says nothing about why.
    pub fn authentication_failed() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "E0000004", "Authentication failed")
    }

    /// E0000005: no valid session.
    pub fn invalid_session() -> Self {
        Self::new(StatusCode::FORBIDDEN, "E0000005", "Invalid session")
    }

    /// E0000006: authenticated, but not allowed.
    pub fn forbidden() -> Self {
        Self::new(StatusCode::FORBIDDEN, "E0000006", "You do not have permission to perform the requested action")
    }

    /// E0000007: no such resource.
    pub fn not_found(kind: &str, id: &str) -> Self {
        let shown: String = id.chars().take(100).collect();
        Self::new(StatusCode::NOT_FOUND, "E0000007", format!("Not found: Resource not found: {shown} ({kind})"))
    }

    /// E0000011: missing or invalid API token.
    pub fn invalid_token() -> Self {
        let mut e = Self::new(StatusCode::UNAUTHORIZED, "E0000011", "Invalid token provided");
        e.headers.push(("www-authenticate", "SSWS realm=\"Vestibule\"".into()));
        e
    }

    /// E0000022: the path exists but not with this method.
    pub fn method_not_allowed() -> Self {
        Self::new(StatusCode::METHOD_NOT_ALLOWED, "E0000022", "The endpoint does not support the provided HTTP method")
    }

    /// E0000031 / E0000030: the filter or search expression is wrong.
    pub fn bad_expression(parameter: &str, detail: &str) -> Self {
        let (code, summary) = if parameter == "search" {
            ("E0000031", "Invalid search criteria.")
        } else {
            ("E0000030", "Bad request. Invalid 'filter' parameter.")
        };
        Self::new(StatusCode::BAD_REQUEST, code, summary).with_cause(format!("{parameter}: {detail}"))
    }

    /// E0000038: the operation is not allowed in the object's current status.
    pub fn wrong_status(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "E0000038", "This operation is not allowed in the user's current status.")
            .with_cause(detail)
    }

    /// E0000047: too many requests, or too many waiting for a password check.
    pub fn rate_limited() -> Self {
        let mut e = Self::new(StatusCode::TOO_MANY_REQUESTS, "E0000047", "API call exceeded rate limit due to too many requests.");
        e.headers.push(("retry-after", "1".into()));
        e
    }

    pub fn unsupported_media_type() -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "E0000021",
            "Bad request. Accept and/or Content-Type headers likely do not match supported values.",
        )
    }

    /// E0000009: something failed inside; the detail is in the log, under the errorId.
    pub fn internal(detail: &dyn std::fmt::Display) -> Self {
        let e = Self::new(StatusCode::INTERNAL_SERVER_ERROR, "E0000009", "Internal Server Error");
        tracing::error!(detail = %detail, "internal error");
        e
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Conflict(field) => {
                ApiError::field(field, "An object with this field already exists in the current organization")
            }
            other => {
                let e = ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "E0000009", "Internal Server Error");
                tracing::error!(error = %other, "store error");
                e
            }
        }
    }
}

pub fn error_id() -> String {
    format!("oae{}", vestibule_core::id::random_token(19, &mut rand::thread_rng()))
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let id = error_id();
        if self.status.is_server_error() {
            tracing::warn!(error_id = %id, code = self.code, "answered with a server error");
        }
        let body = json!({
            "errorCode": self.code,
            "errorSummary": self.summary,
            "errorLink": self.code,
            "errorId": id,
            "errorCauses": self.causes.iter().map(|c| json!({ "errorSummary": c })).collect::<Vec<_>>(),
        });
        let mut response = (self.status, axum::Json(body)).into_response();
        for (name, value) in self.headers {
            if let Ok(value) = HeaderValue::from_str(&value) {
                response.headers_mut().insert(name, value);
            }
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
