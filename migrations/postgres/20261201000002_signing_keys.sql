-- Signing keys on PostgreSQL (docs/architecture.md#signing-keys): every
-- instance signs with the one active key and verifies with the retired ones
-- until the tokens they signed have expired. The private key is sealed with
-- POSTERN_KEY_SECRET (AES-256-GCM, src/keys/sealed.rs); a retired key keeps
-- only its public half. SQLite keeps its keys in files under var/.
CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY,
    algorithm TEXT NOT NULL DEFAULT 'RS256',
    public_pem TEXT NOT NULL,
    private_sealed BYTEA,
    created_at BIGINT NOT NULL,
    retired_at BIGINT,
    CHECK ((retired_at IS NULL) = (private_sealed IS NOT NULL))
);

-- At most one active key: instances that start together on an empty
-- database each try to create one, and exactly one insert wins.
CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys ((TRUE)) WHERE retired_at IS NULL;
