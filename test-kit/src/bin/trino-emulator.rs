//! `trino-emulator`: one emulated Trino coordinator on a port.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use trino_testkit::server::{AuthConfig, KnobSettings, TlsMaterial};
use trino_testkit::{Emulator, EmulatorConfig};

#[derive(Parser, Debug)]
#[command(
    version,
    about = "A Trino-protocol emulator on an embedded SQL engine, for tests and demos"
)]
struct Args {
    /// Address to listen on; port 0 picks a free one.
    #[arg(long, default_value = "127.0.0.1:8080")]
    bind: SocketAddr,
    /// Which cluster's dataset to serve.
    #[arg(long, default_value = "dev", value_parser = ["prod", "staging", "dev"])]
    cluster: String,
    /// PEM certificate; with --tls-key, serve HTTPS.
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Serve HTTPS with a fresh self-signed certificate for localhost, written to this file
    /// so that clients can trust it.
    #[arg(long, conflicts_with = "tls_cert")]
    tls_self_signed: Option<PathBuf>,
    /// Require HTTP basic authentication with this user (needs --password and TLS).
    #[arg(long, requires = "password")]
    user: Option<String>,
    #[arg(
        long,
        requires = "user",
        env = "TRINO_EMULATOR_PASSWORD",
        hide_env_values = true
    )]
    password: Option<String>,
    /// Accept `Authorization: Bearer <token>` (repeatable).
    #[arg(
        long = "bearer-token",
        env = "TRINO_EMULATOR_BEARER_TOKEN",
        hide_env_values = true
    )]
    bearer_tokens: Vec<String>,
    /// At most this many rows per page (pages are also cut at about 1 MB, as Trino does).
    #[arg(long)]
    page_rows: Option<usize>,
    /// Rows in synthetic.default.numbers.
    #[arg(long, default_value_t = 10_000_000)]
    synthetic_rows: u64,
    /// Fail queries nobody polled for this many seconds (ABANDONED_QUERY).
    #[arg(long, default_value_t = 300)]
    client_timeout_secs: u64,
    /// Fault: sleep before answering each nextUri GET.
    #[arg(long, default_value_t = 0)]
    page_delay_ms: u64,
    /// Fault: fail each query after this many pages.
    #[arg(long, default_value_t = 0)]
    fail_after_pages: u64,
    /// Fault: answer the next N nextUri GETs with 503.
    #[arg(long, default_value_t = 0)]
    unavailable_responses: u64,
    /// Fault: cut the connection on each query's page N+1.
    #[arg(long, default_value_t = 0)]
    drop_after_pages: u64,
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    if let Err(e) = run(Args::parse()).await {
        eprintln!("trino-emulator: {e:#}");
        std::process::exit(1);
    }
}

async fn run(args: Args) -> anyhow::Result<()> {
    let tls = match (&args.tls_cert, &args.tls_key, &args.tls_self_signed) {
        (Some(c), Some(k), _) => Some(TlsMaterial::from_files(c, k)?),
        (_, _, Some(out)) => {
            let t = TlsMaterial::self_signed()?;
            std::fs::write(out, &t.ca_pem).with_context(|| format!("writing {}", out.display()))?;
            Some(t)
        }
        _ => None,
    };
    let mut cfg = EmulatorConfig::new(&args.cluster);
    cfg.bind = args.bind;
    cfg.tls = tls;
    cfg.auth = AuthConfig {
        basic: args.user.zip(args.password),
        bearer_tokens: args.bearer_tokens,
    };
    cfg.page_rows = args.page_rows;
    cfg.synthetic_rows = args.synthetic_rows;
    cfg.client_timeout = Duration::from_secs(args.client_timeout_secs);
    cfg.knobs = KnobSettings {
        page_delay_ms: args.page_delay_ms,
        fail_after_pages: args.fail_after_pages,
        unavailable_responses: args.unavailable_responses,
        drop_after_pages: args.drop_after_pages,
        down: false,
    };
    let emulator = Emulator::start(cfg).await?;
    println!("trino-emulator listening on {}", emulator.url());
    tracing::info!(cluster = emulator.cluster(), url = %emulator.url(), "ready");
    shutdown_signal().await;
    tracing::info!("shutting down");
    emulator.stop().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
