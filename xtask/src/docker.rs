//! `--backend docker` of `cargo xtask demo` and `cargo xtask e2e`: real Trino clusters
//! (`trinodb/trino`, pinned in `.env`) instead of the emulator, where a Docker engine exists.
//! The emulator stays the default: the project's own machines have no container engine.
//!
//! - `demo --backend docker`: `docker compose up --build --wait` (compose.yaml: prod, staging
//!   and dev seeded with `fixtures/datasets/`, and mcp-trino built from the Dockerfile), the
//!   same endpoints and client configuration as the emulator demo, `docker compose down` on
//!   exit or Ctrl-C.
//! - `e2e --backend docker` (cargo feature `docker`, which brings in testcontainers): three
//!   `trinodb/trino` containers seeded like the compose stack (dev with HTTPS, password and JWT
//!   authentication, as the emulator's TLS target), then the same official-client checks the
//!   emulator backend runs, against their URLs:
//!   `cargo run -p xtask --features docker -- e2e --backend docker`.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::{demo, root, run as run_step};

/// Where `e2e` and `demo` get their Trino clusters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Backend {
    /// The embedded emulator (no container engine needed).
    #[default]
    Emulator,
    /// Real `trinodb/trino` containers (needs a Docker engine).
    Docker,
}

const NO_ENGINE: &str = "Docker engine not available; the emulator backend is the default";

/// `docker info` must succeed, or the command stops here with a clear message.
pub fn require_engine() -> anyhow::Result<()> {
    match Command::new("docker")
        .args(["info", "--format", "{{.ServerVersion}}"])
        .stdin(Stdio::null())
        .output()
    {
        Ok(out) if out.status.success() => Ok(()),
        Ok(out) => {
            let err = String::from_utf8_lossy(&out.stderr);
            let why = err.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
            bail!("{NO_ENGINE} (`docker info` failed: {})", why.trim())
        }
        Err(e) => bail!("{NO_ENGINE} (cannot run `docker`: {e})"),
    }
}

/// The Trino image pinned in `.env` (`TRINO_IMAGE=trinodb/trino:476`), as `(name, tag)`.
/// A `TRINO_IMAGE` environment variable wins, as it does for `docker compose`.
pub fn trino_image() -> anyhow::Result<(String, String)> {
    let value = match std::env::var("TRINO_IMAGE") {
        Ok(v) if !v.trim().is_empty() => v,
        _ => {
            let path = root().join(".env");
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            text.lines()
                .find_map(|l| l.trim().strip_prefix("TRINO_IMAGE="))
                .map(|v| v.trim().trim_matches('"').to_string())
                .with_context(|| format!("no TRINO_IMAGE= line in {}", path.display()))?
        }
    };
    match value.rsplit_once(':') {
        Some((name, tag)) if !name.is_empty() && !tag.is_empty() && !tag.contains('/') => {
            Ok((name.to_string(), tag.to_string()))
        }
        _ => bail!("TRINO_IMAGE must be NAME:TAG (e.g. trinodb/trino:476), got {value:?}"),
    }
}

// ------------------------------------------------------------------------------- demo

/// `cargo xtask demo --backend docker`.
pub fn demo(port: u16, check: bool) -> anyhow::Result<()> {
    require_engine()?;
    if port == 0 {
        bail!("--backend docker publishes a fixed port: pass --port N (default 8080)");
    }
    let ok = compose()
        .arg("version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        bail!("`docker compose` (Compose v2) is not available; it runs compose.yaml");
    }
    let (image, tag) = trino_image()?;
    let token = std::env::var("DEV_MCP_TOKEN")
        .ok()
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| demo::DEV_TOKEN.to_string());
    // From here on the stack is taken down however we leave: normally, by an error, or by
    // Ctrl-C (which kills this process before any destructor runs; the watcher sees that).
    let stack = ComposeDown::arm()?;
    run_step(
        &format!("docker compose up --build --wait ({image}:{tag})"),
        compose()
            .args(["up", "--build", "--wait"])
            .env("MCP_TRINO_PORT", port.to_string())
            .env("DEV_MCP_TOKEN", &token),
    )?;
    wait_for_http(
        "mcp-trino",
        "127.0.0.1",
        port,
        "/health",
        Duration::from_secs(60),
        |_| true,
    )?;
    let url = format!("http://127.0.0.1:{port}");
    demo::print_endpoints(
        &url,
        &format!("real Trino clusters ({image}:{tag}, Docker)"),
        "compose/mcp-trino.yaml (logs: docker compose logs -f mcp-trino)",
        &token,
    );
    if check {
        let result = demo::check_stack(&url, &token);
        drop(stack);
        return result;
    }
    println!("\nPress Ctrl-C to stop (then `docker compose down` runs).");
    loop {
        std::thread::park();
    }
}

