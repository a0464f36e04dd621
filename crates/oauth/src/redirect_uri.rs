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

/// Why an authorization request's redirect URI cannot be trusted. Never a
/// reason to redirect (RFC 6749 §4.1.2.1): the user sees an error page.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RedirectError {
    #[error("redirect_uri is required because the application registered several.")]
    Missing,
    #[error("redirect_uri does not match any redirect URL registered for the application.")]
    Mismatch,
}

/// The redirect URI an authorization request will use (RFC 6749 §4.1.1,
/// §3.1.2.3): the requested one if it equals a registered one exactly —
/// except that the port of a loopback IP redirect is ignored (RFC 8252
/// §7.3) — or the only registered one when none was requested.
pub fn resolve(requested: Option<&str>, registered: &[String]) -> Result<String, RedirectError> {
    let Some(requested) = requested else {
        return match registered {
            [only] => Ok(only.clone()),
            _ => Err(RedirectError::Missing),
        };
    };
    if registered.iter().any(|r| r == requested) {
        return Ok(requested.to_owned());
    }
    let Ok(asked) = Url::parse(requested) else { return Err(RedirectError::Mismatch) };
    // Only the port may differ: the parser must not have changed anything
    // else (it strips control characters and spaces, removes dot segments,
    // lower-cases), or what is sent back would not be what was compared.
    // Found by the `authorize` fuzz target: "\0…\0http://127.0.0.1:5000/cb".
    if asked.as_str() != requested {
        return Err(RedirectError::Mismatch);
    }
    let loopback_ip = |u: &Url| {
        u.scheme() == "http" && matches!(u.host(), Some(url::Host::Ipv4(ip)) if ip.is_loopback())
            || u.scheme() == "http" && matches!(u.host(), Some(url::Host::Ipv6(ip)) if ip.is_loopback())
    };
    if !loopback_ip(&asked) {
        return Err(RedirectError::Mismatch);
    }
    let without_port = |u: &Url| {
        let mut u = u.clone();
        let _ = u.set_port(None);
        u
    };
    let asked = without_port(&asked);
    registered
        .iter()
        .filter_map(|r| Url::parse(r).ok())
        .filter(loopback_ip)
        .any(|r| without_port(&r) == asked)
        .then(|| requested.to_owned())
        .ok_or(RedirectError::Mismatch)
}

/// Whether a redirect URI can be served by any program on the person's
/// device: a loopback address or a private-use (custom) scheme. A public
/// client redirecting there cannot be told from an impersonator, so its
/// remembered consent is not enough to skip the page (RFC 8252 §8.6).
pub fn reaches_any_local_program(uri: &str) -> bool {
    match Url::parse(uri) {
        Ok(url) => match url.scheme() {
            "https" => false,
            "http" => is_loopback(&url),
            _ => true,
        },
        Err(_) => true,
    }
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
    fn requested_redirects_match_exactly_except_loopback_ports() {
        let registered = vec!["https://app.example.com/cb".to_string(), "http://127.0.0.1/cb".to_string()];
        assert_eq!(resolve(Some("https://app.example.com/cb"), &registered), Ok("https://app.example.com/cb".into()));
        for near_miss in [
            "https://app.example.com/cb/",
            "https://APP.example.com/cb",
            "https://app.example.com/cb?x=1",
            "https://app.example.com:443/cb#",
        ] {
            assert_eq!(resolve(Some(near_miss), &registered), Err(RedirectError::Mismatch), "{near_miss}");
        }
        assert_eq!(resolve(Some("http://127.0.0.1:53127/cb"), &registered), Ok("http://127.0.0.1:53127/cb".into()));
        assert_eq!(resolve(Some("http://127.0.0.1:53127/other"), &registered), Err(RedirectError::Mismatch));
        assert_eq!(resolve(None, &registered), Err(RedirectError::Missing));
        assert_eq!(resolve(None, &registered[..1]), Ok("https://app.example.com/cb".into()));
        // "localhost" is a name, not a loopback IP: its port is not ignored (RFC 8252 §8.3).
        let named = vec!["http://localhost:8080/cb".to_string()];
        assert_eq!(resolve(Some("http://localhost:9090/cb"), &named), Err(RedirectError::Mismatch));
    }

    /// Regression (fuzz/corpus/authorize/seed-crash-loopback-nul): a loopback
    /// redirect the URL parser would normalize is not the registered one.
    #[test]
    fn a_loopback_redirect_is_matched_as_sent_not_as_normalized() {
        let registered = vec!["http://127.0.0.1/cb".to_string()];
        for sent in [
            "\0\0http://127.0.0.1:5000/cb",
            " http://127.0.0.1:5000/cb",
            "http://127.0.0.1:5000/cb\t",
            "http://127.0.0.1:5000/x/../cb",
            "HTTP://127.0.0.1:5000/cb",
            "http://127.0.0.1:5000/%63b",
        ] {
            assert_eq!(resolve(Some(sent), &registered), Err(RedirectError::Mismatch), "{sent:?}");
        }
        assert_eq!(resolve(Some("http://127.0.0.1:5000/cb"), &registered), Ok("http://127.0.0.1:5000/cb".into()));
    }

    #[test]
    fn loopback_and_private_use_schemes_reach_any_local_program() {
        assert!(reaches_any_local_program("http://127.0.0.1:5000/cb"));
        assert!(reaches_any_local_program("http://[::1]/cb"));
        assert!(reaches_any_local_program("com.example.app:/cb"));
        assert!(!reaches_any_local_program("https://app.example.com/cb"));
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
