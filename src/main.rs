//! `mcp-trino`: serve the tools over stdio (default) or HTTP, or check a configuration.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand, ValueEnum};
use mcp_trino::clusters::Clusters;
use mcp_trino::config::{self, Config};

#[derive(Parser)]
#[command(
    name = "mcp-trino",
    version,
    about = "MCP server for one or many Trino clusters"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// YAML configuration file (also MCP_TRINO_CONFIG); TRINO_* variables override it.
    #[arg(long, global = true)]
    config: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the MCP tools (the default command).
    Serve {
        #[arg(long, value_enum, default_value_t = TransportArg::Stdio)]
        transport: TransportArg,
        /// Listen address for `--transport http` (overrides server.bind).
        #[arg(long)]
        bind: Option<SocketAddr>,
    },
    /// Print the effective configuration with every secret redacted; exit non-zero if invalid.
    CheckConfig,
}

#[derive(Clone, Copy, ValueEnum)]
enum TransportArg {
    Stdio,
    Http,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config_path = config::config_path(cli.config.as_deref(), &config::process_env);
    let cfg = match config::load(config_path.as_deref(), &config::process_env) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("mcp-trino: {e}");
            return ExitCode::from(2);
        }
    };
    let command = cli.command.unwrap_or(Command::Serve {
        transport: TransportArg::Stdio,
        bind: None,
    });
    match command {
        Command::CheckConfig => check_config(&cfg),
        Command::Serve { transport, bind } => {
            init_logging();
            let runtime = match tokio::runtime::Runtime::new() {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("mcp-trino: cannot start the runtime: {e}");
                    return ExitCode::FAILURE;
                }
            };
            match runtime.block_on(serve(cfg, transport, config_path, bind)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    // Always on stderr: the log filter (MCP_TRINO_LOG) must not hide why the
                    // server did not start.
                    eprintln!("mcp-trino: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

/// `check-config`: everything `serve` checks before serving, then the redacted configuration.
fn check_config(cfg: &Config) -> ExitCode {
    // The clients are built as `serve` builds them, so certificates are parsed the same way.
    if let Err(e) = Clusters::from_config(cfg) {
        eprintln!("mcp-trino: invalid configuration (1 problem):\n  - {e}");
        return ExitCode::from(2);
    }
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{}", cfg.redacted_pretty()).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        // `check-config | head`: the reader went away; nothing is wrong with the config.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mcp-trino: cannot write the configuration: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(
    cfg: Config,
    transport: TransportArg,
    config_path: Option<PathBuf>,
    bind: Option<SocketAddr>,
) -> anyhow::Result<()> {
    match transport {
        TransportArg::Stdio => {
            let clusters = Arc::new(Clusters::from_config(&cfg).map_err(anyhow::Error::msg)?);
            mcp_trino::transport::stdio::serve(&cfg, clusters).await
        }
        TransportArg::Http => mcp_trino::transport::http::serve(cfg, config_path, bind).await,
    }
}

/// Logs go to stderr only: stdout belongs to the MCP protocol over stdio.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("MCP_TRINO_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,rmcp=warn"));
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(filter)
        .init();
}
