-- Rate limits shared by every instance (docs/architecture.md#rate-limits):
-- per limit and key (a SHA-256 of both), the theoretical arrival time of the
-- next request in microseconds since the Unix epoch (GCRA, src/limits.rs).
-- A row whose time has passed means a whole allowance and may be deleted at
-- any moment. UNLOGGED: no write-ahead log for counters, so counting costs
-- no disk flush; after a crash of the database server the table starts
-- empty, which hands every caller a fresh allowance once. SQLite, one
-- instance, keeps these counts in memory.
CREATE UNLOGGED TABLE rate_limits (
    key BYTEA PRIMARY KEY,
    tat BIGINT NOT NULL
);
