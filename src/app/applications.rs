//! The OAuth applications grid, shared by My User, System → User Management
//! → OAuth Applications and Customers → Storefront OAuth Applications:
//! filters (name, organization, status), sorting, paging, a row menu (edit,
//! activate/deactivate, regenerate secret, delete, each confirmed) and the
//! Add Application dialog that shows the credentials once. Grid actions call
//! server functions and refresh the grid in place, without a page load.

use super::components::{
    csrf_token, error_for, error_outside, viewer_is_administrator, CheckboxField, ConfirmDialog, CopyableCode,
    DialogTitle, EmptyState, ErrorPanel, FieldError, KeysAlerts, Modal, PageHeader, StatusBadge, INPUT, PRIMARY,
    SECONDARY,
};
use crate::api::applications::{
    create_application, delete_application, get_application, get_application_grid, list_applications,
    regenerate_application_secret, set_application_active, update_application, ApplicationRow, CreatedCredentials,
    EditApplicationForm, GridMeta, GridQuery, NewApplicationForm, PAGE_SIZES,
};
use crate::model::GrantType;
use crate::permissions::GridScope;
use leptos::prelude::*;
use leptos_meta::Title;

/// System → User Management → OAuth Applications.
#[component]
pub fn SystemApplicationsPage() -> impl IntoView {
    view! {
        <Title text="OAuth Applications"/>
        <div class="mx-auto max-w-7xl">
            <PageHeader title="OAuth Applications" subtitle="Every back-office application of your organizations."><span></span></PageHeader>
            <ApplicationsGrid scope=GridScope::BackOffice/>
        </div>
    }
}

/// Customers → Storefront OAuth Applications.
#[component]
pub fn StorefrontApplicationsPage() -> impl IntoView {
    view! {
        <Title text="Storefront OAuth Applications"/>
        <div class="mx-auto max-w-7xl">
            <PageHeader title="Storefront OAuth Applications" subtitle="Applications that act for storefront customer users."><span></span></PageHeader>
            <ApplicationsGrid scope=GridScope::Storefront/>
        </div>
    }
}

