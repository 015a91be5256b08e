//! What one MCP endpoint offers: groups of tools, each with an optional name prefix, the
//! connections it reaches and whether calls name the connection (seed 003's endpoints and
//! server composition).

use crate::config::{Compose, Config, Connection};
use crate::tools::{ALL, Reach, ToolKind};

#[derive(Debug, Clone)]
pub struct Group {
    /// `{name}_` for per-connection endpoints and prefixed composition.
    pub prefix: Option<String>,
    pub reach: Reach,
    pub tools: Vec<ToolKind>,
    /// Every reachable connection is read-only (annotations say so).
    pub all_read_only: bool,
    /// Default `timeout_seconds`, shown in the schema.
    pub default_timeout: u64,
}

#[derive(Debug, Clone)]
pub struct Surface {
    /// `main`, or the connection name of a per-connection endpoint (for logs and metrics).
    pub name: String,
    pub groups: Vec<Group>,
}

impl Surface {
    /// `/mcp` (and stdio): the connections without their own endpoint, either behind one set
    /// of tools with a `connection` argument, or (`compose: prefixed`) one prefixed group each.
    pub fn main(cfg: &Config) -> Surface {
        let composed: Vec<&Connection> = cfg.composed().collect();
        let groups = match cfg.server.compose {
            Compose::Prefixed => composed.iter().map(|c| single(c)).collect(),
            Compose::Connection => {
                if composed.is_empty() {
                    Vec::new()
                } else {
                    let names: Vec<String> = composed.iter().map(|c| c.name.clone()).collect();
                    let default = if names.contains(&cfg.default_connection) {
                        cfg.default_connection.clone()
                    } else {
                        names[0].clone()
                    };
                    let default_timeout = composed
                        .iter()
                        .find(|c| c.name == default)
                        .map_or(120, |c| u64::from(c.timeout_secs));
                    let tools = ALL
                        .into_iter()
                        .filter(|k| composed.iter().any(|c| k.offered_in(c.access_mode)))
                        .collect();
                    vec![Group {
                        prefix: None,
                        reach: Reach {
                            names,
                            default,
                            argument: true,
                        },
                        tools,
                        all_read_only: composed.iter().all(|c| c.access_mode.is_read_only()),
                        default_timeout,
                    }]
                }
            }
        };
        Surface {
            name: "main".into(),
            groups,
        }
    }

    /// `/{name}/mcp`: one connection, tools prefixed `{name}_`, no `connection` argument.
    pub fn endpoint(conn: &Connection) -> Surface {
        Surface {
            name: conn.name.clone(),
            groups: vec![single(conn)],
        }
    }
}

fn single(conn: &Connection) -> Group {
    Group {
        prefix: Some(format!("{}_", conn.name)),
        reach: Reach {
            names: vec![conn.name.clone()],
            default: conn.name.clone(),
            argument: false,
        },
        tools: ALL
            .into_iter()
            .filter(|k| k.offered_in(conn.access_mode))
            .collect(),
        all_read_only: conn.access_mode.is_read_only(),
        default_timeout: u64::from(conn.timeout_secs),
    }
}
