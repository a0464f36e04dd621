//! Group commit for the token endpoint's hot path: client_credentials tokens
//! (with their audit entries) are written by one task, as many per
//! transaction as have arrived while the previous transaction ran.
//!
//! Under load this turns N transactions into one, and requests no longer
//! queue behind SQLite's single write lock one by one (each waiting in its
//! busy handler). A request hands its row over before it signs its token
//! ([`TokenWriter::submit`]), and gets its answer only after the row is
//! committed. On SQLite it writes, like every write of the process, on the
//! one connection that comes with the write turn, whose page cache stays
//! warm; the transaction runs on SQLite's C API on the writer's own worker
//! ([`Db::write_on_handle`], [`super::sqlite_handle`]) instead of as three
//! calls to the connection's thread (`BEGIN`, both inserts, `COMMIT`).
//! Measured where RSA-2048 signs in 0.25 ms (wrk, 64 connections, 8 s,
//! alternated three times): 5,790–5,940 tokens/s against 4,850–5,170
//! through sqlx, 71–72 % of `openssl speed -multi 2 rsa2048` against
//! 60–63 %; SQLite's thread woke 0.25 times a token instead of 1.4–1.7,
//! and the workers were preempted 1.0 times a token instead of 1.9–2.0.
//! The same build with no database write at all made 6,300–6,530/s: what
//! is left is SQLite's own work (two rows and their indexes, the commit's
//! pages in the log), 0.025 ms of a worker's CPU a token. When another
//! process holds SQLite's write lock, the batch is written through
//! [`Db::write`], whose busy handler waits on the connection's thread.
//!
//! The writer is a task on the server's runtime. Tried and measured: the
//! same loop on a thread and a single-threaded runtime of its own, so that
//! no RSA signature on a worker delays the transaction's next step. Tokens
//! per second fell from 72–76 % of `openssl speed -multi 2 rsa2048` to
//! 57–61 %: every reply then wakes the request's task from outside the
//! runtime (a system call each), and the third busy thread competes for
//! the two cores.
//!
//! Since then the writer yields once before it takes its batch, so that
//! the request that woke it signs first and the rows handed over during
//! that signature join the same transaction. Each commit writes some eight
//! pages to the log whatever its size, and each hands the connection over
//! once: with the C API the batches had become small (1.8 tokens at half
//! load). Measured (wrk, 64 connections, 8 s, alternated six times): SQLite's
//! thread woke 0.07–0.10 times a token instead of 0.19–0.32, the workers
//! were preempted 0.63–0.73 times instead of 0.91–1.02, and in the calmer
//! three rounds 5,928 / 5,936 / 5,070 tokens/s against 5,599 / 5,710 /
//! 5,655 (75 % of `openssl speed -multi 2 rsa2048` at best, 7,905 sign/s
//! that hour). The open loop at 2,700 tokens/s stayed within the hour's
//! noise (p99 5.8–7.6 ms against 7.0–7.9 ms).
//!
//! Also tried: a connection of the writer's own, each transaction sent to
//! SQLite's thread in one call (`BEGIN IMMEDIATE`, both inserts, `COMMIT`
//! as one multi-statement text) instead of three. The open-loop p50 at
//! half load fell a little (2.6–2.9 ms against 3.2–3.8), but tokens per
//! second fell to 56–67 % of the sign rate (68–78 % for this loop in the
//! same hour) and 80 % load no longer kept up: quicker transactions make
//! smaller batches, and every commit writes its B-tree pages again.
//!
//! Tried again where RSA-2048 signs in 0.25 ms (AVX-512; wrk, 64
//! connections, 8 s, alternated, SQLite's thread counted in `/proc`), when
//! this loop still wrote through sqlx: SQLite's thread woke 1.3–1.5 times
//! per token and spent 0.05 ms on it. `BEGIN IMMEDIATE` sent with the inserts (two calls a
//! transaction): as often, as much, tokens/s within the noise. One call a
//! transaction: 2.0–2.1 wakes, 0.064–0.073 ms, 4,400–4,650 tokens/s
//! against 4,450–4,930. No `yield_now` in [`TokenWriter::submit`] (the
//! transaction starting after the signature): 1.9–2.0 wakes, 4,700–4,900
//! against 4,940–4,990. Fewer calls a transaction make smaller batches,
//! not fewer wake-ups.