#[derive(Debug, Clone, PartialEq)]
enum GridDialog {
    None,
    Create,
    Credentials(CreatedCredentials, &'static str),
    Edit(i64),
    Confirm(Confirm, ApplicationRow),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Confirm {
    Activate,
    Deactivate,
    Regenerate,
    Delete,
}

fn grid_id(scope: GridScope) -> &'static str {
    match scope {
        GridScope::Mine => "my-applications",
        GridScope::BackOffice => "backoffice-applications",
        GridScope::Storefront => "storefront-applications",
    }
}

#[component]
pub fn ApplicationsGrid(scope: GridScope) -> impl IntoView {
    let query = RwSignal::new(GridQuery::new(scope));
    let version = RwSignal::new(0u32);
    let meta = Resource::new(move || version.get(), move |_| get_application_grid(scope));
    let page = Resource::new(move || (query.get(), version.get()), |(q, _)| list_applications(q));
    let dialog = RwSignal::new(GridDialog::None);
    let updating = RwSignal::new(false);
    let refresh = Callback::new(move |_: ()| version.update(|v| *v += 1));
    let close = Callback::new(move |_: ()| dialog.set(GridDialog::None));
    let owner_label = match scope {
        GridScope::Mine => None,
        GridScope::BackOffice => Some("Owner"),
        GridScope::Storefront => Some("Customer user"),
    };

    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match meta.await {
                    Ok(m) => view! { <KeysAlerts keys=m.keys/> }.into_any(),
                    Err(_) => ().into_any(),
                }
            })}
        </Suspense>
        <section class="mt-6" aria-label="OAuth applications">
            <div class="flex flex-wrap items-end gap-3">
                <div class="w-full sm:w-64">
                    <label for=format!("{}-filter-name", grid_id(scope)) class="block text-xs font-medium text-slate-600">"Name"</label>
                    <input id=format!("{}-filter-name", grid_id(scope)) type="search" placeholder="Filter by name" class=INPUT
                        prop:value=move || query.with(|q| q.name.clone())
                        on:input=move |ev| query.update(|q| { q.name = event_target_value(&ev); q.page = 1; })/>
                </div>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        let orgs = meta.await.map(|m| m.organizations).unwrap_or_default();
                        (orgs.len() > 1).then(|| view! {
                            <div class="w-full sm:w-52">
                                <label for=format!("{}-filter-org", grid_id(scope)) class="block text-xs font-medium text-slate-600">"Organization"</label>
                                <select id=format!("{}-filter-org", grid_id(scope)) class=INPUT
                                    on:change=move |ev| query.update(|q| { q.organization_id = event_target_value(&ev).parse().ok(); q.page = 1; })>
                                    <option value="">"All organizations"</option>
                                    {orgs.into_iter().map(|o| view! {
                                        <option value=o.id.to_string() selected=move || query.with(|q| q.organization_id == Some(o.id))>{o.name}</option>
                                    }).collect_view()}
                                </select>
                            </div>
                        })
                    })}
                </Suspense>
                <div class="w-full sm:w-40">
                    <label for=format!("{}-filter-status", grid_id(scope)) class="block text-xs font-medium text-slate-600">"Status"</label>
                    <select id=format!("{}-filter-status", grid_id(scope)) class=INPUT
                        on:change=move |ev| query.update(|q| {
                            q.active = match event_target_value(&ev).as_str() { "active" => Some(true), "inactive" => Some(false), _ => None };
                            q.page = 1;
                        })>
                        <option value="">"All"</option>
                        <option value="active">"Active"</option>
                        <option value="inactive">"Inactive"</option>
                    </select>
                </div>
                <div class="flex-1"></div>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        meta.await.ok().filter(|m| m.can_create).map(|_| view! {
                            <button type="button" class=PRIMARY on:click=move |_| dialog.set(GridDialog::Create)>"Add Application"</button>
                        })
                    })}
                </Suspense>
            </div>
            <Transition fallback=|| view! { <p class="mt-4 text-sm text-slate-500">"Loading…"</p> } set_pending=updating.write_only()>
                {move || Suspend::new(async move {
                    let multi_org = meta.await.map(|m| m.organizations.len() > 1).unwrap_or(false);
                    match page.await {
                        Ok(p) if p.total == 0 => {
                            let filtered = query.with_untracked(|q| !q.name.trim().is_empty() || q.organization_id.is_some() || q.active.is_some());
                            if filtered {
                                view! { <EmptyState title="No applications match" text="Change or clear the filters to see more."/> }.into_any()
                            } else {
                                view! { <EmptyState title="No applications yet" text="Add one to get a client ID and secret for a third-party app."/> }.into_any()
                            }
                        }
                        Ok(p) => view! { <Table scope rows=p.rows multi_org owner_label query dialog/> <Pager total=p.total page=p.page page_size=p.page_size query/> }.into_any(),
                        Err(e) => view! { <ErrorPanel error=e/> }.into_any(),
                    }
                })}
            </Transition>
            <p class="mt-2 h-4 text-xs text-slate-500" aria-live="polite">
                {move || updating.get().then_some("Updating…")}
            </p>
        </section>
        {move || match dialog.get() {
            GridDialog::None => ().into_any(),
            GridDialog::Create => view! {
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        meta.await.ok().map(|m| view! { <CreateDialog scope meta=m dialog refresh owner_label/> })
                    })}
                </Suspense>
            }.into_any(),
            GridDialog::Credentials(created, title) => view! { <CredentialsDialog created title on_close=close/> }.into_any(),
            GridDialog::Edit(id) => view! { <EditDialog id on_close=close refresh/> }.into_any(),
            GridDialog::Confirm(kind, row) => view! { <ConfirmRow kind row dialog refresh/> }.into_any(),
        }}
    }
}

