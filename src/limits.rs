//! Rate limits (docs/configuration.md#rate_limits): the token endpoints per
//! client and per address, the login forms per account and per address. Each
//! limit is a keyed GCRA (generic cell rate algorithm, the "virtual scheduling"
//! form of a token bucket): `burst` requests may come at once, then one every
//! `60 / per_minute` seconds. Only one timestamp is kept per key.
//!
//! Addresses are counted as [`AddressLimiter`] says: an IPv4 address (or an
//! IPv4-mapped IPv6 one) is one key; an IPv6 address is counted twice, as
//! itself (`/128`, the normal budget) and as its `/64` network
//! ([`NETWORK_FACTOR`] times the budget). One `/64` is often a whole home or
//! office network, so treating it as one caller would let one bad host
//! hold back its honest neighbours; but a host owns its whole `/64` and can
//! pick a new `/128` for every request, so the `/64` must be bounded too.
//!
//! Times are passed in ([`Instant`]), so the rules are tested without
//! sleeping.
//!
//! **Several instances** (PostgreSQL): the schedules live in the database
//! ([`Ledger`], table `rate_limits`), so that a caller who spreads its
//! requests over every instance gets the budget it would get from one. Each
//! request still asks this instance first, at no cost: the instance's own
//! schedule counts the requests it let through, so when it says no, the
//! shared one would too; and a key the database refused is refused here
//! without asking again until its wait is over. Only a request both let
//! through goes to the database: one statement, on the database's clock.
//! When the database cannot be reached, the instance's own schedule
//! decides alone (then each instance grants up to the whole budget).

use crate::clock::Clock;
use crate::config::{Limit, RateLimitConfig};
use sha2::{Digest, Sha256};
use std::collections::hash_map::{DefaultHasher, HashMap};
use std::hash::{Hash, Hasher};
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

/// Independent locks, so that unrelated keys rarely wait for each other.
const SHARDS: usize = 16;

/// A refusal: how long until the next request of this key would pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfter(pub Duration);

impl RetryAfter {
    /// Whole seconds for the `Retry-After` header (at least 1).
    pub fn seconds(self) -> u64 {
        (self.0.as_secs() + u64::from(self.0.subsec_nanos() > 0)).max(1)
    }
}

/// A shard starts dropping keys whose allowance is whole again once it
/// holds this many; then again at twice what was left (amortized constant
/// work per request).
const PRUNE_AT: usize = 1024;

/// The keys of one lock: per key, the theoretical arrival time of the next
/// request, as an offset from the limiter's origin.
struct Shard {
    schedule: HashMap<String, Duration>,
    prune_at: usize,
}

impl Shard {
    /// Forgets the keys whose allowance is whole again at `t`: a key whose
    /// next arrival time has passed behaves exactly like a new one, so
    /// dropping it changes no answer.
    fn forget_refilled(&mut self, t: Duration) {
        self.schedule.retain(|_, tat| *tat > t);
        self.prune_at = PRUNE_AT.max(self.schedule.len() * 2);
    }
}

/// One keyed limit. Its memory follows the keys seen in the last
/// `burst * 60 / per_minute` seconds, not all keys ever seen: a caller who
/// sends each request under a new key (a new IPv6 address, a new user name)
/// leaves entries that are dropped as soon as they refill.
pub struct Limiter {
    /// What the shared ledger calls this limit (see [`Ledger::row_key`]).
    name: &'static str,
    /// Time between two requests at the sustained rate.
    interval: Duration,
    /// How far ahead of now the schedule may run: `interval * (burst - 1)`.
    tolerance: Duration,
    origin: Instant,
    shards: Vec<Mutex<Shard>>,
    enabled: bool,
}

impl Limiter {
    pub fn new(name: &'static str, limit: Limit, enabled: bool) -> Self {
        let per_minute = limit.per_minute.max(1);
        let interval = Duration::from_secs(60) / per_minute;
        Self {
            name,
            interval,
            tolerance: interval * limit.burst.max(1).saturating_sub(1),
            origin: Instant::now(),
            shards: (0..SHARDS).map(|_| Mutex::new(Shard { schedule: HashMap::new(), prune_at: PRUNE_AT })).collect(),
            enabled,
        }
    }

