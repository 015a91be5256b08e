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

/// The largest config file read, in bytes. A configuration is a few kilobytes; this only
/// bounds the work a runaway file can cause (parsing 10 MB takes seconds in a debug build).
pub const MAX_FILE_BYTES: usize = 16 * 1024 * 1024;

/// Flow collections (`[`, `{`) nested deeper than this are refused before parsing: the YAML
/// scanner's time grows with the square of the nesting (20 000 levels take seconds, a 10 MB
/// file days), and no configuration needs more than a few levels.
pub const MAX_FLOW_DEPTH: usize = 64;

pub(crate) fn parse_file(
    text: &str,
    base_dir: Option<&Path>,
    env: Env,
    errs: &mut Errors,
) -> Option<FileConfig> {
    if text.len() > MAX_FILE_BYTES {
        errs.push("config file", too_big_message());
        return None;
    }
    if let Some((line, column)) = too_deep_flow(text, MAX_FLOW_DEPTH) {
        errs.push(
            "config file",
            format!(
                "invalid YAML: recursion limit exceeded: [ and {{ nested more than \
                 {MAX_FLOW_DEPTH} levels deep at line {line} column {column}"
            ),
        );
        return None;
    }
    let mut value = match serde_norway::from_str::<Value>(text) {
        Ok(v) => v,
        Err(e) => {
            errs.push("config file", format!("invalid YAML: {}", yaml_error(&e)));
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

/// The message for a file over [`MAX_FILE_BYTES`].
pub(crate) fn too_big_message() -> String {
    format!(
        "is larger than {} MiB, the most a config file may be",
        MAX_FILE_BYTES / (1024 * 1024)
    )
}

/// The parser's message, without any value from the file: serde's "invalid value" and
/// "invalid type" messages quote the scalar (`password: !!int hunter2` gives `invalid value:
/// string "hunter2", expected an integer`), so they are rebuilt from the path and the
/// expected type only. Other quoted text is cut out, except the key of a duplicate entry
/// (keys are named in messages anyway).
pub(crate) fn yaml_error(e: &serde_norway::Error) -> String {
    let text = e.to_string();
    let at = e
        .location()
        .map(|l| format!(" at line {} column {}", l.line(), l.column()))
        .unwrap_or_default();
    for kind in ["invalid value: ", "invalid type: "] {
        let Some(i) = text.find(kind) else { continue };
        // `path: ` (or nothing at the top level); the path is made of keys and indexes.
        let path = &text[..i];
        // The expected type comes after the last ", expected "; the value is before it.
        let expected = text
            .rfind(", expected ")
            .map(|j| {
                let rest = &text[j + ", expected ".len()..];
                &rest[..rest.rfind(" at line ").unwrap_or(rest.len())]
            })
            .filter(|x| {
                !x.is_empty()
                    && x.chars()
                        .all(|c| c.is_ascii_alphanumeric() || " '!_-".contains(c))
            });
        let what = kind.trim_end_matches(": ");
        return match expected {
            Some(x) => format!("{path}{what} (not shown), expected {x}{at}"),
            None => format!("{path}{what} (not shown){at}"),
        };
    }
    if text.contains("duplicate entry with key ") {
        return text;
    }
    without_quoted(&text)
}

/// `text` with every `"..."` and `` `...` `` span replaced by `"..."`.
fn without_quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '"' && c != '`' {
            out.push(c);
            continue;
        }
        out.push(c);
        out.push_str("...");
        let mut escaped = false;
        for d in chars.by_ref() {
            if escaped {
                escaped = false;
            } else if d == '\\' && c == '"' {
                escaped = true;
            } else if d == c {
                break;
            }
        }
        out.push(c);
    }
    out
}

/// Where flow collections first nest deeper than `max` (line and column, from 1), found
/// without parsing: `[` and `{` that can open a flow collection (at the start of a line or
/// after a blank, and anywhere inside a flow collection) count, `]` and `}` inside one close
/// it; quoted scalars and comments are skipped. It is a bound for the parser's sake, not a
/// YAML scanner: a bracket inside a plain scalar (`a [b`) may count as a level.
pub(crate) fn too_deep_flow(text: &str, max: usize) -> Option<(usize, usize)> {
    let b = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    // The byte before `i`, outside skipped spans; a line break at the start.
    let mut prev = b'\n';
    while i < b.len() {
        let c = b[i];
        let after_blank = matches!(prev, b' ' | b'\t' | b'\n' | b'\r');
        let token_start = after_blank || (depth > 0 && matches!(prev, b'[' | b'{' | b',' | b':'));
        match c {
            b'#' if after_blank => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'"' | b'\'' if token_start => {
                i += 1;
                loop {
                    match b.get(i) {
                        // Unterminated: the parser will say so.
                        None => return None,
                        Some(b'\\') if c == b'"' => i += 2,
                        Some(b'\'') if c == b'\'' && b.get(i + 1) == Some(&b'\'') => i += 2,
                        Some(&d) if d == c => break,
                        Some(_) => i += 1,
                    }
                }
            }
            b'[' | b'{' if token_start || depth > 0 => {
                depth += 1;
                if depth > max {
                    let line = 1 + b[..i].iter().filter(|&&x| x == b'\n').count();
                    let line_start = b[..i]
                        .iter()
                        .rposition(|&x| x == b'\n')
                        .map_or(0, |p| p + 1);
                    let column = 1 + text[line_start..i].chars().count();
                    return Some((line, column));
                }
            }
            b']' | b'}' if depth > 0 => depth -= 1,
            _ => {}
        }
        prev = c;
        i += 1;
    }
    None
}