#[component]
fn Table(
    scope: GridScope,
    rows: Vec<ApplicationRow>,
    multi_org: bool,
    owner_label: Option<&'static str>,
    query: RwSignal<GridQuery>,
    dialog: RwSignal<GridDialog>,
) -> impl IntoView {
    view! {
        <div class="mt-4 rounded-lg bg-white shadow-sm ring-1 ring-slate-200">
            <table class="min-w-full divide-y divide-slate-200 text-sm" id=grid_id(scope)>
                <thead class="bg-slate-50 text-left text-xs font-semibold uppercase tracking-wide text-slate-500">
                    <tr>
                        {multi_org.then(|| view! { <SortHeader column="organization" label="Organization" query class="hidden lg:table-cell"/> })}
                        <SortHeader column="name" label="Name" query/>
                        <SortHeader column="client_id" label="Client ID" query class="hidden md:table-cell"/>
                        <SortHeader column="active" label="Active" query/>
                        <SortHeader column="grant_type" label="Grant type" query class="hidden md:table-cell"/>
                        {owner_label.map(|label| view! { <SortHeader column="owner" label query class="hidden lg:table-cell"/> })}
                        <SortHeader column="last_used_at" label="Last used at" query class="hidden lg:table-cell"/>
                        <th scope="col" class="px-3 py-3"><span class="sr-only">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-100">
                    // Keyed by the whole row: a row whose data changed gets new
                    // elements, so no menu or handler outlives the data it was for.
                    <For each=move || rows.clone() key=|row| row.clone() children=move |a| {
                        let row = a.clone();
                        view! {
                            <tr data-client-id=a.client_id.clone()>
                                {multi_org.then(|| view! { <td class="hidden px-3 py-3 text-slate-600 lg:table-cell">{a.organization.clone()}</td> })}
                                <td class="px-3 py-3 font-medium text-slate-900">{a.name.clone()}</td>
                                <td class="hidden px-3 py-3 md:table-cell">
                                    <span class="block max-w-[8rem] truncate font-mono text-xs text-slate-600" title=a.client_id.clone()>{a.client_id.clone()}</span>
                                </td>
                                <td class="px-3 py-3"><StatusBadge on=a.active/></td>
                                <td class="hidden whitespace-nowrap px-3 py-3 text-slate-600 md:table-cell">
                                    {grant_label(a.grant_type)}
                                    {(a.grant_type == GrantType::AuthorizationCode).then(|| view! {
                                        <span class="ml-2 rounded-full bg-indigo-50 px-2 py-0.5 text-xs font-medium text-indigo-700 ring-1 ring-inset ring-indigo-200"
                                            title="It may sign people in with OpenID Connect">"OpenID"</span>
                                    })}
                                </td>
                                {owner_label.map(|_| view! { <td class="hidden px-3 py-3 text-slate-600 lg:table-cell">{a.owner.clone().unwrap_or_else(|| "—".into())}</td> })}
                                <td class="hidden whitespace-nowrap px-3 py-3 text-slate-600 lg:table-cell">{a.last_used_at.clone().unwrap_or_else(|| "Never".into())}</td>
                                <td class="whitespace-nowrap px-3 py-3 text-right"><RowMenu row dialog/></td>
                            </tr>
                        }
                    }/>
                </tbody>
            </table>
        </div>
    }
}

fn grant_label(grant_type: GrantType) -> &'static str {
    match grant_type {
        GrantType::ClientCredentials => "Client credentials",
        GrantType::AuthorizationCode => "Authorization code",
    }
}

#[component]
fn SortHeader(
    column: &'static str,
    label: &'static str,
    query: RwSignal<GridQuery>,
    #[prop(default = "")] class: &'static str,
) -> impl IntoView {
    let sorted = move || query.with(|q| (q.sort == column).then_some(q.descending));
    view! {
        <th scope="col" class=format!("whitespace-nowrap px-3 py-3 {class}")
            aria-sort=move || match sorted() { Some(false) => "ascending", Some(true) => "descending", None => "none" }>
            <button type="button" class="group inline-flex items-center gap-1 uppercase hover:text-slate-900"
                on:click=move |_| query.update(|q| {
                    if q.sort == column { q.descending = !q.descending } else { q.sort = column.into(); q.descending = false }
                    q.page = 1;
                })>
                {label}
                <span aria-hidden="true" class="text-slate-400">
                    {move || match sorted() { Some(false) => "▲", Some(true) => "▼", None => "" }}
                </span>
            </button>
        </th>
    }
}

