//! A bounded in-memory table of things read from the database, emptied at
//! once when what they describe may have changed.
//!
//! The race it handles: a reader fetches a row, a writer commits a change
//! and empties the table, then the reader stores what it fetched before the
//! change. [`Memo::generation`] is taken before the read and [`Memo::put`]
//! keeps the value only if nothing was forgotten since.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

pub struct Memo<K, V> {
    map: RwLock<HashMap<K, V>>,
    generation: AtomicU64,
    /// Entries kept at most; the table is emptied when it is full.
    capacity: usize,
}

impl<K: Hash + Eq, V: Clone> Memo<K, V> {
    pub fn new(capacity: usize) -> Self {
        Self { map: RwLock::new(HashMap::new()), generation: AtomicU64::new(0), capacity }
    }

    pub fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.read().get(key).cloned()
    }

    /// Take this before reading what will be [`put`](Self::put).
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Remembers `value`, read after [`generation`](Self::generation)
    /// returned `as_of`, unless the table was emptied since.
    pub fn put(&self, as_of: u64, key: K, value: V) {
        let mut map = self.write();
        if self.generation.load(Ordering::Acquire) != as_of {
            return;
        }
        if map.len() >= self.capacity {
            map.clear();
        }
        map.insert(key, value);
    }

    /// Forgets everything (call after committing a change).
    pub fn forget_all(&self) {
        let mut map = self.write();
        self.generation.fetch_add(1, Ordering::AcqRel);
        map.clear();
    }

    /// Keeps only the entries `keep` accepts (periodic pruning).
    pub fn retain(&self, keep: impl FnMut(&K, &mut V) -> bool) {
        self.write().retain(keep);
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.read().len()
    }

    fn read(&self) -> RwLockReadGuard<'_, HashMap<K, V>> {
        self.map.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, HashMap<K, V>> {
        self.map.write().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_read_before_a_change_is_not_kept() {
        let memo = Memo::new(10);
        let as_of = memo.generation();
        // … the value is read; meanwhile a change is committed:
        memo.forget_all();
        memo.put(as_of, "client", 1);
        assert_eq!(memo.get("client"), None, "stale value kept after a change");
        let as_of = memo.generation();
        memo.put(as_of, "client", 2);
        assert_eq!(memo.get("client"), Some(2));
        memo.forget_all();
        assert_eq!(memo.get("client"), None);
    }

    #[test]
    fn the_table_never_grows_past_its_capacity() {
        let memo = Memo::new(3);
        for i in 0..10 {
            memo.put(memo.generation(), i, i);
            assert!(memo.len() <= 3);
        }
        assert_eq!(memo.get(&9), Some(9));
    }
}
