-- OpenID Connect (docs/openid-connect.md).

-- What an authentication request asked for, carried from the code to the
-- grant so that a refresh issues the same ID token: the nonce (echoed once,
-- in the first ID token), when the person signed in (the session's start,
-- `auth_time`), and the `claims` request parameter as checked (JSON).
ALTER TABLE oauth_authorization_codes ADD COLUMN nonce TEXT CHECK (length(nonce) BETWEEN 1 AND 1024);
ALTER TABLE oauth_authorization_codes ADD COLUMN auth_time INTEGER;
ALTER TABLE oauth_authorization_codes ADD COLUMN claims TEXT CHECK (length(claims) <= 8192);
ALTER TABLE oauth_grants ADD COLUMN auth_time INTEGER;
ALTER TABLE oauth_grants ADD COLUMN claims TEXT CHECK (length(claims) <= 8192);

-- Where RP-initiated logout may send the browser back to (exact match, like
-- the redirect URIs).
CREATE TABLE oauth_application_post_logout_redirect_uris (
    application_id  INTEGER NOT NULL REFERENCES oauth_applications(id) ON DELETE CASCADE,
    position        INTEGER NOT NULL,
    uri             TEXT    NOT NULL CHECK (length(uri) BETWEEN 1 AND 2048),
    PRIMARY KEY (application_id, position)
);

-- An ID token's `sub` is a person's id, and OpenID Connect Core §2 says a
-- subject is never reassigned. SQLite gives a new row the largest id + 1,
-- so deleting the newest user would hand their id to the next one. Inserts
-- of users and customer users take the id after the highest ever given
-- (src/store/users.rs), kept here by the triggers below.
CREATE TABLE id_high_water (
    name  TEXT    PRIMARY KEY,
    last  INTEGER NOT NULL
);
INSERT INTO id_high_water (name, last) SELECT 'users', COALESCE(MAX(id), 0) FROM users;
INSERT INTO id_high_water (name, last) SELECT 'customer_users', COALESCE(MAX(id), 0) FROM customer_users;
CREATE TRIGGER users_high_water AFTER INSERT ON users BEGIN
    UPDATE id_high_water SET last = MAX(last, NEW.id) WHERE name = 'users';
END;
CREATE TRIGGER customer_users_high_water AFTER INSERT ON customer_users BEGIN
    UPDATE id_high_water SET last = MAX(last, NEW.id) WHERE name = 'customer_users';
END;
