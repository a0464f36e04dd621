//! Pieces shared by several pages: key warnings, copy buttons, dialogs,
//! form fields, badges, and the CSRF token every write carries.

use super::icons::WarningIcon;
use super::layout::ViewerResource;
use crate::api::dashboard::KeysView;
use crate::api::AppError;
use leptos::prelude::*;

pub const INPUT: &str = "mt-1.5 block w-full rounded-md border-0 px-3 py-2 text-slate-900 shadow-sm ring-1 ring-inset ring-slate-300 focus:ring-2 focus:ring-inset focus:ring-indigo-600 sm:text-sm";
pub const PRIMARY: &str = "inline-flex items-center justify-center gap-2 rounded-md bg-indigo-600 px-3 py-2 text-sm font-semibold text-white shadow-sm hover:bg-indigo-500 focus-visible:outline focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-600 disabled:opacity-70";
pub const SECONDARY: &str = "inline-flex items-center justify-center gap-2 rounded-md bg-white px-3 py-2 text-sm font-semibold text-slate-700 shadow-sm ring-1 ring-inset ring-slate-300 hover:bg-slate-50 disabled:opacity-60";
pub const DANGER: &str = "inline-flex items-center justify-center gap-2 rounded-md bg-red-600 px-3 py-2 text-sm font-semibold text-white shadow-sm hover:bg-red-500 disabled:opacity-70";

/// The CSRF token of this browser, from the layout's viewer.
pub fn csrf_token() -> String {
    use_context::<ViewerResource>()
        .and_then(|v| v.get_untracked())
        .and_then(Result::ok)
        .map(|v| v.csrf_token)
        .unwrap_or_default()
}

/// Whether the signed-in person is an administrator (only to hide what the
/// server would refuse them anyway).
pub fn viewer_is_administrator() -> bool {
    use_context::<ViewerResource>()
        .and_then(|v| v.get_untracked())
        .and_then(Result::ok)
        .and_then(|v| v.user)
        .is_some_and(|u| u.permissions.administrator)
}

/// The message an answer has for `field`, if it is a validation error of that field.
pub fn error_for<T>(answer: Option<Result<T, AppError>>, field: &str) -> Option<String> {
    match answer {
        Some(Err(AppError::Invalid { field: f, message })) if f == field => Some(message),
        _ => None,
    }
}

/// The message an answer has that belongs to none of `fields`.
pub fn error_outside<T>(answer: Option<Result<T, AppError>>, fields: &[&str]) -> Option<String> {
    match answer {
        Some(Err(AppError::Invalid { field, .. })) if fields.contains(&field.as_str()) => None,
        Some(Err(e)) => Some(e.to_string()),
        _ => None,
    }
}

/// A modal dialog: a backdrop, Escape closes it, the first field takes the focus.
#[component]
pub fn Modal(
    title_id: &'static str,
    on_close: Callback<()>,
    #[prop(default = "max-w-lg")] width: &'static str,
    children: Children,
) -> impl IntoView {
    let panel = NodeRef::<leptos::html::Div>::new();
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(panel) = panel.get() {
            use leptos::wasm_bindgen::JsCast;
            if let Ok(Some(first)) = panel.query_selector("input:not([type=hidden]), select, textarea, button") {
                if let Ok(el) = first.dyn_into::<leptos::web_sys::HtmlElement>() {
                    let _ = el.focus();
                }
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = panel.get();
    });
    view! {
        <div
            class="fixed inset-0 z-50 flex items-end justify-center overflow-y-auto bg-slate-900/50 p-4 sm:items-center"
            on:keydown=move |ev| {
                if ev.key() == "Escape" {
                    on_close.run(());
                }
            }
        >
            <div node_ref=panel role="dialog" aria-modal="true" aria-labelledby=title_id class=format!("w-full {width} rounded-lg bg-white shadow-xl")>
                {children()}
            </div>
        </div>
    }
}

/// The header of a dialog.
#[component]
pub fn DialogTitle(id: &'static str, text: String) -> impl IntoView {
    view! {
        <div class="border-b border-slate-200 px-6 py-4">
            <h2 id=id class="text-base font-semibold text-slate-900">{text}</h2>
        </div>
    }
}

