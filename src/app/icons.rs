//! Inline SVG icons (outline, 24 px grid), so pages need no icon font.

use leptos::prelude::*;

#[component]
pub fn Logo(#[prop(default = "h-8 w-8")] class: &'static str) -> impl IntoView {
    view! {
        <svg class=class viewBox="0 0 32 32" fill="none" aria-hidden="true">
            <rect width="32" height="32" rx="8" class="fill-indigo-600"/>
            <path d="M10 24V12a6 6 0 0 1 12 0v12" stroke="white" stroke-width="2.5" stroke-linecap="round"/>
            <circle cx="16" cy="17" r="2" fill="white"/>
        </svg>
    }
}

#[component]
pub fn WarningIcon() -> impl IntoView {
    view! {
        <svg class="h-5 w-5 flex-none text-amber-500" viewBox="0 0 20 20" fill="currentColor" aria-hidden="true">
            <path fill-rule="evenodd" d="M8.485 2.495c.673-1.167 2.357-1.167 3.03 0l6.28 10.875c.673 1.167-.17 2.625-1.516 2.625H3.72c-1.347 0-2.189-1.458-1.515-2.625L8.485 2.495zM10 5a.75.75 0 01.75.75v3.5a.75.75 0 01-1.5 0v-3.5A.75.75 0 0110 5zm0 9a1 1 0 100-2 1 1 0 000 2z" clip-rule="evenodd"/>
        </svg>
    }
}

#[component]
pub fn ChevronDown() -> impl IntoView {
    view! {
        <svg class="h-4 w-4 text-slate-400" viewBox="0 0 20 20" fill="currentColor" aria-hidden="true">
            <path fill-rule="evenodd" d="M5.23 7.21a.75.75 0 011.06.02L10 11.17l3.71-3.94a.75.75 0 111.08 1.04l-4.25 4.5a.75.75 0 01-1.08 0l-4.25-4.5a.75.75 0 01.02-1.06z" clip-rule="evenodd"/>
        </svg>
    }
}

#[component]
pub fn HomeIcon() -> impl IntoView {
    view! {
        <svg class="h-5 w-5" fill="none" viewBox="0 0 24 24" stroke-width="1.5" stroke="currentColor" aria-hidden="true">
            <path stroke-linecap="round" stroke-linejoin="round" d="M2.25 12l8.954-8.955a1.126 1.126 0 011.591 0L21.75 12M4.5 9.75v10.125c0 .621.504 1.125 1.125 1.125H9.75v-4.875c0-.621.504-1.125 1.125-1.125h2.25c.621 0 1.125.504 1.125 1.125V21h4.125c.621 0 1.125-.504 1.125-1.125V9.75M8.25 21h8.25"/>
        </svg>
    }
}

#[component]
pub fn MenuIcon() -> impl IntoView {
    view! {
        <svg class="h-6 w-6" fill="none" viewBox="0 0 24 24" stroke-width="1.5" stroke="currentColor" aria-hidden="true">
            <path stroke-linecap="round" stroke-linejoin="round" d="M3.75 6.75h16.5M3.75 12h16.5m-16.5 5.25h16.5"/>
        </svg>
    }
}

#[component]
pub fn UserIcon() -> impl IntoView {
    outline("M15.75 6a3.75 3.75 0 11-7.5 0 3.75 3.75 0 017.5 0zM4.5 20.1a7.5 7.5 0 0115 0A17.9 17.9 0 0112 21.75c-2.68 0-5.22-.58-7.5-1.65z")
}

#[component]
pub fn UsersIcon() -> impl IntoView {
    outline("M15 19.13a9.38 9.38 0 002.63.37 9.34 9.34 0 004.12-.95 4.13 4.13 0 00-7.53-2.49M15 19.13v-.01c0-1.11-.29-2.16-.78-3.07M15 19.13v.1A12.3 12.3 0 018.62 21c-2.33 0-4.51-.64-6.37-1.77v-.1a6.38 6.38 0 0111.96-3.07M12 6.38a3.38 3.38 0 11-6.75 0 3.38 3.38 0 016.75 0zm8.25 2.25a2.63 2.63 0 11-5.25 0 2.63 2.63 0 015.25 0z")
}

