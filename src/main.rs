//! `mcp-trino`: serve the tools over stdio (default) or check a configuration.

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
    let cfg = match load(cli.config.as_deref()) {
        Ok(c) => c,
        Err(message) => {
            eprintln!("mcp-trino: {message}");
            return ExitCode::from(2);
        }
    };
    match cli.command.unwrap_or(Command::Serve {
        transport: TransportArg::Stdio,
    }) {
        Command::CheckConfig => {
            println!("{}", cfg.redacted_pretty());
            ExitCode::SUCCESS
        }
        Command::Serve { transport } => {
            init_logging();
            let runtime = match tokio::runtime::Runtime::new() {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("mcp-trino: cannot start the runtime: {e}");
                    return ExitCode::FAILURE;
                }
            };
            match runtime.block_on(serve(cfg, transport)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    tracing::error!("{e:#}");
                    eprintln!("mcp-trino: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

fn load(path: Option<&std::path::Path>) -> Result<Config, String> {
    let file = config::config_path(path, &config::process_env);
    config::load(file.as_deref(), &config::process_env).map_err(|e| e.to_string())
}

async fn serve(cfg: Config, transport: TransportArg) -> anyhow::Result<()> {
    let clusters = Arc::new(Clusters::from_config(&cfg).map_err(anyhow::Error::msg)?);
    match transport {
        TransportArg::Stdio => mcp_trino::transport::stdio::serve(&cfg, clusters).await,
        TransportArg::Http => {
            anyhow::bail!("the HTTP transport is not built yet; use --transport stdio")
        }
    }
}

/// Logs go to stderr only: stdout belongs to the MCP protocol.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("MCP_TRINO_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,rmcp=warn"));
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(filter)
        .init();
}
