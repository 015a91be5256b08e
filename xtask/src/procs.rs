//! Child processes that die with the xtask: emulators and servers.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context, bail};

/// A running `trino-emulator`; killed on drop.
pub type Emulator = Process;

/// A child that prints `<name> listening on <url>` when ready; killed on drop.
pub struct Process {
    child: Child,
    pub url: String,
}

impl Process {
    pub fn start(bin: &Path, args: &[&str]) -> anyhow::Result<Self> {
        Self::start_with_env(bin, args, &[])
    }

    pub fn start_with_env(bin: &Path, args: &[&str], env: &[(&str, &str)]) -> anyhow::Result<Self> {
        let mut cmd = Command::new(bin);
        cmd.args(args)
            .stderr(Stdio::inherit())
            .env("RUST_LOG", "warn")
            .env("MCP_TRINO_LOG", "warn");
        for (k, v) in env {
            cmd.env(k, v);
        }
        Self::spawn(cmd)
    }

    /// Start a prepared command (its stdout is taken over) and wait for its readiness line.
    pub fn spawn(mut cmd: Command) -> anyhow::Result<Self> {
        let name = cmd.get_program().to_string_lossy().into_owned();
        cmd.stdin(Stdio::null()).stdout(Stdio::piped());
        let mut child = cmd.spawn().with_context(|| format!("starting {name}"))?;
        let stdout = child.stdout.take().context("child stdout")?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            if let Some(Ok(line)) = lines.next() {
                let _ = tx.send(line);
            }
            // Keep draining so the child never blocks on a full pipe.
            for _ in lines {}
        });
        let line = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(l) => l,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                bail!("{name} did not report readiness within 60 s");
            }
        };
        let url = line
            .split_once(" listening on ")
            .map(|(_, u)| u.trim().to_string())
            .with_context(|| format!("unexpected first line from {name}: {line}"))?;
        Ok(Process { child, url })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The port of `url`.
    pub fn port(&self) -> &str {
        self.url.rsplit(':').next().unwrap_or_default()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
