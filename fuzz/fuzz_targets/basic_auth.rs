//! Client authentication's Basic header (RFC 6749 §2.3.1: the ID and
//! secret are form-encoded, then base64).
#![no_main]

use libfuzzer_sys::fuzz_target;
use postern_oauth::client_auth::parse_basic;

fuzz_target!(|data: &[u8]| {
    let header = String::from_utf8_lossy(data);
    if let Ok((client_id, _secret)) = parse_basic(&header) {
        assert!(!client_id.is_empty(), "an empty client ID is refused");
    }
});