/// `docker compose` on the workspace's compose.yaml (and its .env), from any directory.
fn compose() -> Command {
    let mut c = Command::new("docker");
    c.arg("compose")
        .arg("--project-directory")
        .arg(root())
        .arg("-f")
        .arg(root().join("compose.yaml"));
    c
}

/// Takes the compose stack down when dropped, and also when this process dies without
/// running destructors (Ctrl-C): a watcher in its own process group (so the terminal's SIGINT
/// does not reach it) waits for our pid to disappear, then runs `docker compose down`.
struct ComposeDown {
    watcher: Option<Child>,
}

impl ComposeDown {
    fn arm() -> anyhow::Result<Self> {
        let script = r#"while kill -0 "$1" 2>/dev/null; do sleep 1; done
echo "xtask: stopping the Docker demo (docker compose down)" >&2
exec docker compose --project-directory "$2" -f "$2/compose.yaml" down"#;
        let mut cmd = Command::new("sh");
        cmd.args(["-c", script, "sh"])
            .arg(std::process::id().to_string())
            .arg(root())
            .stdin(Stdio::null());
        #[cfg(unix)]
        {
            use std::os::unix::process::CommandExt;
            cmd.process_group(0);
        }
        let watcher = cmd.spawn().context("starting the compose watcher (sh)")?;
        Ok(ComposeDown {
            watcher: Some(watcher),
        })
    }
}

impl Drop for ComposeDown {
    fn drop(&mut self) {
        if let Some(mut w) = self.watcher.take() {
            let _ = w.kill();
            let _ = w.wait();
        }
        eprintln!("==> docker compose down");
        let _ = compose().arg("down").status();
    }
}

// ------------------------------------------------------------------------------- e2e

/// `cargo xtask e2e --backend docker`.
pub fn e2e(no_clients: bool) -> anyhow::Result<()> {
    #[cfg(not(feature = "docker"))]
    {
        let _ = no_clients;
        bail!(
            "`e2e --backend docker` starts real Trino with testcontainers, which the xtask builds \
             only with its `docker` feature:\n  \
             cargo run -p xtask --features docker -- e2e --backend docker\n\
             (needs a Docker engine; `cargo xtask e2e` runs the same checks on the emulator)"
        )
    }
    #[cfg(feature = "docker")]
    {
        require_engine()?;
        real::e2e(no_clients)
    }
}

// ------------------------------------------------------------------------------- HTTP

