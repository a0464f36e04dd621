//! The back-office API: JSON:API documents for RFC 6750 bearer tokens of
//! back-office applications, scoped to the application's organization.

use super::error::{json_api_error, JSON_API};
use super::extract::{Bearer, ProfileApi, UsersApi};
use crate::dates::rfc3339;
use crate::state::AppState;
use crate::store::{self, users::User};
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

const DEFAULT_PAGE_SIZE: i64 = 25;
const MAX_PAGE_SIZE: i64 = 100;

fn document(status: StatusCode, body: Value) -> Response {
    (status, [(header::CONTENT_TYPE, HeaderValue::from_static(JSON_API))], body.to_string()).into_response()
}

fn internal(err: sqlx::Error) -> Response {
    if crate::store::is_unstorable_input(&err) {
        return json_api_error(StatusCode::BAD_REQUEST, "Invalid parameter", crate::service::UNSTORABLE);
    }
    if crate::store::is_transient(&err) {
        tracing::warn!(error = %err, "API: the database cannot serve the request now (503)");
        let mut response = json_api_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "Service unavailable",
            "The server cannot complete requests at the moment; try again shortly.",
        );
        response.headers_mut().insert(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from_static("1"));
        return response;
    }
    tracing::error!(error = %err, "API: database error");
    json_api_error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Internal error",
        "An internal error occurred; it has been logged.",
    )
}

fn user_resource(base: &str, user: &User) -> Value {
    json!({
        "type": "users",
        "id": user.id.to_string(),
        "attributes": {
            "username": user.username,
            "email": user.email,
            "enabled": user.enabled,
            "admin": user.is_admin,
            "createdAt": rfc3339(user.created_at),
        },
        "links": { "self": format!("{base}/api/users/{}", user.id) },
    })
}

/// Reads `page[number]` and `page[size]` (JSON:API pagination); the error
/// says which parameter is wrong.
fn page(query: Option<&str>) -> Result<(i64, i64), String> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(query.unwrap_or("")).map_err(|_| "The query string is malformed.".to_owned())?;
    let mut number = 1;
    let mut size = DEFAULT_PAGE_SIZE;
    for (name, value) in pairs {
        let target = match name.as_str() {
            "page[number]" => &mut number,
            "page[size]" => &mut size,
            _ => continue,
        };
        *target = value
            .parse::<i64>()
            .ok()
            .filter(|v| *v >= 1)
            .ok_or_else(|| format!("{name} must be a positive whole number."))?;
    }
    if size > MAX_PAGE_SIZE {
        return Err(format!("page[size] must be at most {MAX_PAGE_SIZE}."));
    }
    if number > 1_000_000 {
        return Err("page[number] is too large.".to_owned());
    }
    Ok((number, size))
}

/// `GET /api/users`: the users of the token's organization, a page at a time.
pub async fn list_users(
    State(state): State<AppState>,
    Bearer(access, _): Bearer<UsersApi>,
    RawQuery(query): RawQuery,
) -> Response {
    let (number, size) = match page(query.as_deref()) {
        Ok(p) => p,
        Err(detail) => return json_api_error(StatusCode::BAD_REQUEST, "Invalid query", &detail),
    };
    let org = access.organization_id;
    // Taken before the read: an answer read at this count is current while it stays.
    let commits = state.db.changes().commits();
    if let Some(body) = state.caches.user_pages.get(commits, &(org, number, size)) {
        return json_api_body(body);
    }
    let (users, total) = match store::users::page_in_organization(&state.db, org, size, (number - 1) * size).await {
        Ok(page) => page,
        Err(e) => return internal(e),
    };
    let base = &state.site.public_url;
    let last = ((total + size - 1) / size).max(1);
    let link = |n: i64| format!("{base}/api/users?page%5Bnumber%5D={n}&page%5Bsize%5D={size}");
    let mut links = json!({ "self": link(number), "first": link(1), "last": link(last) });
    if number > 1 {
        links["prev"] = json!(link(number - 1));
    }
    if number < last {
        links["next"] = json!(link(number + 1));
    }
    let data: Vec<Value> = users.iter().map(|u| user_resource(base, u)).collect();
    let body = Bytes::from(json!({ "data": data, "meta": { "total": total }, "links": links }).to_string());
    state.caches.user_pages.put(commits, (org, number, size), body.clone());
    json_api_body(body)
}

fn json_api_body(body: Bytes) -> Response {
    (StatusCode::OK, [(header::CONTENT_TYPE, HeaderValue::from_static(JSON_API))], body).into_response()
}

/// `GET /api/users/{id}`: one user of the token's organization.
pub async fn get_user(
    State(state): State<AppState>,
    Bearer(access, _): Bearer<UsersApi>,
    Path(id): Path<String>,
) -> Response {
    let not_found = || json_api_error(StatusCode::NOT_FOUND, "Not found", "There is no user with this id.");
    let Ok(id) = id.parse::<i64>() else {
        return not_found();
    };
    match store::users::find_in_organization(&state.db, access.organization_id, id).await {
        Ok(Some(user)) => {
            let base = &state.site.public_url;
            document(StatusCode::OK, json!({ "data": user_resource(base, &user) }))
        }
        Ok(None) => not_found(),
        Err(e) => internal(e),
    }
}

/// `GET /storefront/api/customerusers/mine`: the storefront customer user
/// the token acts for (the name follows Oro's storefront API).
pub async fn my_customer_user(State(state): State<AppState>, Bearer(access, _): Bearer<ProfileApi>) -> Response {
    let not_found = || json_api_error(StatusCode::NOT_FOUND, "Not found", "The token acts for no customer user.");
    let Some(id) = access.customer_user_id else {
        return not_found();
    };
    match store::customer_users::find(&state.db, id).await {
        Ok(Some(customer)) => {
            let base = &state.site.public_url;
            document(
                StatusCode::OK,
                json!({ "data": {
                    "type": "customerusers",
                    "id": customer.id.to_string(),
                    "attributes": {
                        "username": customer.username,
                        "email": customer.email,
                        "organization": customer.organization,
                        "language": customer.language,
                        "enabled": customer.enabled,
                        "createdAt": rfc3339(customer.created_at),
                    },
                    "links": { "self": format!("{base}/storefront/api/customerusers/mine") },
                }}),
            )
        }
        Ok(None) => not_found(),
        Err(e) => internal(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_parameters_are_validated() {
        assert_eq!(page(None).ok(), Some((1, DEFAULT_PAGE_SIZE)));
        assert_eq!(page(Some("page%5Bnumber%5D=3&page%5Bsize%5D=10")).ok(), Some((3, 10)));
        assert!(page(Some("page%5Bsize%5D=0")).is_err());
        assert!(page(Some("page%5Bsize%5D=1000")).is_err());
        assert!(page(Some("page%5Bnumber%5D=-1")).is_err());
        assert!(page(Some("page%5Bnumber%5D=abc")).is_err());
    }
}
