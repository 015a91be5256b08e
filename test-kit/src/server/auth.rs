//! Optional authentication per cluster: HTTP basic (over TLS only, as Trino) and bearer tokens.

use axum::http::HeaderMap;
use base64::Engine as _;

#[derive(Debug, Clone, Default)]
pub struct AuthConfig {
    pub basic: Option<(String, String)>,
    pub bearer_tokens: Vec<String>,
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum AuthOutcome {
    /// No authentication configured, or the credentials matched; carries the authenticated user.
    Allowed(Option<String>),
    Denied,
}

impl AuthConfig {
    pub fn enabled(&self) -> bool {
        self.basic.is_some() || !self.bearer_tokens.is_empty()
    }

    pub(crate) fn check(&self, headers: &HeaderMap) -> AuthOutcome {
        if !self.enabled() {
            return AuthOutcome::Allowed(None);
        }
        let Some(value) = headers.get("authorization").and_then(|v| v.to_str().ok()) else {
            return AuthOutcome::Denied;
        };
        let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
        if scheme.eq_ignore_ascii_case("basic")
            && let Some((user, password)) = &self.basic
        {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(rest.trim())
                .ok()
                .and_then(|b| String::from_utf8(b).ok());
            if let Some((u, p)) = decoded.as_deref().and_then(|d| d.split_once(':'))
                && u == user
                && p == password
            {
                return AuthOutcome::Allowed(Some(u.to_string()));
            }
        }
        if scheme.eq_ignore_ascii_case("bearer")
            && self.bearer_tokens.iter().any(|t| t == rest.trim())
        {
            return AuthOutcome::Allowed(None);
        }
        AuthOutcome::Denied
    }

    /// `WWW-Authenticate` challenges, one per configured scheme, as Trino sends them.
    pub(crate) fn challenges(&self) -> Vec<&'static str> {
        let mut c = Vec::new();
        if self.basic.is_some() {
            c.push("Basic realm=\"Trino\"");
        }
        if !self.bearer_tokens.is_empty() {
            c.push("Bearer realm=\"Trino\"");
        }
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(auth: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("authorization", auth.parse().unwrap());
        h
    }

    #[test]
    fn basic_and_bearer() {
        let cfg = AuthConfig {
            basic: Some(("alice".into(), "s3cret".into())),
            bearer_tokens: vec!["tok".into()],
        };
        let b64 = base64::engine::general_purpose::STANDARD.encode("alice:s3cret");
        assert_eq!(
            cfg.check(&headers(&format!("Basic {b64}"))),
            AuthOutcome::Allowed(Some("alice".into()))
        );
        let bad = base64::engine::general_purpose::STANDARD.encode("alice:nope");
        assert_eq!(
            cfg.check(&headers(&format!("Basic {bad}"))),
            AuthOutcome::Denied
        );
        assert_eq!(
            cfg.check(&headers("Bearer tok")),
            AuthOutcome::Allowed(None)
        );
        assert_eq!(cfg.check(&headers("Bearer other")), AuthOutcome::Denied);
        assert_eq!(cfg.check(&HeaderMap::new()), AuthOutcome::Denied);
        assert_eq!(
            AuthConfig::default().check(&HeaderMap::new()),
            AuthOutcome::Allowed(None)
        );
    }
}
