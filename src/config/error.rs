//! Configuration problems, collected so that one start-up attempt reports all of them.

use std::collections::HashSet;
use std::fmt;

/// One problem: where (`connections.prod.port`, `TRINO_PORT`, `connection 'dev'`) and what.
/// Messages never contain a secret value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub location: String,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

/// Every problem found while loading; `Display` prints a header and one problem per line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors {
    pub errors: Vec<ConfigError>,
}

impl ConfigErrors {
    /// The problems as single lines, without the header.
    pub fn lines(&self) -> Vec<String> {
        self.errors.iter().map(|e| e.to_string()).collect()
    }
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.errors.len();
        write!(
            f,
            "invalid configuration ({n} problem{}):",
            if n == 1 { "" } else { "s" }
        )?;
        for e in &self.errors {
            write!(f, "\n  - {e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// Collector used while loading.
#[derive(Default)]
pub(crate) struct Errors {
    list: Vec<ConfigError>,
    /// Paths whose `${VAR}` expansion failed; checks that would only repeat the problem
    /// ("host is required") skip them.
    poisoned: HashSet<String>,
    /// Paths whose string came (in part) from `${VAR}`: their values are never echoed,
    /// since the variable may hold a secret put in the wrong field.
    expanded: HashSet<String>,
}

impl Errors {
    pub fn push(&mut self, location: impl Into<String>, message: impl Into<String>) {
        self.list.push(ConfigError {
            location: location.into(),
            message: message.into(),
        });
    }

    pub fn poison(&mut self, path: String) {
        self.poisoned.insert(path);
    }

    pub fn is_poisoned(&self, path: &str) -> bool {
        self.poisoned.contains(path)
    }

    pub fn mark_expanded(&mut self, path: String) {
        self.expanded.insert(path);
    }

    /// How a user-written value at `path` is shown in a message.
    pub fn show(&self, path: &str, text: &str) -> String {
        if self.expanded.contains(path) {
            "a value from an environment variable (not shown)".to_string()
        } else {
            super::fields::shown(text)
        }
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    pub fn into_errors(self) -> ConfigErrors {
        ConfigErrors { errors: self.list }
    }

    pub fn into_result<T>(self, value: T) -> Result<T, ConfigErrors> {
        if self.list.is_empty() {
            Ok(value)
        } else {
            Err(ConfigErrors { errors: self.list })
        }
    }
}
