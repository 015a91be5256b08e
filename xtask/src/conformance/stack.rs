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

/// The cluster behind `locked` and `slow`: HTTPS with bearer tokens. The emulator's also
/// answers every page after [`GUARD_PAGE_DELAY_MS`] (QUERY_TIMEOUT cases).
pub struct Guard {
    pub host: String,
    pub port: u16,
    pub ca: PathBuf,
    pub user: String,
    pub token: String,
}

/// The token the guarded cluster accepts; `locked` sends another one.
pub const GUARD_TOKEN: &str = "golden-token";
pub const GUARD_PAGE_DELAY_MS: u32 = 3000;

pub struct Stack {
    /// Whatever keeps the clusters alive (child processes or containers).
    _clusters: Vec<Box<dyn std::any::Any>>,
    /// Where prod, staging, dev and the closed port are.
    pub host: String,
    pub ports: Ports,
    pub guard: Guard,
    /// Case-name prefixes this backend cannot stage, and why (reported as skipped).
    pub unsupported: Vec<(&'static str, &'static str)>,
    pub dir: PathBuf,
}

impl Stack {
    /// Start prod, staging and dev emulators on `base+1..=base+3` (ephemeral ports when
    /// `base` is 0); `down` is `base+4` or a port just released.
    pub fn start(emulator: &Path, base: u16, dir: &Path) -> anyhow::Result<Stack> {
        std::fs::create_dir_all(dir)?;
        let mut clusters: Vec<Box<dyn std::any::Any>> = Vec::new();
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
            clusters.push(Box::new(p));
        }
        let ca = dir.join("guarded-ca.pem");
        let ca_arg = ca.to_string_lossy().to_string();
        let bind = if base == 0 {
            "127.0.0.1:0".to_string()
        } else {
            format!("127.0.0.1:{}", base + 5)
        };
        let delay = GUARD_PAGE_DELAY_MS.to_string();
        let g = Process::start(
            emulator,
            &[
                "--bind",
                &bind,
                "--cluster",
                "prod",
                "--tls-self-signed",
                &ca_arg,
                "--bearer-token",
                GUARD_TOKEN,
                "--page-delay-ms",
                &delay,
            ],
        )
        .with_context(|| format!("starting the guarded emulator on {bind}"))?;
        let guarded = port_of(&g.url)?;
        clusters.push(Box::new(g));
        let down = if base == 0 {
            let l = std::net::TcpListener::bind("127.0.0.1:0")?;
            l.local_addr()?.port()
        } else {
            base + 4
        };
        Ok(Stack {
            _clusters: clusters,
            host: "127.0.0.1".into(),
            ports: Ports {
                prod: ports[0],
                staging: ports[1],
                dev: ports[2],
                down,
            },
            guard: Guard {
                host: "localhost".into(),
                port: guarded,
                ca,
                user: "analyst".into(),
                token: GUARD_TOKEN.into(),
            },
            unsupported: Vec::new(),
            dir: dir.to_path_buf(),
        })
    }

    /// Real `trinodb/trino` containers (xtask/src/docker.rs): prod, staging, dev seeded like
    /// the emulator's datasets; dev's HTTPS port with JWT authentication is the guarded
    /// cluster. Real Trino cannot be made to answer slowly, so the QUERY_TIMEOUT cases are
    /// skipped.
    #[cfg(feature = "docker")]
    pub fn from_real(real: crate::docker::real::Stack, dir: &Path) -> anyhow::Result<Stack> {
        std::fs::create_dir_all(dir)?;
        let host = real.prod.host.clone();
        let down = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let guard = Guard {
            host: real.dev.host.clone(),
            port: real.dev.https_port.context("dev has no HTTPS port")?,
            ca: crate::root().join("compose/trino/tls/ca.pem"),
            user: "alice".into(),
            token: std::fs::read_to_string(crate::root().join("compose/trino/tls/jwt-alice.txt"))
                .context("reading compose/trino/tls/jwt-alice.txt")?
                .trim()
                .to_string(),
        };
        Ok(Stack {
            host,
            ports: Ports {
                prod: real.prod.http_port,
                staging: real.staging.http_port,
                dev: real.dev.http_port,
                down,
            },
            guard,
            unsupported: vec![(
                "limits/query_timeout",
                "real Trino cannot be slowed down per page (emulator only)",
            )],
            _clusters: vec![Box::new(real)],
            dir: dir.to_path_buf(),
        })
    }

    /// The connections in order: `default` (prod, admin_ro, tpch.tiny), `staging` (user_ro,
    /// memory.sales), `dev` (admin_rw, memory.sales), `down` (closed port), `locked` (the
    /// guarded cluster with a wrong token), `slow` (the guarded cluster, right token, 1 s
    /// timeout), `limited` (prod, one call per 10 minutes), then one endpoint-only
    /// connection per access mode (on prod, tpch.tiny) for HTTP `tools/list` and endpoint
    /// cases.
    pub fn connections(&self) -> Vec<(String, Value)> {
        let p = &self.ports;
        let conn = |port: u16, catalog: Option<(&str, &str)>, mode: &str| {
            let mut c = json!({"host": self.host, "port": port, "ssl": false, "user": "analyst"});
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
        let g = &self.guard;
        let guarded = |token: &str, timeout: Option<u32>| {
            let mut c = json!({"host": g.host, "port": g.port, "ssl": true,
                "ca_cert": g.ca.to_string_lossy(), "user": g.user, "token": token,
                "catalog": "tpch", "schema": "tiny", "access_mode": "admin_ro"});
            if let Some(t) = timeout {
                c["timeout"] = json!(t);
            }
            c
        };
        v.push(("locked".to_string(), guarded("wrong-token", None)));
        v.push(("slow".to_string(), guarded(&g.token, Some(1))));
        let mut limited = conn(p.prod, Some(("tpch", "tiny")), "admin_ro");
        limited["limits"] = json!({"requests_per_window": 1, "window_seconds": 600});
        v.push(("limited".to_string(), limited));
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

/// Fields a `TRINO_ADDITIONAL_SERVERS` entry may hold.
const ENV_FIELDS: [&str; 11] = [
    "host",
    "port",
    "user",
    "password",
    "catalog",
    "schema",
    "ssl",
    "ssl_verify",
    "access_mode",
    "endpoint",
    "timeout",
];

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
        // Only what the variable can say (seed 000's fields): connections needing a token,
        // a CA file or limits exist in the YAML file only.
        let expressible = |c: &Value| {
            c.as_object()
                .is_some_and(|o| o.keys().all(|k| ENV_FIELDS.contains(&k.as_str())))
        };
        for (name, c) in conns[1..].iter().filter(|(_, c)| expressible(c)) {
            extra.insert(name.clone(), c.clone());
        }
        env.push((
            "TRINO_ADDITIONAL_SERVERS".to_string(),
            Value::Object(extra).to_string(),
        ));
    }
    Ok(env)
}
