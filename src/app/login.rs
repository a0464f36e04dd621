//! The login pages: `/admin/login` (back-office users) and `/login`
//! (storefront customer users). Plain HTML forms posted to `POST
//! /admin/login` and `POST /login`, so they work without JavaScript; once
//! hydrated they add a password toggle and a busy state on submit. Reached
//! from an authorization request, they name the application.

use super::icons::Logo;
use crate::api::oauth::{sign_in_context, Side};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// The message for each `?error=` the login handler redirects with.
fn error_message(code: &str) -> &'static str {
    match code {
        "invalid_credentials" => "Invalid user name or password.",
        "csrf" => "The sign-in form expired. Please try again.",
        "unavailable" => "Signing in is not possible right now. Please try again in a moment.",
        _ => "The sign-in form was incomplete. Please try again.",
    }
}

#[component]
pub fn LoginPage() -> impl IntoView {
    view! { <SignIn side=Side::BackOffice/> }
}

#[component]
pub fn StorefrontLoginPage() -> impl IntoView {
    view! { <SignIn side=Side::Storefront/> }
}

#[component]
fn SignIn(side: Side) -> impl IntoView {
    let query = use_query_map();
    let context = Resource::new(
        move || query.read().get("redirect").unwrap_or_default(),
        move |redirect| sign_in_context(side, redirect),
    );
    let (title, place) = match side {
        Side::BackOffice => ("Sign in to Postern", "Back office"),
        Side::Storefront => ("Sign in", "Customer account"),
    };
    let error = move || query.read().get("error").map(|code| error_message(&code));
    let logged_out = move || query.read().get("logged_out").is_some();
    let redirect = move || query.read().get("redirect").unwrap_or_default();
    // OpenID Connect: `login_hint` fills in the user name; `prompt=login`
    // (sign in again) goes back with the form.
    let login_hint = move || query.read().get("login_hint").unwrap_or_default();
    let again = move || query.read().get("prompt").is_some_and(|p| p == "login");
    let (show_password, set_show_password) = signal(false);
    let (busy, set_busy) = signal(false);

    view! {
        <Title text="Sign in"/>
        <main class="flex min-h-full flex-col justify-center bg-slate-50 px-6 py-12 lg:px-8">
            <div class="sm:mx-auto sm:w-full sm:max-w-sm">
                <div class="flex justify-center"><Logo class="h-12 w-12"/></div>
                <h1 class="mt-6 text-center text-2xl font-bold tracking-tight text-slate-900">{title}</h1>
                <Suspense fallback=move || view! { <p class="mt-1 text-center text-sm text-slate-500">{place}</p> }>
                    {move || Suspend::new(async move {
                        match context.await.ok().and_then(|c| c.application) {
                            Some(app) => view! {
                                <p class="mt-2 text-center text-sm text-slate-600" data-testid="continue-to">
                                    "Sign in to continue to \""{app}"\"."
                                </p>
                            }.into_any(),
                            None => view! { <p class="mt-1 text-center text-sm text-slate-500">{place}</p> }.into_any(),
                        }
                    })}
                </Suspense>
            </div>
            <div class="mt-8 sm:mx-auto sm:w-full sm:max-w-sm">
                <div class="rounded-lg bg-white px-6 py-8 shadow-sm ring-1 ring-slate-200 sm:px-8">
                    {move || error().map(|message| view! {
                        <div role="alert" class="mb-6 rounded-md bg-red-50 px-4 py-3 text-sm text-red-700 ring-1 ring-red-200">{message}</div>
                    })}
                    {move || logged_out().then(|| view! {
                        <div role="status" class="mb-6 rounded-md bg-emerald-50 px-4 py-3 text-sm text-emerald-700 ring-1 ring-emerald-200">"You have been logged out."</div>
                    })}
                    <form method="post" action=side.login_path() class="space-y-5" on:submit=move |_| set_busy.set(true)>
                        <Suspense fallback=|| ()>
                            {move || Suspend::new(async move {
                                let token = context.await.map(|c| c.csrf_token).unwrap_or_default();
                                view! { <input type="hidden" name="csrf_token" value=token/> }
                            })}
                        </Suspense>
                        <input type="hidden" name="redirect" value=redirect/>
                        {move || again().then(|| view! { <input type="hidden" name="prompt" value="login"/> })}
                        <div>
                            <label for="username" class="block text-sm font-medium text-slate-700">"User name"</label>
                            <input
                                id="username"
                                name="username"
                                type="text"
                                autocomplete="username"
                                required
                                autofocus
                                maxlength="255"
                                value=login_hint
                                class="mt-1.5 block w-full rounded-md border-0 px-3 py-2 text-slate-900 shadow-sm ring-1 ring-inset ring-slate-300 placeholder:text-slate-400 focus:ring-2 focus:ring-inset focus:ring-indigo-600 sm:text-sm"
                            />
                        </div>
                        <div>
                            <div class="flex items-center justify-between">
                                <label for="password" class="block text-sm font-medium text-slate-700">"Password"</label>
                                <button
                                    type="button"
                                    class="text-xs font-medium text-indigo-600 hover:text-indigo-500"
                                    aria-controls="password"
                                    on:click=move |_| set_show_password.update(|s| *s = !*s)
                                >
                                    {move || if show_password.get() { "Hide" } else { "Show" }}
                                </button>
                            </div>
                            <input
                                id="password"
                                name="password"
                                type=move || if show_password.get() { "text" } else { "password" }
                                autocomplete="current-password"
                                required
                                class="mt-1.5 block w-full rounded-md border-0 px-3 py-2 text-slate-900 shadow-sm ring-1 ring-inset ring-slate-300 focus:ring-2 focus:ring-inset focus:ring-indigo-600 sm:text-sm"
                            />
                        </div>
                        <button
                            type="submit"
                            class="flex w-full justify-center rounded-md bg-indigo-600 px-3 py-2 text-sm font-semibold text-white shadow-sm hover:bg-indigo-500 focus-visible:outline focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-600 disabled:cursor-wait disabled:opacity-70"
                            disabled=move || busy.get()
                        >
                            {move || if busy.get() { "Signing in…" } else { "Sign in" }}
                        </button>
                    </form>
                </div>
            </div>
        </main>
    }
}
