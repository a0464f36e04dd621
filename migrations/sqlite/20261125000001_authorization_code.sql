-- The authorization code flow (SPEC §4–§6): grants (one per code
-- redemption: the family of refresh tokens and the access tokens issued from
-- it), authorization codes and refresh tokens (by SHA-256 only), remembered
-- consents, and storefront customer sessions.

-- A grant: what one redeemed authorization code started. Revoking it (reuse
-- of a rotated refresh token, a replayed code, the user's "revoke") revokes
-- every refresh and access token issued from it.
CREATE TABLE oauth_grants (
    id                INTEGER PRIMARY KEY,
    application_id    INTEGER NOT NULL REFERENCES oauth_applications(id) ON DELETE CASCADE,
    user_id           INTEGER REFERENCES users(id) ON DELETE CASCADE,
    customer_user_id  INTEGER REFERENCES customer_users(id) ON DELETE CASCADE,
    scope             TEXT    NOT NULL,
    created_at        INTEGER NOT NULL,
    -- When the newest refresh token of the family expires.
    expires_at        INTEGER NOT NULL,
    revoked_at        INTEGER,
    -- Why: 'user', 'code_replay', 'refresh_reuse', 'administrator'.
    revoked_reason    TEXT,
    CHECK ((user_id IS NULL) <> (customer_user_id IS NULL))
);
CREATE INDEX oauth_grants_by_application ON oauth_grants(application_id);
CREATE INDEX oauth_grants_by_user ON oauth_grants(user_id) WHERE user_id IS NOT NULL;
CREATE INDEX oauth_grants_by_customer_user ON oauth_grants(customer_user_id) WHERE customer_user_id IS NOT NULL;

-- Access tokens issued from a grant (NULL for client_credentials).
ALTER TABLE oauth_access_tokens ADD COLUMN grant_id INTEGER REFERENCES oauth_grants(id) ON DELETE CASCADE;
CREATE INDEX oauth_access_tokens_by_grant ON oauth_access_tokens(grant_id) WHERE grant_id IS NOT NULL;

CREATE TABLE oauth_authorization_codes (
    code_hash          BLOB    PRIMARY KEY CHECK (length(code_hash) = 32),
    application_id     INTEGER NOT NULL REFERENCES oauth_applications(id) ON DELETE CASCADE,
    user_id            INTEGER REFERENCES users(id) ON DELETE CASCADE,
    customer_user_id   INTEGER REFERENCES customer_users(id) ON DELETE CASCADE,
    redirect_uri       TEXT    NOT NULL,
    -- 1 when the authorization request carried redirect_uri (RFC 6749 §4.1.3).
    redirect_uri_sent  INTEGER NOT NULL CHECK (redirect_uri_sent IN (0, 1)),
    scope              TEXT    NOT NULL,
    -- The S256 code_challenge, if any.
    code_challenge     TEXT,
    created_at         INTEGER NOT NULL,
    expires_at         INTEGER NOT NULL,
    used_at            INTEGER,
    -- The grant its redemption started, set in the same transaction.
    grant_id           INTEGER REFERENCES oauth_grants(id) ON DELETE SET NULL,
    CHECK ((user_id IS NULL) <> (customer_user_id IS NULL))
) WITHOUT ROWID;
CREATE INDEX oauth_authorization_codes_by_expiry ON oauth_authorization_codes(expires_at);

CREATE TABLE oauth_refresh_tokens (
    token_hash  BLOB    PRIMARY KEY CHECK (length(token_hash) = 32),
    grant_id    INTEGER NOT NULL REFERENCES oauth_grants(id) ON DELETE CASCADE,
    issued_at   INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    -- Set when it was exchanged for a new one; presenting it again is reuse.
    rotated_at  INTEGER
) WITHOUT ROWID;
CREATE INDEX oauth_refresh_tokens_by_grant ON oauth_refresh_tokens(grant_id);

-- Remembered consent: the scopes a person granted an application.
CREATE TABLE oauth_consents (
    id                INTEGER PRIMARY KEY,
    application_id    INTEGER NOT NULL REFERENCES oauth_applications(id) ON DELETE CASCADE,
    user_id           INTEGER REFERENCES users(id) ON DELETE CASCADE,
    customer_user_id  INTEGER REFERENCES customer_users(id) ON DELETE CASCADE,
    scope             TEXT    NOT NULL,
    granted_at        INTEGER NOT NULL,
    CHECK ((user_id IS NULL) <> (customer_user_id IS NULL))
);
CREATE UNIQUE INDEX oauth_consents_unique ON oauth_consents(
    application_id, IFNULL(user_id, 0), IFNULL(customer_user_id, 0)
);

-- Storefront logins. The cookie holds a random token; only its SHA-256 is here.
CREATE TABLE customer_sessions (
    token_hash        BLOB    PRIMARY KEY,
    customer_user_id  INTEGER NOT NULL REFERENCES customer_users(id) ON DELETE CASCADE,
    created_at        INTEGER NOT NULL,
    expires_at        INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX customer_sessions_by_customer_user ON customer_sessions(customer_user_id);
