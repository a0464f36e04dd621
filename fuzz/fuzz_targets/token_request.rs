//! The token endpoint's request parsing: a form or JSON body and an
//! optional Authorization header, as `server::token` reads them.
//!
//! Input: byte 0 bit 0 chooses JSON over a form; when the rest holds a
//! newline, what comes before it is the Authorization header.
#![no_main]

use libfuzzer_sys::fuzz_target;
use postern_oauth::token_request::{GrantRequest, Params, TokenRequest};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let (authorization, body) = match rest.iter().position(|&b| b == b'\n') {
        Some(i) => (Some(String::from_utf8_lossy(&rest[..i]).into_owned()), &rest[i + 1..]),
        None => (None, rest),
    };
    let params = if mode & 1 == 1 { Params::from_json(body) } else { Params::from_form(body) };
    let Ok(params) = params else { return };
    if let Ok(request) = TokenRequest::parse(&params, authorization.as_deref()) {
        // A parsed request always names its client, and a code grant its code.
        assert!(!request.client.client_id.is_empty());
        if let GrantRequest::AuthorizationCode { code, .. } = &request.grant {
            assert!(!code.is_empty());
        }
    }
});
