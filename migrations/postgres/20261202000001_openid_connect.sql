-- OpenID Connect (docs/openid-connect.md).

-- What an authentication request asked for, carried from the code to the
-- grant so that a refresh issues the same ID token: the nonce (echoed once,
-- in the first ID token), when the person signed in (the session's start,
-- `auth_time`), and the `claims` request parameter as checked (JSON).
-- Identity columns never hand out an id twice, so a person's id is a
-- subject that is never reassigned (OpenID Connect Core §2).
ALTER TABLE oauth_authorization_codes ADD COLUMN nonce TEXT CHECK (char_length(nonce) BETWEEN 1 AND 1024);
ALTER TABLE oauth_authorization_codes ADD COLUMN auth_time BIGINT;
ALTER TABLE oauth_authorization_codes ADD COLUMN claims TEXT CHECK (char_length(claims) <= 8192);
ALTER TABLE oauth_grants ADD COLUMN auth_time BIGINT;
ALTER TABLE oauth_grants ADD COLUMN claims TEXT CHECK (char_length(claims) <= 8192);

-- Where RP-initiated logout may send the browser back to (exact match, like
-- the redirect URIs).
CREATE TABLE oauth_application_post_logout_redirect_uris (
    application_id  BIGINT NOT NULL REFERENCES oauth_applications(id) ON DELETE CASCADE,
    position        BIGINT NOT NULL,
    uri             TEXT   NOT NULL CHECK (char_length(uri) BETWEEN 1 AND 2048),
    PRIMARY KEY (application_id, position)
);