/// "Are you sure?" for one action. `run` is called on confirmation; the
/// dialog shows progress and any error, and closes itself on success.
#[component]
pub fn ConfirmDialog(
    title: String,
    message: String,
    confirm_label: &'static str,
    #[prop(default = false)] danger: bool,
    action: Action<(), Result<(), AppError>>,
    on_close: Callback<()>,
) -> impl IntoView {
    let error = move || error_outside(action.value().get(), &[]);
    Effect::new(move |_| {
        if let Some(Ok(())) = action.value().get() {
            on_close.run(());
        }
    });
    view! {
        <Modal title_id="confirm-title" on_close>
            <DialogTitle id="confirm-title" text=title/>
            <div class="space-y-3 px-6 py-5 text-sm text-slate-700">
                <p>{message}</p>
                {move || error().map(|m| view! { <p role="alert" class="rounded-md bg-red-50 px-3 py-2 text-red-700">{m}</p> })}
            </div>
            <div class="flex justify-end gap-3 rounded-b-lg bg-slate-50 px-6 py-3">
                <button type="button" class=SECONDARY on:click=move |_| on_close.run(())>"Cancel"</button>
                <button type="button" class=if danger { DANGER } else { PRIMARY } disabled=move || action.pending().get()
                    on:click=move |_| { action.dispatch(()); }>
                    {move || if action.pending().get() { "Working…" } else { confirm_label }}
                </button>
            </div>
        </Modal>
    }
}

#[component]
pub fn CheckboxField(id: &'static str, label: &'static str, value: RwSignal<bool>) -> impl IntoView {
    view! {
        <div class="flex items-center gap-2">
            <input id=id type="checkbox" class="h-4 w-4 rounded border-slate-300 text-indigo-600"
                prop:checked=move || value.get() on:change=move |ev| value.set(event_target_checked(&ev))/>
            <label for=id class="text-sm text-slate-700">{label}</label>
        </div>
    }
}

#[component]
pub fn FieldError(message: Signal<Option<String>>) -> impl IntoView {
    move || message.get().map(|m| view! { <p class="mt-1 text-sm text-red-600" role="alert">{m}</p> })
}

/// A labelled text input bound to a signal, with its error below.
#[component]
pub fn TextField(
    id: &'static str,
    label: &'static str,
    value: RwSignal<String>,
    error: Signal<Option<String>>,
    #[prop(default = "text")] kind: &'static str,
    #[prop(default = 255)] maxlength: u32,
    #[prop(optional)] hint: Option<&'static str>,
) -> impl IntoView {
    view! {
        <div>
            <label for=id class="block text-sm font-medium text-slate-700">{label}</label>
            <input id=id type=kind maxlength=maxlength class=INPUT autocomplete="off"
                prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev))/>
            {hint.map(|h| view! { <p class="mt-1 text-xs text-slate-500">{h}</p> })}
            <FieldError message=error/>
        </div>
    }
}

/// Active / Inactive (or Enabled / Disabled) as a coloured badge.
#[component]
pub fn StatusBadge(
    on: bool,
    #[prop(default = ("Active", "Inactive"))] labels: (&'static str, &'static str),
) -> impl IntoView {
    if on {
        view! { <span class="inline-flex rounded-full bg-emerald-50 px-2 py-0.5 text-xs font-medium text-emerald-700 ring-1 ring-emerald-200">{labels.0}</span> }
    } else {
        view! { <span class="inline-flex rounded-full bg-slate-100 px-2 py-0.5 text-xs font-medium text-slate-600 ring-1 ring-slate-200">{labels.1}</span> }
    }
}

/// A page's title row with an optional action on the right.
#[component]
pub fn PageHeader(
    title: &'static str,
    #[prop(optional)] subtitle: Option<&'static str>,
    children: Children,
) -> impl IntoView {
    view! {
        <div class="flex flex-wrap items-end justify-between gap-4">
            <div>
                <h1 class="text-2xl font-bold tracking-tight text-slate-900">{title}</h1>
                {subtitle.map(|s| view! { <p class="mt-1 text-sm text-slate-500">{s}</p> })}
            </div>
            <div class="flex gap-3">{children()}</div>
        </div>
    }
}

