//! The authorization code flow's pages: consent (both sides), each
//! person's "Authorized applications", and the storefront's small account
//! layout. The consent form is a plain HTML form posted to the
//! authorization endpoint, so it works without JavaScript.

use super::components::{ErrorPanel, PRIMARY, SECONDARY};
use super::icons::Logo;
use crate::api::oauth::{authorized_applications, consent_context, customer_account, RevokeAuthorization, Side};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Outlet;
use leptos_router::hooks::use_location;

#[component]
pub fn BackOfficeConsentPage() -> impl IntoView {
    view! { <Consent side=Side::BackOffice/> }
}

#[component]
pub fn StorefrontConsentPage() -> impl IntoView {
    view! { <Consent side=Side::Storefront/> }
}

#[component]
fn Consent(side: Side) -> impl IntoView {
    let search = use_location().search;
    let context = Resource::new(move || search.get(), move |query| consent_context(side, query));
    let (busy, set_busy) = signal(false);
    view! {
        <Title text="Authorize application"/>
        <main class="flex min-h-full flex-col justify-center bg-slate-50 px-6 py-12 lg:px-8">
            <div class="sm:mx-auto sm:w-full sm:max-w-md">
                <div class="flex justify-center"><Logo class="h-12 w-12"/></div>
                <Suspense fallback=|| view! { <p class="mt-6 text-center text-slate-500">"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match context.await {
                            Err(error) => view! { <ErrorPanel error/> }.into_any(),
                            Ok(c) => {
                                let hidden = c.params.into_iter().map(|(name, value)| view! {
                                    <input type="hidden" name=name value=value/>
                                }).collect_view();
                                let nothing = c.scopes.is_empty();
                                let w = c.words;
                                let working = w.working.clone();
                                let grant = w.grant.clone();
                                view! {
                                    <div lang=c.language.clone()>
                                    <h1 class="mt-6 text-center text-xl font-bold tracking-tight text-slate-900" data-testid="consent-question">
                                        {w.question}
                                    </h1>
                                    <p class="mt-1 text-center text-sm text-slate-500">
                                        {w.signed_in_as}" "<span class="font-medium text-slate-700">{c.account}</span>
                                        " · "{w.application_of}" "{c.organization.clone()}
                                    </p>
                                    <div class="mt-8 rounded-lg bg-white px-6 py-6 shadow-sm ring-1 ring-slate-200 sm:px-8">
                                        <h2 class="text-sm font-semibold text-slate-900">{w.it_will}</h2>
                                        <ul class="mt-3 space-y-2 text-sm text-slate-700" aria-label="Requested access">
                                            {c.scopes.into_iter().map(|s| view! {
                                                <li class="flex items-start gap-2">
                                                    <span aria-hidden="true" class="mt-0.5 text-emerald-600">"✓"</span>
                                                    <span>{s.description}<span class="ml-1 text-xs text-slate-400">"("{s.name}")"</span></span>
                                                </li>
                                            }).collect_view()}
                                            {nothing.then(|| view! { <li class="text-slate-500">{w.nothing.clone()}</li> })}
                                        </ul>
                                        <p class="mt-4 text-xs text-slate-500" data-testid="consent-reach">{w.walls}</p>
                                        <p class="mt-2 text-xs text-slate-500">{w.revoke}</p>
                                        <form method="post" action=c.action class="mt-6 flex flex-col-reverse gap-3 sm:flex-row sm:justify-end"
                                            on:submit=move |_| set_busy.set(true)>
                                            <input type="hidden" name="csrf_token" value=c.csrf_token/>
                                            {hidden}
                                            <button type="submit" name="decision" value="deny" class=SECONDARY>{w.cancel}</button>
                                            <button type="submit" name="decision" value="grant" class=PRIMARY aria-busy=move || busy.get().to_string()>
                                                {move || if busy.get() { working.clone() } else { grant.clone() }}
                                            </button>
                                        </form>
                                    </div>
                                    </div>
                                }.into_any()
                            }
                        }
                    })}
                </Suspense>
            </div>
        </main>
    }
}

