//! System → User Management (users, roles, organizations) and Customers →
//! Customer Users. Administrators only; the server functions refuse others.

use super::components::{
    csrf_token, error_for, error_outside, CheckboxField, ConfirmDialog, DialogTitle, EmptyState, ErrorPanel,
    FieldError, Modal, PageHeader, StatusBadge, TextField, INPUT, PRIMARY, SECONDARY,
};
use crate::api::people::{
    create_customer_user, create_organization, delete_role, get_customer_users, get_organizations, get_roles,
    get_users, save_role, save_user, set_customer_user_enabled, CustomerForm, CustomersPage, RoleForm, RoleRow,
    UserForm, UserRow, UsersPage,
};
use crate::permissions::Level;
use leptos::prelude::*;
use leptos_meta::Title;

const TH: &str = "px-4 py-3";
const TD: &str = "px-4 py-3 text-slate-600";

fn form_footer(on_close: Callback<()>, pending: Memo<bool>, label: &'static str) -> impl IntoView {
    view! {
        <div class="flex justify-end gap-3 rounded-b-lg bg-slate-50 px-6 py-3">
            <button type="button" class=SECONDARY on:click=move |_| on_close.run(())>"Cancel"</button>
            <button type="submit" class=PRIMARY disabled=move || pending.get()>
                {move || if pending.get() { "Saving…" } else { label }}
            </button>
        </div>
    }
}

fn alert(message: Option<String>) -> impl IntoView {
    message.map(|m| view! { <p role="alert" class="rounded-md bg-red-50 px-3 py-2 text-sm text-red-700">{m}</p> })
}

/// A table with its header row; a column is (label, hidden on narrow
/// screens); an empty label is the actions column.
#[component]
fn DataTable(id: &'static str, columns: &'static [(&'static str, bool)], children: Children) -> impl IntoView {
    view! {
        <div class="mt-6 overflow-x-auto rounded-lg bg-white shadow-sm ring-1 ring-slate-200">
            <table id=id class="min-w-full divide-y divide-slate-200 text-sm">
                <thead class="bg-slate-50 text-left text-xs font-semibold uppercase tracking-wide text-slate-500">
                    <tr>
                        {columns.iter().map(|(label, wide_only)| view! {
                            <th scope="col" class=if *wide_only { "hidden px-4 py-3 md:table-cell" } else { TH }>
                                {if label.is_empty() { view! { <span class="sr-only">"Actions"</span> }.into_any() } else { (*label).into_any() }}
                            </th>
                        }).collect_view()}
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-100">{children()}</tbody>
            </table>
        </div>
    }
}

// ---------------------------------------------------------------- users

#[component]
pub fn UsersPage() -> impl IntoView {
    let version = RwSignal::new(0u32);
    let data = Resource::new(move || version.get(), |_| get_users());
    let editing = RwSignal::new(None::<Option<UserRow>>);
    let refresh = Callback::new(move |_: ()| version.update(|v| *v += 1));
    view! {
        <Title text="Users"/>
        <div class="mx-auto max-w-7xl">
            <PageHeader title="Users" subtitle="Back-office users of your organizations, their role and organizations.">
                <button type="button" class=PRIMARY on:click=move |_| editing.set(Some(None))>"Create User"</button>
            </PageHeader>
            <Transition fallback=|| view! { <p class="mt-6 text-sm text-slate-500">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(page) => view! { <UsersTable users=page.users.clone() editing/> }.into_any(),
                        Err(e) => view! { <ErrorPanel error=e/> }.into_any(),
                    }
                })}
            </Transition>
        </div>
        {move || editing.get().map(|user| view! {
            <Suspense fallback=|| ()>
                {move || {
                    let user = user.clone();
                    Suspend::new(async move {
                        data.await.ok().map(|page| view! { <UserDialog page user=user.clone() editing refresh/> })
                    })
                }}
            </Suspense>
        })}
    }
}

