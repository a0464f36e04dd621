//! System → Configuration (the "OAuth application added" email: subject and
//! body per language, override recipient, how mail is delivered) and
//! System → Email Outbox (every message, with its delivery status).

use super::components::{
    csrf_token, error_for, error_outside, EmptyState, ErrorPanel, FieldError, PageHeader, INPUT, PRIMARY, SECONDARY,
};
use crate::api::configuration::{
    get_email_configuration, get_outbox, save_email_configuration, EmailConfiguration, EmailConfigurationForm,
};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn ConfigurationPage() -> impl IntoView {
    let language = RwSignal::new("en".to_string());
    let version = RwSignal::new(0u32);
    let data = Resource::new(move || (language.get(), version.get()), |(l, _)| get_email_configuration(l));
    view! {
        <Title text="Configuration"/>
        <div class="mx-auto max-w-4xl">
            <PageHeader title="Configuration" subtitle="The email an owner receives when an OAuth application is added to their account."><span></span></PageHeader>
            <Transition fallback=|| view! { <p class="mt-6 text-sm text-slate-500">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(c) => view! { <EmailForm c language version/> }.into_any(),
                        Err(e) => view! { <ErrorPanel error=e/> }.into_any(),
                    }
                })}
            </Transition>
        </div>
    }
}

#[component]
fn EmailForm(c: EmailConfiguration, language: RwSignal<String>, version: RwSignal<u32>) -> impl IntoView {
    let subject = RwSignal::new(c.subject.clone());
    let body = RwSignal::new(c.body.clone());
    let recipient = RwSignal::new(c.override_recipient.clone());
    let save = Action::new(|form: &EmailConfigurationForm| {
        let form = form.clone();
        async move { save_email_configuration(form).await }
    });
    let field = move |f: &'static str| Signal::derive(move || error_for(save.value().get(), f));
    let saved = move || matches!(save.value().get(), Some(Ok(())));
    let lang = c.language.clone();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        save.dispatch(EmailConfigurationForm {
            csrf_token: csrf_token(),
            language: language.get_untracked(),
            subject: subject.get_untracked(),
            body: body.get_untracked(),
            override_recipient: recipient.get_untracked(),
        });
    };
    view! {
        <form class="mt-6 space-y-6 rounded-lg bg-white p-6 shadow-sm ring-1 ring-slate-200" on:submit=submit novalidate>
            <p class="rounded-md bg-slate-50 px-3 py-2 text-sm text-slate-700 ring-1 ring-slate-200" id="email-delivery">{c.delivery.clone()}</p>
            {move || error_outside(save.value().get(), &["subject", "body", "override_recipient", "language"])
                .map(|m| view! { <p role="alert" class="rounded-md bg-red-50 px-3 py-2 text-sm text-red-700">{m}</p> })}
            <div class="max-w-xs">
                <label for="email-language" class="block text-sm font-medium text-slate-700">"Template language"</label>
                <select id="email-language" class=INPUT on:change=move |ev| language.set(event_target_value(&ev))>
                    {c.languages.iter().map(|(code, name)| view! { <option value=code.clone() selected=*code == lang>{name.clone()}</option> }).collect_view()}
                </select>
                <p class="mt-1 text-xs text-slate-500">"Owners get the template of their language; empty fields use English's."</p>
                <FieldError message=field("language")/>
            </div>
            <div>
                <label for="email-subject" class="block text-sm font-medium text-slate-700">"Subject"</label>
                <input id="email-subject" type="text" maxlength="255" class=INPUT placeholder=c.fallback_subject.clone()
                    prop:value=move || subject.get() on:input=move |ev| subject.set(event_target_value(&ev))/>
                <FieldError message=field("subject")/>
            </div>
            <div>
                <label for="email-body" class="block text-sm font-medium text-slate-700">"Body"</label>
                <textarea id="email-body" rows="10" class=format!("{INPUT} font-mono") placeholder=c.fallback_body.clone()
                    prop:value=move || body.get() on:input=move |ev| body.set(event_target_value(&ev))></textarea>
                <p class="mt-1 text-xs text-slate-500">"Placeholders: " {c.placeholders.join(", ")} ". The client secret is never sent."</p>
                <FieldError message=field("body")/>
            </div>
            <div class="max-w-md">
                <label for="email-override" class="block text-sm font-medium text-slate-700">"Override recipient"</label>
                <input id="email-override" type="email" maxlength="255" class=INPUT placeholder="Empty: the owner's primary email"
                    prop:value=move || recipient.get() on:input=move |ev| recipient.set(event_target_value(&ev))/>
                <FieldError message=field("override_recipient")/>
            </div>
            <div class="flex items-center justify-end gap-3">
                <span class="text-sm text-emerald-700" role="status">{move || saved().then_some("Saved.")}</span>
                <button type="button" class=SECONDARY on:click=move |_| version.update(|v| *v += 1)>"Discard changes"</button>
                <button type="submit" class=PRIMARY disabled=move || save.pending().get()>
                    {move || if save.pending().get() { "Saving…" } else { "Save" }}
                </button>
            </div>
        </form>
    }
}

