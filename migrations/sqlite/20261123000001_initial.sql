-- Postern's first schema: organizations, back-office users, storefront
-- customer users, OAuth applications (SPEC §2), issued access tokens, and
-- back-office sessions. Times are Unix seconds (UTC).

CREATE TABLE organizations (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 255),
    created_at  INTEGER NOT NULL
);

CREATE TABLE users (
    id             INTEGER PRIMARY KEY,
    username       TEXT    NOT NULL UNIQUE COLLATE NOCASE CHECK (length(username) BETWEEN 1 AND 255),
    email          TEXT    NOT NULL CHECK (length(email) BETWEEN 3 AND 255),
    -- argon2id, PHC string format.
    password_hash  TEXT    NOT NULL,
    is_admin       INTEGER NOT NULL DEFAULT 0 CHECK (is_admin IN (0, 1)),
    enabled        INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);

CREATE TABLE user_organizations (
    user_id          INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    organization_id  INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, organization_id)
);
CREATE INDEX user_organizations_by_organization ON user_organizations(organization_id);

CREATE TABLE customer_users (
    id               INTEGER PRIMARY KEY,
    organization_id  INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    username         TEXT    NOT NULL UNIQUE COLLATE NOCASE CHECK (length(username) BETWEEN 1 AND 255),
    email            TEXT    NOT NULL CHECK (length(email) BETWEEN 3 AND 255),
    password_hash    TEXT    NOT NULL,
    enabled          INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);

CREATE TABLE oauth_applications (
    id                      INTEGER PRIMARY KEY,
    organization_id         INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    name                    TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
    client_id               TEXT    NOT NULL UNIQUE,
    -- SHA-256 of the client secret; NULL for public clients.
    secret_hash             BLOB    CHECK (secret_hash IS NULL OR length(secret_hash) = 32),
    active                  INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    grant_type              TEXT    NOT NULL CHECK (grant_type IN ('client_credentials', 'authorization_code')),
    kind                    TEXT    NOT NULL CHECK (kind IN ('backoffice', 'storefront')),
    owner_user_id           INTEGER REFERENCES users(id) ON DELETE CASCADE,
    owner_customer_user_id  INTEGER REFERENCES customer_users(id) ON DELETE CASCADE,
    confidential            INTEGER NOT NULL DEFAULT 1 CHECK (confidential IN (0, 1)),
    skip_consent            INTEGER NOT NULL DEFAULT 0 CHECK (skip_consent IN (0, 1)),
    last_used_at            INTEGER,
    created_at              INTEGER NOT NULL,
    updated_at              INTEGER NOT NULL,
    -- One owner at most, and of the application's kind.
    CHECK (owner_user_id IS NULL OR owner_customer_user_id IS NULL),
    CHECK (kind = 'storefront' OR owner_customer_user_id IS NULL),
    CHECK (owner_customer_user_id IS NULL OR kind = 'storefront'),
    -- client_credentials tokens act as the owner, so it must have one and a secret.
    CHECK (grant_type <> 'client_credentials'
           OR ((owner_user_id IS NOT NULL OR owner_customer_user_id IS NOT NULL) AND confidential = 1)),
    -- Confidential clients have a secret, public ones none.
    CHECK ((confidential = 1) = (secret_hash IS NOT NULL))
);
-- SPEC §2: a name is unique per organization + kind + owner.
CREATE UNIQUE INDEX oauth_applications_unique_name ON oauth_applications(
    organization_id, kind, IFNULL(owner_user_id, 0), IFNULL(owner_customer_user_id, 0), name
);
CREATE INDEX oauth_applications_by_owner ON oauth_applications(owner_user_id);

CREATE TABLE oauth_application_redirect_uris (
    application_id  INTEGER NOT NULL REFERENCES oauth_applications(id) ON DELETE CASCADE,
    position        INTEGER NOT NULL,
    uri             TEXT    NOT NULL CHECK (length(uri) BETWEEN 1 AND 2048),
    PRIMARY KEY (application_id, position)
);

-- Every issued access token, by jti, so that it can be revoked (SPEC §4).
CREATE TABLE oauth_access_tokens (
    jti                TEXT    PRIMARY KEY,
    application_id     INTEGER NOT NULL REFERENCES oauth_applications(id) ON DELETE CASCADE,
    grant_type         TEXT    NOT NULL,
    user_id            INTEGER REFERENCES users(id) ON DELETE CASCADE,
    customer_user_id   INTEGER REFERENCES customer_users(id) ON DELETE CASCADE,
    scope              TEXT    NOT NULL,
    issued_at          INTEGER NOT NULL,
    expires_at         INTEGER NOT NULL,
    revoked_at         INTEGER
) WITHOUT ROWID;
CREATE INDEX oauth_access_tokens_by_expiry ON oauth_access_tokens(expires_at);
CREATE INDEX oauth_access_tokens_by_application ON oauth_access_tokens(application_id);

-- Back-office logins. The cookie holds a random token; only its SHA-256 is here.
CREATE TABLE sessions (
    token_hash    BLOB    PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_by_user ON sessions(user_id);
