-- Roles and their permissions on OAuth applications, users' language,
-- back-office configuration (email templates), and the email outbox.

-- A role gives its users an access level on back-office OAuth applications
-- for each of view, create, edit and delete: 0 none, 1 own (the applications
-- the user owns), 2 organization (every back-office application of the
-- user's organizations). `administrator` adds users, roles, organizations,
-- customer users, storefront applications, configuration and the outbox.
CREATE TABLE roles (
    id             INTEGER PRIMARY KEY,
    name           TEXT    NOT NULL UNIQUE COLLATE NOCASE CHECK (length(name) BETWEEN 1 AND 100),
    description    TEXT    NOT NULL DEFAULT '' CHECK (length(description) <= 500),
    administrator  INTEGER NOT NULL DEFAULT 0 CHECK (administrator IN (0, 1)),
    app_view       INTEGER NOT NULL DEFAULT 0 CHECK (app_view BETWEEN 0 AND 2),
    app_create     INTEGER NOT NULL DEFAULT 0 CHECK (app_create BETWEEN 0 AND 2),
    app_edit       INTEGER NOT NULL DEFAULT 0 CHECK (app_edit BETWEEN 0 AND 2),
    app_delete     INTEGER NOT NULL DEFAULT 0 CHECK (app_delete BETWEEN 0 AND 2),
    -- The Administrator role cannot be changed or deleted (no lock-out).
    built_in       INTEGER NOT NULL DEFAULT 0 CHECK (built_in IN (0, 1)),
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);

INSERT INTO roles (id, name, description, administrator, app_view, app_create, app_edit, app_delete, built_in, created_at, updated_at)
VALUES
    (1, 'Administrator', 'Everything: users, roles, organizations, customers, all OAuth applications and the system configuration.',
        1, 2, 2, 2, 2, 1, unixepoch(), unixepoch()),
    (2, 'Application manager', 'Views, creates, edits and deletes every back-office OAuth application of their organizations.',
        0, 2, 2, 2, 2, 0, unixepoch(), unixepoch()),
    (3, 'Developer', 'Views, creates, edits and deletes their own OAuth applications.',
        0, 1, 1, 1, 1, 0, unixepoch(), unixepoch()),
    (4, 'Viewer', 'Sees the back-office OAuth applications of their organizations and changes nothing.',
        0, 2, 0, 0, 0, 0, unixepoch(), unixepoch());

ALTER TABLE users ADD COLUMN role_id INTEGER REFERENCES roles(id) ON DELETE SET NULL;
UPDATE users SET role_id = CASE WHEN is_admin = 1 THEN 1 ELSE 3 END;
ALTER TABLE users DROP COLUMN is_admin;
CREATE INDEX users_by_role ON users(role_id);

-- The language emails to this person are written in (a BCP 47 primary tag).
ALTER TABLE users ADD COLUMN language TEXT NOT NULL DEFAULT 'en' CHECK (length(language) BETWEEN 2 AND 8);
ALTER TABLE customer_users ADD COLUMN language TEXT NOT NULL DEFAULT 'en' CHECK (length(language) BETWEEN 2 AND 8);
CREATE INDEX customer_users_by_organization ON customer_users(organization_id);
CREATE INDEX oauth_applications_by_organization ON oauth_applications(organization_id, kind);

-- System configuration edited in the back office (System → Configuration).
CREATE TABLE settings (
    key         TEXT    PRIMARY KEY,
    value       TEXT    NOT NULL,
    updated_at  INTEGER NOT NULL
) WITHOUT ROWID;

-- Every email Postern writes. Without SMTP a message stays here ('stored')
-- for administrators to read; with SMTP it is 'queued', then 'sent' or
-- 'failed' with the reason. Nothing is dropped silently.
CREATE TABLE email_outbox (
    id          INTEGER PRIMARY KEY,
    recipient   TEXT    NOT NULL,
    subject     TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    status      TEXT    NOT NULL CHECK (status IN ('stored', 'queued', 'sent', 'failed')),
    error       TEXT,
    created_at  INTEGER NOT NULL,
    sent_at     INTEGER
);
CREATE INDEX email_outbox_by_status ON email_outbox(status, id);