#[component]
fn UsersTable(users: Vec<UserRow>, editing: RwSignal<Option<Option<UserRow>>>) -> impl IntoView {
    view! {
        <DataTable id="users" columns={&[("User name", false), ("Email", false), ("Role", false), ("Organizations", true), ("Status", false), ("", false)]}>
                    {users.into_iter().map(|u| {
                        let row = u.clone();
                        view! {
                            <tr>
                                <td class="px-4 py-3 font-medium text-slate-900">{u.username}</td>
                                <td class=TD>{u.email}</td>
                                <td class=TD>{u.role.unwrap_or_else(|| "No role".into())}</td>
                                <td class=format!("{TD} hidden md:table-cell")>{u.organizations}</td>
                                <td class=TD><StatusBadge on=u.enabled labels=("Enabled", "Disabled")/></td>
                                <td class="px-4 py-3 text-right">
                                    <button type="button" class=SECONDARY aria-label=format!("Edit {}", row.username)
                                        on:click=move |_| editing.set(Some(Some(row.clone())))>"Edit"</button>
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </DataTable>
    }
}

#[component]
fn UserDialog(
    page: UsersPage,
    user: Option<UserRow>,
    editing: RwSignal<Option<Option<UserRow>>>,
    refresh: Callback<()>,
) -> impl IntoView {
    let id = user.as_ref().map(|u| u.id);
    let username = RwSignal::new(user.as_ref().map(|u| u.username.clone()).unwrap_or_default());
    let email = RwSignal::new(user.as_ref().map(|u| u.email.clone()).unwrap_or_default());
    let password = RwSignal::new(String::new());
    let default_role = page.roles.iter().find(|r| r.name == "Developer").map(|r| r.id);
    let role = RwSignal::new(match &user {
        Some(u) => u.role_id.map(|r| r.to_string()).unwrap_or_default(),
        None => default_role.map(|r| r.to_string()).unwrap_or_default(),
    });
    let language = RwSignal::new(user.as_ref().map(|u| u.language.clone()).unwrap_or_else(|| "en".into()));
    let single_org = (page.organizations.len() == 1).then(|| page.organizations[0].id);
    let orgs = RwSignal::new(match &user {
        Some(u) => u.organization_ids.clone(),
        None => single_org.into_iter().collect(),
    });
    let enabled = RwSignal::new(user.as_ref().map(|u| u.enabled).unwrap_or(true));
    let save = Action::new(|form: &UserForm| {
        let form = form.clone();
        async move { save_user(form).await }
    });
    let on_close = Callback::new(move |_: ()| editing.set(None));
    let field = move |f: &'static str| Signal::derive(move || error_for(save.value().get(), f));
    let other = move || {
        error_outside(
            save.value().get(),
            &["username", "email", "password", "role_id", "language", "organization_ids", "enabled"],
        )
    };
    Effect::new(move |_| {
        if let Some(Ok(())) = save.value().get() {
            refresh.run(());
            editing.set(None);
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        save.dispatch(UserForm {
            csrf_token: csrf_token(),
            id,
            username: username.get_untracked(),
            email: email.get_untracked(),
            password: password.get_untracked(),
            role_id: role.get_untracked().parse().ok(),
            language: language.get_untracked(),
            organization_ids: orgs.get_untracked(),
            enabled: enabled.get_untracked(),
        });
    };
    let title = match &user {
        Some(u) => format!("Edit user \"{}\"", u.username),
        None => "Create User".to_string(),
    };
    view! {
        <Modal title_id="user-title" on_close>
            <form on:submit=submit novalidate>
                <DialogTitle id="user-title" text=title/>
                <div class="space-y-4 px-6 py-5">
                    {move || alert(other())}
                    {if id.is_none() {
                        view! { <TextField id="user-username" label="User name" value=username error=field("username")/> }.into_any()
                    } else {
                        ().into_any()
                    }}
                    <TextField id="user-email" label="Primary email" kind="email" value=email error=field("email")/>
                    <TextField id="user-password" label=if id.is_none() { "Password" } else { "New password" } kind="password"
                        maxlength=1024 value=password error=field("password")
                        hint=if id.is_none() { "At least 8 characters." } else { "Leave empty to keep the current password." }/>
                    <div>
                        <label for="user-role" class="block text-sm font-medium text-slate-700">"Role"</label>
                        <select id="user-role" class=INPUT on:change=move |ev| role.set(event_target_value(&ev))>
                            <option value="" selected=move || role.get().is_empty()>"No role"</option>
                            {page.roles.iter().map(|r| {
                                let value = r.id.to_string();
                                let v2 = value.clone();
                                view! { <option value=value selected=move || role.get() == v2>{r.name.clone()}</option> }
                            }).collect_view()}
                        </select>
                        <FieldError message=field("role_id")/>
                    </div>
                    <fieldset>
                        <legend class="block text-sm font-medium text-slate-700">"Organizations"</legend>
                        <div class="mt-2 space-y-1">
                            {page.organizations.iter().map(|o| {
                                let oid = o.id;
                                let input_id = format!("user-org-{oid}");
                                view! {
                                    <div class="flex items-center gap-2">
                                        <input id=input_id.clone() type="checkbox" class="h-4 w-4 rounded border-slate-300 text-indigo-600"
                                            prop:checked=move || orgs.with(|v| v.contains(&oid))
                                            on:change=move |ev| {
                                                let on = event_target_checked(&ev);
                                                orgs.update(|v| { v.retain(|x| *x != oid); if on { v.push(oid) } });
                                            }/>
                                        <label for=input_id class="text-sm text-slate-700">{o.name.clone()}</label>
                                    </div>
                                }
                            }).collect_view()}
                        </div>
                        <FieldError message=field("organization_ids")/>
                    </fieldset>
                    <div>
                        <label for="user-language" class="block text-sm font-medium text-slate-700">"Language"</label>
                        <select id="user-language" class=INPUT on:change=move |ev| language.set(event_target_value(&ev))>
                            {page.languages.iter().map(|(code, name)| {
                                let c = code.clone();
                                view! { <option value=code.clone() selected=move || language.get() == c>{name.clone()}</option> }
                            }).collect_view()}
                        </select>
                        <FieldError message=field("language")/>
                    </div>
                    <CheckboxField id="user-enabled" label="Enabled (can log in)" value=enabled/>
                    <FieldError message=field("enabled")/>
                </div>
                {form_footer(on_close, save.pending(), "Save")}
            </form>
        </Modal>
    }
}

// ---------------------------------------------------------------- roles

#[derive(Debug, Clone, PartialEq)]
enum RoleDialog {
    None,
    Edit(Option<RoleRow>),
    Delete(RoleRow),
}

#[component]
pub fn RolesPage() -> impl IntoView {
    let version = RwSignal::new(0u32);
    let data = Resource::new(move || version.get(), |_| get_roles());
    let dialog = RwSignal::new(RoleDialog::None);
    let refresh = Callback::new(move |_: ()| version.update(|v| *v += 1));
    view! {
        <Title text="Roles"/>
        <div class="mx-auto max-w-7xl">
            <PageHeader title="Roles" subtitle="What each role may do with OAuth applications: none, own applications, or the whole organization.">
                <button type="button" class=PRIMARY on:click=move |_| dialog.set(RoleDialog::Edit(None))>"Create Role"</button>
            </PageHeader>
            <Transition fallback=|| view! { <p class="mt-6 text-sm text-slate-500">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(roles) => view! {
                            <DataTable id="roles" columns={&[("Role", false), ("View", false), ("Create", false), ("Edit", false), ("Delete", false), ("Users", false), ("", false)]}>
                                        {roles.into_iter().map(|r| {
                                            let (edit_row, delete_row) = (r.clone(), r.clone());
                                            let level = move |l: Level| if r.administrator { "Organization" } else { l.label() };
                                            view! {
                                                <tr>
                                                    <td class="px-4 py-3">
                                                        <p class="font-medium text-slate-900">{r.name.clone()} {r.administrator.then_some(" (administrator)")}</p>
                                                        <p class="text-xs text-slate-500">{r.description.clone()}</p>
                                                    </td>
                                                    <td class=TD>{level(r.view)}</td>
                                                    <td class=TD>{level(r.create)}</td>
                                                    <td class=TD>{level(r.edit)}</td>
                                                    <td class=TD>{level(r.delete)}</td>
                                                    <td class=TD>{r.users}</td>
                                                    <td class="whitespace-nowrap px-4 py-3 text-right">
                                                        {(!r.built_in).then(|| view! {
                                                            <button type="button" class=SECONDARY aria-label=format!("Edit {}", edit_row.name)
                                                                on:click=move |_| dialog.set(RoleDialog::Edit(Some(edit_row.clone())))>"Edit"</button>
                                                            " "
                                                            <button type="button" class=SECONDARY aria-label=format!("Delete {}", delete_row.name)
                                                                on:click=move |_| dialog.set(RoleDialog::Delete(delete_row.clone()))>"Delete"</button>
                                                        })}
                                                    </td>
                                                </tr>
                                            }
                                        }).collect_view()}
                                    </DataTable>
                        }.into_any(),
                        Err(e) => view! { <ErrorPanel error=e/> }.into_any(),
                    }
                })}
            </Transition>
        </div>
        {move || match dialog.get() {
            RoleDialog::None => ().into_any(),
            RoleDialog::Edit(role) => view! { <RoleEditor role dialog refresh/> }.into_any(),
            RoleDialog::Delete(role) => {
                let id = role.id;
                let action = Action::new(move |_: &()| {
                    let csrf = csrf_token();
                    async move { delete_role(csrf, id).await }
                });
                let on_close = Callback::new(move |_: ()| { dialog.set(RoleDialog::None); refresh.run(()); });
                view! {
                    <ConfirmDialog title=format!("Delete the role \"{}\"?", role.name)
                        message="Only a role no user has can be deleted.".to_string() confirm_label="Delete" danger=true action on_close/>
                }.into_any()
            }
        }}
    }
}

#[component]
fn LevelSelect(id: &'static str, label: &'static str, value: RwSignal<Level>) -> impl IntoView {
    view! {
        <div>
            <label for=id class="block text-sm font-medium text-slate-700">{label}</label>
            <select id=id class=INPUT on:change=move |ev| value.set(Level::parse(&event_target_value(&ev)).unwrap_or_default())>
                {Level::ALL.into_iter().map(|l| view! { <option value=l.key() selected=move || value.get() == l>{l.label()}</option> }).collect_view()}
            </select>
        </div>
    }
}

#[component]
fn RoleEditor(role: Option<RoleRow>, dialog: RwSignal<RoleDialog>, refresh: Callback<()>) -> impl IntoView {
    let id = role.as_ref().map(|r| r.id);
    let name = RwSignal::new(role.as_ref().map(|r| r.name.clone()).unwrap_or_default());
    let description = RwSignal::new(role.as_ref().map(|r| r.description.clone()).unwrap_or_default());
    let administrator = RwSignal::new(role.as_ref().map(|r| r.administrator).unwrap_or(false));
    let view_level = RwSignal::new(role.as_ref().map(|r| r.view).unwrap_or(Level::Own));
    let create = RwSignal::new(role.as_ref().map(|r| r.create).unwrap_or(Level::Own));
    let edit = RwSignal::new(role.as_ref().map(|r| r.edit).unwrap_or(Level::Own));
    let delete = RwSignal::new(role.as_ref().map(|r| r.delete).unwrap_or(Level::None));
    let save = Action::new(|form: &RoleForm| {
        let form = form.clone();
        async move { save_role(form).await }
    });
    let on_close = Callback::new(move |_: ()| dialog.set(RoleDialog::None));
    let field = move |f: &'static str| Signal::derive(move || error_for(save.value().get(), f));
    Effect::new(move |_| {
        if let Some(Ok(())) = save.value().get() {
            refresh.run(());
            dialog.set(RoleDialog::None);
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        save.dispatch(RoleForm {
            csrf_token: csrf_token(),
            id,
            name: name.get_untracked(),
            description: description.get_untracked(),
            administrator: administrator.get_untracked(),
            view: view_level.get_untracked(),
            create: create.get_untracked(),
            edit: edit.get_untracked(),
            delete: delete.get_untracked(),
        });
    };
    view! {
        <Modal title_id="role-title" on_close>
            <form on:submit=submit novalidate>
                <DialogTitle id="role-title" text=if id.is_some() { "Edit Role".to_string() } else { "Create Role".to_string() }/>
                <div class="space-y-4 px-6 py-5">
                    {move || alert(error_outside(save.value().get(), &["name", "description", "administrator"]))}
                    <TextField id="role-name" label="Name" maxlength=100 value=name error=field("name")/>
                    <TextField id="role-description" label="Description" maxlength=500 value=description error=field("description")/>
                    <p class="text-sm font-medium text-slate-700">"OAuth applications"</p>
                    <div class="grid grid-cols-2 gap-3">
                        <LevelSelect id="role-view" label="View" value=view_level/>
                        <LevelSelect id="role-create" label="Create" value=create/>
                        <LevelSelect id="role-edit" label="Edit" value=edit/>
                        <LevelSelect id="role-delete" label="Delete" value=delete/>
                    </div>
                    <CheckboxField id="role-administrator" label="Administrator (users, roles, customers, configuration)" value=administrator/>
                    <FieldError message=field("administrator")/>
                </div>
                {form_footer(on_close, save.pending(), "Save")}
            </form>
        </Modal>
    }
}

// ---------------------------------------------------------------- organizations

#[component]
pub fn OrganizationsPage() -> impl IntoView {
    let version = RwSignal::new(0u32);
    let data = Resource::new(move || version.get(), |_| get_organizations());
    let creating = RwSignal::new(false);
    let name = RwSignal::new(String::new());
    let create = Action::new(move |name: &String| {
        let (csrf, name) = (csrf_token(), name.clone());
        async move { create_organization(csrf, name).await }
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = create.value().get() {
            version.update(|v| *v += 1);
            creating.set(false);
            name.set(String::new());
        }
    });
    let on_close = Callback::new(move |_: ()| creating.set(false));
    view! {
        <Title text="Organizations"/>
        <div class="mx-auto max-w-7xl">
            <PageHeader title="Organizations" subtitle="The organizations you administer. Users, customers and applications belong to them.">
                <button type="button" class=PRIMARY on:click=move |_| creating.set(true)>"Create Organization"</button>
            </PageHeader>
            <Transition fallback=|| view! { <p class="mt-6 text-sm text-slate-500">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(orgs) => view! {
                            <DataTable id="organizations" columns={&[("Name", false), ("Users", false), ("Customer users", false), ("Applications", false), ("Created", true)]}>
                                        {orgs.into_iter().map(|o| view! {
                                            <tr>
                                                <td class="px-4 py-3 font-medium text-slate-900">{o.name}</td>
                                                <td class=TD>{o.users}</td>
                                                <td class=TD>{o.customer_users}</td>
                                                <td class=TD>{o.applications}</td>
                                                <td class=format!("{TD} hidden md:table-cell")>{o.created_at}</td>
                                            </tr>
                                        }).collect_view()}
                                    </DataTable>
                        }.into_any(),
                        Err(e) => view! { <ErrorPanel error=e/> }.into_any(),
                    }
                })}
            </Transition>
        </div>
        <Show when=move || creating.get()>
            <Modal title_id="org-title" on_close>
                <form novalidate on:submit=move |ev| { ev.prevent_default(); create.dispatch(name.get_untracked()); }>
                    <DialogTitle id="org-title" text="Create Organization".into()/>
                    <div class="space-y-4 px-6 py-5">
                        {move || alert(error_outside(create.value().get(), &["name"]))}
                        <TextField id="org-name" label="Name" value=name error=Signal::derive(move || error_for(create.value().get(), "name"))/>
                        <p class="text-xs text-slate-500">"You become a member of the new organization."</p>
                    </div>
                    {form_footer(on_close, create.pending(), "Create")}
                </form>
            </Modal>
        </Show>
    }
}

// ---------------------------------------------------------------- customer users

#[component]
pub fn CustomerUsersPage() -> impl IntoView {
    let version = RwSignal::new(0u32);
    let data = Resource::new(move || version.get(), |_| get_customer_users());
    let creating = RwSignal::new(false);
    let toggling = RwSignal::new(None::<(i64, String, bool)>);
    let refresh = Callback::new(move |_: ()| version.update(|v| *v += 1));
    view! {
        <Title text="Customer Users"/>
        <div class="mx-auto max-w-7xl">
            <PageHeader title="Customer Users" subtitle="Storefront customers; they approve storefront applications.">
                <button type="button" class=PRIMARY on:click=move |_| creating.set(true)>"Create Customer User"</button>
            </PageHeader>
            <Transition fallback=|| view! { <p class="mt-6 text-sm text-slate-500">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(page) if page.customers.is_empty() => view! {
                            <EmptyState title="No customer users yet" text="Create one to own or approve storefront applications."/>
                        }.into_any(),
                        Ok(page) => view! {
                            <DataTable id="customer-users" columns={&[("User name", false), ("Email", false), ("Organization", true), ("Status", false), ("", false)]}>
                                        {page.customers.into_iter().map(|c| {
                                            let (id, name, enabled) = (c.id, c.username.clone(), c.enabled);
                                            view! {
                                                <tr>
                                                    <td class="px-4 py-3 font-medium text-slate-900">{c.username}</td>
                                                    <td class=TD>{c.email}</td>
                                                    <td class=format!("{TD} hidden md:table-cell")>{c.organization}</td>
                                                    <td class=TD><StatusBadge on=c.enabled labels=("Enabled", "Disabled")/></td>
                                                    <td class="px-4 py-3 text-right">
                                                        <button type="button" class=SECONDARY aria-label=format!("{} {}", if enabled { "Disable" } else { "Enable" }, name)
                                                            on:click=move |_| toggling.set(Some((id, name.clone(), !enabled)))>
                                                            {if enabled { "Disable" } else { "Enable" }}
                                                        </button>
                                                    </td>
                                                </tr>
                                            }
                                        }).collect_view()}
                                    </DataTable>
                        }.into_any(),
                        Err(e) => view! { <ErrorPanel error=e/> }.into_any(),
                    }
                })}
            </Transition>
        </div>
        {move || toggling.get().map(|(id, name, enable)| {
            let action = Action::new(move |_: &()| {
                let csrf = csrf_token();
                async move { set_customer_user_enabled(csrf, id, enable).await }
            });
            let on_close = Callback::new(move |_: ()| { toggling.set(None); refresh.run(()); });
            let (title, message, label) = if enable {
                (format!("Enable \"{name}\"?"), "The customer can sign in again.".to_string(), "Enable")
            } else {
                (format!("Disable \"{name}\"?"), "The customer cannot sign in, and applications acting for them get no tokens.".to_string(), "Disable")
            };
            view! { <ConfirmDialog title message confirm_label=label danger=!enable action on_close/> }
        })}
        <Show when=move || creating.get()>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    data.await.ok().map(|page| view! { <CustomerDialog page creating refresh/> })
                })}
            </Suspense>
        </Show>
    }
}