/// The list of authorized applications with a Revoke button each; a plain
/// form (ActionForm) so that it also works without JavaScript.
#[component]
pub fn AuthorizedApplications(side: Side, csrf_token: Signal<String>) -> impl IntoView {
    let revoke = ServerAction::<RevokeAuthorization>::new();
    let list = Resource::new(move || revoke.version().get(), move |_| authorized_applications(side));
    let side_value = match side {
        Side::BackOffice => "BackOffice",
        Side::Storefront => "Storefront",
    };
    view! {
        {move || revoke.value().get().and_then(|r| r.err()).map(|error| view! { <ErrorPanel error/> })}
        <Transition fallback=|| view! { <p class="mt-4 text-sm text-slate-500">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match list.await {
                    Err(error) => view! { <ErrorPanel error/> }.into_any(),
                    Ok(apps) if apps.is_empty() => view! {
                        <p class="mt-4 rounded-lg bg-white p-6 text-sm text-slate-500 shadow-sm ring-1 ring-slate-200">
                            "You have not authorized any application."
                        </p>
                    }.into_any(),
                    Ok(apps) => view! {
                        <ul class="mt-4 divide-y divide-slate-200 rounded-lg bg-white shadow-sm ring-1 ring-slate-200" aria-label="Authorized applications">
                            <For each=move || apps.clone() key=|a| a.clone() children=move |a| {
                                let label = format!("Revoke access of {}", a.name);
                                view! {
                                    <li class="flex flex-col gap-3 p-4 sm:flex-row sm:items-center sm:justify-between" data-testid="authorized-application">
                                        <div class="min-w-0">
                                            <p class="font-medium text-slate-900">
                                                {a.name.clone()}
                                                {a.signs_in.then(|| view! {
                                                    <span class="ml-2 rounded-full bg-indigo-50 px-2 py-0.5 text-xs font-medium text-indigo-700 ring-1 ring-inset ring-indigo-200"
                                                        title="This application signs you in with your account (OpenID Connect)">"Signs you in"</span>
                                                })}
                                            </p>
                                            <p class="text-xs text-slate-500">{a.organization.clone()}</p>
                                            <ul class="mt-1 text-sm text-slate-600">
                                                {a.scopes.iter().map(|s| view! { <li>{s.clone()}</li> }).collect_view()}
                                            </ul>
                                            <p class="mt-1 text-xs text-slate-500">
                                                "Authorized "{a.granted_at.clone()}
                                                {a.last_used_at.clone().map(|t| format!(" · last used {t}"))}
                                            </p>
                                        </div>
                                        <ActionForm action=revoke>
                                            <input type="hidden" name="side" value=side_value/>
                                            <input type="hidden" name="application_id" value=a.application_id.to_string()/>
                                            <input type="hidden" name="csrf_token" value=move || csrf_token.get()/>
                                            <button type="submit" class=SECONDARY aria-label=label>"Revoke"</button>
                                        </ActionForm>
                                    </li>
                                }
                            }/>
                        </ul>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

/// `/admin/my-user/authorized-applications`.
#[component]
pub fn BackOfficeAuthorizedPage() -> impl IntoView {
    let token = Signal::derive(super::components::csrf_token);
    view! {
        <Title text="Authorized Applications"/>
        <div class="mx-auto max-w-3xl">
            <h1 class="text-2xl font-bold tracking-tight text-slate-900">"Authorized Applications"</h1>
            <p class="mt-1 text-sm text-slate-500">
                "Applications you allowed to act for you. Revoking one ends its access at once and it will ask again next time."
            </p>
            <AuthorizedApplications side=Side::BackOffice csrf_token=token/>
        </div>
    }
}

/// The storefront's account pages: a header with the customer and Sign out.
#[component]
pub fn StorefrontLayout() -> impl IntoView {
    let account = Resource::new(|| (), |_| customer_account());
    view! {
        <div class="min-h-full bg-slate-50">
            <header class="border-b border-slate-200 bg-white">
                <div class="mx-auto flex max-w-3xl items-center justify-between px-4 py-3">
                    <a href="/account/applications" class="flex items-center gap-2 font-semibold text-slate-900">
                        <Logo class="h-7 w-7"/>"Your account"
                    </a>
                    <Suspense fallback=|| ()>
                        {move || Suspend::new(async move {
                            account.await.ok().map(|a| view! {
                                <div class="flex items-center gap-3 text-sm">
                                    <span class="hidden text-slate-600 sm:inline">{a.username}</span>
                                    <form method="post" action="/logout">
                                        <input type="hidden" name="csrf_token" value=a.csrf_token/>
                                        <button type="submit" class="font-medium text-indigo-600 hover:text-indigo-500">"Sign out"</button>
                                    </form>
                                </div>
                            })
                        })}
                    </Suspense>
                </div>
            </header>
            <main class="mx-auto max-w-3xl px-4 py-8">
                <Outlet/>
            </main>
        </div>
    }
}

/// `/account/applications`: the customer's authorized applications.
#[component]
pub fn StorefrontApplicationsPage() -> impl IntoView {
    let account = Resource::new(|| (), |_| customer_account());
    let token = Signal::derive(move || account.get().and_then(|a| a.ok()).map(|a| a.csrf_token).unwrap_or_default());
    view! {
        <Title text="Authorized applications"/>
        <h1 class="text-2xl font-bold tracking-tight text-slate-900">"Authorized applications"</h1>
        <p class="mt-1 text-sm text-slate-500">
            "Applications you allowed to use your account. Revoking one ends its access at once."
        </p>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let _ = account.await;
                view! { <AuthorizedApplications side=Side::Storefront csrf_token=token/> }
            })}
        </Suspense>
    }
}
