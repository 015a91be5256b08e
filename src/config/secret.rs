//! A string that must never be printed: passwords, Trino tokens, endpoint bearer tokens.

use std::fmt;

use serde::{Serialize, Serializer};

/// A secret value. It has no `Display`; `Debug` prints `Secret(***)` and `Serialize` writes
/// `"***"`, so a secret inside any config struct stays hidden in logs and dumps. The value is
/// only reachable through [`Secret::expose`], which makes every use easy to find.
#[derive(Clone)]
pub struct Secret(Box<str>);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into().into_boxed_str())
    }

    /// The secret text. Call only where the value is sent (a header to Trino).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Compares a presented value with the secret in time that does not depend on where
    /// they differ (nor on the secret's content), so a caller cannot guess a token byte by
    /// byte. Time depends only on the length of `other`, which the caller already knows.
    pub fn ct_eq(&self, other: &[u8]) -> bool {
        let mine = self.0.as_bytes();
        let mut diff = mine.len() ^ other.len();
        if mine.is_empty() {
            // Nothing to compare against; still touch every presented byte.
            for &b in other {
                diff |= std::hint::black_box(b as usize) | 1;
            }
            return std::hint::black_box(diff) == 0;
        }
        for (i, &b) in other.iter().enumerate() {
            let x = mine[i % mine.len()];
            diff |= std::hint::black_box((x ^ b) as usize);
        }
        std::hint::black_box(diff) == 0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("***")
    }
}

#[cfg(test)]
mod tests {
    use super::Secret;

    #[test]
    fn debug_and_serialize_hide_the_value() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "Secret(***)");
        assert_eq!(format!("{s:#?}"), "Secret(***)");
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"***\"");
        assert_eq!(s.expose(), "hunter2");
    }

    #[test]
    fn ct_eq_is_plain_equality() {
        let s = Secret::new("token-abc");
        assert!(s.ct_eq(b"token-abc"));
        assert!(!s.ct_eq(b"token-abd"));
        assert!(!s.ct_eq(b"Token-abc"));
        assert!(!s.ct_eq(b"token-ab"));
        assert!(!s.ct_eq(b"token-abcc"));
        // A repetition of the secret must not match (the loop wraps around the secret).
        assert!(!s.ct_eq(b"token-abctoken-abc"));
        assert!(!s.ct_eq(b""));
        let empty = Secret::new("");
        assert!(empty.ct_eq(b""));
        assert!(!empty.ct_eq(b"\0"));
        assert!(!empty.ct_eq(b"x"));
    }
}