    fn shard(&self, key: &str) -> std::sync::MutexGuard<'_, Shard> {
        let mut hasher = DefaultHasher::new();
        key.hash(&mut hasher);
        let shard = &self.shards[(hasher.finish() as usize) % SHARDS];
        shard.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn offset(&self, now: Instant) -> Duration {
        now.saturating_duration_since(self.origin)
    }

    /// Counts one request of `key` at `now`, or says how long to wait.
    pub fn check(&self, key: &str, now: Instant) -> Result<(), RetryAfter> {
        if !self.enabled {
            return Ok(());
        }
        let t = self.offset(now);
        let mut shard = self.shard(key);
        let known = shard.schedule.get(key).copied();
        let tat = known.unwrap_or(t).max(t);
        if tat - t > self.tolerance {
            return Err(RetryAfter(tat - t - self.tolerance));
        }
        if known.is_none() && shard.schedule.len() >= shard.prune_at {
            shard.forget_refilled(t);
        }
        shard.schedule.insert(key.to_owned(), tat + self.interval);
        Ok(())
    }

    /// Says whether a request of `key` would pass at `now`, counting nothing
    /// (the login forms count only failures against an account).
    pub fn peek(&self, key: &str, now: Instant) -> Result<(), RetryAfter> {
        if !self.enabled {
            return Ok(());
        }
        let t = self.offset(now);
        let tat = self.shard(key).schedule.get(key).copied().unwrap_or(t).max(t);
        if tat - t > self.tolerance {
            Err(RetryAfter(tat - t - self.tolerance))
        } else {
            Ok(())
        }
    }

    /// Forgets keys whose allowance is whole again (they behave as new).
    pub fn retain_recent(&self, now: Instant) -> usize {
        let t = self.offset(now);
        let mut left = 0;
        for shard in &self.shards {
            let mut shard = shard.lock().unwrap_or_else(|e| e.into_inner());
            shard.forget_refilled(t);
            left += shard.schedule.len();
        }
        left
    }

    /// How many keys are remembered.
    pub fn keys(&self) -> usize {
        self.shards.iter().map(|s| s.lock().unwrap_or_else(|e| e.into_inner()).schedule.len()).sum()
    }

    /// Whether this instance alone can tell that `key` is refused at `now`:
    /// its own schedule is spent, or the ledger refused the key a moment
    /// ago and its wait is not over.
    fn refused_here(&self, ledger: Option<&Ledger>, key: &str, now: Instant) -> Result<(), RetryAfter> {
        self.peek(key, now)?;
        ledger.map_or(Ok(()), |ledger| ledger.still_refused(self.name, key, now))
    }

    /// Counts one request of `key`, on every instance's schedule when there
    /// is a ledger ([`Limiter::check`] otherwise).
    pub async fn take(&self, ledger: Option<&Ledger>, key: &str, clock: &Clock) -> Result<(), RetryAfter> {
        let now = clock.now();
        let Some(ledger) = ledger.filter(|_| self.enabled) else {
            return self.check(key, now);
        };
        self.refused_here(Some(ledger), key, now)?;
        match ledger.take(self, key, clock).await {
            Ok(()) => {
                // This instance's own count of what it let through.
                let _ = self.check(key, now);
                Ok(())
            }
            Err(Shared::Refused(wait)) => Err(wait),
            Err(Shared::Unreachable) => self.check(key, now),
        }
    }

    /// Whether a request of `key` would pass on every instance's schedule,
    /// counting nothing ([`Limiter::peek`] without a ledger).
    pub async fn allows(&self, ledger: Option<&Ledger>, key: &str, clock: &Clock) -> Result<(), RetryAfter> {
        let now = clock.now();
        let Some(ledger) = ledger.filter(|_| self.enabled) else {
            return self.peek(key, now);
        };
        self.refused_here(Some(ledger), key, now)?;
        match ledger.peek(self, key, clock).await {
            Err(Shared::Refused(wait)) => Err(wait),
            Ok(()) | Err(Shared::Unreachable) => Ok(()),
        }
    }

    fn micros(duration: Duration) -> i64 {
        i64::try_from(duration.as_micros()).unwrap_or(i64::MAX)
    }
}

/// What the ledger answered, when it did not let a request through.
enum Shared {
    Refused(RetryAfter),
    /// The database did not answer: this instance decides alone.
    Unreachable,
}