#[component]
pub fn OutboxPage() -> impl IntoView {
    let page = RwSignal::new(1u32);
    let version = RwSignal::new(0u32);
    let data = Resource::new(move || (page.get(), version.get()), |(p, _)| get_outbox(p));
    view! {
        <Title text="Email Outbox"/>
        <div class="mx-auto max-w-7xl">
            <PageHeader title="Email Outbox" subtitle="Every email Postern wrote, newest first, and what became of it.">
                <button type="button" class=SECONDARY on:click=move |_| version.update(|v| *v += 1)>"Refresh"</button>
            </PageHeader>
            <Transition fallback=|| view! { <p class="mt-6 text-sm text-slate-500">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(p) if p.emails.is_empty() => view! { <EmptyState title="No emails yet" text="Emails appear here when an application is added."/> }.into_any(),
                        Ok(p) => {
                            let pages = ((p.total + p.page_size as i64 - 1) / p.page_size as i64).max(1) as u32;
                            let current = p.page;
                            view! {
                                <ul id="outbox" class="mt-6 space-y-4">
                                    {p.emails.into_iter().map(|e| {
                                        let (badge, class) = match e.status.as_str() {
                                            "sent" => ("Sent", "bg-emerald-50 text-emerald-700 ring-emerald-200"),
                                            "failed" => ("Failed", "bg-red-50 text-red-700 ring-red-200"),
                                            "queued" => ("Sending", "bg-sky-50 text-sky-700 ring-sky-200"),
                                            _ => ("Stored (no SMTP)", "bg-slate-100 text-slate-700 ring-slate-200"),
                                        };
                                        view! {
                                            <li class="rounded-lg bg-white p-5 shadow-sm ring-1 ring-slate-200">
                                                <div class="flex flex-wrap items-baseline justify-between gap-2">
                                                    <p class="font-medium text-slate-900">{e.subject}</p>
                                                    <span class=format!("rounded-full px-2 py-0.5 text-xs font-medium ring-1 {class}")>{badge}</span>
                                                </div>
                                                <p class="mt-1 text-sm text-slate-600">"To " {e.recipient} " · " {e.created_at} {e.sent_at.map(|s| format!(" · sent {s}"))}</p>
                                                {e.error.map(|err| view! { <p class="mt-2 rounded-md bg-red-50 px-3 py-2 text-sm text-red-700">{err}</p> })}
                                                <pre class="mt-3 whitespace-pre-wrap rounded-md bg-slate-50 p-3 font-mono text-xs text-slate-800">{e.body}</pre>
                                            </li>
                                        }
                                    }).collect_view()}
                                </ul>
                                <nav class="mt-4 flex items-center justify-end gap-2 text-sm text-slate-600" aria-label="Pages">
                                    <button type="button" class=SECONDARY disabled={current <= 1} on:click=move |_| page.update(|p| *p = p.saturating_sub(1).max(1))>"Previous"</button>
                                    <span>{format!("Page {current} of {pages}")}</span>
                                    <button type="button" class=SECONDARY disabled={current >= pages} on:click=move |_| page.update(|p| *p += 1)>"Next"</button>
                                </nav>
                            }.into_any()
                        }
                        Err(e) => view! { <ErrorPanel error=e/> }.into_any(),
                    }
                })}
            </Transition>
        </div>
    }
}
