-- User and role names are looked up as lower(name) = lower($1), the form
-- PostgreSQL shares (it has no NOCASE collation); these indexes keep those
-- lookups from scanning the table. The NOCASE unique constraints stay.
CREATE INDEX users_username_lower ON users(lower(username));
CREATE INDEX customer_users_username_lower ON customer_users(lower(username));
CREATE INDEX roles_name_lower ON roles(lower(name));
