-- The audit log (SPEC §7): who did what, when, from where. Entries outlive
-- the users and applications they name (no foreign keys; names are copied),
-- and the cleanup never removes them. Never a secret or a token: tokens are
-- named by their jti only.
CREATE TABLE audit_log (
    id                INTEGER PRIMARY KEY,
    at                INTEGER NOT NULL,
    -- e.g. 'login.succeeded', 'login.failed', 'token.issued', 'application.created'.
    event             TEXT    NOT NULL,
    -- The back-office user concerned: who acted, who tried to sign in, or
    -- whose token it is.
    user_id           INTEGER,
    customer_user_id  INTEGER,
    -- The user name as it was (or as typed, for a failed sign-in).
    username          TEXT,
    application_id    INTEGER,
    application_name  TEXT,
    client_id         TEXT,
    ip                TEXT,
    -- Readable particulars: grant, scope, jti, what changed.
    detail            TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_by_time ON audit_log(at);
CREATE INDEX audit_log_by_event ON audit_log(event, at);
CREATE INDEX audit_log_by_user ON audit_log(user_id, at) WHERE user_id IS NOT NULL;
CREATE INDEX audit_log_by_customer_user ON audit_log(customer_user_id, at) WHERE customer_user_id IS NOT NULL;
CREATE INDEX audit_log_by_application ON audit_log(application_id, at) WHERE application_id IS NOT NULL;