/// The rate limits' schedules of every instance, in the database
/// (PostgreSQL's `rate_limits`, see `crate::store::rate_limits`).
///
/// Requests are counted in batches: one task per instance sends what has
/// come in while the previous batch was out, one round trip for all of it,
/// and the same key asked n times is one row asked for n (group commit, as
/// the token writer does). Alone, a request waits for one round trip; under
/// load, many share it.
pub struct Ledger {
    pool: sqlx::PgPool,
    queue: OnceLock<mpsc::Sender<Ask>>,
    /// Keys the ledger refused, until when: asked again only after that.
    refused: Mutex<HashMap<(&'static str, String), Instant>>,
    /// When the last "database unreachable" warning was logged (seconds
    /// since the ledger was made), so that an outage logs once a minute.
    warned_at: AtomicU64,
    origin: Instant,
}

/// One request waiting to be counted by the batching task.
struct Ask {
    row: [u8; 32],
    interval: i64,
    tolerance: i64,
    /// The instance clock's shift (a test's manual clock; zero otherwise).
    shift: i64,
    /// `Ok(None)`: counted; `Ok(Some(µs))`: refused for that long;
    /// `Err`: the database did not answer.
    reply: oneshot::Sender<Result<Option<i64>, String>>,
}

/// The requests of one key in a batch, and its limit.
struct Waiting {
    interval: i64,
    tolerance: i64,
    asks: Vec<Ask>,
}

/// The most requests one batch counts.
const MAX_BATCH: usize = 512;

/// How many refusals are remembered before the ones whose wait is over are
/// dropped; if as many are still waiting, all are (they are only a shortcut).
const REFUSALS_KEPT: usize = 4096;

impl Ledger {
    pub fn new(pool: sqlx::PgPool) -> Self {
        Self {
            pool,
            queue: OnceLock::new(),
            refused: Mutex::default(),
            warned_at: AtomicU64::new(0),
            origin: Instant::now(),
        }
    }

    /// The row of one limit's key: a SHA-256 of both, so that any key (a
    /// user name of any length or content) is a short, storable value.
    fn row_key(limit: &str, key: &str) -> [u8; 32] {
        let mut hash = Sha256::new();
        hash.update(limit.as_bytes());
        hash.update([0]);
        hash.update(key.as_bytes());
        hash.finalize().into()
    }

    fn still_refused(&self, limit: &'static str, key: &str, now: Instant) -> Result<(), RetryAfter> {
        let refused = self.refused.lock().unwrap_or_else(|e| e.into_inner());
        match refused.get(&(limit, key.to_owned())) {
            Some(&until) if until > now => Err(RetryAfter(until - now)),
            _ => Ok(()),
        }
    }

    fn remember_refusal(&self, limit: &'static str, key: &str, until: Instant, now: Instant) {
        let mut refused = self.refused.lock().unwrap_or_else(|e| e.into_inner());
        if refused.len() >= REFUSALS_KEPT {
            refused.retain(|_, until| *until > now);
            if refused.len() >= REFUSALS_KEPT {
                refused.clear();
            }
        }
        refused.insert((limit, key.to_owned()), until);
    }

    fn unreachable(&self, err: &str) -> Shared {
        let second = self.origin.elapsed().as_secs() + 1;
        let last = self.warned_at.load(Ordering::Relaxed);
        if (last == 0 || second >= last + 60)
            && self.warned_at.compare_exchange(last, second, Ordering::Relaxed, Ordering::Relaxed).is_ok()
        {
            tracing::warn!(error = %err, "rate limits: the database did not answer; each instance counts alone until it does");
        }
        Shared::Unreachable
    }

    async fn take(&self, limiter: &Limiter, key: &str, clock: &Clock) -> Result<(), Shared> {
        let queue = self.queue.get_or_init(|| {
            let (sender, receiver) = mpsc::channel(4 * MAX_BATCH);
            tokio::spawn(count_batches(self.pool.clone(), receiver));
            sender
        });
        let (reply, answer) = oneshot::channel();
        let ask = Ask {
            row: Self::row_key(limiter.name, key),
            interval: Limiter::micros(limiter.interval),
            tolerance: Limiter::micros(limiter.tolerance),
            shift: Limiter::micros(clock.advanced()),
            reply,
        };
        let answer = match queue.send(ask).await {
            Ok(()) => answer.await.unwrap_or_else(|_| Err("the rate-limit task stopped".into())),
            Err(_) => Err("the rate-limit task stopped".into()),
        };
        self.answer(limiter, key, clock, answer)
    }

