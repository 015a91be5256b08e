//! The small enumerations of the configuration: access mode, transport, composition.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

/// What a connection allows (seed 003). `admin` offers every tool across all catalogs,
/// `user` a smaller set limited to the configured catalog and schema; `_ro` refuses writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessMode {
    UserRo,
    UserRw,
    #[default]
    AdminRo,
    AdminRw,
}

impl AccessMode {
    pub const ALL: [AccessMode; 4] = [
        AccessMode::UserRo,
        AccessMode::UserRw,
        AccessMode::AdminRo,
        AccessMode::AdminRw,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AccessMode::UserRo => "user_ro",
            AccessMode::UserRw => "user_rw",
            AccessMode::AdminRo => "admin_ro",
            AccessMode::AdminRw => "admin_rw",
        }
    }

    pub fn is_read_only(self) -> bool {
        matches!(self, AccessMode::UserRo | AccessMode::AdminRo)
    }

    pub fn is_user(self) -> bool {
        matches!(self, AccessMode::UserRo | AccessMode::UserRw)
    }
}

impl fmt::Display for AccessMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Exactly `user_ro`, `user_rw`, `admin_ro` or `admin_rw`: an unknown or differently
/// spelled mode is an error, never a silent fallback to a writable mode.
impl FromStr for AccessMode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
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
            assert_eq!(m.as_str().parse::<AccessMode>(), Ok(m));
        }
        assert!("ADMIN_RO".parse::<AccessMode>().is_err());
        assert!("admin".parse::<AccessMode>().is_err());
        assert!(" admin_ro".parse::<AccessMode>().is_err());
        assert!("read_write".parse::<AccessMode>().is_err());
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