use super::tokens::{self, IssuedToken};
use super::Db;
use std::sync::OnceLock;
use tokio::sync::{mpsc, oneshot};

/// At most this many tokens per transaction.
const MAX_BATCH: usize = 256;
/// Requests waiting for the writer before senders wait too.
const QUEUE: usize = 4_096;

type Reply = oneshot::Sender<Result<bool, sqlx::Error>>;

pub struct TokenWriter {
    db: Db,
    queue: OnceLock<mpsc::Sender<(IssuedToken, Reply)>>,
}

impl TokenWriter {
    pub fn new(db: Db) -> Self {
        Self { db, queue: OnceLock::new() }
    }

    /// Hands `token` to the writer, which may commit it while the caller
    /// signs it; [`Pending::recorded`] tells the outcome.
    pub async fn submit(&self, token: IssuedToken) -> Result<Pending, sqlx::Error> {
        let queue = self.queue.get_or_init(|| {
            let (sender, receiver) = mpsc::channel(QUEUE);
            tokio::spawn(run(self.db.clone(), receiver));
            sender
        });
        let (reply, answer) = oneshot::channel();
        queue.send((token, reply)).await.map_err(|_| sqlx::Error::PoolClosed)?;
        // The send woke the writer into this worker's next-task slot, which
        // no other worker takes: let it run now, so that its own yield
        // (in `run`) puts it in the queue that a free worker takes from,
        // rather than waiting in that slot for the caller's signature.
        tokio::task::yield_now().await;
        Ok(Pending(answer))
    }
}

/// A token handed to the writer.
pub struct Pending(oneshot::Receiver<Result<bool, sqlx::Error>>);

impl Pending {
    /// Waits for the commit: `Ok(false)` when the token's application was
    /// deactivated, deleted, given a new secret or its owner disabled
    /// meanwhile (nothing was written and the token must not be handed out).
    pub async fn recorded(self) -> Result<bool, sqlx::Error> {
        self.0.await.map_err(|_| sqlx::Error::PoolClosed)?
    }
}

async fn run(db: Db, mut receiver: mpsc::Receiver<(IssuedToken, Reply)>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while receiver.recv_many(&mut batch, MAX_BATCH).await > 0 {
        // The request that woke the writer signs its token first, and the
        // rows handed over meanwhile join this batch: fewer, larger
        // commits (see the module's notes).
        tokio::task::yield_now().await;
        while batch.len() < MAX_BATCH {
            match receiver.try_recv() {
                Ok(item) => batch.push(item),
                Err(_) => break,
            }
        }
        let (tokens, replies): (Vec<IssuedToken>, Vec<Reply>) = batch.drain(..).unzip();
        let written = write(&db, &tokens).await;
        match written {
            Ok(recorded) => {
                for (token, reply) in tokens.iter().zip(replies) {
                    let _ = reply.send(Ok(recorded.contains(&token.jti)));
                }
            }
            // One bad row fails the whole statement: write each on its own,
            // so only its own request fails.
            Err(err) if tokens.len() > 1 => {
                tracing::warn!(error = %err, rows = tokens.len(), "token batch failed; writing its tokens one by one");
                for (token, reply) in tokens.into_iter().zip(replies) {
                    let one = std::slice::from_ref(&token);
                    let result = write(&db, one).await;
                    let _ = reply.send(result.map(|recorded| recorded.contains(&token.jti)));
                }
            }
            Err(err) => {
                if let Some(reply) = replies.into_iter().next() {
                    let _ = reply.send(Err(err));
                }
            }
        }
    }
}

async fn write(db: &Db, batch: &[IssuedToken]) -> Result<std::collections::HashSet<String>, sqlx::Error> {
    if let Some(recorded) = db.write_on_handle(|h| tokens::record_issued_on(h, batch)).await? {
        return Ok(recorded);
    }
    let mut tx = db.write().await?;
    let recorded = tokens::record_issued(&mut tx, batch).await?;
    tx.commit().await?;
    Ok(recorded)
}