#[component]
fn CustomerDialog(page: CustomersPage, creating: RwSignal<bool>, refresh: Callback<()>) -> impl IntoView {
    let organization = RwSignal::new(String::new());
    let username = RwSignal::new(String::new());
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let language = RwSignal::new("en".to_string());
    let save = Action::new(|form: &CustomerForm| {
        let form = form.clone();
        async move { create_customer_user(form).await }
    });
    let field = move |f: &'static str| Signal::derive(move || error_for(save.value().get(), f));
    let on_close = Callback::new(move |_: ()| creating.set(false));
    Effect::new(move |_| {
        if let Some(Ok(())) = save.value().get() {
            refresh.run(());
            creating.set(false);
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        save.dispatch(CustomerForm {
            csrf_token: csrf_token(),
            organization_id: organization.get_untracked().parse().ok(),
            username: username.get_untracked(),
            email: email.get_untracked(),
            password: password.get_untracked(),
            language: language.get_untracked(),
        });
    };
    view! {
        <Modal title_id="customer-title" on_close>
            <form on:submit=submit novalidate>
                <DialogTitle id="customer-title" text="Create Customer User".into()/>
                <div class="space-y-4 px-6 py-5">
                    {move || alert(error_outside(save.value().get(), &["organization_id", "username", "email", "password", "language"]))}
                    {(page.organizations.len() > 1).then(|| view! {
                        <div>
                            <label for="customer-organization" class="block text-sm font-medium text-slate-700">"Organization"</label>
                            <select id="customer-organization" class=INPUT on:change=move |ev| organization.set(event_target_value(&ev))>
                                <option value="">"Choose…"</option>
                                {page.organizations.iter().map(|o| view! { <option value=o.id.to_string()>{o.name.clone()}</option> }).collect_view()}
                            </select>
                            <FieldError message=field("organization_id")/>
                        </div>
                    })}
                    <TextField id="customer-username" label="User name" value=username error=field("username")/>
                    <TextField id="customer-email" label="Email" kind="email" value=email error=field("email")/>
                    <TextField id="customer-password" label="Password" kind="password" maxlength=1024 value=password error=field("password") hint="At least 8 characters."/>
                    <div>
                        <label for="customer-language" class="block text-sm font-medium text-slate-700">"Language"</label>
                        <select id="customer-language" class=INPUT on:change=move |ev| language.set(event_target_value(&ev))>
                            {page.languages.iter().map(|(code, name)| view! { <option value=code.clone() selected=code == "en">{name.clone()}</option> }).collect_view()}
                        </select>
                    </div>
                </div>
                {form_footer(on_close, save.pending(), "Create")}
            </form>
        </Modal>
    }
}
