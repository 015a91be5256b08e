//! Per-connection limits on tool calls that reach a cluster: how many may run at once, and how
//! many may start per time window. A refused call costs nothing: it takes no window slot and
//! no concurrency slot, so a client that backs off is not punished for having asked.

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore, TryAcquireError};

use crate::config::Limits;

/// The limits of one connection. Cheap to share in an `Arc`; never waits.
pub struct Limiter {
    name: String,
    concurrency: Option<Concurrency>,
    window: Option<Window>,
}

struct Concurrency {
    max: u32,
    slots: Arc<Semaphore>,
}

/// A sliding-window log: the start instants of the calls admitted within the last `length`,
/// oldest first. At most `max` entries, so memory is bounded by configuration.
struct Window {
    max: u32,
    length: Duration,
    log: Mutex<VecDeque<Instant>>,
}

/// Held for the whole of an admitted call; frees its concurrency slot when dropped.
#[derive(Debug)]
pub struct Permit {
    _slot: Option<OwnedSemaphorePermit>,
}

/// Why a call was refused, and when trying again makes sense.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub message: String,
    pub retry_after_secs: u64,
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Refused {}

impl Limiter {
    /// `name` is the connection's, for messages.
    pub fn new(name: &str, limits: &Limits) -> Self {
        Limiter {
            name: name.to_string(),
            concurrency: limits.max_concurrent_queries.map(|max| Concurrency {
                max,
                slots: Arc::new(Semaphore::new(max as usize)),
            }),
            window: limits.requests_per_window.map(|max| Window {
                max,
                length: Duration::from_secs(u64::from(limits.window_seconds)),
                log: Mutex::new(VecDeque::with_capacity((max as usize).min(1024))),
            }),
        }
    }

    pub fn unlimited() -> Self {
        Limiter {
            name: String::new(),
            concurrency: None,
            window: None,
        }
    }

    pub fn try_acquire(&self) -> Result<Permit, Refused> {
        self.try_acquire_at(Instant::now())
    }

    /// `try_acquire` with the clock injected (tests). `now` should not go backwards.
    pub fn try_acquire_at(&self, now: Instant) -> Result<Permit, Refused> {
        // Concurrency first: if the window refuses afterwards, dropping the slot returns it.
        let slot = match &self.concurrency {
            None => None,
            Some(c) => match c.slots.clone().try_acquire_owned() {
                Ok(p) => Some(p),
                Err(TryAcquireError::NoPermits | TryAcquireError::Closed) => {
                    return Err(Refused {
                        message: format!(
                            "Connection '{}' allows at most {} {} at once; {} {} running. Retry in a moment.",
                            self.name,
                            c.max,
                            plural(c.max, "query", "queries"),
                            c.max,
                            if c.max == 1 { "is" } else { "are" },
                        ),
                        retry_after_secs: 1,
                    });
                }
            },
        };
        if let Some(w) = &self.window {
            w.admit(now).map_err(|wait| Refused {
                message: format!(
                    "Connection '{}' allows {} {} per {} s; retry in {} s.",
                    self.name,
                    w.max,
                    plural(w.max, "call", "calls"),
                    w.length.as_secs(),
                    wait
                ),
                retry_after_secs: wait,
            })?;
        }
        Ok(Permit { _slot: slot })
    }
}

impl Window {
    /// Records `now` and admits, or returns the whole seconds until a slot frees (at least 1).
    fn admit(&self, now: Instant) -> Result<(), u64> {
        let mut log = self.log.lock().unwrap_or_else(|p| p.into_inner());
        while let Some(&oldest) = log.front() {
            if now.saturating_duration_since(oldest) >= self.length {
                log.pop_front();
            } else {
                break;
            }
        }
        if log.len() < self.max as usize {
            log.push_back(now);
            return Ok(());
        }
        let oldest = log.front().copied().unwrap_or(now);
        let wait = self
            .length
            .saturating_sub(now.saturating_duration_since(oldest));
        // Round up: retrying at the hinted second must succeed.
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        Err(secs.max(1))
    }
}

