//! The applications the token endpoint authenticates, kept in memory so
//! that a token request reads no database row to find its client.
//!
//! Correctness does not rest on this table being fresh: the token's own
//! write re-checks, in its transaction, that the application is active,
//! still has the secret the request was checked against, and that its
//! owner is enabled (`store::tokens::record_issued`). The table follows the
//! database's change signal: a committed change of an application or of a
//! person drops it.

use super::memo::Memo;
use crate::oauth::grant::RegisteredClient;
use crate::store::applications::{self, ClientRecord, LAST_USED_PRECISION};
use crate::store::{Changes, Db};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

/// Distinct applications kept at most (the table is emptied when full).
const CAPACITY: usize = 10_000;

/// An application as the token endpoint uses it.
#[derive(Debug)]
pub struct Client {
    pub record: ClientRecord,
    pub registered: RegisteredClient,
    /// When `last_used_at` was last written (Unix seconds).
    touched: AtomicI64,
}

impl Client {
    fn new(record: ClientRecord) -> Self {
        let registered = registered_client(&record);
        let touched = AtomicI64::new(record.last_used_at.unwrap_or(i64::MIN));
        Self { record, registered, touched }
    }

    /// True at most once per [`LAST_USED_PRECISION`] per process: the caller
    /// then writes `last_used_at`.
    pub fn claim_touch(&self, now: i64) -> bool {
        let last = self.touched.load(Ordering::Relaxed);
        last <= now - LAST_USED_PRECISION
            && self.touched.compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed).is_ok()
    }
}

pub struct Clients(Memo<String, Arc<Client>>);

impl Clients {
    pub fn new(changes: Arc<Changes>) -> Self {
        Self(Memo::following(changes, CAPACITY))
    }

    /// The application with this client ID, from memory or the database.
    /// Unknown IDs are not remembered (they are whatever anyone sends).
    pub async fn find(&self, db: &Db, client_id: &str) -> Result<Option<Arc<Client>>, sqlx::Error> {
        if let Some(client) = self.0.get(client_id) {
            return Ok(Some(client));
        }
        let as_of = self.0.generation();
        let Some(record) = applications::find_client(db, client_id).await? else { return Ok(None) };
        let client = Arc::new(Client::new(record));
        self.0.put(as_of, client_id.to_owned(), Arc::clone(&client));
        Ok(Some(client))
    }
}

fn registered_client(record: &ClientRecord) -> RegisteredClient {
    RegisteredClient {
        client_id: record.client_id.clone(),
        issues_tokens: record.issues_tokens,
        grant_type: record.grant_type,
        side: record.side,
        confidential: record.confidential,
        secret_hash: record.secret_hash.clone(),
        owner_subject: record.owner_user_id.or(record.owner_customer_user_id).map(|id| id.to_string()),
    }
}
