//! The change signal: a number that moves on after every committed change
//! that can make something kept in memory stale. Caches (`crate::cache`)
//! remember the number they filled at and drop everything when it moved.
//!
//! In one process the signal is given by the commit itself
//! ([`super::Write::commit`]). It is also where a change made elsewhere
//! arrives — another process on the same database, or another instance —
//! through [`Changes::publish`].

use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Default)]
pub struct Changes {
    generation: AtomicU64,
}

impl Changes {
    /// The current generation. Take it *before* reading what will be kept:
    /// if it moved by the time the value is stored, the value is not kept.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Announces a committed change: what was kept is stale.
    pub fn publish(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }
}
