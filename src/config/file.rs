//! The YAML configuration file: parse, expand `${VAR}`, read either layout.

use std::path::Path;

use serde_norway::Value;

use super::env::Env;
use super::error::Errors;
use super::expand::expand_tree;
use super::fields::Fields;
use super::raw::{FILE_FIELDS, RawConnection, read_connection};
use super::server::{ServerConfig, read_server};

/// What the file says, before the environment is applied.
#[derive(Default)]
pub(crate) struct FileConfig {
    /// `connections:` layout: every connection, in file order. Empty in the seed layout.
    pub connections: Vec<(String, RawConnection)>,
    /// Seed layout: the top-level connection fields (connection `default`).
    pub primary: RawConnection,
    /// Seed layout: `additional_servers:`, in file order.
    pub additional: Vec<(String, RawConnection)>,
    pub uses_connections_layout: bool,
    pub default_connection: Option<String>,
    pub server: ServerConfig,
}

pub(crate) fn parse_file(
    text: &str,
    base_dir: Option<&Path>,
    env: Env,
    errs: &mut Errors,
) -> Option<FileConfig> {
    let mut value = match serde_norway::from_str::<Value>(text) {
        Ok(v) => v,
        Err(e) => {
            errs.push("config file", format!("invalid YAML: {e}"));
            return None;
        }
    };
    expand_tree(&mut value, "", env, errs);
    let mut f = Fields::new(value, "", "", errs)?;
    let mut out = FileConfig {
        default_connection: f.string("default_connection", errs),
        ..FileConfig::default()
    };
    if let Some(server) = f.child("server", errs) {
        out.server = read_server(server, errs);
    }

    if f.has("connections") {
        out.uses_connections_layout = true;
        // Mixing both layouts would leave it unclear which connection is the primary.
        let mixed: Vec<String> = f
            .keys()
            .filter(|k| *k == "additional_servers" || FILE_FIELDS.contains(k))
            .map(str::to_string)
            .collect();
        if !mixed.is_empty() {
            errs.push(
                "(top level)",
                format!(
                    "the file uses `connections:` and also top-level {}; use either `connections:` \
                     or the top-level/`additional_servers:` layout, not both",
                    mixed.join(", ")
                ),
            );
            for k in &mixed {
                f.take(k);
            }
        }
        if let Some(conns) = f.child("connections", errs) {
            out.connections = read_named(conns, "connections", base_dir, false, errs);
            if out.connections.is_empty() {
                errs.push("connections", "must list at least one connection");
            }
        }
    } else {
        f.set_suffix(" (connection 'default')");
        out.primary = read_connection(&mut f, FILE_FIELDS, base_dir, errs);
        out.primary.origin = "config file".to_string();
        f.set_suffix("");
        if let Some(extra) = f.child("additional_servers", errs) {
            out.additional = read_named(extra, "additional_servers", base_dir, true, errs);
        }
    }
    f.finish(errs);
    Some(out)
}

/// A mapping of connection name -> connection fields, in order.
fn read_named(
    map: Fields,
    path: &str,
    base_dir: Option<&Path>,
    inherits: bool,
    errs: &mut Errors,
) -> Vec<(String, RawConnection)> {
    let mut out = Vec::new();
    for (name, value) in map.into_entries() {
        let origin = format!("{path}.{name}");
        let Some(mut f) = Fields::new(value, &origin, "", errs) else {
            continue;
        };
        let mut c = read_connection(&mut f, FILE_FIELDS, base_dir, errs);
        f.finish(errs);
        c.inherits = inherits;
        c.origin = origin;
        out.push((name, c));
    }
    out
}
