//! Pieces shared by several pages: key warnings, copy buttons.

use super::icons::WarningIcon;
use crate::api::dashboard::KeysView;
use leptos::prelude::*;

/// The SPEC §3 warnings: keys missing (verbatim text) and keys too open.
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
