//! The frame of every back-office page: sidebar navigation, top bar with
//! the user menu (My User, Log out), and the page below.

use super::icons::{
    AuditIcon, BuildingIcon, ChevronDown, CogIcon, HomeIcon, KeyIcon, Logo, MailIcon, MenuIcon, ShieldIcon, UserIcon,
    UsersIcon,
};
use crate::api::session::{get_viewer, Viewer};
use crate::permissions::GridScope;
use leptos::prelude::*;
use leptos_router::components::{Outlet, A};

/// The viewer of the current page, shared with the pages inside the layout.
pub type ViewerResource = Resource<Result<Viewer, crate::api::AppError>>;

#[component]
pub fn AdminLayout() -> impl IntoView {
    let viewer: ViewerResource = Resource::new(|| (), |_| get_viewer());
    provide_context(viewer);
    let (nav_open, set_nav_open) = signal(false);

    view! {
        <div class="min-h-full">
            // Sidebar: fixed on wide screens, a drawer on phones.
            <div
                class="fixed inset-0 z-30 bg-slate-900/50 lg:hidden"
                class:hidden=move || !nav_open.get()
                on:click=move |_| set_nav_open.set(false)
            ></div>
            <aside
                class=move || {
                    let shown = if nav_open.get() { "translate-x-0" } else { "-translate-x-full lg:translate-x-0" };
                    format!("fixed inset-y-0 left-0 z-40 w-64 transform bg-slate-900 transition-transform {shown}")
                }
                aria-label="Main navigation"
            >
                <div class="flex h-16 items-center gap-3 px-6">
                    <Logo/>
                    <span class="text-lg font-semibold text-white">"Postern"</span>
                </div>
                <nav class="mt-4 space-y-1 px-3" on:click=move |_| set_nav_open.set(false)>
                    <NavLink href="/admin" label="Dashboard">
                        <HomeIcon/>
                    </NavLink>
                    <NavLink href="/admin/my-user" label="My User">
                        <UserIcon/>
                    </NavLink>
                    <Suspense fallback=|| ()>
                        {move || Suspend::new(async move {
                            let permissions = viewer.await.ok().and_then(|v| v.user).map(|u| u.permissions).unwrap_or_default();
                            let admin = permissions.administrator;
                            let org_apps = permissions.can_open(GridScope::BackOffice);
                            view! {
                                {admin.then(|| view! {
                                    <NavSection title="Customers"/>
                                    <NavLink href="/admin/customers/users" label="Customer Users"><UsersIcon/></NavLink>
                                    <NavLink href="/admin/customers/oauth-applications" label="Storefront OAuth Applications"><KeyIcon/></NavLink>
                                })}
                                {(admin || org_apps).then(|| view! { <NavSection title="System"/> })}
                                {admin.then(|| view! {
                                    <p class="px-3 pt-2 text-xs font-medium text-slate-400">"User Management"</p>
                                    <NavLink href="/admin/system/users" label="Users"><UsersIcon/></NavLink>
                                    <NavLink href="/admin/system/roles" label="Roles"><ShieldIcon/></NavLink>
                                    <NavLink href="/admin/system/organizations" label="Organizations"><BuildingIcon/></NavLink>
                                })}
                                {org_apps.then(|| view! {
                                    <NavLink href="/admin/system/oauth-applications" label="OAuth Applications"><KeyIcon/></NavLink>
                                })}
                                {admin.then(|| view! {
                                    <NavLink href="/admin/system/configuration" label="Configuration"><CogIcon/></NavLink>
                                    <NavLink href="/admin/system/outbox" label="Email Outbox"><MailIcon/></NavLink>
                                    <NavLink href="/admin/system/audit-log" label="Audit Log"><AuditIcon/></NavLink>
                                })}
                            }
                        })}
                    </Suspense>
                </nav>
            </aside>

            <div class="lg:pl-64">
                <header class="sticky top-0 z-20 flex h-16 items-center gap-4 border-b border-slate-200 bg-white px-4 shadow-sm sm:px-6">
                    <button
                        type="button"
                        class="-m-2 p-2 text-slate-600 lg:hidden"
                        aria-label="Open navigation"
                        on:click=move |_| set_nav_open.update(|open| *open = !*open)
                    >
                        <MenuIcon/>
                    </button>
                    <div class="flex-1"></div>
                    <Suspense fallback=|| ()>
                        {move || Suspend::new(async move {
                            match viewer.await {
                                Ok(Viewer { user: Some(user), csrf_token }) => {
                                    view! { <UserMenu username=user.username email=user.email csrf_token/> }.into_any()
                                }
                                _ => view! { <a href="/admin/login" class="text-sm font-medium text-indigo-600">"Sign in"</a> }.into_any(),
                            }
                        })}
                    </Suspense>
                </header>
                <main class="px-4 py-8 sm:px-6 lg:px-8">
                    <Outlet/>
                </main>
            </div>
        </div>
    }
}

