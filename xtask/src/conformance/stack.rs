//! The golden stack: three emulated clusters and a closed port, and the configuration that
//! names them. Every implementation under test is configured the same way, by a YAML file
//! (`MCP_TRINO_CONFIG`) and by the equivalent `TRINO_*` variables.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde_json::{Value, json};

use crate::procs::Process;

/// Access modes, each served by one connection of its own in `tools/list` checks.
pub const MODES: [&str; 4] = ["admin_ro", "admin_rw", "user_ro", "user_rw"];

pub struct Ports {
    pub prod: u16,
    pub staging: u16,
    pub dev: u16,
    /// Nothing listens here (CONNECTION_FAILED cases).
    pub down: u16,
}

pub struct Stack {
    _clusters: Vec<Process>,
    pub ports: Ports,
    pub dir: PathBuf,
}

impl Stack {
    /// Start prod, staging and dev emulators on `base+1..=base+3` (ephemeral ports when
    /// `base` is 0); `down` is `base+4` or a port just released.
    pub fn start(emulator: &Path, base: u16, dir: &Path) -> anyhow::Result<Stack> {
        std::fs::create_dir_all(dir)?;
        let mut clusters = Vec::new();
        let mut ports = Vec::new();
        for (i, cluster) in ["prod", "staging", "dev"].into_iter().enumerate() {
            let bind = if base == 0 {
                "127.0.0.1:0".to_string()
            } else {
                format!("127.0.0.1:{}", base + 1 + i as u16)
            };
            let p = Process::start(emulator, &["--bind", &bind, "--cluster", cluster])
                .with_context(|| format!("starting the {cluster} emulator on {bind}"))?;
            ports.push(port_of(&p.url)?);
            clusters.push(p);
        }
        let down = if base == 0 {
            let l = std::net::TcpListener::bind("127.0.0.1:0")?;
            l.local_addr()?.port()
        } else {
            base + 4
        };
        Ok(Stack {
            _clusters: clusters,
            ports: Ports {
                prod: ports[0],
                staging: ports[1],
                dev: ports[2],
                down,
            },
            dir: dir.to_path_buf(),
        })
    }

    /// The connections in order: `default` (prod, admin_ro, tpch.tiny), `staging` (user_ro,
    /// memory.sales), `dev` (admin_rw, memory.sales), `down` (closed port), then one
    /// endpoint-only connection per access mode (on prod, tpch.tiny) for HTTP `tools/list`.
    pub fn connections(&self) -> Vec<(String, Value)> {
        let p = &self.ports;
        let conn = |port: u16, catalog: Option<(&str, &str)>, mode: &str| {
            let mut c = json!({"host": "127.0.0.1", "port": port, "ssl": false, "user": "analyst"});
            if let Some((cat, schema)) = catalog {
                c["catalog"] = json!(cat);
                c["schema"] = json!(schema);
            }
            c["access_mode"] = json!(mode);
            c
        };
        let mut v = vec![
            (
                "default".to_string(),
                conn(p.prod, Some(("tpch", "tiny")), "admin_ro"),
            ),
            (
                "staging".to_string(),
                conn(p.staging, Some(("memory", "sales")), "user_ro"),
            ),
            (
                "dev".to_string(),
                conn(p.dev, Some(("memory", "sales")), "admin_rw"),
            ),
            ("down".to_string(), conn(p.down, None, "admin_ro")),
        ];
        for mode in MODES {
            let mut c = conn(p.prod, Some(("tpch", "tiny")), mode);
            c["endpoint"] = json!(true);
            v.push((mode.to_string(), c));
        }
        v
    }

    /// Write the stack's YAML and return the environment for a `--stdio` command.
    pub fn main_env(&self) -> anyhow::Result<Vec<(String, String)>> {
        let conns = self.connections();
        let path = self.dir.join("stack.yaml");
        std::fs::write(&path, yaml(&conns))?;
        env_for(&path, &conns)
    }

    /// One `default` connection in `mode`, for the `tools/list` golden of that mode.
    pub fn mode_env(&self, mode: &str) -> anyhow::Result<Vec<(String, String)>> {
        let mut c = self.connections()[0].1.clone();
        c["access_mode"] = json!(mode);
        let conns = vec![("default".to_string(), c)];
        let path = self.dir.join(format!("stack-{mode}.yaml"));
        std::fs::write(&path, yaml(&conns))?;
        env_for(&path, &conns)
    }

    pub fn yaml_path(&self) -> PathBuf {
        self.dir.join("stack.yaml")
    }
}

fn port_of(url: &str) -> anyhow::Result<u16> {
    url.rsplit(':')
        .next()
        .and_then(|p| p.trim_end_matches('/').parse().ok())
        .with_context(|| format!("no port in {url}"))
}

fn yaml(conns: &[(String, Value)]) -> String {
    let mut s = String::from(
        "# The golden stack, written by `cargo xtask conformance`.\nserver:\n  bind: 127.0.0.1:0\n  shutdown_grace_seconds: 2\nconnections:\n",
    );
    for (name, c) in conns {
        s.push_str(&format!("  {name}:\n"));
        if let Some(obj) = c.as_object() {
            for (k, v) in obj {
                s.push_str(&format!("    {k}: {v}\n"));
            }
        }
    }
    s
}

/// `MCP_TRINO_CONFIG` plus the same stack as `TRINO_*` variables: the first connection is
/// the primary (named `default`), the others go to `TRINO_ADDITIONAL_SERVERS`.
fn env_for(path: &Path, conns: &[(String, Value)]) -> anyhow::Result<Vec<(String, String)>> {
    let mut env = vec![(
        "MCP_TRINO_CONFIG".to_string(),
        path.to_string_lossy().to_string(),
    )];
    let (_, primary) = conns.first().context("no connections")?;
    let field = |k: &str| {
        primary
            .get(k)
            .map(|v| v.as_str().map_or(v.to_string(), str::to_string))
    };
    for (var, key) in [
        ("TRINO_HOST", "host"),
        ("TRINO_PORT", "port"),
        ("TRINO_SSL", "ssl"),
        ("TRINO_USER", "user"),
        ("TRINO_CATALOG", "catalog"),
        ("TRINO_SCHEMA", "schema"),
        ("TRINO_ACCESS_MODE", "access_mode"),
    ] {
        if let Some(v) = field(key) {
            env.push((var.to_string(), v));
        }
    }
    if conns.len() > 1 {
        let mut extra = serde_json::Map::new();
        for (name, c) in &conns[1..] {
            extra.insert(name.clone(), c.clone());
        }
        env.push((
            "TRINO_ADDITIONAL_SERVERS".to_string(),
            Value::Object(extra).to_string(),
        ));
    }
    Ok(env)
}
