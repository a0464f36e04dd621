//! The audit log (docs/architecture.md#audit-log) as the back office reads it:
//! the events, their names, and the administrators' search.

use super::AppError;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};

pub use crate::model::audit::AuditEvent;

/// The type filter's groups: every event of a kind at once.
pub const EVENT_GROUPS: [(&str, &str); 9] = [
    ("login.", "All sign-in events"),
    ("token.", "All token events"),
    ("consent.", "All consent events"),
    ("application.", "All application changes"),
    ("user.", "All user changes"),
    ("key.", "All key events"),
    ("role.", "All role changes"),
    ("organization.", "All organization changes"),
    ("settings.", "All settings changes"),
];

/// The Audit Log page's filters, as typed (dates as `YYYY-MM-DD`, UTC).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditQuery {
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    /// An event name or a group prefix ending in '.'; empty: all.
    #[serde(default)]
    pub event: String,
    #[serde(default)]
    pub user: String,
    #[serde(default)]
    pub application: String,
    #[serde(default)]
    pub page: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRow {
    pub id: i64,
    pub at: String,
    pub event: String,
    pub label: String,
    pub user: String,
    pub application: String,
    pub ip: String,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub rows: Vec<AuditRow>,
    pub total: i64,
    pub page: u32,
    pub pages: u32,
    /// Failed sign-ins and failed client authentications in the last 24 hours.
    pub failed_logins_24h: i64,
    pub failed_client_authentications_24h: i64,
}

pub const AUDIT_PAGE_SIZE: u32 = 50;

/// The audit log, newest first, for administrators.
#[server(prefix = "/admin/rpc", endpoint = "audit_log", input = Json)]
pub async fn audit_log(query: AuditQuery) -> Result<AuditPage, AppError> {
    use super::guard;
    use crate::store::audit::{self, Filter};
    guard::actor().await?.require_installation_admin()?;
    let state = guard::state()?;
    let day = |field: &str, text: &str| -> Result<Option<i64>, AppError> {
        if text.trim().is_empty() {
            return Ok(None);
        }
        crate::dates::parse_day(text).map(Some).ok_or_else(|| guard::invalid(field, "Enter a date as YYYY-MM-DD."))
    };
    let from = day("from", &query.from)?;
    // "To" includes that whole day.
    let until = day("to", &query.to)?.map(|t| t + 86_400);
    if let (Some(f), Some(u)) = (from, until) {
        if u <= f {
            return Err(guard::invalid("to", "The end date is before the start date."));
        }
    }
    let event = query.event.trim();
    if !event.is_empty() && AuditEvent::parse(event).is_none() && !EVENT_GROUPS.iter().any(|(p, _)| *p == event) {
        return Err(guard::invalid("event", "Choose an event type from the list."));
    }
    let nonempty = |s: &str| Some(s.trim()).filter(|s| !s.is_empty()).map(str::to_owned);
    let (user, application) = (nonempty(&query.user), nonempty(&query.application));
    if user.as_ref().is_some_and(|u| u.len() > 255) || application.as_ref().is_some_and(|a| a.len() > 255) {
        return Err(guard::invalid("user", "The filter is too long."));
    }
    let filter = Filter {
        from,
        until,
        event: Some(event).filter(|e| !e.is_empty()),
        user: user.as_deref(),
        application: application.as_deref(),
    };
    let page = query.page.clamp(1, 100_000);
    let limit = i64::from(AUDIT_PAGE_SIZE);
    let (entries, total) = audit::search(&state.db, &filter, limit, (i64::from(page) - 1) * limit).await?;
    let since = crate::service::now() - 86_400;
    let failed_logins_24h = audit::count_since(&state.db, AuditEvent::LoginFailed.as_str(), since).await?;
    let failed_client_authentications_24h =
        audit::count_since(&state.db, AuditEvent::ClientAuthenticationFailed.as_str(), since).await?;
    let rows = entries
        .into_iter()
        .map(|e| AuditRow {
            id: e.id,
            at: super::display_time(e.at),
            label: AuditEvent::parse(&e.event).map(AuditEvent::label).unwrap_or("").to_owned(),
            event: e.event,
            user: e.username.unwrap_or_default(),
            application: match (e.application_name, e.client_id) {
                (Some(name), Some(id)) => format!("{name} ({id})"),
                (Some(name), None) => name,
                (None, Some(id)) => id,
                (None, None) => String::new(),
            },
            ip: e.ip.unwrap_or_default(),
            detail: e.detail,
        })
        .collect();
    let pages = ((total + limit - 1) / limit).max(1) as u32;
    Ok(AuditPage { rows, total, page, pages, failed_logins_24h, failed_client_authentications_24h })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_names_round_trip_and_are_unique() {
        let mut names: Vec<&str> = AuditEvent::ALL.iter().map(|e| e.as_str()).collect();
        for e in AuditEvent::ALL {
            assert_eq!(AuditEvent::parse(e.as_str()), Some(e));
        }
        names.sort();
        names.dedup();
        assert_eq!(names.len(), AuditEvent::ALL.len());
        // Every event belongs to a group of the type filter, except client authentication.
        for e in AuditEvent::ALL {
            let grouped = EVENT_GROUPS.iter().any(|(p, _)| e.as_str().starts_with(p))
                || e.as_str().starts_with("customer_user.")
                || e == AuditEvent::ClientAuthenticationFailed;
            assert!(grouped, "{}", e.as_str());
        }
    }
}
