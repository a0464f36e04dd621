//! The change signal: a number that moves on after every committed change
//! that can make something kept in memory stale. Caches (`crate::cache`)
//! remember the number they filled at and drop everything when it moved.
//!
//! In one process the signal is given by the commit itself
//! ([`super::Write::commit`]). It is also where a change made elsewhere
//! arrives: another instance on the same PostgreSQL database, through its
//! notification ([`super::listen`]), by [`Changes::publish`]; another
//! process writing the same SQLite file, through the wal-index counter read
//! by [`Changes::generation`] ([`super::wal_watch`]).
//!
//! A signal can also be *untrusted*: while an instance cannot hear the
//! others (its notification connection is down, or not up yet), it cannot
//! know what they changed, so nothing kept in memory may be served. The
//! caches treat an untrusted generation as a miss and keep nothing read
//! during it; [`Changes::trust_again`] ends it with a new generation, so
//! that what was kept before is dropped too.

use super::wal_watch::WalWatch;
use std::sync::atomic::{AtomicU64, Ordering};

/// The generation's top bit: set while the signal is untrusted.
const UNTRUSTED: u64 = 1 << 63;

#[derive(Debug, Default)]
pub struct Changes {
    generation: AtomicU64,
    /// On SQLite: the wal-index, where other processes' commits show.
    wal: Option<WalWatch>,
}

/// Where the wal-index counter stood before this process's commit (see
/// [`Changes::before_own_commit`]); nothing where no wal-index is watched.
pub(crate) struct CommitMark(Option<Option<u64>>);

impl Changes {
    /// A signal that also moves on for the commits other processes make to
    /// the SQLite database `wal` watches, noticed when the generation is
    /// next asked for.
    pub fn watching(wal: Option<WalWatch>) -> Self {
        Self { generation: AtomicU64::new(0), wal }
    }

    /// A number that moves on with every commit to the database, by anyone,
    /// whatever it wrote (SQLite: the wal-index counter, one small read).
    /// What is read after taking it stays current while it stays the same.
    /// `None` where there is no such number (PostgreSQL, an in-memory
    /// database): then nothing may be kept on its strength.
    pub fn commits(&self) -> Option<u64> {
        self.wal.as_ref()?.commits()
    }

    /// Before this process commits, while it holds SQLite's write lock
    /// (nobody else can commit until it does): notices the commits other
    /// processes made meanwhile, and marks where the wal-index counter
    /// stands, so that [`after_own_commit`](Self::after_own_commit) does
    /// not take this commit for another's.
    pub(crate) fn before_own_commit(&self) -> CommitMark {
        CommitMark(self.wal.as_ref().map(|wal| wal.before_commit(|| self.publish())))
    }

    /// After this process's commit, the write lock still held.
    pub(crate) fn after_own_commit(&self, mark: CommitMark) {
        if let (Some(wal), CommitMark(Some(before))) = (&self.wal, mark) {
            wal.committed(before);
        }
    }

    /// A signal that is untrusted until [`trust_again`](Self::trust_again)
    /// (an instance whose notifications are not up yet).
    pub fn untrusted() -> Self {
        Self { generation: AtomicU64::new(UNTRUSTED), wal: None }
    }

    /// The current generation. Take it *before* reading what will be kept:
    /// if it moved by the time the value is stored, the value is not kept.
    /// On SQLite this is also where another process's commit is noticed
    /// (one read of the wal-index's counter).
    pub fn generation(&self) -> u64 {
        if let Some(wal) = &self.wal {
            wal.changed_elsewhere(|| self.publish());
        }
        self.generation.load(Ordering::Acquire)
    }

    /// Whether what is kept at `generation` may be served and what is read
    /// at it may be kept.
    pub fn trusted(generation: u64) -> bool {
        generation & UNTRUSTED == 0
    }

    /// Announces a committed change: what was kept is stale.
    pub fn publish(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// From now on nothing kept may be served, until [`trust_again`](Self::trust_again).
    pub fn distrust(&self) {
        self.generation.fetch_or(UNTRUSTED, Ordering::AcqRel);
        self.publish();
    }

    /// Changes are heard again: a new, trusted generation begins (nothing
    /// kept before it is served).
    pub fn trust_again(&self) {
        let _ = self
            .generation
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |g| Some(((g & !UNTRUSTED) + 1) & !UNTRUSTED));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_untrusted_signal_is_trusted_again_only_with_a_new_generation() {
        let changes = Changes::default();
        let before = changes.generation();
        assert!(Changes::trusted(before));
        changes.distrust();
        let during = changes.generation();
        assert!(!Changes::trusted(during));
        changes.publish();
        assert!(!Changes::trusted(changes.generation()), "a change does not make the signal trusted");
        changes.trust_again();
        let after = changes.generation();
        assert!(Changes::trusted(after));
        assert_ne!(after, before, "what was kept before the outage is not served after it");
        assert!(!Changes::trusted(Changes::untrusted().generation()));
    }
}