    async fn peek(&self, limiter: &Limiter, key: &str, clock: &Clock) -> Result<(), Shared> {
        let row = Self::row_key(limiter.name, key);
        let answer = crate::store::rate_limits::peek(
            &self.pool,
            &row,
            Limiter::micros(limiter.tolerance),
            Limiter::micros(clock.advanced()),
        )
        .await
        .map_err(|e| e.to_string());
        self.answer(limiter, key, clock, answer)
    }

    fn answer(
        &self,
        limiter: &Limiter,
        key: &str,
        clock: &Clock,
        answer: Result<Option<i64>, String>,
    ) -> Result<(), Shared> {
        match answer {
            Ok(None) => Ok(()),
            Ok(Some(micros)) => {
                let wait = Duration::from_micros(u64::try_from(micros).unwrap_or(1));
                let now = clock.now();
                self.remember_refusal(limiter.name, key, now + wait, now);
                Err(Shared::Refused(RetryAfter(wait)))
            }
            Err(err) => Err(self.unreachable(&err)),
        }
    }

    /// Deletes the shared schedules that are whole again.
    pub async fn remove_refilled(&self) -> Result<u64, sqlx::Error> {
        crate::store::rate_limits::remove_refilled(&self.pool).await
    }
}

/// The batching task of a [`Ledger`]: takes whatever requests are waiting,
/// counts them in one round trip per clock shift (one in production), and
/// answers each. Keys are sorted (rows are locked in that order, so two
/// instances' batches never wait for each other in a circle); a key asked n
/// times is asked once for n, and its first answers are the counted ones.
async fn count_batches(pool: sqlx::PgPool, mut queue: mpsc::Receiver<Ask>) {
    use crate::store::rate_limits;
    use std::collections::BTreeMap;
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let mut by_shift: BTreeMap<i64, BTreeMap<[u8; 32], Waiting>> = BTreeMap::new();
        for ask in batch.drain(..) {
            let rows = by_shift.entry(ask.shift).or_default();
            let waiting = rows.entry(ask.row).or_insert_with(|| Waiting {
                interval: ask.interval,
                tolerance: ask.tolerance,
                asks: Vec::new(),
            });
            waiting.asks.push(ask);
        }
        for (shift, rows) in by_shift {
            let asks: Vec<rate_limits::Ask> = rows
                .iter()
                .map(|(row, waiting)| rate_limits::Ask {
                    key: row.to_vec(),
                    wants: i32::try_from(waiting.asks.len()).unwrap_or(i32::MAX),
                    interval: waiting.interval,
                    tolerance: waiting.tolerance,
                })
                .collect();
            match rate_limits::take(&pool, &asks, shift).await {
                Ok(answers) => {
                    for (waiting, (granted, wait)) in rows.into_values().zip(answers) {
                        for (n, ask) in waiting.asks.into_iter().enumerate() {
                            let answer = if (n as i64) < i64::from(granted) { None } else { Some(wait) };
                            let _ = ask.reply.send(Ok(answer));
                        }
                    }
                }
                Err(err) => {
                    let err = err.to_string();
                    for ask in rows.into_values().flat_map(|waiting| waiting.asks) {
                        let _ = ask.reply.send(Err(err.clone()));
                    }
                }
            }
        }
    }
}

/// How much more an IPv6 `/64` may send than one of its addresses: 8 times
/// the burst and 8 times the rate. Eight busy hosts behind one `/64` get
/// their full allowance each; a host that rotates through its `/64` gets at
/// most 8 addresses' worth.
pub const NETWORK_FACTOR: u32 = 8;

/// A refused request: which key refused it, and how long to wait.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The key that had no allowance left (an address or a `/64`).
    pub key: String,
    pub wait: RetryAfter,
}

/// A limit per client address (the token endpoints' and the login forms'
/// per-IP limits).
///
/// IPv4 addresses (and IPv4-mapped IPv6 addresses) are one key each, with
/// the configured budget. An IPv6 address is counted twice: as itself
/// (`/128`) with the configured budget, and as its `/64` with
/// [`NETWORK_FACTOR`] times the budget. Counting only the `/64` would make
/// every host of a shared network (an office, a campus, a carrier's NAT64
/// customers) one caller, held back by the worst of them; counting only the
/// `/128` would give a host that owns a `/64` (as most do) 2^64 fresh
/// allowances. With both, a host is held to its own budget, and a host that
/// rotates addresses to its network's.
pub struct AddressLimiter {
    hosts: Limiter,
    networks: Limiter,
}

