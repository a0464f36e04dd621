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

/// Entry point of the WASM bundle: hydrates the server-rendered page once
/// the page's own code (a lazily loaded chunk, `app`) has arrived, then
/// marks `<body data-hydrated>` for people's tools and tests: from then on
/// every handler of the page is in place.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    wasm_bindgen_futures::spawn_local(async {
        let Some(body) = leptos::prelude::document().body() else {
            return;
        };
        leptos::mount::hydrate_from_async(body.clone(), app::App).await.forget();
        // The effects hydration scheduled run first (a menu closing itself).
        leptos::task::tick().await;
        let _ = body.set_attribute("data-hydrated", "true");
    });
}
