//! System → Audit Log: every sign-in, token, consent, change and key event,
//! newest first, filtered by time, type, user and application.

use super::components::{EmptyState, ErrorPanel, PageHeader, INPUT, SECONDARY};
use crate::api::audit::{audit_log, AuditEvent, AuditQuery, EVENT_GROUPS};
use crate::api::AppError;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// The message of a bad filter, shown beside it.
fn field_error(result: &Option<Result<crate::api::audit::AuditPage, AppError>>, field: &str) -> Option<String> {
    match result {
        Some(Err(AppError::Invalid { field: f, message })) if f == field => Some(message.clone()),
        _ => None,
    }
}

#[component]
pub fn AuditLogPage() -> impl IntoView {
    // `?event=login.failed` (from the dashboard) preselects a type.
    let initial = use_query_map().with_untracked(|q| q.get("event").unwrap_or_default());
    let query = RwSignal::new(AuditQuery { event: initial, page: 1, ..AuditQuery::default() });
    let version = RwSignal::new(0u32);
    let data = Resource::new(move || (query.get(), version.get()), |(q, _)| audit_log(q));
    let last = RwSignal::new(None::<Result<crate::api::audit::AuditPage, AppError>>);
    Effect::new(move |_| {
        if let Some(result) = data.get() {
            last.set(Some(result));
        }
    });
    let error_of = move |field: &'static str| move || last.with(|r| field_error(r, field));

    // One filter field: a text search or a date, with its error beside it.
    let filter = move |id: &'static str,
                       label: &'static str,
                       kind: &'static str,
                       placeholder: &'static str,
                       get: fn(&AuditQuery) -> String,
                       set: fn(&mut AuditQuery, String)| {
        view! {
            <div class=if kind == "date" { "w-full sm:w-40" } else { "w-full sm:w-48" }>
                <label for=id class="block text-xs font-medium text-slate-600">{label}</label>
                <input id=id type=kind placeholder=placeholder class=INPUT
                    prop:value=move || query.with(get)
                    on:input=move |ev| query.update(|q| { set(q, event_target_value(&ev)); q.page = 1; })/>
                <p class="mt-1 text-xs text-red-600" role="alert">{error_of(id.trim_start_matches("audit-"))}</p>
            </div>
        }
    };

    view! {
        <Title text="Audit Log"/>
        <div class="mx-auto max-w-7xl">
            <PageHeader title="Audit Log" subtitle="Sign-ins, tokens, consents, changes and key rotations, newest first. Times are UTC.">
                <button type="button" class=SECONDARY on:click=move |_| version.update(|v| *v += 1)>"Refresh"</button>
            </PageHeader>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    data.await.ok().map(|p| view! {
                        <dl class="mt-6 grid grid-cols-1 gap-4 sm:grid-cols-2">
                            <a href="/admin/system/audit-log?event=login.failed" class="rounded-lg bg-white p-4 shadow-sm ring-1 ring-slate-200 hover:ring-indigo-300">
                                <dt class="text-sm text-slate-500">"Failed sign-ins, last 24 hours"</dt>
                                <dd id="failed-logins" class="mt-1 text-2xl font-semibold text-slate-900">{p.failed_logins_24h}</dd>
                            </a>
                            <a href="/admin/system/audit-log?event=client.authentication_failed" class="rounded-lg bg-white p-4 shadow-sm ring-1 ring-slate-200 hover:ring-indigo-300">
                                <dt class="text-sm text-slate-500">"Failed client authentications, last 24 hours"</dt>
                                <dd id="failed-clients" class="mt-1 text-2xl font-semibold text-slate-900">{p.failed_client_authentications_24h}</dd>
                            </a>
                        </dl>
                    })
                })}
            </Transition>
            <section class="mt-6" aria-label="Audit log">
                <div class="flex flex-wrap items-start gap-3">
                    {filter("audit-from", "From", "date", "", |q| q.from.clone(), |q, v| q.from = v)}
                    {filter("audit-to", "To", "date", "", |q| q.to.clone(), |q, v| q.to = v)}
                    <div class="w-full sm:w-60">
                        <label for="audit-event" class="block text-xs font-medium text-slate-600">"Type"</label>
                        <select id="audit-event" class=INPUT
                            on:change=move |ev| query.update(|q| { q.event = event_target_value(&ev); q.page = 1; })>
                            <option value="">"All events"</option>
                            <optgroup label="Groups">
                                {EVENT_GROUPS.iter().map(|(prefix, label)| view! {
                                    <option value=*prefix selected=move || query.with(|q| q.event == *prefix)>{*label}</option>
                                }).collect_view()}
                            </optgroup>
                            <optgroup label="Events">
                                {AuditEvent::ALL.iter().map(|e| {
                                    let name = e.as_str();
                                    view! { <option value=name selected=move || query.with(|q| q.event == name)>{e.label()}</option> }
                                }).collect_view()}
                            </optgroup>
                        </select>
                        <p class="mt-1 text-xs text-red-600" role="alert">{error_of("event")}</p>
                    </div>
                    {filter("audit-user", "User", "search", "User name", |q| q.user.clone(), |q, v| q.user = v)}
                    {filter("audit-application", "Application", "search", "Name or client ID", |q| q.application.clone(), |q, v| q.application = v)}
                </div>
                <Transition fallback=|| view! { <p class="mt-6 text-sm text-slate-500">"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match data.await {
                            Ok(p) if p.rows.is_empty() => view! { <EmptyState title="No events" text="Nothing matches these filters."/> }.into_any(),
                            Ok(p) => {
                                let (current, pages, total) = (p.page, p.pages, p.total);
                                view! {
                                    <div class="mt-4 overflow-x-auto rounded-lg bg-white shadow-sm ring-1 ring-slate-200">
                                        <table id="audit-log" class="min-w-full divide-y divide-slate-200 text-sm">
                                            <thead class="bg-slate-50 text-left text-xs font-semibold uppercase tracking-wide text-slate-500">
                                                <tr>
                                                    <th scope="col" class="px-4 py-3">"Time"</th>
                                                    <th scope="col" class="px-4 py-3">"Event"</th>
                                                    <th scope="col" class="px-4 py-3">"User"</th>
                                                    <th scope="col" class="px-4 py-3">"Application"</th>
                                                    <th scope="col" class="px-4 py-3">"IP address"</th>
                                                    <th scope="col" class="px-4 py-3">"Details"</th>
                                                </tr>
                                            </thead>
                                            <tbody class="divide-y divide-slate-100">
                                                {p.rows.into_iter().map(|r| {
                                                    let failed = r.event.ends_with("failed") || r.event.ends_with("reuse_detected");
                                                    let badge = if failed { "bg-red-50 text-red-700 ring-red-200" } else { "bg-slate-50 text-slate-700 ring-slate-200" };
                                                    view! {
                                                        <tr>
                                                            <td class="whitespace-nowrap px-4 py-2 text-slate-600">{r.at}</td>
                                                            <td class="whitespace-nowrap px-4 py-2">
                                                                <span class=format!("rounded-full px-2 py-0.5 text-xs font-medium ring-1 {badge}") title=r.event.clone()>{r.label}</span>
                                                            </td>
                                                            <td class="px-4 py-2 text-slate-900">{r.user}</td>
                                                            <td class="px-4 py-2 text-slate-700">{r.application}</td>
                                                            <td class="whitespace-nowrap px-4 py-2 font-mono text-xs text-slate-600">{r.ip}</td>
                                                            <td class="min-w-64 break-all px-4 py-2 text-slate-600">{r.detail}</td>
                                                        </tr>
                                                    }
                                                }).collect_view()}
                                            </tbody>
                                        </table>
                                    </div>
                                    <nav class="mt-4 flex items-center justify-end gap-2 text-sm text-slate-600" aria-label="Pages">
                                        <span class="mr-auto">{format!("{total} event{}", if total == 1 { "" } else { "s" })}</span>
                                        <button type="button" class=SECONDARY disabled={current <= 1} on:click=move |_| query.update(|q| q.page = current.saturating_sub(1).max(1))>"Previous"</button>
                                        <span>{format!("Page {current} of {pages}")}</span>
                                        <button type="button" class=SECONDARY disabled={current >= pages} on:click=move |_| query.update(|q| q.page = current + 1)>"Next"</button>
                                    </nav>
                                }.into_any()
                            }
                            Err(AppError::Invalid { .. }) => view! { <p class="mt-6 text-sm text-slate-500">"Correct the filter above."</p> }.into_any(),
                            Err(e) => view! { <ErrorPanel error=e/> }.into_any(),
                        }
                    })}
                </Transition>
            </section>
        </div>
    }
}