#[component]
fn NavLink(href: &'static str, label: &'static str, children: Children) -> impl IntoView {
    view! {
        <A href=href exact=true attr:class="group flex items-center gap-3 rounded-md px-3 py-2 text-sm font-medium text-slate-300 hover:bg-slate-800 hover:text-white aria-[current=page]:bg-slate-800 aria-[current=page]:text-white">
            {children()}
            {label}
        </A>
    }
}

#[component]
fn NavSection(title: &'static str) -> impl IntoView {
    view! { <p class="px-3 pb-1 pt-5 text-xs font-semibold uppercase tracking-wider text-slate-500">{title}</p> }
}

/// The user menu. A `<details>` element, so it opens without JavaScript
/// too; once hydrated, Escape and a click outside close it.
#[component]
fn UserMenu(username: String, email: String, csrf_token: String) -> impl IntoView {
    let menu = NodeRef::<leptos::html::Details>::new();
    let close = move || {
        if let Some(details) = menu.get() {
            let _ = details.remove_attribute("open");
        }
    };
    // Client-side navigation keeps the layout: close the menu when the page changes.
    let location = leptos_router::hooks::use_location();
    Effect::new(move |_| {
        location.pathname.track();
        close();
    });
    let initials: String = username.chars().take(2).collect::<String>().to_uppercase();
    view! {
        <details
            node_ref=menu
            id="user-menu"
            class="group relative"
            on:keydown=move |ev| {
                if ev.key() == "Escape" {
                    close();
                }
            }
        >
            <summary
                class="flex cursor-pointer list-none items-center gap-2 rounded-full py-1 pl-1 pr-2 text-sm hover:bg-slate-100 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 [&::-webkit-details-marker]:hidden"
                aria-haspopup="menu"
            >
                <span class="flex h-8 w-8 items-center justify-center rounded-full bg-indigo-100 text-xs font-semibold text-indigo-700">
                    {initials}
                </span>
                <span class="hidden font-medium text-slate-700 sm:block">{username.clone()}</span>
                <ChevronDown/>
            </summary>
            <div class="fixed inset-0 z-40 hidden group-open:block" on:click=move |_| close() aria-hidden="true"></div>
            <div
                role="menu"
                on:click=move |_| close()
                class="absolute right-0 z-50 mt-2 w-64 origin-top-right rounded-md bg-white py-1 shadow-lg ring-1 ring-slate-900/5"
            >
                <div class="border-b border-slate-100 px-4 py-3">
                    <p class="text-sm font-medium text-slate-900">{username.clone()}</p>
                    <p class="truncate text-sm text-slate-500">{email}</p>
                </div>
                <a href="/admin/my-user" role="menuitem" class="block px-4 py-2 text-sm text-slate-700 hover:bg-slate-50">"My User"</a>
                <a href="/admin/my-user/authorized-applications" role="menuitem" class="block px-4 py-2 text-sm text-slate-700 hover:bg-slate-50">"Authorized Applications"</a>
                <form method="post" action="/admin/logout">
                    <input type="hidden" name="csrf_token" value=csrf_token/>
                    <button type="submit" role="menuitem" class="block w-full px-4 py-2 text-left text-sm text-slate-700 hover:bg-slate-50">
                        "Log out"
                    </button>
                </form>
            </div>
        </details>
    }
}
