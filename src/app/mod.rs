//! The back office's pages (Leptos): rendered on the server, hydrated in
//! the browser. Data comes from the server functions in `crate::api`.

mod applications;
mod audit;
mod components;
mod configuration;
mod dashboard;
mod icons;
mod layout;
mod login;
mod my_user;
mod oauth;
mod people;

#[cfg(feature = "ssr")]
mod csp;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Title};
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::{lazy_route, path, Lazy, LazyRoute, SsrMode};

/// The stylesheet's URL as this build named it (with its content's hash),
/// decided once at start-up by `server::assets`.
static STYLESHEET: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Names the stylesheet every page links to; the first call wins.
pub fn set_stylesheet(href: String) {
    let _ = STYLESHEET.set(href);
}

fn stylesheet(options: &LeptosOptions) -> String {
    STYLESHEET.get().cloned().unwrap_or_else(|| format!("/{}/{}.css", options.site_pkg_dir, options.output_name))
}

/// The HTML document around the app.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    csp::page_csp();
    view! {
        <!DOCTYPE html>
        <html lang="en" class="h-full bg-slate-50">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                // The build's name for it, with its content's hash (server::assets).
                <link id="leptos" rel="stylesheet" href=stylesheet(&options)/>
                <link rel="icon" type="image/svg+xml" href="/favicon.svg"/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body class="h-full text-slate-800 antialiased">
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();

    view! {
        <Title formatter=|text| format!("{text} · Postern")/>
        <Router>
            // Async rendering: every page arrives complete, so it works without JavaScript.
            <Routes fallback=|| view! { <NotFound/> }>
                <Route path=path!("/admin/login") view=login::LoginPage ssr=SsrMode::Async/>
                <Route path=path!("/admin/oauth2-token/consent") view=oauth::BackOfficeConsentPage ssr=SsrMode::Async/>
                <Route path=path!("/login") view=login::StorefrontLoginPage ssr=SsrMode::Async/>
                <Route path=path!("/oauth2-token/consent") view=oauth::StorefrontConsentPage ssr=SsrMode::Async/>
                <ParentRoute path=path!("/account") view=oauth::StorefrontLayout ssr=SsrMode::Async>
                    <Route path=path!("") view={Lazy::<StorefrontAccount>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("applications") view={Lazy::<StorefrontAccount>::new()} ssr=SsrMode::Async/>
                </ParentRoute>
                <ParentRoute path=path!("/admin") view=layout::AdminLayout ssr=SsrMode::Async>
                    <Route path=path!("") view={Lazy::<Dashboard>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("my-user") view={Lazy::<MyUser>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("my-user/authorized-applications") view={Lazy::<AuthorizedApplications>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("system/users") view={Lazy::<Users>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("system/roles") view={Lazy::<Roles>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("system/organizations") view={Lazy::<Organizations>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("system/oauth-applications") view={Lazy::<AllApplications>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("system/configuration") view={Lazy::<Configuration>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("system/outbox") view={Lazy::<Outbox>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("system/audit-log") view={Lazy::<AuditLog>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("customers/users") view={Lazy::<CustomerUsers>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("customers/oauth-applications") view={Lazy::<StorefrontApplications>::new()} ssr=SsrMode::Async/>
                </ParentRoute>
            </Routes>
        </Router>
    }
}

// The back office's pages are lazy routes (docs/architecture.md#static-files):
// their code is cut into WASM chunks (`cargo leptos build --split`) fetched
// when a page is first shown. What a person meets first stays in the main
// WASM, so it is interactive without waiting for chunks: the sign-in and
// consent pages of both sides and the frames around the pages. The route's
// data is the page's own business: each page starts its resources when it
// renders.

/// Declares each `Route => module::Page;` as a lazy route showing that page.
macro_rules! lazy_pages {
    ($($route:ident => $module:ident :: $page:ident;)*) => {$(
        pub struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                Self
            }
            fn view(_this: Self) -> AnyView {
                view! { <$module::$page/> }.into_any()
            }
        }
    )*};
}

lazy_pages! {
    StorefrontAccount => oauth::StorefrontApplicationsPage;
    Dashboard => dashboard::DashboardPage;
    MyUser => my_user::MyUserPage;
    AuthorizedApplications => oauth::BackOfficeAuthorizedPage;
    Users => people::UsersPage;
    Roles => people::RolesPage;
    Organizations => people::OrganizationsPage;
    AllApplications => applications::SystemApplicationsPage;
    Configuration => configuration::ConfigurationPage;
    Outbox => configuration::OutboxPage;
    AuditLog => audit::AuditLogPage;
    CustomerUsers => people::CustomerUsersPage;
    StorefrontApplications => applications::StorefrontApplicationsPage;
}

#[component]
fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Page not found"/>
        <main class="flex min-h-full flex-col items-center justify-center px-6 py-24 text-center">
            <p class="text-sm font-semibold text-indigo-600">"404"</p>
            <h1 class="mt-2 text-3xl font-bold tracking-tight text-slate-900">"Page not found"</h1>
            <p class="mt-4 text-slate-600">"There is nothing at this address."</p>
            <a href="/admin" class="mt-8 rounded-md bg-indigo-600 px-4 py-2 text-sm font-semibold text-white hover:bg-indigo-500">
                "Go to the back office"
            </a>
        </main>
    }
}
