//! The small enumerations of the configuration: access mode, transport, composition.

use std::str::FromStr;

use serde::Serialize;

/// What a connection allows (seed 003): one type, shared with the SQL policy.
pub use crate::policy::AccessMode;

/// Exactly `user_ro`, `user_rw`, `admin_ro` or `admin_rw`: configuration is strict about the
/// spelling (the policy's `FromStr` also takes other letter cases); an unknown mode is an
/// error, never a silent fallback to a writable mode.
pub fn parse_access_mode(s: &str) -> Result<AccessMode, String> {
    AccessMode::ALL
        .into_iter()
        .find(|m| m.as_str() == s)
        .ok_or_else(|| {
            format!(
                "unknown access mode {}; expected one of user_ro, user_rw, admin_ro, admin_rw",
                super::fields::shown(s)
            )
        })
}

/// The MCP transport of a connection's own endpoint (seed 003 values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Transport {
    #[serde(rename = "http")]
    Http,
    #[serde(rename = "streamable-http")]
    StreamableHttp,
}

impl Transport {
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Http => "http",
            Transport::StreamableHttp => "streamable-http",
        }
    }
}

impl FromStr for Transport {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "http" => Ok(Transport::Http),
            "streamable-http" => Ok(Transport::StreamableHttp),
            _ => Err(format!(
                "unknown transport {}; expected http or streamable-http",
                super::fields::shown(s)
            )),
        }
    }
}

/// How `/mcp` offers the connections that have no endpoint of their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Compose {
    /// The seven tools, with a `connection` argument.
    #[default]
    Connection,
    /// Each connection's tools, prefixed `{name}_`, without a `connection` argument.
    Prefixed,
}

impl Compose {
    pub fn as_str(self) -> &'static str {
        match self {
            Compose::Connection => "connection",
            Compose::Prefixed => "prefixed",
        }
    }
}

impl FromStr for Compose {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "connection" => Ok(Compose::Connection),
            "prefixed" => Ok(Compose::Prefixed),
            _ => Err(format!(
                "unknown compose mode {}; expected connection or prefixed",
                super::fields::shown(s)
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_mode_parses_exactly() {
        for m in AccessMode::ALL {
            assert_eq!(parse_access_mode(m.as_str()), Ok(m));
        }
        assert!(parse_access_mode("ADMIN_RO").is_err());
        assert!(parse_access_mode("admin").is_err());
        assert!(parse_access_mode(" admin_ro").is_err());
        assert!(parse_access_mode("read_write").is_err());
        assert_eq!(AccessMode::default(), AccessMode::AdminRo);
        assert!(AccessMode::UserRo.is_read_only() && AccessMode::UserRo.is_user());
        assert!(!AccessMode::UserRw.is_read_only() && AccessMode::UserRw.is_user());
        assert!(AccessMode::AdminRo.is_read_only() && !AccessMode::AdminRo.is_user());
        assert!(!AccessMode::AdminRw.is_read_only() && !AccessMode::AdminRw.is_user());
    }

    #[test]
    fn transport_and_compose_parse() {
        assert_eq!("http".parse::<Transport>(), Ok(Transport::Http));
        assert_eq!(
            "streamable-http".parse::<Transport>(),
            Ok(Transport::StreamableHttp)
        );
        assert!("sse".parse::<Transport>().is_err());
        assert_eq!("prefixed".parse::<Compose>(), Ok(Compose::Prefixed));
        assert!("merged".parse::<Compose>().is_err());
    }
}
