//! `/admin/my-user`: the signed-in user's profile and their own OAuth
//! applications (the shared grid, scoped to what they own).

use super::applications::ApplicationsGrid;
use super::layout::ViewerResource;
use crate::permissions::GridScope;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn MyUserPage() -> impl IntoView {
    let viewer = use_context::<ViewerResource>();
    view! {
        <Title text="My User"/>
        <div class="mx-auto max-w-7xl">
            <h1 class="text-2xl font-bold tracking-tight text-slate-900">"My User"</h1>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let user = match viewer {
                        Some(v) => v.await.ok().and_then(|v| v.user),
                        None => None,
                    };
                    user.map(|u| {
                        let can_view = u.permissions.can_open(GridScope::Mine);
                        view! {
                            <dl class="mt-4 grid grid-cols-1 gap-4 rounded-lg bg-white p-6 text-sm shadow-sm ring-1 ring-slate-200 sm:grid-cols-3">
                                <div><dt class="text-slate-500">"User name"</dt><dd class="mt-1 font-medium text-slate-900">{u.username}</dd></div>
                                <div><dt class="text-slate-500">"Primary email"</dt><dd class="mt-1 font-medium text-slate-900">{u.email}</dd></div>
                                <div><dt class="text-slate-500">"Role"</dt><dd class="mt-1 font-medium text-slate-900">{u.role.unwrap_or_else(|| "No role".into())}</dd></div>
                            </dl>
                            <p class="mt-3 text-sm">
                                <a href="/admin/my-user/authorized-applications" class="font-medium text-indigo-600 hover:text-indigo-500">
                                    "Authorized Applications →"
                                </a>
                                <span class="ml-2 text-slate-500">"the applications you allowed to act for you"</span>
                            </p>
                            <section class="mt-8" aria-labelledby="oauth-apps-title">
                                <h2 id="oauth-apps-title" class="text-lg font-semibold text-slate-900">"OAuth Applications"</h2>
                                {if can_view {
                                    view! { <ApplicationsGrid scope=GridScope::Mine/> }.into_any()
                                } else {
                                    view! { <p class="mt-2 text-sm text-slate-500">"Your role does not give access to OAuth applications."</p> }.into_any()
                                }}
                            </section>
                        }
                    })
                })}
            </Suspense>
        </div>
    }
}
