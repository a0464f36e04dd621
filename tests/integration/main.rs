//! Integration tests: the real router against a real, freshly migrated
//! SQLite database (WAL, in a temporary folder) and real RSA keys.

/// Runs raw SQL on a test's database, whichever engine it is: `$c` is the
/// connection (`&mut *c` as the executor), `?` inside ends the statement
/// with its error and the test fails with it.
///
/// ```ignore
/// let n: i64 = sql!(app.state.db, |c| sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(&mut *c).await?);
/// ```
macro_rules! sql {
    ($db:expr, |$c:ident| $body:expr) => {
        async { Ok::<_, sqlx::Error>(postern::store::run!(&$db, |$c| $body)) }.await.expect("test SQL")
    };
}

mod abuse;
mod api;
mod applications;
mod authorization_code;
mod cli;
mod cluster;
mod crash;
mod harness;
mod instances;
mod isolation;
mod lifecycle;
mod malformed;
mod moving;
mod oidc;
mod pages;
mod people;
mod races;
mod token;
mod transfer;