#[component]
pub fn KeyIcon() -> impl IntoView {
    outline("M15.75 5.25a3 3 0 013 3m3 0a6 6 0 01-7.03 5.91c-.56-.1-1.16.03-1.56.43L10.5 17.25H8.25v2.25H6v2.25H2.25v-2.82c0-.6.24-1.17.66-1.6l6.16-6.15c.4-.4.52-1 .43-1.56A6 6 0 1121.75 8.25z")
}

#[component]
pub fn ShieldIcon() -> impl IntoView {
    outline("M9 12.75L11.25 15 15 9.75m-3-7.04A11.96 11.96 0 013.6 6 12 12 0 003 9.75c0 5.59 3.82 10.29 9 11.62 5.18-1.33 9-6.03 9-11.62 0-1.31-.21-2.57-.6-3.75h-.15c-3.2 0-6.1-1.25-8.25-3.29z")
}

#[component]
pub fn BuildingIcon() -> impl IntoView {
    outline("M3.75 21h16.5M4.5 3h15M5.25 3v18m13.5-18v18M9 6.75h1.5m-1.5 3h1.5m-1.5 3h1.5m3-6H15m-1.5 3H15m-1.5 3H15M9 21v-3.38c0-.62.5-1.12 1.13-1.12h2.25c.62 0 1.12.5 1.12 1.13V21")
}

#[component]
pub fn CogIcon() -> impl IntoView {
    outline("M9.59 3.94c.09-.54.56-.94 1.11-.94h2.6c.55 0 1.02.4 1.11.94l.21 1.28c.06.37.31.68.65.87l.22.13c.33.18.72.24 1.07.1l1.22-.45a1.13 1.13 0 011.37.49l1.3 2.25c.27.48.16 1.08-.26 1.43l-1 .83c-.29.24-.43.61-.42.98v.25c-.01.37.13.74.42.98l1 .83c.42.35.53.95.26 1.43l-1.3 2.25a1.13 1.13 0 01-1.37.49l-1.22-.45c-.35-.14-.74-.08-1.07.1l-.22.13c-.34.19-.59.5-.65.87l-.21 1.28c-.09.54-.56.94-1.11.94h-2.6c-.55 0-1.02-.4-1.11-.94l-.21-1.28a1.26 1.26 0 00-.65-.87l-.22-.13a1.25 1.25 0 00-1.07-.1l-1.22.45a1.13 1.13 0 01-1.37-.49l-1.3-2.25a1.13 1.13 0 01.26-1.43l1-.83c.29-.24.43-.61.42-.98v-.25c.01-.37-.13-.74-.42-.98l-1-.83a1.13 1.13 0 01-.26-1.43l1.3-2.25a1.13 1.13 0 011.37-.49l1.22.45c.35.14.74.08 1.07-.1l.22-.13c.34-.19.59-.5.65-.87l.21-1.28zM15 12a3 3 0 11-6 0 3 3 0 016 0z")
}

#[component]
pub fn MailIcon() -> impl IntoView {
    outline("M21.75 6.75v10.5a2.25 2.25 0 01-2.25 2.25h-15a2.25 2.25 0 01-2.25-2.25V6.75m19.5 0A2.25 2.25 0 0019.5 4.5h-15a2.25 2.25 0 00-2.25 2.25m19.5 0v.24a2.25 2.25 0 01-1.07 1.92l-7.5 4.61a2.25 2.25 0 01-2.36 0L3.32 8.91a2.25 2.25 0 01-1.07-1.92V6.75")
}

#[component]
pub fn AuditIcon() -> impl IntoView {
    outline("M19.5 14.25v-2.625a3.375 3.375 0 00-3.375-3.375h-1.5A1.125 1.125 0 0113.5 7.125v-1.5a3.375 3.375 0 00-3.375-3.375H8.25m5.231 13.481L15 17.25m-4.5-15H5.625c-.621 0-1.125.504-1.125 1.125v16.5c0 .621.504 1.125 1.125 1.125h12.75c.621 0 1.125-.504 1.125-1.125V11.25a9 9 0 00-9-9zm3.75 11.625a2.625 2.625 0 11-5.25 0 2.625 2.625 0 015.25 0z")
}

/// A 24 px outline icon drawn by one path.
fn outline(d: &'static str) -> impl IntoView {
    view! {
        <svg class="h-5 w-5 flex-none" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="1.5" aria-hidden="true">
            <path stroke-linecap="round" stroke-linejoin="round" d=d/>
        </svg>
    }
}
