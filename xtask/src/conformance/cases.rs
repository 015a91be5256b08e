//! Golden case files: `fixtures/golden/cases/*.json`, each an array of cases, read and
//! written in a stable layout so that `golden --bless` gives reviewable diffs.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::compare::Rule;

/// One tool call and what it must answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub name: String,
    pub tool: String,
    #[serde(default)]
    pub arguments: Map<String, Value>,
    /// `main` (stdio, `/mcp`) or the name of a per-connection HTTP endpoint (`/{name}/mcp`).
    #[serde(default = "main_endpoint", skip_serializing_if = "is_main")]
    pub endpoint: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect: Option<Expect>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<Rule>,
}

/// The observed or expected result of a call.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    pub is_error: bool,
    pub text: Vec<String>,
    pub structured: Value,
}

fn main_endpoint() -> String {
    "main".into()
}

fn is_main(s: &String) -> bool {
    s == "main"
}

/// A case file: its path and its cases in file order.
pub struct CaseFile {
    pub path: PathBuf,
    pub cases: Vec<Case>,
}

pub fn load_dir(dir: &Path) -> anyhow::Result<Vec<CaseFile>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    let mut files = Vec::new();
    let mut names = std::collections::HashSet::new();
    for path in paths {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let cases: Vec<Case> =
            serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        for c in &cases {
            if !names.insert(c.name.clone()) {
                bail!("duplicate case name {} in {}", c.name, path.display());
            }
        }
        files.push(CaseFile { path, cases });
    }
    Ok(files)
}

pub fn save(file: &CaseFile) -> anyhow::Result<()> {
    let mut text = serde_json::to_string_pretty(&file.cases)?;
    text.push('\n');
    std::fs::write(&file.path, text).with_context(|| format!("writing {}", file.path.display()))
}
