//! The authorization endpoint's checks: parameter reading (each at most
//! once), redirect-URI matching and the whole `validate`, then the redirect
//! back to the client.
//!
//! Input: the first line is the query string; each further line is a
//! registered redirect URI. Byte 0 of the query chooses the client's side,
//! confidentiality and grant.
#![no_main]

use libfuzzer_sys::fuzz_target;
use postern_oauth::authorize::{redirect_url, single, validate, AuthorizingClient, RawRequest};
use postern_oauth::grant::GrantType;
use postern_oauth::redirect_uri::{self, resolve};
use postern_oauth::Side;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.split('\n');
    let query = lines.next().unwrap_or("");
    let registered: Vec<String> = lines.map(str::to_owned).collect();
    let flags = query.bytes().next().unwrap_or(0);
    let pairs: Vec<(String, String)> =
        url::form_urlencoded::parse(query.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();

    let get = |name| single(&pairs, name);
    let (Ok(client_id), Ok(redirect), Ok(response_type), Ok(scope), Ok(state), Ok(challenge), Ok(method)) = (
        get("client_id"),
        get("redirect_uri"),
        get("response_type"),
        get("scope"),
        get("state"),
        get("code_challenge"),
        get("code_challenge_method"),
    ) else {
        return;
    };

    // Exact matching (RFC 9700 §4.1.3): what resolves is what was asked
    // for, or, when nothing was asked, the only registered URI.
    match (redirect, resolve(redirect, &registered)) {
        (Some(asked), Ok(resolved)) => {
            assert_eq!(resolved, asked);
            assert!(registered.iter().any(|r| r == asked) || asked.starts_with("http://"));
        }
        (None, Ok(resolved)) => assert_eq!(registered, vec![resolved]),
        (_, Err(_)) => {}
    }
    for uri in &registered {
        let _ = redirect_uri::validate_registered(uri);
    }

    let side = if flags & 1 == 1 { Side::Storefront } else { Side::BackOffice };
    let client = AuthorizingClient {
        client_id: client_id.unwrap_or("client").to_owned(),
        name: "Fuzzed".into(),
        active: flags & 2 == 0,
        side,
        grant_type: if flags & 4 == 0 { GrantType::AuthorizationCode } else { GrantType::ClientCredentials },
        confidential: flags & 8 == 0,
        skip_consent: false,
        redirect_uris: registered.clone(),
    };
    let raw = RawRequest {
        client_id,
        redirect_uri: redirect,
        response_type,
        scope,
        state,
        code_challenge: challenge,
        code_challenge_method: method,
    };
    if let Ok(request) = validate(&raw, Some(&client), side) {
        assert!(client.active && client.grant_type == GrantType::AuthorizationCode);
        assert!(request.code_challenge.is_some() || client.confidential, "public clients need PKCE");
        let back = redirect_url(&request.redirect_uri, &[("code", "abc"), ("state", state.unwrap_or(""))]);
        assert!(back.starts_with(request.redirect_uri.split(['?', '#']).next().unwrap_or("")));
    }
});
