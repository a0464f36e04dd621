//! A bounded in-memory table of things read from the database, dropped as
//! a whole when the database says something changed ([`Changes`]).
//!
//! The table remembers the generation of [`Changes`] it was filled at; a
//! lookup in a table of an older generation is a miss, and the next
//! [`Memo::put`] starts it afresh. Nobody empties it by hand.
//!
//! The race it handles: a reader takes the generation, fetches a row; a
//! writer commits a change and the generation moves on; the reader then
//! stores what it fetched before the change. [`Memo::put`] keeps the value
//! only if the generation is still the one taken before the read.
//!
//! While [`Changes`] is untrusted (an instance that cannot hear the others)
//! every lookup is a miss and nothing is kept.

use crate::store::Changes;
use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

pub struct Memo<K, V> {
    /// The generation the entries were read at, and the entries.
    table: RwLock<(u64, HashMap<K, V>)>,
    /// `None`: what is kept cannot go stale (e.g. a verified signature).
    changes: Option<Arc<Changes>>,
    /// Entries kept at most; the table is emptied when it is full.
    capacity: usize,
}

impl<K: Hash + Eq, V: Clone> Memo<K, V> {
    /// A table that follows `changes`.
    pub fn following(changes: Arc<Changes>, capacity: usize) -> Self {
        Self { table: RwLock::new((changes.generation(), HashMap::new())), changes: Some(changes), capacity }
    }

    /// A table of facts no change can make stale.
    pub fn lasting(capacity: usize) -> Self {
        Self { table: RwLock::new((0, HashMap::new())), changes: None, capacity }
    }

    pub fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let now = self.generation();
        if !Changes::trusted(now) {
            return None;
        }
        let table = self.read();
        if table.0 != now {
            return None;
        }
        table.1.get(key).cloned()
    }

    /// Take this before reading what will be [`put`](Self::put).
    pub fn generation(&self) -> u64 {
        self.changes.as_ref().map_or(0, |c| c.generation())
    }

    /// Remembers `value`, read after [`generation`](Self::generation)
    /// returned `as_of`, unless something changed since.
    pub fn put(&self, as_of: u64, key: K, value: V) {
        if !Changes::trusted(as_of) {
            return;
        }
        let mut table = self.write();
        if self.generation() != as_of {
            return;
        }
        if table.0 != as_of || table.1.len() >= self.capacity {
            table.1.clear();
            table.0 = as_of;
        }
        table.1.insert(key, value);
    }

    /// Keeps only the entries `keep` accepts (periodic pruning).
    pub fn retain(&self, keep: impl FnMut(&K, &mut V) -> bool) {
        self.write().1.retain(keep);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.read().1.len()
    }

    fn read(&self) -> RwLockReadGuard<'_, (u64, HashMap<K, V>)> {
        self.table.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, (u64, HashMap<K, V>)> {
        self.table.write().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_read_before_a_change_is_not_kept() {
        let changes = Arc::new(Changes::default());
        let memo = Memo::following(Arc::clone(&changes), 10);
        let as_of = memo.generation();
        // … the value is read; meanwhile a change is committed:
        changes.publish();
        memo.put(as_of, "client", 1);
        assert_eq!(memo.get("client"), None, "stale value kept after a change");
        let as_of = memo.generation();
        memo.put(as_of, "client", 2);
        assert_eq!(memo.get("client"), Some(2));
        changes.publish();
        assert_eq!(memo.get("client"), None, "a change drops what was kept");
    }

    #[test]
    fn nothing_is_served_or_kept_while_changes_cannot_be_heard() {
        let changes = Arc::new(Changes::default());
        let memo = Memo::following(Arc::clone(&changes), 10);
        memo.put(memo.generation(), "client", 1);
        changes.distrust();
        assert_eq!(memo.get("client"), None, "served while deaf to other instances");
        memo.put(memo.generation(), "client", 2);
        assert_eq!(memo.get("client"), None, "kept while deaf to other instances");
        changes.trust_again();
        assert_eq!(memo.get("client"), None, "what was kept before the outage came back");
        memo.put(memo.generation(), "client", 3);
        assert_eq!(memo.get("client"), Some(3));
    }

    #[test]
    fn the_table_never_grows_past_its_capacity() {
        let memo = Memo::lasting(3);
        for i in 0..10 {
            memo.put(memo.generation(), i, i);
            assert!(memo.len() <= 3);
        }
        assert_eq!(memo.get(&9), Some(9));
    }
}
