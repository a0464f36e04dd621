//! Integration tests: the real router against a real, freshly migrated
//! SQLite database (WAL, in a temporary folder) and real RSA keys.

mod abuse;
mod api;
mod applications;
mod authorization_code;
mod cli;
mod crash;
mod harness;
mod isolation;
mod lifecycle;
mod malformed;
mod pages;
mod people;
mod races;
mod token;