#[component]
fn Pager(total: i64, page: u32, page_size: u32, query: RwSignal<GridQuery>) -> impl IntoView {
    let first = (page as i64 - 1) * page_size as i64 + 1;
    let last = (first + page_size as i64 - 1).min(total);
    let pages = ((total + page_size as i64 - 1) / page_size as i64).max(1) as u32;
    view! {
        <nav class="mt-3 flex flex-wrap items-center justify-between gap-3 text-sm text-slate-600" aria-label="Pages">
            <p>{format!("Showing {first}–{last} of {total}")}</p>
            <div class="flex items-center gap-2">
                <label class="flex items-center gap-2">
                    "Per page"
                    <select class="rounded-md border-0 py-1 pl-2 pr-7 text-sm ring-1 ring-inset ring-slate-300"
                        on:change=move |ev| query.update(|q| { q.page_size = event_target_value(&ev).parse().unwrap_or(25); q.page = 1; })>
                        {PAGE_SIZES.iter().map(|n| view! { <option value=n.to_string() selected=*n == page_size>{n.to_string()}</option> }).collect_view()}
                    </select>
                </label>
                <button type="button" class=SECONDARY disabled={page <= 1} on:click=move |_| query.update(|q| q.page = q.page.saturating_sub(1).max(1))>"Previous"</button>
                <span>{format!("Page {page} of {pages}")}</span>
                <button type="button" class=SECONDARY disabled={page >= pages} on:click=move |_| query.update(|q| q.page += 1)>"Next"</button>
            </div>
        </nav>
    }
}

/// The row's actions, in a `<details>` menu that closes after a choice.
#[component]
fn RowMenu(row: ApplicationRow, dialog: RwSignal<GridDialog>) -> impl IntoView {
    if !row.can_edit && !row.can_delete {
        return ().into_any();
    }
    let menu = NodeRef::<leptos::html::Details>::new();
    let choose = move |next: GridDialog| {
        if let Some(details) = menu.get() {
            let _ = details.remove_attribute("open");
        }
        dialog.set(next);
    };
    let (r1, r2, r3, r4) = (row.clone(), row.clone(), row.clone(), row.clone());
    let item = "block w-full px-4 py-2 text-left text-sm text-slate-700 hover:bg-slate-50";
    view! {
        <details node_ref=menu class="relative inline-block text-left"
            on:keydown=move |ev| if ev.key() == "Escape" { if let Some(d) = menu.get() { let _ = d.remove_attribute("open"); } }>
            <summary class="cursor-pointer list-none whitespace-nowrap rounded-md px-2 py-1 text-sm font-medium text-slate-600 ring-1 ring-inset ring-slate-300 hover:bg-slate-50 [&::-webkit-details-marker]:hidden"
                aria-label=format!("Actions for {}", row.name) title="Actions">
                <span aria-hidden="true" class="text-base leading-none">"⋯"</span>
            </summary>
            <div role="menu" class="absolute right-0 z-30 mt-1 w-48 rounded-md bg-white py-1 shadow-lg ring-1 ring-slate-900/5">
                {row.can_edit.then(|| view! {
                    <button type="button" role="menuitem" class=item on:click=move |_| choose(GridDialog::Edit(r1.id))>"Edit"</button>
                    <button type="button" role="menuitem" class=item on:click=move |_| {
                        let kind = if r2.active { Confirm::Deactivate } else { Confirm::Activate };
                        choose(GridDialog::Confirm(kind, r2.clone()))
                    }>{if row.active { "Deactivate" } else { "Activate" }}</button>
                })}
                {(row.can_edit && row.confidential).then(|| view! {
                    <button type="button" role="menuitem" class=item on:click=move |_| choose(GridDialog::Confirm(Confirm::Regenerate, r3.clone()))>"Regenerate secret"</button>
                })}
                {row.can_delete.then(|| view! {
                    <button type="button" role="menuitem" class="block w-full px-4 py-2 text-left text-sm text-red-700 hover:bg-red-50"
                        on:click=move |_| choose(GridDialog::Confirm(Confirm::Delete, r4.clone()))>"Delete"</button>
                })}
            </div>
        </details>
    }
    .into_any()
}