impl AddressLimiter {
    /// `names`: the host limit's and the network limit's (ledger names).
    pub fn new(names: [&'static str; 2], limit: Limit, enabled: bool) -> Self {
        let network = Limit {
            burst: limit.burst.saturating_mul(NETWORK_FACTOR),
            per_minute: limit.per_minute.saturating_mul(NETWORK_FACTOR),
        };
        Self { hosts: Limiter::new(names[0], limit, enabled), networks: Limiter::new(names[1], network, enabled) }
    }

    /// [`AddressLimiter::check`] on every instance's schedules when there is
    /// a ledger. The network is asked first here without counting (its
    /// refusal known to this instance); then the host is counted, then the
    /// network, so that a host held back by its own budget never spends its
    /// neighbours'. (A request the network refuses has spent one of its
    /// host's requests: the host is the one sending too much.)
    pub async fn take(&self, ledger: Option<&Ledger>, ip: IpAddr, clock: &Clock) -> Result<(), Refusal> {
        if ledger.is_none() {
            return self.check(ip, clock.now());
        }
        let host = host_key(ip);
        let Some(network) = network_key(ip) else {
            return self.hosts.take(ledger, &host, clock).await.map_err(|wait| Refusal { key: host, wait });
        };
        self.networks
            .refused_here(ledger, &network, clock.now())
            .map_err(|wait| Refusal { key: network.clone(), wait })?;
        self.hosts.take(ledger, &host, clock).await.map_err(|wait| Refusal { key: host, wait })?;
        self.networks.take(ledger, &network, clock).await.map_err(|wait| Refusal { key: network, wait })
    }

    /// Counts one request from `ip` at `now`, or says which key refused it.
    pub fn check(&self, ip: IpAddr, now: Instant) -> Result<(), Refusal> {
        let host = host_key(ip);
        let Some(network) = network_key(ip) else {
            return self.hosts.check(&host, now).map_err(|wait| Refusal { key: host, wait });
        };
        // The network is asked first without counting, so that a request it
        // refuses does not also use up the host's allowance (nor leave an
        // entry for a host address never seen before).
        self.networks.peek(&network, now).map_err(|wait| Refusal { key: network.clone(), wait })?;
        self.hosts.check(&host, now).map_err(|wait| Refusal { key: host, wait })?;
        self.networks.check(&network, now).map_err(|wait| Refusal { key: network, wait })
    }

    pub fn retain_recent(&self, now: Instant) -> usize {
        self.hosts.retain_recent(now) + self.networks.retain_recent(now)
    }
}

/// Every limit of the server, built from `[rate_limits]`.
pub struct RateLimits {
    /// The schedules every instance shares (PostgreSQL), or none (SQLite:
    /// one instance, whose own schedules are exact).
    ledger: Option<Ledger>,
    pub token_per_client: Limiter,
    pub token_per_ip: AddressLimiter,
    /// Failed sign-ins, keyed by account *and* address (see
    /// [`account_key`]).
    pub login_per_account: Limiter,
    pub login_per_ip: AddressLimiter,
    /// Which refusals are worth an audit entry: the first one of each
    /// refusing key in a minute (burst 1, 1 a minute). See
    /// [`RateLimits::note_refusal`].
    refusal_notes: Limiter,
}

/// How often a refusing key gets an audit entry: one, then one a minute.
const REFUSAL_NOTES: Limit = Limit { burst: 1, per_minute: 1 };

impl RateLimits {
    /// `shared`: the PostgreSQL pool the instances share their schedules
    /// through, or `None` for limits kept in this process only.
    pub fn new(config: &RateLimitConfig, shared: Option<sqlx::PgPool>) -> Self {
        Self {
            ledger: shared.map(Ledger::new),
            token_per_client: Limiter::new("token_per_client", config.token_per_client, config.enabled),
            token_per_ip: AddressLimiter::new(["token_per_ip", "token_per_ip/64"], config.token_per_ip, config.enabled),
            login_per_account: Limiter::new("login_per_account", config.login_per_account, config.enabled),
            login_per_ip: AddressLimiter::new(["login_per_ip", "login_per_ip/64"], config.login_per_ip, config.enabled),
            refusal_notes: Limiter::new("refusal_notes", REFUSAL_NOTES, true),
        }
    }