/// Poll `GET path` until it answers 200 and `ready(body)` holds, or fail after `timeout`.
fn wait_for_http(
    what: &str,
    host: &str,
    port: u16,
    path: &str,
    timeout: Duration,
    ready: impl Fn(&str) -> bool,
) -> anyhow::Result<()> {
    let start = Instant::now();
    let mut last = String::from("no answer yet");
    while start.elapsed() < timeout {
        match http_get(host, port, path) {
            Ok((200, body)) if ready(&body) => return Ok(()),
            Ok((status, body)) => last = format!("HTTP {status}: {}", body.trim()),
            Err(e) => last = e.to_string(),
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    bail!(
        "{what}: GET http://{host}:{port}{path} not ready after {} s ({last})",
        timeout.as_secs()
    )
}

/// A bare HTTP/1.0 GET without TLS (readiness polling needs no client library):
/// the status code and the body.
fn http_get(host: &str, port: u16, path: &str) -> std::io::Result<(u16, String)> {
    let addr = (host, port)
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| std::io::Error::other(format!("{host} has no address")))?;
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    stream.set_write_timeout(Some(Duration::from_secs(5)))?;
    write!(
        stream,
        "GET {path} HTTP/1.0\r\nHost: {host}:{port}\r\nAccept: application/json\r\n\r\n"
    )?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Ok((status, body.to_string()))
}

/// `/v1/info` of a coordinator that has finished starting (`"starting":false`).
#[cfg_attr(not(feature = "docker"), allow(dead_code))]
fn trino_started(body: &str) -> bool {
    let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    compact.contains("\"starting\":false")
}

// ------------------------------------------------------------------------------- testcontainers

#[cfg(feature = "docker")]
pub mod real {
    //! Three `trinodb/trino` containers seeded like compose.yaml's, and the checks against them.

    use std::path::{Path, PathBuf};
    use std::time::{Duration, Instant};

    use anyhow::{Context, bail};
    use testcontainers::core::{ExecCommand, IntoContainerPort};
    use testcontainers::runners::SyncRunner;
    use testcontainers::{Container, CopyTargetOptions, GenericImage, ImageExt};

    use super::{trino_image, trino_started, wait_for_http};
    use crate::procs::Process;
    use crate::{Summary, cargo, demo, root, run as run_step};

    /// Seconds a coordinator may take from container start to `"starting":false`.
    const START_TIMEOUT: Duration = Duration::from_secs(180);
    /// The emulator TLS target's credentials; compose/trino/tls/ holds the same for real Trino.
    const TLS_USER: &str = "alice";
    const TLS_PASSWORD: &str = "emulator-secret";

    /// One real Trino coordinator.
    pub struct Cluster {
        pub name: &'static str,
        container: Container<GenericImage>,
        pub host: String,
        pub http_port: u16,
        /// Set for the cluster started with HTTPS and authentication.
        pub https_port: Option<u16>,
        /// When its container started (after any image pull).
        started: Instant,
    }

    impl Cluster {
        /// Plain HTTP, no authentication (over HTTP even the TLS cluster takes any user).
        pub fn url(&self) -> String {
            format!("http://{}:{}", self.host, self.http_port)
        }

        /// HTTPS with password or JWT authentication (the `dev` cluster only).
        pub fn tls_url(&self) -> Option<String> {
            self.https_port
                .map(|p| format!("https://{}:{p}", self.host))
        }
    }

    /// prod and staging over HTTP; dev also over HTTPS with password and JWT authentication.
    pub struct Stack {
        pub prod: Cluster,
        pub staging: Cluster,
        pub dev: Cluster,
    }

    impl Stack {
        /// Start the three containers (pulling the image the first time), wait for each
        /// coordinator, and seed it with the emulator's datasets.
        pub fn start() -> anyhow::Result<Stack> {
            let (image, tag) = trino_image()?;
            eprintln!("==> starting {image}:{tag} x3 (prod, staging, dev with HTTPS)");
            let prod = start_cluster(&image, &tag, "prod", false)?;
            let staging = start_cluster(&image, &tag, "staging", false)?;
            let dev = start_cluster(&image, &tag, "dev", true)?;
            let stack = Stack { prod, staging, dev };
            for c in stack.all() {
                let left = START_TIMEOUT.saturating_sub(c.started.elapsed());
                if let Err(e) = wait_for_http(
                    c.name,
                    &c.host,
                    c.http_port,
                    "/v1/info",
                    left,
                    trino_started,
                ) {
                    print_logs(c);
                    return Err(e);
                }
            }
            for c in stack.all() {
                seed(c)?;
            }
            Ok(stack)
        }

        pub fn all(&self) -> [&Cluster; 3] {
            [&self.prod, &self.staging, &self.dev]
        }
    }

    fn tls_dir() -> PathBuf {
        root().join("compose/trino/tls")
    }

    fn file(path: &Path) -> anyhow::Result<Vec<u8>> {
        std::fs::read(path).with_context(|| format!("reading {}", path.display()))
    }

    /// Copy a host file into the container (mode 0644: the image runs as user `trino`).
    fn copy(
        req: testcontainers::ContainerRequest<GenericImage>,
        target: &str,
        source: &Path,
    ) -> anyhow::Result<testcontainers::ContainerRequest<GenericImage>> {
        Ok(req.with_copy_to(
            CopyTargetOptions::new(target).with_mode(0o644),
            file(source)?,
        ))
    }

    fn start_cluster(
        image: &str,
        tag: &str,
        name: &'static str,
        tls: bool,
    ) -> anyhow::Result<Cluster> {
        let etc = root().join("compose/trino/etc");
        let seed = root().join("compose/seed");
        let datasets = root().join("fixtures/datasets");
        let mut img = GenericImage::new(image, tag).with_exposed_port(8080.tcp());
        if tls {
            img = img.with_exposed_port(8443.tcp());
        }
        // Catalog files are added to the image's own (jmx, memory, tpcds, tpch).
        let mut req = img.with_label("org.mcp-trino.cluster", name);
        for catalog in ["memory", "tpch", "synthetic"] {
            req = copy(
                req,
                &format!("/etc/trino/catalog/{catalog}.properties"),
                &etc.join(format!("catalog/{catalog}.properties")),
            )?;
        }
        req = copy(
            req,
            "/etc/trino/access-control.properties",
            &etc.join("access-control.properties"),
        )?;
        req = copy(req, "/etc/trino/rules.json", &etc.join("rules.json"))?;
        for f in ["seed.sh", "all_types.sql", "synthetic.sql"] {
            req = copy(req, &format!("/seed/scripts/{f}"), &seed.join(f))?;
        }
        for f in ["common.sql", "prod.sql", "staging.sql", "dev.sql"] {
            req = copy(req, &format!("/seed/datasets/{f}"), &datasets.join(f))?;
        }
        if tls {
            let dir = tls_dir();
            for f in [
                "server.pem",
                "jwt-hmac.key",
                "password.db",
                "https.properties",
            ] {
                req = copy(req, &format!("/etc/trino/tls/{f}"), &dir.join(f))?;
            }
            req = copy(
                req,
                "/etc/trino/password-authenticator.properties",
                &dir.join("password-authenticator.properties"),
            )?;
            // Keep the image's own config.properties (whatever this tag's defaults are) and
            // add HTTPS and authentication to it.
            req = req.with_cmd([
                "bash",
                "-c",
                "printf '\\n' >> /etc/trino/config.properties \
                 && cat /etc/trino/tls/https.properties >> /etc/trino/config.properties \
                 && exec /usr/lib/trino/bin/run-trino",
            ]);
        }
        let container = req
            .start()
            .with_context(|| format!("starting the {name} container ({image}:{tag})"))?;
        let host = match container.get_host()?.to_string().as_str() {
            // The ports below are the IPv4 mappings, and the test certificate names 127.0.0.1.
            "localhost" => "127.0.0.1".to_string(),
            other => other.to_string(),
        };
        let http_port = container.get_host_port_ipv4(8080.tcp())?;
        let https_port = if tls {
            Some(container.get_host_port_ipv4(8443.tcp())?)
        } else {
            None
        };
        eprintln!(
            "    {name}: http://{host}:{http_port}{} (container {})",
            https_port
                .map(|p| format!(", https://{host}:{p}"))
                .unwrap_or_default(),
            &container.id()[..12.min(container.id().len())]
        );
        Ok(Cluster {
            name,
            container,
            host,
            http_port,
            https_port,
            started: Instant::now(),
        })
    }

    /// compose/seed/seed.sh inside the container, with the image's Trino CLI.
    fn seed(c: &Cluster) -> anyhow::Result<()> {
        eprintln!("==> seed {}", c.name);
        let script = format!(
            "bash /seed/scripts/seed.sh {}=http://localhost:8080 2>&1",
            c.name
        );
        let mut exec = c
            .container
            .exec(ExecCommand::new(["bash", "-c", script.as_str()]))
            .with_context(|| format!("seeding {}", c.name))?;
        let output = exec.stdout_to_vec()?;
        let output = String::from_utf8_lossy(&output);
        let mut code = exec.exit_code()?;
        for _ in 0..20 {
            if code.is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(250));
            code = exec.exit_code()?;
        }
        for line in output.lines().filter(|l| !l.contains("jline")) {
            eprintln!("    {line}");
        }
        if code != Some(0) {
            bail!("seeding {} failed (exit code {code:?})", c.name);
        }
        Ok(())
    }

    fn print_logs(c: &Cluster) {
        let mut logs = c.container.stdout_to_vec().unwrap_or_default();
        logs.extend(c.container.stderr_to_vec().unwrap_or_default());
        let text = String::from_utf8_lossy(&logs);
        let lines: Vec<&str> = text.lines().collect();
        eprintln!("--- last lines of the {} container's log", c.name);
        for line in &lines[lines.len().saturating_sub(60)..] {
            eprintln!("    {line}");
        }
    }

    /// The mcp-trino configuration of the demo layout over the three containers (dev over
    /// HTTPS as alice, trusting the test CA).
    fn config_yaml(stack: &Stack) -> anyhow::Result<String> {
        let ca = tls_dir().join("ca.pem");
        let dev_tls = stack.dev.https_port.context("dev has no HTTPS port")?;
        Ok(format!(
            r#"# Written by `cargo xtask e2e --backend docker`.
server:
  allowed_origins: ["http://localhost:*", "http://127.0.0.1:*"]
  shutdown_grace_seconds: 3
connections:
  prod:
    host: {prod_host}
    port: {prod_port}
    ssl: false
    user: analyst
    catalog: tpch
    schema: tiny
  staging:
    host: {staging_host}
    port: {staging_port}
    ssl: false
    user: analyst
    catalog: memory
    schema: sales
    access_mode: user_ro
    endpoint: true
  dev:
    host: {dev_host}
    port: {dev_tls}
    ssl: true
    ca_cert: "{ca}"
    user: {TLS_USER}
    password: {TLS_PASSWORD}
    catalog: memory
    schema: sales
    access_mode: admin_rw
    endpoint: true
    auth:
      bearer_tokens: ["{token}"]
    limits:
      requests_per_window: 60
      window_seconds: 60
      max_concurrent_queries: 4
"#,
            prod_host = stack.prod.host,
            prod_port = stack.prod.http_port,
            staging_host = stack.staging.host,
            staging_port = stack.staging.http_port,
            dev_host = stack.dev.host,
            ca = ca.display(),
            token = demo::DEV_TOKEN,
        ))
    }

    pub fn e2e(no_clients: bool) -> anyhow::Result<()> {
        let mut s = Summary { rows: Vec::new() };
        let result = (|| {
            s.step("build", || {
                run_step(
                    "cargo build -p mcp-trino --bins",
                    cargo().args(["build", "-p", "mcp-trino", "--bins"]),
                )
            })?;
            let mut stack = None;
            s.step("real Trino: start and seed prod, staging, dev", || {
                stack = Some(Stack::start()?);
                Ok(())
            })?;
            let stack = stack.context("no stack")?;
            if no_clients {
                return Ok(());
            }
            s.step("real Trino vs official Trino clients", || {
                let jwt = std::fs::read_to_string(tls_dir().join("jwt-alice.txt"))
                    .context("reading compose/trino/tls/jwt-alice.txt")?;
                let ca = tls_dir().join("ca.pem").to_string_lossy().to_string();
                crate::official_client_checks(&crate::ClientTargets {
                    plain: &stack.prod.url(),
                    paged: &stack.staging.url(),
                    tls: &stack.dev.tls_url().context("dev has no HTTPS port")?,
                    ca: &ca,
                    user: TLS_USER,
                    password: TLS_PASSWORD,
                    token: jwt.trim(),
                })
            })?;
            s.step("demo stack on real Trino vs official MCP client", || {
                let dir = root().join("target/e2e-docker");
                std::fs::create_dir_all(&dir)?;
                let config = dir.join("config.yaml");
                std::fs::write(&config, config_yaml(&stack)?)?;
                let config_arg = config.to_string_lossy().to_string();
                let server = Process::start(
                    &root().join("target/debug/mcp-trino"),
                    &[
                        "serve",
                        "--transport",
                        "http",
                        "--bind",
                        "127.0.0.1:0",
                        "--config",
                        &config_arg,
                    ],
                )?;
                demo::check_stack(&server.url, demo::DEV_TOKEN)
            })?;
            s.step("golden conformance on real Trino (stdio + HTTP)", || {
                let dir = root().join("target/conformance-docker");
                crate::conformance::e2e_on(crate::conformance::Stack::from_real(stack, &dir)?)
            })?;
            Ok(())
        })();
        s.print();
        result
    }
}
