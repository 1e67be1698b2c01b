//! Errors as HTTP answers: Atlas's `ApiError` shape (`error` = the status, `errorCode` = the
//! spec code, `detail`, `reason`, `parameters`), with each code's natural status.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use support_access_core::{Error, ErrorCode};
use support_access_store::StoreError;

/// An answer that is not a success.
#[derive(Debug)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The stable code (a spec code, or one of the service's: `UNAUTHORIZED`,
    /// `UNSUPPORTED_MEDIA_TYPE`, `NOT_ACCEPTABLE`, `BODY_TOO_LARGE`, `ORG_NOT_FOUND`,
    /// `STORE_UNAVAILABLE`…).
    pub code: String,
    /// What happened, for a person.
    pub detail: String,
    /// The values the error is about.
    pub parameters: Vec<String>,
}

/// The status a spec error code answers with: bad input 400, `FORBIDDEN` 403, not found 404,
/// a conflict with the state 409.
pub fn status_of(code: ErrorCode) -> StatusCode {
    use ErrorCode as C;
    match code {
        C::Forbidden | C::AccessDenied => StatusCode::FORBIDDEN,
        C::ProjectNotFound | C::ClusterNotFound | C::DownloadNotFound => StatusCode::NOT_FOUND,
        C::DuplicateProject
        | C::DuplicateCluster
        | C::UnsupportedClusterKind
        | C::SyncNotEnabled
        | C::NoActiveGrant
        | C::ClockWentBackwards => StatusCode::CONFLICT,
        _ => StatusCode::BAD_REQUEST,
    }
}

/// The same, for a code read back from a result's bytes.
pub fn status_of_code(code: &str) -> StatusCode {
    ErrorCode::ALL
        .iter()
        .find(|c| c.as_str() == code)
        .map_or(StatusCode::BAD_REQUEST, |c| status_of(*c))
}

impl ApiError {
    /// An error of the service's own.
    pub fn new(status: StatusCode, code: &str, detail: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code: String::from(code),
            detail: detail.into(),
            parameters: Vec::new(),
        }
    }

    /// With the values it is about.
    pub fn with(mut self, parameter: impl Into<String>) -> ApiError {
        self.parameters.push(parameter.into());
        self
    }

    /// The JSON body.
    pub fn body(&self) -> String {
        serde_json::json!({
            "detail": self.detail,
            "error": self.status.as_u16(),
            "errorCode": self.code,
            "parameters": self.parameters,
            "reason": self.status.canonical_reason().unwrap_or("Error"),
        })
        .to_string()
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> ApiError {
        let mut a = ApiError::new(status_of(e.code()), e.code().as_str(), e.to_string());
        if let Some(seq) = e.seq() {
            a.parameters.push(seq.to_string());
        }
        a
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        let status = match &e {
            StoreError::NotFound { .. } => StatusCode::NOT_FOUND,
            StoreError::AlreadyExists { .. } => StatusCode::CONFLICT,
            StoreError::OrgRequired { .. } | StoreError::WrongOrg { .. } => StatusCode::BAD_REQUEST,
            // The service's own store failing is not the caller's fault, and retrying may help.
            _ => StatusCode::SERVICE_UNAVAILABLE,
        };
        let code = match &e {
            StoreError::NotFound { .. } => "ORG_NOT_FOUND",
            _ => e.code(),
        };
        ApiError::new(status, code, e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut r = (self.status, self.body()).into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        r
    }
}