/// The confirmation for one row action, and the action itself.
#[component]
fn ConfirmRow(
    kind: Confirm,
    row: ApplicationRow,
    dialog: RwSignal<GridDialog>,
    refresh: Callback<()>,
) -> impl IntoView {
    let id = row.id;
    let name = row.name.clone();
    let action = Action::new(move |_: &()| {
        let csrf = csrf_token();
        async move {
            match kind {
                Confirm::Activate => set_application_active(csrf, id, true).await,
                Confirm::Deactivate => set_application_active(csrf, id, false).await,
                Confirm::Delete => delete_application(csrf, id).await,
                Confirm::Regenerate => {
                    let created = regenerate_application_secret(csrf, id).await?;
                    dialog.set(GridDialog::Credentials(created, "New client secret"));
                    Ok(())
                }
            }
        }
    });
    let (title, message, label, danger) = match kind {
        Confirm::Activate => (format!("Activate \"{name}\"?"), "It can get tokens again at once.".to_string(), "Activate", false),
        Confirm::Deactivate => (
            format!("Deactivate \"{name}\"?"),
            "Its token requests and its existing access tokens are refused at once, until it is activated again.".to_string(),
            "Deactivate",
            true,
        ),
        Confirm::Regenerate => (
            format!("Regenerate the secret of \"{name}\"?"),
            "The current secret stops working at once, and every token issued to this application (access and refresh tokens) is revoked; people who authorized it sign in to it again. The new secret is shown only once.".to_string(),
            "Regenerate",
            true,
        ),
        Confirm::Delete => (
            format!("Delete \"{name}\"?"),
            "The application and its tokens are removed for good; apps using it stop working at once.".to_string(),
            "Delete",
            true,
        ),
    };
    // After the action: refresh the grid (and close, unless a secret is being shown).
    let on_close = Callback::new(move |_: ()| {
        if matches!(dialog.get_untracked(), GridDialog::Confirm(..)) {
            dialog.set(GridDialog::None);
        }
        refresh.run(());
    });
    view! { <ConfirmDialog title message confirm_label=label danger action on_close/> }
}

