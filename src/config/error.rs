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

/// At most this many problems are kept and reported; the rest are only counted (a file with
/// 800 000 unknown keys must not produce 800 000 lines).
pub const MAX_REPORTED: usize = 50;

/// Every problem found while loading; `Display` prints a header and one problem per line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors {
    /// The first problems (at most 50), in the order found.
    pub errors: Vec<ConfigError>,
    /// Problems found beyond those in `errors` (counted, not kept).
    pub omitted: usize,
}

impl ConfigErrors {
    /// The problems as single lines, without the header (and a last line counting the
    /// problems not shown, if any).
    pub fn lines(&self) -> Vec<String> {
        let mut lines: Vec<String> = self.errors.iter().map(|e| e.to_string()).collect();
        if self.omitted > 0 {
            lines.push(self.omitted_line());
        }
        lines
    }

    fn omitted_line(&self) -> String {
        format!(
            "... and {} more problem{} not shown",
            self.omitted,
            if self.omitted == 1 { "" } else { "s" }
        )
    }
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.errors.len() + self.omitted;
        write!(
            f,
            "invalid configuration ({n} problem{}):",
            if n == 1 { "" } else { "s" }
        )?;
        for e in &self.errors {
            write!(f, "\n  - {e}")?;
        }
        if self.omitted > 0 {
            write!(f, "\n  {}", self.omitted_line())?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// Collector used while loading.
#[derive(Default)]
pub(crate) struct Errors {
    /// The first [`MAX_REPORTED`] problems.
    list: Vec<ConfigError>,
    /// Problems beyond those.
    omitted: usize,
    /// Paths whose `${VAR}` expansion failed; checks that would only repeat the problem
    /// ("host is required") skip them.
    poisoned: HashSet<String>,
    /// Paths whose string came (in part) from `${VAR}`: their values are never echoed,
    /// since the variable may hold a secret put in the wrong field.
    expanded: HashSet<String>,
}

impl Errors {
    pub fn push(&mut self, location: impl Into<String>, message: impl Into<String>) {
        if self.list.len() >= MAX_REPORTED {
            self.omitted += 1;
            return;
        }
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
        ConfigErrors {
            errors: self.list,
            omitted: self.omitted,
        }
    }

    pub fn into_result<T>(self, value: T) -> Result<T, ConfigErrors> {
        if self.list.is_empty() {
            Ok(value)
        } else {
            Err(self.into_errors())
        }
    }
}
