//! What the APIs answered, kept until anybody commits anything to the
//! database ([`crate::store::Changes::commits`]): a second call for the
//! same page of the same organization is served from memory, with no
//! query, for as long as no commit (by this process, another instance of
//! Postern on the file, the command line or an operator's SQL) has landed
//! since the answer was read.
//!
//! Where the database gives no such count (PostgreSQL, an in-memory SQLite
//! database) nothing is kept and every call reads the database.

use axum::body::Bytes;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::RwLock;

/// At most this many answers are kept; then the table starts afresh.
const REMEMBERED: usize = 4_096;

/// Answers by `K`, each valid at one commit count.
pub struct Documents<K> {
    table: RwLock<(u64, HashMap<K, Bytes>)>,
}

impl<K> Default for Documents<K> {
    fn default() -> Self {
        Self { table: RwLock::new((0, HashMap::new())) }
    }
}

impl<K: Hash + Eq> Documents<K> {
    /// The answer kept for `key`, if it was read at `commits` (take the
    /// count first, then look up or read).
    pub fn get(&self, commits: Option<u64>, key: &K) -> Option<Bytes> {
        let commits = commits?;
        let table = self.table.read().unwrap_or_else(|e| e.into_inner());
        if table.0 != commits {
            return None;
        }
        table.1.get(key).cloned()
    }

    /// Keeps `body`, read after the count was `commits`.
    pub fn put(&self, commits: Option<u64>, key: K, body: Bytes) {
        let Some(commits) = commits else { return };
        let mut table = self.table.write().unwrap_or_else(|e| e.into_inner());
        if table.0 != commits || table.1.len() >= REMEMBERED {
            // Older answers are no use once anything was committed.
            table.1.clear();
            table.0 = commits;
        }
        table.1.insert(key, body);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_counts_only_at_the_commit_count_it_was_read_at() {
        let documents = Documents::default();
        documents.put(Some(7), "page 1", Bytes::from_static(b"a"));
        assert_eq!(documents.get(Some(7), &"page 1").as_deref(), Some(&b"a"[..]));
        assert_eq!(documents.get(Some(8), &"page 1"), None, "a commit since: read again");
        documents.put(Some(8), "page 2", Bytes::from_static(b"b"));
        assert_eq!(documents.get(Some(7), &"page 1"), None, "the table moved on");
        assert_eq!(documents.get(None, &"page 2"), None, "no count: nothing is served");
        documents.put(None, "page 3", Bytes::from_static(b"c"));
        assert_eq!(documents.get(Some(8), &"page 3"), None, "no count: nothing is kept");
    }
}