#[component]
fn CreateDialog(
    scope: GridScope,
    meta: GridMeta,
    dialog: RwSignal<GridDialog>,
    refresh: Callback<()>,
    owner_label: Option<&'static str>,
) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let organization = RwSignal::new(String::new());
    let owner = RwSignal::new(String::new());
    let active = RwSignal::new(true);
    let grant_type = RwSignal::new("client_credentials".to_string());
    let redirect_uris = RwSignal::new(String::new());
    let post_logout_redirect_uris = RwSignal::new(String::new());
    let confidential = RwSignal::new(true);
    let skip_consent = RwSignal::new(false);
    let create = Action::new(|form: &NewApplicationForm| {
        let form = form.clone();
        async move { create_application(form).await }
    });
    let field_error = move |field: &'static str| Signal::derive(move || error_for(create.value().get(), field));
    let form_error = move || {
        error_outside(
            create.value().get(),
            &[
                "name",
                "organization_id",
                "owner_id",
                "grant_type",
                "redirect_uris",
                "post_logout_redirect_uris",
                "skip_consent",
            ],
        )
    };
    Effect::new(move |_| {
        if let Some(Ok(created)) = create.value().get() {
            dialog.set(GridDialog::Credentials(created, "created"));
            refresh.run(());
        }
    });
    let close = Callback::new(move |_: ()| dialog.set(GridDialog::None));
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        create.dispatch(NewApplicationForm {
            csrf_token: csrf_token(),
            scope,
            organization_id: organization.get_untracked().parse().ok(),
            owner_id: owner.get_untracked().parse().ok(),
            name: name.get_untracked(),
            active: active.get_untracked(),
            grant_type: grant_type.get_untracked(),
            redirect_uris: redirect_uris.get_untracked(),
            post_logout_redirect_uris: post_logout_redirect_uris.get_untracked(),
            confidential: confidential.get_untracked(),
            skip_consent: skip_consent.get_untracked(),
        });
    };
    let organizations = meta.organizations.clone();
    let single_org = (organizations.len() == 1).then(|| organizations[0].id);
    let owners = meta.owners.clone();
    let owner_choices = move || {
        let org: Option<i64> = organization.get().parse().ok().or(single_org);
        let mut seen = std::collections::BTreeSet::new();
        owners
            .iter()
            .filter(|o| org.is_none_or(|id| o.organization_id == id))
            .filter(|o| seen.insert(o.id))
            .cloned()
            .collect::<Vec<_>>()
    };
    view! {
        <Modal title_id="add-app-title" on_close=close>
            <form on:submit=submit novalidate>
                <DialogTitle id="add-app-title" text="Add Application".into()/>
                <div class="space-y-4 px-6 py-5">
                    {move || form_error().map(|m| view! { <p role="alert" class="rounded-md bg-red-50 px-3 py-2 text-sm text-red-700">{m}</p> })}
                    {(organizations.len() > 1).then(|| view! {
                        <div>
                            <label for="app-organization" class="block text-sm font-medium text-slate-700">"Organization"</label>
                            <select id="app-organization" class=INPUT on:change=move |ev| organization.set(event_target_value(&ev))>
                                <option value="">"Choose…"</option>
                                {organizations.iter().map(|o| view! { <option value=o.id.to_string()>{o.name.clone()}</option> }).collect_view()}
                            </select>
                            <FieldError message=field_error("organization_id")/>
                        </div>
                    })}
                    {owner_label.map(|label| view! {
                        <div>
                            <label for="app-owner" class="block text-sm font-medium text-slate-700">{label}</label>
                            <select id="app-owner" class=INPUT on:change=move |ev| owner.set(event_target_value(&ev))>
                                <option value="">{if scope == GridScope::BackOffice { "Me" } else { "None (authorization code only)" }}</option>
                                {move || owner_choices().into_iter().map(|o| view! { <option value=o.id.to_string()>{o.name}</option> }).collect_view()}
                            </select>
                            <p class="mt-1 text-xs text-slate-500">"Client credentials tokens act as this user."</p>
                            <FieldError message=field_error("owner_id")/>
                        </div>
                    })}
                    <div>
                        <label for="app-name" class="block text-sm font-medium text-slate-700">"Application Name"</label>
                        <input id="app-name" type="text" maxlength="255" class=INPUT autocomplete="off"
                            prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/>
                        <FieldError message=field_error("name")/>
                    </div>
                    <CheckboxField id="app-active" label="Active" value=active/>
                    <div>
                        <label for="app-grant" class="block text-sm font-medium text-slate-700">"Grant type"</label>
                        <select id="app-grant" class=INPUT on:change=move |ev| grant_type.set(event_target_value(&ev))>
                            <option value="client_credentials" selected=move || grant_type.get() == "client_credentials">"Client credentials"</option>
                            <option value="authorization_code" selected=move || grant_type.get() == "authorization_code">"Authorization code"</option>
                        </select>
                        <FieldError message=field_error("grant_type")/>
                    </div>
                    <Show when=move || grant_type.get() == "authorization_code">
                        <div>
                            <label for="app-redirects" class="block text-sm font-medium text-slate-700">"Redirect URLs"</label>
                            <textarea id="app-redirects" rows="3" class=INPUT placeholder="https://app.example.com/callback"
                                prop:value=move || redirect_uris.get() on:input=move |ev| redirect_uris.set(event_target_value(&ev))></textarea>
                            <p class="mt-1 text-xs text-slate-500">"One per line. Matched exactly."</p>
                            <FieldError message=field_error("redirect_uris")/>
                        </div>
                        <div>
                            <label for="app-post-logout-redirects" class="block text-sm font-medium text-slate-700">"Post-logout redirect URLs"</label>
                            <textarea id="app-post-logout-redirects" rows="2" class=INPUT placeholder="https://app.example.com/signed-out"
                                prop:value=move || post_logout_redirect_uris.get() on:input=move |ev| post_logout_redirect_uris.set(event_target_value(&ev))></textarea>
                            <p class="mt-1 text-xs text-slate-500">"Where the application may send people after they sign out (OpenID Connect logout). One per line, matched exactly."</p>
                            <FieldError message=field_error("post_logout_redirect_uris")/>
                        </div>
                        <CheckboxField id="app-confidential" label="Confidential client (has a secret)" value=confidential/>
                        {viewer_is_administrator().then(|| view! {
                            <CheckboxField id="app-skip-consent" label="Skip User Consent" value=skip_consent/>
                            <FieldError message=field_error("skip_consent")/>
                        })}
                    </Show>
                </div>
                <div class="flex justify-end gap-3 rounded-b-lg bg-slate-50 px-6 py-3">
                    <button type="button" class=SECONDARY on:click=move |_| close.run(())>"Cancel"</button>
                    <button type="submit" class=PRIMARY disabled=move || create.pending().get()>
                        {move || if create.pending().get() { "Creating…" } else { "Create" }}
                    </button>
                </div>
            </form>
        </Modal>
    }
}