fn plural(n: u32, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 { one } else { many }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(requests: Option<u32>, window: u32, concurrent: Option<u32>) -> Limits {
        Limits {
            requests_per_window: requests,
            window_seconds: window,
            max_concurrent_queries: concurrent,
        }
    }

    #[test]
    fn the_window_runs_out_and_recovers() {
        let l = Limiter::new("dev", &limits(Some(3), 60, None));
        let t0 = Instant::now();
        for i in 0..3 {
            assert!(l.try_acquire_at(t0 + Duration::from_secs(i)).is_ok());
        }
        let r = l
            .try_acquire_at(t0 + Duration::from_millis(47_500))
            .unwrap_err();
        assert_eq!(r.retry_after_secs, 13);
        assert_eq!(
            r.message,
            "Connection 'dev' allows 3 calls per 60 s; retry in 13 s."
        );
        // The first call leaves the window at t0 + 60 s, the second at t0 + 61 s.
        assert!(l.try_acquire_at(t0 + Duration::from_secs(60)).is_ok());
        assert!(l.try_acquire_at(t0 + Duration::from_secs(60)).is_err());
        assert!(l.try_acquire_at(t0 + Duration::from_secs(61)).is_ok());
        // Long after, the whole window is free again.
        let later = t0 + Duration::from_secs(1000);
        for _ in 0..3 {
            assert!(l.try_acquire_at(later).is_ok());
        }
        assert!(l.try_acquire_at(later).is_err());
    }

    #[test]
    fn the_retry_hint_is_at_least_one_second() {
        let l = Limiter::new("dev", &limits(Some(1), 1, None));
        let t0 = Instant::now();
        assert!(l.try_acquire_at(t0).is_ok());
        let r = l
            .try_acquire_at(t0 + Duration::from_millis(999))
            .unwrap_err();
        assert_eq!(r.retry_after_secs, 1);
        assert_eq!(
            r.message,
            "Connection 'dev' allows 1 call per 1 s; retry in 1 s."
        );
    }

    #[test]
    fn concurrency_runs_out_and_frees_on_drop() {
        let l = Limiter::new("dev", &limits(None, 60, Some(2)));
        let a = l.try_acquire().unwrap();
        let b = l.try_acquire().unwrap();
        let r = l.try_acquire().unwrap_err();
        assert_eq!(
            r.message,
            "Connection 'dev' allows at most 2 queries at once; 2 are running. Retry in a moment."
        );
        assert_eq!(r.retry_after_secs, 1);
        drop(a);
        let c = l.try_acquire().unwrap();
        assert!(l.try_acquire().is_err());
        drop((b, c));
        assert!(l.try_acquire().is_ok());
    }

    #[test]
    fn refused_calls_consume_nothing() {
        let t0 = Instant::now();
        // Refused for concurrency: no window slot is taken.
        let l = Limiter::new("dev", &limits(Some(2), 60, Some(1)));
        let held = l.try_acquire_at(t0).unwrap();
        for _ in 0..10 {
            assert!(l.try_acquire_at(t0).is_err());
        }
        drop(held);
        assert!(l.try_acquire_at(t0).is_ok(), "one window slot was left");
        // Refused for the window: the concurrency slot it briefly held is back.
        let l = Limiter::new("dev", &limits(Some(1), 60, Some(1)));
        drop(l.try_acquire_at(t0).unwrap());
        for _ in 0..10 {
            assert!(l.try_acquire_at(t0).is_err());
        }
        let later = t0 + Duration::from_secs(60);
        let p = l.try_acquire_at(later).unwrap();
        // Refusals do not push the window forward either.
        drop(p);
        assert!(l.try_acquire_at(later + Duration::from_secs(60)).is_ok());
    }

    #[test]
    fn unlimited_never_refuses() {
        let t0 = Instant::now();
        for l in [
            Limiter::unlimited(),
            Limiter::new("dev", &limits(None, 1, None)),
        ] {
            let held: Vec<Permit> = (0..10_000).map(|_| l.try_acquire_at(t0).unwrap()).collect();
            assert_eq!(held.len(), 10_000);
        }
    }

    #[test]
    fn window_memory_is_bounded() {
        let l = Limiter::new("dev", &limits(Some(5), 60, None));
        let t0 = Instant::now();
        for _ in 0..1000 {
            let _ = l.try_acquire_at(t0);
        }
        let w = l.window.as_ref().unwrap();
        assert_eq!(w.log.lock().unwrap().len(), 5);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn many_tasks_never_exceed_the_limit() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let l = Arc::new(Limiter::new("dev", &limits(None, 60, Some(7))));
        let running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let admitted = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..1000)
            .map(|_| {
                let (l, running, peak, admitted) =
                    (l.clone(), running.clone(), peak.clone(), admitted.clone());
                tokio::spawn(async move {
                    if let Ok(_permit) = l.try_acquire() {
                        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                        peak.fetch_max(now, Ordering::SeqCst);
                        admitted.fetch_add(1, Ordering::SeqCst);
                        tokio::task::yield_now().await;
                        running.fetch_sub(1, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        assert!(peak.load(Ordering::SeqCst) <= 7);
        assert!(admitted.load(Ordering::SeqCst) >= 7);
        // Every slot came back.
        let all: Vec<Permit> = (0..7).map(|_| l.try_acquire().unwrap()).collect();
        assert!(l.try_acquire().is_err());
        drop(all);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn many_tasks_never_exceed_the_window() {
        let l = Arc::new(Limiter::new("dev", &limits(Some(100), 3600, None)));
        let tasks: Vec<_> = (0..1000)
            .map(|_| {
                let l = l.clone();
                tokio::spawn(async move { l.try_acquire().is_ok() })
            })
            .collect();
        let mut ok = 0;
        for t in tasks {
            ok += usize::from(t.await.unwrap());
        }
        assert_eq!(ok, 100);
    }
}
