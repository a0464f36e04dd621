//! `/admin/my-user`: the signed-in user's profile and their OAuth
//! applications, with the Add Application dialog that shows the client
//! secret exactly once.

use super::components::CopyableCode;
use super::layout::ViewerResource;
use crate::api::applications::{
    create_my_application, get_my_applications, ApplicationRow, CreatedCredentials, MyApplications,
    NewApplicationForm, OrganizationOption,
};
use crate::api::AppError;
use leptos::prelude::*;
use leptos_meta::Title;

#[derive(Debug, Clone, PartialEq)]
enum Dialog {
    Closed,
    Form,
    Created(CreatedCredentials),
}

#[component]
pub fn MyUserPage() -> impl IntoView {
    let viewer = use_context::<ViewerResource>();
    let version = RwSignal::new(0u32);
    let apps = Resource::new(move || version.get(), |_| get_my_applications());
    let dialog = RwSignal::new(Dialog::Closed);

    view! {
        <Title text="My User"/>
        <div class="mx-auto max-w-6xl">
            <h1 class="text-2xl font-bold tracking-tight text-slate-900">"My User"</h1>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let user = match viewer {
                        Some(v) => v.await.ok().and_then(|v| v.user),
                        None => None,
                    };
                    user.map(|u| view! {
                        <dl class="mt-4 grid grid-cols-1 gap-4 rounded-lg bg-white p-6 text-sm shadow-sm ring-1 ring-slate-200 sm:grid-cols-3">
                            <div><dt class="text-slate-500">"User name"</dt><dd class="mt-1 font-medium text-slate-900">{u.username}</dd></div>
                            <div><dt class="text-slate-500">"Primary email"</dt><dd class="mt-1 font-medium text-slate-900">{u.email}</dd></div>
                            <div><dt class="text-slate-500">"Role"</dt><dd class="mt-1 font-medium text-slate-900">{if u.is_admin { "Administrator" } else { "User" }}</dd></div>
                        </dl>
                    })
                })}
            </Suspense>

            <section class="mt-8" aria-labelledby="oauth-apps-title">
                <div class="flex items-center justify-between">
                    <h2 id="oauth-apps-title" class="text-lg font-semibold text-slate-900">"OAuth Applications"</h2>
                    <button
                        type="button"
                        class="rounded-md bg-indigo-600 px-3 py-2 text-sm font-semibold text-white shadow-sm hover:bg-indigo-500"
                        on:click=move |_| dialog.set(Dialog::Form)
                    >
                        "Add Application"
                    </button>
                </div>
                <Transition fallback=|| view! { <p class="mt-4 text-sm text-slate-500">"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match apps.await {
                            Ok(data) => view! { <ApplicationsTable data/> }.into_any(),
                            Err(e) => view! { <p role="alert" class="mt-4 text-sm text-red-700">{e.to_string()}</p> }.into_any(),
                        }
                    })}
                </Transition>
            </section>
        </div>
        <Show when=move || dialog.get() != Dialog::Closed>
            <AddApplicationDialog dialog apps version/>
        </Show>
    }
}

