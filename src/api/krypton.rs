//! The Krypton v3 client: `POST {url}/api/v3/ekyc`. The request's types are in
//! [`crate::contract::krypton`]; the response body is not documented, so it is returned
//! as received.

use std::time::Duration;

use super::error::{ApiError, RawBody};
use super::http::{http_client, transport_error, RetryPolicy};
pub use crate::contract::krypton::{
    KryptonAction, KryptonExtra, KryptonFlow, KryptonRequest, LivenessModel, SessionType,
};
use crate::contract::Secret;

/// Sends Krypton v3 session requests. The company id is a credential: it never prints.
#[derive(Debug, Clone)]
pub struct KryptonClient {
    http: reqwest::Client,
    url: String,
    company_id: Secret,
    request_timeout: Duration,
    retry: RetryPolicy,
}

impl KryptonClient {
    pub fn new(
        url: impl Into<String>,
        company_id: Secret,
        connect_timeout: Duration,
        request_timeout: Duration,
        retry: RetryPolicy,
    ) -> Result<Self, ApiError> {
        Ok(Self {
            http: http_client(connect_timeout, request_timeout)?,
            url: url.into(),
            company_id,
            request_timeout,
            retry,
        })
    }

    /// Builds the documented request for this client's company.
    pub fn request(&self, session_types: Vec<SessionType>, extra: KryptonExtra) -> KryptonRequest {
        KryptonRequest {
            company_id: self.company_id.clone(),
            session_types,
            extra,
        }
    }

    /// `POST /api/v3/ekyc`; returns the body as received when the status is 2xx.
    pub async fn create_session(&self, request: &KryptonRequest) -> Result<String, ApiError> {
        request.validate().map_err(ApiError::InvalidRequest)?;
        let url = format!("{}/api/v3/ekyc", self.url.trim_end_matches('/'));
        self.retry
            .run("api/v3/ekyc", || self.post_once(&url, request))
            .await
    }

    async fn post_once(&self, url: &str, request: &KryptonRequest) -> Result<String, ApiError> {
        let to_error =
            |error: reqwest::Error| transport_error(&error, &self.url, self.request_timeout);
        let response = self
            .http
            .post(url)
            .json(request)
            .send()
            .await
            .map_err(to_error)?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await.map_err(to_error)?;
        if !(200..300).contains(&status) {
            return Err(ApiError::Http {
                status,
                raw: RawBody::new(&bytes),
            });
        }
        String::from_utf8(bytes.to_vec()).map_err(|_| ApiError::MalformedResponse {
            reason: "the answer is not UTF-8 text".into(),
            raw: RawBody::new(&bytes),
        })
    }
}