    /// Counts a request to the token endpoints from `ip`.
    pub async fn token_request_from(&self, ip: IpAddr, clock: &Clock) -> Result<(), Refusal> {
        self.token_per_ip.take(self.ledger.as_ref(), ip, clock).await
    }

    /// Counts a request to the token endpoints of an authenticated client.
    pub async fn token_request_of(&self, client_id: &str, clock: &Clock) -> Result<(), RetryAfter> {
        self.token_per_client.take(self.ledger.as_ref(), client_id, clock).await
    }

    /// Counts a sign-in attempt from `ip`.
    pub async fn sign_in_from(&self, ip: IpAddr, clock: &Clock) -> Result<(), Refusal> {
        self.login_per_ip.take(self.ledger.as_ref(), ip, clock).await
    }

    /// Whether one more failed sign-in to the account is allowed
    /// (`account`: an [`account_key`]), counting nothing.
    pub async fn sign_in_allowed(&self, account: &str, clock: &Clock) -> Result<(), RetryAfter> {
        self.login_per_account.allows(self.ledger.as_ref(), account, clock).await
    }

    /// Counts a failed sign-in to the account.
    pub async fn sign_in_failed(&self, account: &str, clock: &Clock) {
        let _ = self.login_per_account.take(self.ledger.as_ref(), account, clock).await;
    }

    /// True for the first refusal by `key` (a limit's name and the key it
    /// refused) in a minute: the one that is written to the audit log. A
    /// caller held back by a limit is refused without any work, and must not
    /// be able to grow the audit log by asking again and again; one entry a
    /// minute per key still shows who was held back, and since when.
    pub fn note_refusal(&self, key: &str, now: Instant) -> bool {
        self.refusal_notes.check(key, now).is_ok()
    }

    /// Drops the state of keys that are back to a full allowance, here and
    /// in the ledger.
    pub async fn remove_refilled(&self, now: Instant) {
        self.retain_recent(now);
        if let Some(ledger) = &self.ledger {
            if let Err(e) = ledger.remove_refilled().await {
                tracing::warn!(error = %e, "rate limits: could not remove whole schedules from the database; tried again later");
            }
        }
    }

    /// Drops the state of keys that are back to a full allowance.
    pub fn retain_recent(&self, now: Instant) {
        for limiter in [&self.token_per_client, &self.login_per_account, &self.refusal_notes] {
            limiter.retain_recent(now);
        }
        for limiter in [&self.token_per_ip, &self.login_per_ip] {
            limiter.retain_recent(now);
        }
    }
}

/// The key of one host: an IPv4 address (IPv4-mapped IPv6 addresses are
/// the IPv4 address they carry), or a whole IPv6 address.
pub fn host_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => v6.to_string(),
        },
    }
}

/// The key of the network of an IPv6 address, its `/64`; `None` for IPv4
/// (and IPv4-mapped) addresses, which are counted one by one.
pub fn network_key(ip: IpAddr) -> Option<String> {
    match ip {
        IpAddr::V4(_) => None,
        IpAddr::V6(v6) if v6.to_ipv4_mapped().is_some() => None,
        IpAddr::V6(v6) => {
            let s = v6.segments();
            Some(format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3]))
        }
    }
}

/// Where a caller is, as the per-account limit sees it: an IPv4 address, or
/// the `/64` of an IPv6 address (a host that owns a `/64` must not get a
/// fresh allowance against an account from each of its addresses).
pub fn ip_key(ip: IpAddr) -> String {
    network_key(ip).unwrap_or_else(|| host_key(ip))
}