#[component]
fn ApplicationsTable(data: MyApplications) -> impl IntoView {
    let multi_org = data.organizations.len() > 1;
    if data.applications.is_empty() {
        return view! {
            <div class="mt-4 rounded-lg border-2 border-dashed border-slate-300 p-8 text-center">
                <p class="text-sm font-medium text-slate-900">"No applications yet"</p>
                <p class="mt-1 text-sm text-slate-500">"Add one to get a client ID and secret for a third-party app."</p>
            </div>
        }
        .into_any();
    }
    view! {
        <div class="mt-4 overflow-x-auto rounded-lg bg-white shadow-sm ring-1 ring-slate-200">
            <table class="min-w-full divide-y divide-slate-200 text-sm" id="my-applications">
                <thead class="bg-slate-50 text-left text-xs font-semibold uppercase tracking-wide text-slate-500">
                    <tr>
                        {multi_org.then(|| view! { <th scope="col" class="px-4 py-3">"Organization"</th> })}
                        <th scope="col" class="px-4 py-3">"Name"</th>
                        <th scope="col" class="px-4 py-3">"Client ID"</th>
                        <th scope="col" class="px-4 py-3">"Active"</th>
                        <th scope="col" class="px-4 py-3">"Grant type"</th>
                        <th scope="col" class="px-4 py-3">"Last used at"</th>
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-100">
                    {data.applications.into_iter().map(|a: ApplicationRow| view! {
                        <tr>
                            {multi_org.then(|| view! { <td class="px-4 py-3 text-slate-600">{a.organization.clone()}</td> })}
                            <td class="px-4 py-3 font-medium text-slate-900">{a.name}</td>
                            <td class="px-4 py-3 font-mono text-xs text-slate-600">{a.client_id}</td>
                            <td class="px-4 py-3">
                                {if a.active {
                                    view! { <span class="rounded-full bg-emerald-50 px-2 py-0.5 text-xs font-medium text-emerald-700 ring-1 ring-emerald-200">"Active"</span> }.into_any()
                                } else {
                                    view! { <span class="rounded-full bg-slate-100 px-2 py-0.5 text-xs font-medium text-slate-600 ring-1 ring-slate-200">"Inactive"</span> }.into_any()
                                }}
                            </td>
                            <td class="px-4 py-3 text-slate-600">{a.grant_type}</td>
                            <td class="px-4 py-3 text-slate-600">{a.last_used_at.unwrap_or_else(|| "Never".into())}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

const INPUT: &str = "mt-1.5 block w-full rounded-md border-0 px-3 py-2 text-slate-900 shadow-sm ring-1 ring-inset ring-slate-300 focus:ring-2 focus:ring-inset focus:ring-indigo-600 sm:text-sm";

#[component]
fn AddApplicationDialog(
    dialog: RwSignal<Dialog>,
    apps: Resource<Result<MyApplications, AppError>>,
    version: RwSignal<u32>,
) -> impl IntoView {
    let viewer = use_context::<ViewerResource>();
    let name = RwSignal::new(String::new());
    let organization = RwSignal::new(String::new());
    let active = RwSignal::new(true);
    let grant_type = RwSignal::new("client_credentials".to_string());
    let redirect_uris = RwSignal::new(String::new());
    let confidential = RwSignal::new(true);
    let skip_consent = RwSignal::new(false);
    let create = Action::new(|form: &NewApplicationForm| {
        let form = form.clone();
        async move { create_my_application(form).await }
    });
    let organizations = move || -> Vec<OrganizationOption> {
        apps.get().and_then(Result::ok).map(|a| a.organizations).unwrap_or_default()
    };
    // The message for one field, from the last answer.
    let field_error = move |field: &'static str| {
        move || match create.value().get() {
            Some(Err(AppError::Invalid { field: f, message })) if f == field => Some(message),
            _ => None,
        }
    };
    let form_error = move || match create.value().get() {
        Some(Err(AppError::Invalid { field, .. })) if ["name", "organization_id", "grant_type", "redirect_uris"].contains(&field.as_str()) => None,
        Some(Err(e)) => Some(e.to_string()),
        _ => None,
    };
    Effect::new(move |_| {
        if let Some(Ok(created)) = create.value().get() {
            dialog.set(Dialog::Created(created));
            version.update(|v| *v += 1);
        }
    });
    let close = move || {
        dialog.set(Dialog::Closed);
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let csrf_token = viewer.and_then(|v| v.get_untracked()).and_then(Result::ok).map(|v| v.csrf_token).unwrap_or_default();
        create.dispatch(NewApplicationForm {
            csrf_token,
            organization_id: organization.get_untracked().parse().ok(),
            name: name.get_untracked(),
            active: active.get_untracked(),
            grant_type: grant_type.get_untracked(),
            redirect_uris: redirect_uris.get_untracked(),
            confidential: confidential.get_untracked(),
            skip_consent: skip_consent.get_untracked(),
        });
    };
    let name_ref = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if let Some(input) = name_ref.get() {
            let _ = input.focus();
        }
    });

    view! {
        <div
            class="fixed inset-0 z-50 flex items-end justify-center bg-slate-900/50 p-4 sm:items-center"
            on:keydown=move |ev| {
                if ev.key() == "Escape" {
                    close();
                }
            }
        >
            <div role="dialog" aria-modal="true" aria-labelledby="add-app-title" class="w-full max-w-lg rounded-lg bg-white shadow-xl">
                {move || match dialog.get() {
                    Dialog::Created(created) => view! { <Credentials created on_close=close/> }.into_any(),
                    _ => view! {
                        <form on:submit=submit novalidate>
                            <div class="border-b border-slate-200 px-6 py-4">
                                <h2 id="add-app-title" class="text-base font-semibold text-slate-900">"Add Application"</h2>
                            </div>
                            <div class="space-y-4 px-6 py-5">
                                {move || form_error().map(|m| view! { <p role="alert" class="rounded-md bg-red-50 px-3 py-2 text-sm text-red-700">{m}</p> })}
                                {move || (organizations().len() > 1).then(|| view! {
                                    <div>
                                        <label for="app-organization" class="block text-sm font-medium text-slate-700">"Organization"</label>
                                        <select id="app-organization" class=INPUT on:change=move |ev| organization.set(event_target_value(&ev))>
                                            <option value="">"Choose…"</option>
                                            {organizations().into_iter().map(|o| view! { <option value=o.id.to_string()>{o.name}</option> }).collect_view()}
                                        </select>
                                        <FieldError message=Signal::derive(field_error("organization_id"))/>
                                    </div>
                                })}
                                <div>
                                    <label for="app-name" class="block text-sm font-medium text-slate-700">"Application Name"</label>
                                    <input id="app-name" node_ref=name_ref type="text" maxlength="255" class=INPUT
                                        prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/>
                                    <FieldError message=Signal::derive(field_error("name"))/>
                                </div>
                                <CheckboxField id="app-active" label="Active" value=active/>
                                <div>
                                    <label for="app-grant" class="block text-sm font-medium text-slate-700">"Grant type"</label>
                                    <select id="app-grant" class=INPUT on:change=move |ev| grant_type.set(event_target_value(&ev))>
                                        <option value="client_credentials" selected=move || grant_type.get() == "client_credentials">"Client credentials"</option>
                                        <option value="authorization_code" selected=move || grant_type.get() == "authorization_code">"Authorization code"</option>
                                    </select>
                                    <FieldError message=Signal::derive(field_error("grant_type"))/>
                                </div>
                                <Show when=move || grant_type.get() == "authorization_code">
                                    <div>
                                        <label for="app-redirects" class="block text-sm font-medium text-slate-700">"Redirect URLs"</label>
                                        <textarea id="app-redirects" rows="3" class=INPUT placeholder="https://app.example.com/callback"
                                            prop:value=move || redirect_uris.get() on:input=move |ev| redirect_uris.set(event_target_value(&ev))></textarea>
                                        <p class="mt-1 text-xs text-slate-500">"One per line. Matched exactly."</p>
                                        <FieldError message=Signal::derive(field_error("redirect_uris"))/>
                                    </div>
                                    <CheckboxField id="app-confidential" label="Confidential client (has a secret)" value=confidential/>
                                    <CheckboxField id="app-skip-consent" label="Skip User Consent" value=skip_consent/>
                                </Show>
                            </div>
                            <div class="flex justify-end gap-3 rounded-b-lg bg-slate-50 px-6 py-3">
                                <button type="button" class="rounded-md bg-white px-3 py-2 text-sm font-semibold text-slate-700 shadow-sm ring-1 ring-inset ring-slate-300 hover:bg-slate-50" on:click=move |_| close()>
                                    "Cancel"
                                </button>
                                <button type="submit" class="rounded-md bg-indigo-600 px-3 py-2 text-sm font-semibold text-white shadow-sm hover:bg-indigo-500 disabled:opacity-70" disabled=move || create.pending().get()>
                                    {move || if create.pending().get() { "Creating…" } else { "Create" }}
                                </button>
                            </div>
                        </form>
                    }.into_any(),
                }}
            </div>
        </div>
    }
}

#[component]
fn CheckboxField(id: &'static str, label: &'static str, value: RwSignal<bool>) -> impl IntoView {
    view! {
        <div class="flex items-center gap-2">
            <input id=id type="checkbox" class="h-4 w-4 rounded border-slate-300 text-indigo-600"
                prop:checked=move || value.get() on:change=move |ev| value.set(event_target_checked(&ev))/>
            <label for=id class="text-sm text-slate-700">{label}</label>
        </div>
    }
}

#[component]
fn FieldError(message: Signal<Option<String>>) -> impl IntoView {
    move || message.get().map(|m| view! { <p class="mt-1 text-sm text-red-600" role="alert">{m}</p> })
}

#[component]
fn Credentials(created: CreatedCredentials, on_close: impl Fn() + Clone + Send + Sync + 'static) -> impl IntoView {
    let close = on_close.clone();
    view! {
        <div class="border-b border-slate-200 px-6 py-4">
            <h2 id="add-app-title" class="text-base font-semibold text-slate-900">{format!("\"{}\" was created", created.name)}</h2>
        </div>
        <div class="space-y-4 px-6 py-5 text-sm">
            <div>
                <p class="font-medium text-slate-700">"Client ID"</p>
                <div class="mt-1"><CopyableCode id="new-client-id" value=created.client_id.clone()/></div>
            </div>
            {created.client_secret.clone().map(|secret| view! {
                <div>
                    <p class="font-medium text-slate-700">"Client Secret"</p>
                    <div class="mt-1"><CopyableCode id="new-client-secret" value=secret/></div>
                    <p class="mt-2 rounded-md bg-amber-50 px-3 py-2 text-amber-800 ring-1 ring-amber-200">
                        "Copy the secret now: it is stored only as a hash and will not be shown again."
                    </p>
                </div>
            })}
        </div>
        <div class="flex justify-end rounded-b-lg bg-slate-50 px-6 py-3">
            <button type="button" class="rounded-md bg-indigo-600 px-3 py-2 text-sm font-semibold text-white shadow-sm hover:bg-indigo-500" on:click=move |_| close()>
                "Close"
            </button>
        </div>
    }
}
