//! Postern: an OAuth 2.0 authorization server with a back office.
//!
//! One crate, two builds: `ssr` (the server binary: protocol core, storage,
//! HTTP, server-side rendering) and `hydrate` (the WASM that makes the
//! back-office pages interactive). `api` and `app` are shared by both.

#![recursion_limit = "256"]

pub mod api;
pub mod app;

/// The vocabulary shared with the browser (crates/model).
pub use postern_model as model;
pub use postern_model::permissions;

#[cfg(feature = "ssr")]
pub mod cache;
#[cfg(feature = "ssr")]
pub mod cli;
#[cfg(feature = "ssr")]
pub mod clock;
#[cfg(feature = "ssr")]
pub mod config;
#[cfg(feature = "ssr")]
pub mod dates;
#[cfg(feature = "ssr")]
pub mod keys;
#[cfg(feature = "ssr")]
pub mod limits;
#[cfg(feature = "ssr")]
pub mod mailer;
/// The protocol core (crates/oauth): pure, no I/O.
#[cfg(feature = "ssr")]
pub use postern_oauth as oauth;
#[cfg(feature = "ssr")]
pub mod request;
#[cfg(feature = "ssr")]
pub mod server;
#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod state;
#[cfg(feature = "ssr")]
pub mod store;

/// Entry point of the WASM bundle: hydrates the server-rendered page.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