/// Client ID and secret, shown once after creation or regeneration.
#[component]
fn CredentialsDialog(created: CreatedCredentials, title: &'static str, on_close: Callback<()>) -> impl IntoView {
    let heading = if title == "created" {
        format!("\"{}\" was created", created.name)
    } else {
        format!("{title} for \"{}\"", created.name)
    };
    view! {
        <Modal title_id="credentials-title" on_close>
            <DialogTitle id="credentials-title" text=heading/>
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
                <button type="button" class=PRIMARY on:click=move |_| on_close.run(())>"Close"</button>
            </div>
        </Modal>
    }
}

#[component]
fn EditDialog(id: i64, on_close: Callback<()>, refresh: Callback<()>) -> impl IntoView {
    let details = Resource::new(move || id, get_application);
    view! {
        <Modal title_id="edit-app-title" on_close>
            <Suspense fallback=|| view! { <p class="px-6 py-5 text-sm text-slate-500">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match details.await {
                        Ok(d) => view! { <EditForm d on_close refresh/> }.into_any(),
                        Err(e) => view! {
                            <DialogTitle id="edit-app-title" text="Edit application".into()/>
                            <div class="px-6 py-5"><ErrorPanel error=e/></div>
                            <div class="flex justify-end rounded-b-lg bg-slate-50 px-6 py-3">
                                <button type="button" class=SECONDARY on:click=move |_| on_close.run(())>"Close"</button>
                            </div>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </Modal>
    }
}

#[component]
fn EditForm(
    d: crate::api::applications::ApplicationDetails,
    on_close: Callback<()>,
    refresh: Callback<()>,
) -> impl IntoView {
    let id = d.id;
    let name = RwSignal::new(d.name.clone());
    let active = RwSignal::new(d.active);
    let redirect_uris = RwSignal::new(d.redirect_uris.clone());
    let post_logout_redirect_uris = RwSignal::new(d.post_logout_redirect_uris.clone());
    let skip_consent = RwSignal::new(d.skip_consent);
    let save = Action::new(|form: &EditApplicationForm| {
        let form = form.clone();
        async move { update_application(form).await }
    });
    let field_error = move |field: &'static str| Signal::derive(move || error_for(save.value().get(), field));
    let form_error = move || {
        error_outside(save.value().get(), &["name", "redirect_uris", "post_logout_redirect_uris", "skip_consent"])
    };
    Effect::new(move |_| {
        if let Some(Ok(())) = save.value().get() {
            refresh.run(());
            on_close.run(());
        }
    });
    let code = d.grant_type == GrantType::AuthorizationCode;
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        save.dispatch(EditApplicationForm {
            csrf_token: csrf_token(),
            id,
            name: name.get_untracked(),
            active: active.get_untracked(),
            redirect_uris: redirect_uris.get_untracked(),
            post_logout_redirect_uris: post_logout_redirect_uris.get_untracked(),
            skip_consent: skip_consent.get_untracked(),
        });
    };
    view! {
        <form on:submit=submit novalidate>
            <DialogTitle id="edit-app-title" text=format!("Edit \"{}\"", d.name)/>
            <div class="space-y-4 px-6 py-5">
                {move || form_error().map(|m| view! { <p role="alert" class="rounded-md bg-red-50 px-3 py-2 text-sm text-red-700">{m}</p> })}
                <dl class="grid grid-cols-2 gap-3 text-sm">
                    <div><dt class="text-slate-500">"Organization"</dt><dd class="font-medium text-slate-900">{d.organization.clone()}</dd></div>
                    <div><dt class="text-slate-500">"Grant type"</dt><dd class="font-medium text-slate-900">{d.grant_type.as_str()}</dd></div>
                    <div><dt class="text-slate-500">"Owner"</dt><dd class="font-medium text-slate-900">{d.owner.clone().unwrap_or_else(|| "—".into())}</dd></div>
                    <div><dt class="text-slate-500">"Client"</dt><dd class="font-medium text-slate-900">{if d.confidential { "Confidential" } else { "Public" }}</dd></div>
                    <div class="col-span-2"><dt class="text-slate-500">"OpenID Connect"</dt><dd class="font-medium text-slate-900" data-testid="app-openid">
                        {if code {
                            "Yes: it may sign people in (scope openid; ID tokens, UserInfo, logout)"
                        } else {
                            "No: client credentials tokens act for the application, not a person"
                        }}
                    </dd></div>
                    <div class="col-span-2"><dt class="text-slate-500">"Client ID"</dt><dd class="mt-1"><CopyableCode id="edit-client-id" value=d.client_id.clone()/></dd></div>
                </dl>
                <div>
                    <label for="edit-name" class="block text-sm font-medium text-slate-700">"Application Name"</label>
                    <input id="edit-name" type="text" maxlength="255" class=INPUT autocomplete="off"
                        prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/>
                    <FieldError message=field_error("name")/>
                </div>
                <CheckboxField id="edit-active" label="Active" value=active/>
                {code.then(|| view! {
                    <div>
                        <label for="edit-redirects" class="block text-sm font-medium text-slate-700">"Redirect URLs"</label>
                        <textarea id="edit-redirects" rows="3" class=INPUT
                            prop:value=move || redirect_uris.get() on:input=move |ev| redirect_uris.set(event_target_value(&ev))></textarea>
                        <p class="mt-1 text-xs text-slate-500">"One per line. Matched exactly."</p>
                        <FieldError message=field_error("redirect_uris")/>
                    </div>
                    <div>
                        <label for="edit-post-logout-redirects" class="block text-sm font-medium text-slate-700">"Post-logout redirect URLs"</label>
                        <textarea id="edit-post-logout-redirects" rows="2" class=INPUT
                            prop:value=move || post_logout_redirect_uris.get() on:input=move |ev| post_logout_redirect_uris.set(event_target_value(&ev))></textarea>
                        <p class="mt-1 text-xs text-slate-500">"Where the application may send people after they sign out (OpenID Connect logout). One per line, matched exactly."</p>
                        <FieldError message=field_error("post_logout_redirect_uris")/>
                    </div>
                    {viewer_is_administrator().then(|| view! {
                        <CheckboxField id="edit-skip-consent" label="Skip User Consent" value=skip_consent/>
                        <FieldError message=field_error("skip_consent")/>
                    })}
                })}
            </div>
            <div class="flex justify-end gap-3 rounded-b-lg bg-slate-50 px-6 py-3">
                <button type="button" class=SECONDARY on:click=move |_| on_close.run(())>"Cancel"</button>
                <button type="submit" class=PRIMARY disabled=move || save.pending().get()>
                    {move || if save.pending().get() { "Saving…" } else { "Save" }}
                </button>
            </div>
        </form>
    }
}
