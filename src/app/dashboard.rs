//! `/admin`: the dashboard, with the signing-key status
//! (docs/architecture.md#signing-keys).

use super::components::{CopyableCode, KeysAlerts};
use crate::api::dashboard::{get_dashboard, Dashboard};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn DashboardPage() -> impl IntoView {
    let dashboard = Resource::new(|| (), |_| get_dashboard());
    view! {
        <Title text="Dashboard"/>
        <div class="mx-auto max-w-6xl">
            <h1 class="text-2xl font-bold tracking-tight text-slate-900">"Dashboard"</h1>
            <Suspense fallback=|| view! { <p class="mt-6 text-sm text-slate-500">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match dashboard.await {
                        Ok(d) => view! { <DashboardBody d/> }.into_any(),
                        Err(e) => view! {
                            <div role="alert" class="mt-6 rounded-md bg-red-50 p-4 text-sm text-red-700">{e.to_string()}</div>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </div>
    }
}

#[component]
fn DashboardBody(d: Dashboard) -> impl IntoView {
    let key_label =
        d.keys.active_kid.as_deref().map(|k| format!("{}…", &k[..k.len().min(12)])).unwrap_or_else(|| "Missing".into());
    let organizations = d.organizations.join(", ");
    let curl = format!(
        "curl -X POST {} \\\n  -d grant_type=client_credentials \\\n  -d client_id=CLIENT_ID -d client_secret=CLIENT_SECRET",
        d.token_endpoint
    );
    view! {
        <KeysAlerts keys=d.keys.clone()/>
        <p class="mt-2 text-sm text-slate-500">"Organizations: " {organizations}</p>
        <dl class="mt-6 grid grid-cols-1 gap-4 sm:grid-cols-3">
            <Stat label="OAuth applications" value=d.applications.to_string() note=format!("{} active", d.active_applications)/>
            <Stat label="Live access tokens" value=d.live_tokens.to_string() note="issued and not expired".to_string()/>
            <Stat label="Signing key" value=key_label note=format!("{}, kid", d.keys.active_alg.as_deref().unwrap_or("RS256"))/>
        </dl>
        <section class="mt-8 rounded-lg bg-white p-6 shadow-sm ring-1 ring-slate-200">
            <h2 class="text-base font-semibold text-slate-900">"Connect an application"</h2>
            <p class="mt-1 text-sm text-slate-600">
                "Third-party applications get access tokens from the token endpoint and call the API with them."
            </p>
            <dl class="mt-4 space-y-3 text-sm">
                <div class="sm:flex sm:items-center sm:gap-4">
                    <dt class="w-32 flex-none font-medium text-slate-700">"Token endpoint"</dt>
                    <dd class="mt-1 sm:mt-0"><CopyableCode id="token-endpoint" value=d.token_endpoint.clone()/></dd>
                </div>
                <div class="sm:flex sm:items-center sm:gap-4">
                    <dt class="w-32 flex-none font-medium text-slate-700">"Issuer"</dt>
                    <dd class="mt-1 sm:mt-0"><code class="rounded bg-slate-100 px-2 py-1 font-mono text-slate-800">{d.backoffice_issuer.clone()}</code></dd>
                </div>
            </dl>
            <pre class="mt-4 overflow-x-auto rounded-md bg-slate-900 p-4 text-xs leading-relaxed text-slate-100"><code>{curl}</code></pre>
        </section>
    }
}

#[component]
fn Stat(label: &'static str, value: String, note: String) -> impl IntoView {
    view! {
        <div class="rounded-lg bg-white px-5 py-4 shadow-sm ring-1 ring-slate-200">
            <dt class="text-sm font-medium text-slate-500">{label}</dt>
            <dd class="mt-1 text-2xl font-semibold tracking-tight text-slate-900">{value}</dd>
            <dd class="text-xs text-slate-500">{note}</dd>
        </div>
    }
}