/// The per-account key of failed sign-ins: the account *and* where the
/// attempts come from.
///
/// Keyed by the account alone, ten wrong passwords from anyone would hold
/// the account back for everyone: an anonymous caller could keep an
/// administrator out for as long as they cared to keep guessing. Keyed by
/// account and address, failures from one address hold back only that
/// address's attempts on that account; the owner signs in from elsewhere.
/// What a guesser with many addresses can try against one account is then
/// bounded by each address's budget (and the per-address limit, which counts
/// every attempt on every account) times the addresses they control, and by
/// how many passwords the server checks at once.
pub fn account_key(account: &str, ip: Option<IpAddr>) -> String {
    match ip {
        Some(ip) => format!("{account} from {}", ip_key(ip)),
        None => account.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(burst: u32, per_minute: u32) -> Limiter {
        Limiter::new("test", Limit { burst, per_minute }, true)
    }

    fn addresses(burst: u32, per_minute: u32) -> AddressLimiter {
        AddressLimiter::new(["test", "test/64"], Limit { burst, per_minute }, true)
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn a_burst_passes_then_one_request_per_interval() {
        let l = limiter(3, 60);
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(l.check("a", t0), Ok(()));
        }
        let refused = l.check("a", t0).unwrap_err();
        assert_eq!(refused, RetryAfter(Duration::from_secs(1)));
        assert_eq!(refused.seconds(), 1);
        // Other keys are not affected.
        assert_eq!(l.check("b", t0), Ok(()));
        // A refused request does not push the schedule further.
        assert_eq!(l.check("a", t0 + Duration::from_millis(500)).unwrap_err(), RetryAfter(Duration::from_millis(500)));
        assert_eq!(l.check("a", t0 + Duration::from_secs(1)), Ok(()));
        assert!(l.check("a", t0 + Duration::from_secs(1)).is_err());
        // After a quiet spell the whole burst is back.
        let later = t0 + Duration::from_secs(10);
        for _ in 0..3 {
            assert_eq!(l.check("a", later), Ok(()));
        }
        assert!(l.check("a", later).is_err());
    }

    #[test]
    fn peek_counts_nothing() {
        let l = limiter(2, 6);
        let t0 = Instant::now();
        for _ in 0..5 {
            assert_eq!(l.peek("a", t0), Ok(()));
        }
        l.check("a", t0).unwrap();
        l.check("a", t0).unwrap();
        assert_eq!(l.peek("a", t0), Err(RetryAfter(Duration::from_secs(10))));
    }

    #[test]
    fn disabled_limits_let_everything_through() {
        let l = Limiter::new("test", Limit { burst: 1, per_minute: 1 }, false);
        let t0 = Instant::now();
        for _ in 0..100 {
            assert_eq!(l.check("a", t0), Ok(()));
        }
    }

    #[test]
    fn retain_recent_forgets_only_refilled_keys() {
        let l = limiter(2, 60);
        let t0 = Instant::now();
        l.check("busy", t0 + Duration::from_secs(5)).unwrap();
        l.check("idle", t0).unwrap();
        assert_eq!(l.retain_recent(t0 + Duration::from_secs(3)), 1);
    }

    #[test]
    fn a_new_key_for_every_request_does_not_grow_memory_without_bound() {
        // One request a millisecond, each from a new address: each entry
        // refills 100 ms later, so only the last ~100 are live.
        let l = limiter(1, 600);
        let t0 = Instant::now();
        for n in 0..200_000u32 {
            l.check(&format!("2001:db8::{n:x}"), t0 + Duration::from_millis(u64::from(n))).unwrap();
        }
        assert!(l.keys() <= SHARDS * PRUNE_AT * 2, "{} keys remembered", l.keys());
        // Pruning changed no answer: the latest keys are still held back.
        assert!(l.check(&format!("2001:db8::{:x}", 199_999), t0 + Duration::from_millis(199_999)).is_err());
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(RetryAfter(Duration::from_millis(1)).seconds(), 1);
        assert_eq!(RetryAfter(Duration::from_millis(1500)).seconds(), 2);
        assert_eq!(RetryAfter(Duration::from_secs(7)).seconds(), 7);
        assert_eq!(RetryAfter(Duration::ZERO).seconds(), 1);
    }

    #[test]
    fn address_keys_ipv4_one_by_one_ipv6_by_host_and_by_64() {
        assert_eq!(host_key(ip("203.0.113.9")), "203.0.113.9");
        assert_eq!(network_key(ip("203.0.113.9")), None);
        assert_eq!(host_key(ip("::ffff:198.51.100.7")), "198.51.100.7");
        assert_eq!(network_key(ip("::ffff:198.51.100.7")), None);
        assert_eq!(host_key(ip("2001:db8:1:2:aaaa::1")), "2001:db8:1:2:aaaa::1");
        assert_ne!(host_key(ip("2001:db8:1:2:aaaa::1")), host_key(ip("2001:db8:1:2:bbbb::2")));
        assert_eq!(network_key(ip("2001:db8:1:2:aaaa::1")).as_deref(), Some("2001:db8:1:2::/64"));
        assert_eq!(network_key(ip("2001:db8:1:2:aaaa::1")), network_key(ip("2001:db8:1:2:bbbb::2")));
        assert_ne!(network_key(ip("2001:db8:1:2::1")), network_key(ip("2001:db8:1:3::1")));
        // The per-account limit sees an IPv6 caller as its /64.
        assert_eq!(ip_key(ip("2001:db8:1:2:aaaa::1")), "2001:db8:1:2::/64");
        assert_eq!(ip_key(ip("::ffff:198.51.100.7")), "198.51.100.7");
    }

    #[test]
    fn ipv4_addresses_are_limited_one_by_one() {
        let l = addresses(2, 60);
        let t0 = Instant::now();
        assert_eq!(l.check(ip("203.0.113.9"), t0), Ok(()));
        assert_eq!(l.check(ip("203.0.113.9"), t0), Ok(()));
        let refused = l.check(ip("203.0.113.9"), t0).unwrap_err();
        assert_eq!(refused.key, "203.0.113.9");
        // The IPv4-mapped form is the same host; the next address is not.
        assert_eq!(l.check(ip("::ffff:203.0.113.9"), t0).unwrap_err().key, "203.0.113.9");
        assert_eq!(l.check(ip("203.0.113.10"), t0), Ok(()));
    }

    #[test]
    fn ipv6_hosts_have_their_own_budget_and_their_64_eight_times_it() {
        assert_eq!(NETWORK_FACTOR, 8);
        let l = addresses(2, 60);
        let t0 = Instant::now();
        // One host uses its burst; its neighbours in the /64 are not held back.
        assert_eq!(l.check(ip("2001:db8:1:2::1"), t0), Ok(()));
        assert_eq!(l.check(ip("2001:db8:1:2::1"), t0), Ok(()));
        assert_eq!(l.check(ip("2001:db8:1:2::1"), t0).unwrap_err().key, "2001:db8:1:2::1");
        for host in 2..=8 {
            for _ in 0..2 {
                assert_eq!(l.check(ip(&format!("2001:db8:1:2::{host}")), t0), Ok(()), "host {host}");
            }
        }
        // 8 hosts × 2 = the /64's burst of 16: a ninth address is refused by the network.
        let refused = l.check(ip("2001:db8:1:2::9"), t0).unwrap_err();
        assert_eq!(refused.key, "2001:db8:1:2::/64");
        assert_eq!(refused.wait, RetryAfter(Duration::from_millis(125)), "the /64 refills 8 times as fast");
        // Another /64 is not affected.
        assert_eq!(l.check(ip("2001:db8:1:3::1"), t0), Ok(()));
        // The refusal by the network used nothing of the ninth host's own budget.
        let later = t0 + Duration::from_millis(250);
        assert_eq!(l.check(ip("2001:db8:1:2::9"), later), Ok(()));
        assert_eq!(l.check(ip("2001:db8:1:2::9"), later), Ok(()));
        // The first host is still held by its own budget while its network has room.
        let soon = t0 + Duration::from_millis(500);
        assert_eq!(l.check(ip("2001:db8:1:2::1"), soon).unwrap_err().key, "2001:db8:1:2::1");
    }

    #[test]
    fn failed_sign_ins_are_counted_per_account_and_address() {
        let l = limiter(2, 6);
        let t0 = Instant::now();
        let from_a = account_key("back office:admin", Some(ip("192.0.2.1")));
        let from_b = account_key("back office:admin", Some(ip("192.0.2.2")));
        l.check(&from_a, t0).unwrap();
        l.check(&from_a, t0).unwrap();
        assert!(l.peek(&from_a, t0).is_err(), "address A is held back on this account");
        assert_eq!(l.peek(&from_b, t0), Ok(()), "address B is not");
        // A host's other IPv6 addresses are the same caller for an account.
        assert_eq!(account_key("a", Some(ip("2001:db8::1"))), account_key("a", Some(ip("2001:db8::2"))));
        assert_eq!(account_key("a", None), "a");
    }

    #[test]
    fn a_refusing_key_is_noted_once_a_minute() {
        let limits = RateLimits::new(&RateLimitConfig::default(), None);
        let t0 = Instant::now();
        assert!(limits.note_refusal("login address 192.0.2.1", t0));
        for s in 0..59 {
            assert!(!limits.note_refusal("login address 192.0.2.1", t0 + Duration::from_secs(s)));
        }
        assert!(limits.note_refusal("login account admin from 192.0.2.1", t0), "each key on its own");
        assert!(limits.note_refusal("login address 192.0.2.1", t0 + Duration::from_secs(60)));
    }
}
