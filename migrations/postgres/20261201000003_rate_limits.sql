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

-- Counts a batch of requests in one round trip (src/store/rate_limits.rs):
-- for each key i, `wants[i]` requests, of which as many as its schedule
-- allows are counted (GCRA: each moves the arrival time `intervals[i]` on,
-- which may run at most `tolerances[i]` ahead of now). Returns, per key,
-- how many were counted and, when not all, how long (µs) the next one
-- waits. Rows are locked in the order given: callers sort the keys, so that
-- two instances' batches never wait for each other in a circle.
CREATE FUNCTION postern_rate_take(keys BYTEA[], wants INTEGER[], intervals BIGINT[], tolerances BIGINT[], shift BIGINT)
RETURNS TABLE (i INTEGER, granted INTEGER, wait BIGINT)
LANGUAGE plpgsql AS $$
DECLARE
    now_us BIGINT := floor(extract(epoch FROM clock_timestamp()) * 1000000)::BIGINT + shift;
    seen BIGINT;
    base BIGINT;
    room BIGINT;
BEGIN
    FOR k IN 1 .. coalesce(array_length(keys, 1), 0) LOOP
        INSERT INTO rate_limits (key, tat) VALUES (keys[k], 0) ON CONFLICT (key) DO NOTHING;
        SELECT r.tat INTO seen FROM rate_limits r WHERE r.key = keys[k] FOR UPDATE;
        base := greatest(seen, now_us);
        room := CASE WHEN base - now_us > tolerances[k] THEN 0
                     ELSE (tolerances[k] - (base - now_us)) / intervals[k] + 1 END;
        granted := least(wants[k], room);
        IF granted > 0 THEN
            base := base + granted * intervals[k];
            UPDATE rate_limits SET tat = base WHERE key = keys[k];
        END IF;
        i := k;
        wait := CASE WHEN granted < wants[k] THEN greatest(base - now_us - tolerances[k], 1) ELSE 0 END;
        RETURN NEXT;
    END LOOP;
END
$$;
