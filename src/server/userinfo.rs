//! The UserInfo endpoints (OpenID Connect Core §5.3), one per issuer:
//! `GET`/`POST /admin/oauth2-token/userinfo` and `…/oauth2-token/userinfo`.
//! A bearer token of the endpoint's side with the `openid` scope gets the
//! claims its scopes release; anything else is refused as RFC 6750 §3 says
//! (401/403 with `WWW-Authenticate`).

use super::error::access_error;
use super::extract::{Api, Bearer};
use crate::model::Side;
use crate::service::{self, ServiceError};
use crate::state::AppState;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// The back office's UserInfo: tokens of back-office applications.
pub struct BackOfficeUserInfo;
impl Api for BackOfficeUserInfo {
    const SIDE: Side = Side::BackOffice;
    const SCOPE: &'static str = crate::oauth::scope::OPENID;
}

/// The storefront's UserInfo: tokens of storefront applications.
pub struct StorefrontUserInfo;
impl Api for StorefrontUserInfo {
    const SIDE: Side = Side::Storefront;
    const SCOPE: &'static str = crate::oauth::scope::OPENID;
}

pub async fn backoffice(State(state): State<AppState>, Bearer(access, _): Bearer<BackOfficeUserInfo>) -> Response {
    answer(&state, &access).await
}

pub async fn storefront(State(state): State<AppState>, Bearer(access, _): Bearer<StorefrontUserInfo>) -> Response {
    answer(&state, &access).await
}

async fn answer(state: &AppState, access: &service::access::Access) -> Response {
    match service::oidc::userinfo(state, access).await {
        Ok(claims) => {
            let mut response = axum::Json(claims).into_response();
            response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        // The token's person is gone or disabled since it was issued.
        Err(ServiceError::NotFound(_)) => access_error(&service::access::AccessError::InvalidToken(
            "The account of this access token is disabled or deleted.",
        )),
        Err(ServiceError::Unavailable) => access_error(&service::access::AccessError::Unavailable),
        Err(err) => {
            tracing::error!(error = %err, "userinfo failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}
