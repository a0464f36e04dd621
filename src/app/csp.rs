//! The Content Security Policy of a page (RFC 9700 §4.16; SECURITY.md),
//! set while it renders, with the nonce Leptos puts on its inline scripts.
//! Every other answer gets the static policy of `server::headers`.

use axum::http::{header, HeaderValue};

/// The policy of a Leptos page: its own scripts and the inline ones that
/// carry this response's nonce, WebAssembly, styles and images from Postern
/// only; never framed.
pub fn page_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self'; \
         img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    )
}

/// Called while a page renders: sets the page's policy with the nonce that
/// Leptos puts on its inline scripts.
pub fn page_csp() {
    use leptos::prelude::use_context;
    let (Some(nonce), Some(options)) = (leptos::nonce::use_nonce(), use_context::<leptos_axum::ResponseOptions>())
    else {
        return;
    };
    if let Ok(value) = HeaderValue::from_str(&page_policy(&nonce)) {
        options.insert_header(header::CONTENT_SECURITY_POLICY, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_policy_allows_only_nonced_inline_scripts_and_wasm() {
        let policy = page_policy("abc");
        assert!(policy.contains("script-src 'self' 'nonce-abc' 'wasm-unsafe-eval'"));
        assert!(!policy.contains("unsafe-inline"));
        assert!(policy.contains("frame-ancestors 'none'"));
    }
}
