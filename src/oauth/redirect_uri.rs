//! Redirect URIs: which ones may be registered (RFC 6749 §3.1.2, RFC 8252,
//! RFC 9700 §4.1) and how a requested one is matched against them.

use url::Url;

/// Longest redirect URI accepted.
pub const MAX_LEN: usize = 2048;

/// Checks a redirect URI an application wants to register. The error is a
/// sentence for the person filling in the form.
pub fn validate_registered(uri: &str) -> Result<(), String> {
    if uri.is_empty() {
        return Err("The redirect URL is empty.".into());
    }
    if uri.len() > MAX_LEN {
        return Err(format!("The redirect URL is longer than {MAX_LEN} characters."));
    }
    if uri.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("The redirect URL must not contain spaces.".into());
    }
    let parsed = Url::parse(uri).map_err(|_| format!("\"{uri}\" is not a valid absolute URL."))?;
    // RFC 6749 §3.1.2: the endpoint URI MUST NOT include a fragment component.
    if parsed.fragment().is_some() {
        return Err("The redirect URL must not contain a fragment (#…).".into());
    }
    match parsed.scheme() {
        "https" => {}
        // RFC 8252 §7.3 / RFC 9700 §2.1: plain http only for loopback redirects.
        "http" if is_loopback(&parsed) => {}
        "http" => return Err("Use https for redirect URLs; http is allowed only for localhost.".into()),
        // RFC 8252 §7.1: private-use schemes of native apps, such as com.example.app:/cb.
        scheme if scheme.contains('.') => {}
        "javascript" | "data" | "file" | "vbscript" => {
            return Err(format!("The scheme \"{}\" is not allowed for redirect URLs.", parsed.scheme()))
        }
        _ => return Err("Use https, http on localhost, or a reverse-domain scheme (com.example.app:/…).".into()),
    }
    if parsed.username() != "" || parsed.password().is_some() {
        return Err("The redirect URL must not contain a user name or password.".into());
    }
    Ok(())
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_https_loopback_http_and_native_schemes() {
        for ok in [
            "https://app.example.com/callback",
            "https://app.example.com/cb?tenant=1",
            "http://localhost:8080/cb",
            "http://127.0.0.1/cb",
            "http://[::1]:9000/cb",
            "com.example.app:/oauth2redirect",
        ] {
            assert_eq!(validate_registered(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn refuses_what_rfc_9700_forbids() {
        for (bad, why) in [
            ("", "empty"),
            ("/relative/path", "valid absolute"),
            ("https://app.example.com/cb#frag", "fragment"),
            ("http://app.example.com/cb", "https"),
            ("javascript:alert(1)", "not allowed"),
            ("https://user:pw@app.example.com/cb", "user name"),
            ("https://app.example.com/a b", "spaces"),
        ] {
            let err = validate_registered(bad).unwrap_err();
            assert!(err.contains(why), "{bad}: {err}");
        }
    }
}