/// An error answer shown in place of a page's content.
#[component]
pub fn ErrorPanel(error: AppError) -> impl IntoView {
    view! { <div role="alert" class="mt-6 rounded-md bg-red-50 p-4 text-sm text-red-700">{error.to_string()}</div> }
}

/// Shown when a list has nothing in it.
#[component]
pub fn EmptyState(title: &'static str, text: &'static str) -> impl IntoView {
    view! {
        <div class="mt-4 rounded-lg border-2 border-dashed border-slate-300 p-8 text-center">
            <p class="text-sm font-medium text-slate-900">{title}</p>
            <p class="mt-1 text-sm text-slate-500">{text}</p>
        </div>
    }
}

/// The signing-key warnings (docs/architecture.md#signing-keys): keys
/// missing (the fixed sentence of `keys::MISSING_KEYS_WARNING`) and keys too open.
#[component]
pub fn KeysAlerts(keys: KeysView) -> impl IntoView {
    view! {
        {keys.missing_warning.map(|warning| view! {
            <div role="alert" id="keys-warning" class="mt-6 flex gap-3 rounded-md bg-amber-50 p-4 ring-1 ring-amber-200">
                <WarningIcon/>
                <div class="text-sm text-amber-800">
                    <p class="font-medium">{warning}</p>
                    {keys.detail.map(|detail| view! {
                        <p class="mt-2 text-amber-700">{detail} ". Run " <code class="font-mono">"postern keys generate"</code> " on the server."</p>
                    })}
                </div>
            </div>
        })}
        {keys.exposed_warning.map(|warning| view! {
            <div role="alert" class="mt-6 flex gap-3 rounded-md bg-amber-50 p-4 ring-1 ring-amber-200">
                <WarningIcon/>
                <p class="text-sm font-medium text-amber-800">{warning}</p>
            </div>
        })}
    }
}

/// A value shown as code with a Copy button beside it; `id` names the code
/// element, which the button selects when the clipboard is refused.
#[component]
pub fn CopyableCode(id: &'static str, value: String) -> impl IntoView {
    view! {
        <div class="flex items-center gap-2">
            <code id=id class="break-all rounded bg-slate-100 px-2 py-1 font-mono text-slate-800">{value.clone()}</code>
            <CopyButton target=id text=value/>
        </div>
    }
}

/// Copies `text` to the clipboard; if the browser refuses, selects the
/// element `target` so that the person can press Ctrl+C.
#[component]
pub fn CopyButton(target: &'static str, text: String) -> impl IntoView {
    let (label, set_label) = signal("Copy");
    let on_click = move |_| {
        let text = text.clone();
        leptos::task::spawn_local(async move {
            if copy_text(&text).await {
                set_label.set("Copied");
            } else {
                select_element(target);
                set_label.set("Press Ctrl+C");
            }
        });
    };
    view! {
        <button
            type="button"
            class="rounded-md bg-white px-2.5 py-1 text-xs font-semibold text-slate-700 shadow-sm ring-1 ring-inset ring-slate-300 hover:bg-slate-50"
            aria-live="polite"
            on:click=on_click
        >
            {move || label.get()}
        </button>
    }
}

#[cfg(feature = "hydrate")]
async fn copy_text(text: &str) -> bool {
    let promise = window().navigator().clipboard().write_text(text);
    wasm_bindgen_futures::JsFuture::from(promise).await.is_ok()
}

#[cfg(not(feature = "hydrate"))]
async fn copy_text(_text: &str) -> bool {
    false
}

#[cfg(feature = "hydrate")]
fn select_element(id: &str) {
    let doc = document();
    let (Some(element), Ok(range), Ok(Some(selection))) =
        (doc.get_element_by_id(id), doc.create_range(), window().get_selection())
    else {
        return;
    };
    if range.select_node_contents(&element).is_ok() {
        let _ = selection.remove_all_ranges();
        let _ = selection.add_range(&range);
    }
}

#[cfg(not(feature = "hydrate"))]
fn select_element(_id: &str) {}
