//! PKCE (RFC 7636) as Postern allows it: S256 only (RFC 9700 §2.1.1),
//! required for public clients, optional for confidential ones.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A checked `code_challenge` with method S256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeChallenge(String);

/// Why a challenge was refused; the text is the `error_description`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PkceError {
    #[error("code_challenge_method must be S256; plain is not supported.")]
    PlainRefused,
    #[error("code_challenge_method must be S256.")]
    UnknownMethod,
    #[error("code_challenge must be 43 to 128 characters of [A-Za-z0-9-._~].")]
    MalformedChallenge,
    #[error("code_challenge_method was sent without code_challenge.")]
    MethodWithoutChallenge,
}

/// RFC 7636 §4.1/§4.2: `[A-Za-z0-9-._~]{43,128}`, for verifiers and challenges alike.
pub fn well_formed(value: &str) -> bool {
    (43..=128).contains(&value.len())
        && value.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

impl CodeChallenge {
    /// Reads the pair from an authorization request. `Ok(None)`: no PKCE.
    /// RFC 7636 §4.3 makes an omitted method mean `plain`, which is refused.
    pub fn from_request(challenge: Option<&str>, method: Option<&str>) -> Result<Option<CodeChallenge>, PkceError> {
        match (challenge, method) {
            (None, None) => Ok(None),
            (None, Some(_)) => Err(PkceError::MethodWithoutChallenge),
            (Some(_), None | Some("plain")) => Err(PkceError::PlainRefused),
            (Some(_), Some(m)) if m != "S256" => Err(PkceError::UnknownMethod),
            (Some(c), Some(_)) if !well_formed(c) => Err(PkceError::MalformedChallenge),
            (Some(c), Some(_)) => Ok(Some(CodeChallenge(c.to_owned()))),
        }
    }

    /// A challenge read back from storage (it was checked when stored).
    pub fn stored(value: String) -> CodeChallenge {
        CodeChallenge(value)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// RFC 7636 §4.6: BASE64URL(SHA256(verifier)) == challenge, compared in
    /// constant time. A malformed verifier never matches.
    pub fn verify(&self, verifier: &str) -> bool {
        if !well_formed(verifier) {
            return false;
        }
        let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        computed.as_bytes().ct_eq(self.0.as_bytes()).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7636 Appendix B.
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn rfc_7636_appendix_b_vector() {
        let challenge = CodeChallenge::from_request(Some(CHALLENGE), Some("S256")).unwrap().unwrap();
        assert!(challenge.verify(VERIFIER));
        assert!(!challenge.verify("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXj"));
        assert!(!challenge.verify(CHALLENGE), "the challenge itself is not a verifier");
    }

    #[test]
    fn only_s256_with_a_well_formed_challenge() {
        assert_eq!(CodeChallenge::from_request(None, None), Ok(None));
        assert_eq!(CodeChallenge::from_request(Some(CHALLENGE), None), Err(PkceError::PlainRefused));
        assert_eq!(CodeChallenge::from_request(Some(CHALLENGE), Some("plain")), Err(PkceError::PlainRefused));
        assert_eq!(CodeChallenge::from_request(Some(CHALLENGE), Some("s256")), Err(PkceError::UnknownMethod));
        assert_eq!(CodeChallenge::from_request(None, Some("S256")), Err(PkceError::MethodWithoutChallenge));
        for bad in ["short", &"a".repeat(129), &format!("{}+", &CHALLENGE[..43])] {
            assert_eq!(
                CodeChallenge::from_request(Some(bad), Some("S256")),
                Err(PkceError::MalformedChallenge),
                "{bad}"
            );
        }
    }

    #[test]
    fn verifier_syntax_is_checked() {
        let challenge = CodeChallenge::stored(CHALLENGE.into());
        assert!(!challenge.verify("too-short"));
        assert!(!challenge.verify(&format!("{VERIFIER} ")));
        assert!(well_formed(&"~".repeat(128)) && !well_formed(&"~".repeat(42)));
    }
}
