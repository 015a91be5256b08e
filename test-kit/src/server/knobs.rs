//! Fault knobs and counters that tests read and set, per emulated cluster.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

/// Faults to inject. Zero means off. Shared by every query of the cluster.
#[derive(Debug, Default)]
pub struct Knobs {
    /// Sleep this long before answering each `nextUri` GET.
    pub page_delay_ms: AtomicU64,
    /// Fail each query with an internal error once it has served this many pages.
    pub fail_after_pages: AtomicU64,
    /// Answer the next N `nextUri` GETs with a gateway-style 503 HTML page.
    pub unavailable_responses: AtomicU64,
    /// Cut the connection in the middle of a query's page N+1 (and every later request for it).
    pub drop_after_pages: AtomicU64,
    /// Drop every Trino-protocol request at once, as a dead coordinator behind a proxy would.
    pub down: AtomicBool,
}

/// The serialisable form of [`Knobs`], for the CLI and the control endpoint.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KnobSettings {
    pub page_delay_ms: u64,
    pub fail_after_pages: u64,
    pub unavailable_responses: u64,
    pub drop_after_pages: u64,
    pub down: bool,
}

impl Knobs {
    pub fn set(&self, s: &KnobSettings) {
        self.page_delay_ms.store(s.page_delay_ms, Ordering::SeqCst);
        self.fail_after_pages
            .store(s.fail_after_pages, Ordering::SeqCst);
        self.unavailable_responses
            .store(s.unavailable_responses, Ordering::SeqCst);
        self.drop_after_pages
            .store(s.drop_after_pages, Ordering::SeqCst);
        self.down.store(s.down, Ordering::SeqCst);
    }

    pub fn get(&self) -> KnobSettings {
        KnobSettings {
            page_delay_ms: self.page_delay_ms.load(Ordering::SeqCst),
            fail_after_pages: self.fail_after_pages.load(Ordering::SeqCst),
            unavailable_responses: self.unavailable_responses.load(Ordering::SeqCst),
            drop_after_pages: self.drop_after_pages.load(Ordering::SeqCst),
            down: self.down.load(Ordering::SeqCst),
        }
    }

    /// Consume one injected 503, if any are left.
    pub(crate) fn take_unavailable(&self) -> bool {
        self.unavailable_responses
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    }
}

/// What the cluster has received, for tests to assert on.
#[derive(Debug, Default)]
pub struct Counters {
    /// `POST /v1/statement` requests that created a query.
    pub statements: AtomicU64,
    /// `DELETE` requests that cancelled a query still running.
    pub cancels: AtomicU64,
    /// Every `DELETE` request, including ones for finished or unknown queries.
    pub delete_requests: AtomicU64,
    /// `nextUri` GETs answered.
    pub polls: AtomicU64,
    /// Queries failed because nobody polled them.
    pub abandoned: AtomicU64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CounterSnapshot {
    pub statements: u64,
    pub cancels: u64,
    pub delete_requests: u64,
    pub polls: u64,
    pub abandoned: u64,
}

impl Counters {
    pub fn snapshot(&self) -> CounterSnapshot {
        CounterSnapshot {
            statements: self.statements.load(Ordering::SeqCst),
            cancels: self.cancels.load(Ordering::SeqCst),
            delete_requests: self.delete_requests.load(Ordering::SeqCst),
            polls: self.polls.load(Ordering::SeqCst),
            abandoned: self.abandoned.load(Ordering::SeqCst),
        }
    }

    pub fn reset(&self) {
        for c in [
            &self.statements,
            &self.cancels,
            &self.delete_requests,
            &self.polls,
            &self.abandoned,
        ] {
            c.store(0, Ordering::SeqCst);
        }
    }
}

/// One statement as the cluster received it: the SQL and the session headers, so tests can
/// prove nothing was injected and no client header leaked through.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedStatement {
    pub query_id: String,
    pub sql: String,
    pub user: String,
    pub source: Option<String>,
    pub catalog: Option<String>,
    pub schema: Option<String>,
    pub client_tags: Vec<String>,
    pub session_properties: Vec<(String, String)>,
    /// Every request header except `Authorization`, lower-cased names.
    pub headers: Vec<(String, String)>,
}

/// A bounded log of received statements (oldest dropped first).
#[derive(Debug, Default)]
pub struct StatementLog {
    entries: Mutex<VecDeque<RecordedStatement>>,
}

const LOG_CAPACITY: usize = 10_000;

impl StatementLog {
    pub(crate) fn push(&self, s: RecordedStatement) {
        let mut e = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if e.len() == LOG_CAPACITY {
            e.pop_front();
        }
        e.push_back(s);
    }

    pub fn all(&self) -> Vec<RecordedStatement> {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .cloned()
            .collect()
    }

    pub fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }
}
