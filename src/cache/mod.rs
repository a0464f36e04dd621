//! What is kept in memory between requests so that the hot paths read no
//! database row: the token endpoint's applications ([`clients`]), the
//! APIs' verified tokens and token statuses ([`tokens`]) and their answers
//! ([`documents`]).
//!
//! Nobody empties these by hand. Each table follows the database's change
//! signal ([`crate::store::Changes`]): a committed write that can make what
//! they keep stale moves it on ([`crate::store::Write::commit`]), and the
//! tables drop what they kept ([`memo`]). Correctness of token issuance
//! never rests on them: the write that records a token re-checks its
//! application and owner in its transaction.

pub mod clients;
pub mod documents;
pub mod memo;
pub mod tokens;

use crate::store::Changes;
use std::sync::Arc;

/// The in-memory tables, built once per process.
pub struct Caches {
    pub clients: clients::Clients,
    pub verified: tokens::VerifiedTokens,
    pub token_statuses: tokens::TokenStatuses,
    /// `GET /api/users` pages by organization, page number and size.
    pub user_pages: documents::Documents<(i64, i64, i64)>,
}

impl Caches {
    pub fn new(changes: &Arc<Changes>) -> Self {
        Self {
            clients: clients::Clients::new(Arc::clone(changes)),
            verified: tokens::VerifiedTokens::default(),
            token_statuses: tokens::TokenStatuses::new(Arc::clone(changes)),
            user_pages: documents::Documents::default(),
        }
    }

    /// Forgets tokens that have expired (periodic pruning).
    pub fn remove_expired(&self, now: i64) {
        self.verified.remove_expired(now);
        self.token_statuses.remove_expired(now);
    }
}
