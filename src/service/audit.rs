//! Recording audit events (docs/architecture.md#audit-log). Events that change
//! something are written in the same transaction as the change; the others
//! (sign-ins, refusals) on their own, where a failure to record is logged and
//! does not change the answer.

use super::actor::Actor;
pub use crate::model::audit::AuditEvent;
use crate::store::audit::{self, NewEntry};
use crate::store::Source;

/// An entry of `event` at `at`; the other fields are filled in with
/// struct-update syntax.
pub fn entry(event: AuditEvent, at: i64) -> NewEntry<'static> {
    NewEntry { at, event: event.as_str(), ..NewEntry::default() }
}

/// An entry of something `actor` did in the back office.
pub fn by<'a>(actor: &'a Actor, event: AuditEvent, at: i64) -> NewEntry<'a> {
    NewEntry {
        user_id: Some(actor.user_id),
        username: Some(&actor.username),
        ip: actor.ip.as_deref(),
        ..entry(event, at)
    }
}

/// Writes `entry` as part of the caller's transaction.
pub async fn record(db: impl Into<Source<'_>>, entry: &NewEntry<'_>) -> Result<(), sqlx::Error> {
    audit::insert(db, entry).await
}

/// Writes `entry` on its own; a failure is logged, not returned.
pub async fn note(db: &crate::store::Db, entry: &NewEntry<'_>) {
    if let Err(e) = audit::insert(db, entry).await {
        tracing::error!(error = %e, event = entry.event, "could not write the audit log");
    }
}

/// Text typed by someone, cut to a length fit for the log.
pub fn clip(text: &str) -> &str {
    match text.char_indices().nth(255) {
        Some((i, _)) => &text[..i],
        None => text,
    }
}
