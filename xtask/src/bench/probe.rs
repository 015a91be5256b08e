//! What the bench reads off processes (`/proc`) and the small statistics it reports.

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use crate::procs::Process;

/// Start a binary of ours that prints `... listening on <url>` first, with its stderr in `log`
/// and no inherited `TRINO_*` / `MCP_TRINO_*` variable.
pub(super) fn start(bin: &Path, args: &[&str], log: &Path) -> anyhow::Result<Process> {
    let mut cmd = Command::new(bin);
    cmd.args(args)
        .stderr(Stdio::from(std::fs::File::create(log)?))
        .env("RUST_LOG", "warn");
    clean_env(&mut cmd);
    Process::spawn(cmd)
}

/// No inherited `TRINO_*` / `MCP_TRINO_*` variable reaches a process we measure.
pub(super) fn clean_env(cmd: &mut Command) {
    for (k, _) in std::env::vars() {
        if k.starts_with("TRINO_") || k.starts_with("MCP_TRINO_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("MCP_TRINO_LOG", "warn");
}

/// Milliseconds in `ticks` of `/proc/<pid>/stat` CPU time.
pub(super) fn ticks_ms(ticks: u64) -> f64 {
    static TCK: OnceLock<f64> = OnceLock::new();
    let tck = *TCK.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
            .unwrap_or(100.0)
    });
    ticks as f64 * 1e3 / tck
}

/// User + system CPU time of a process (all its threads), in clock ticks; `pid` may be `self`.
pub(super) fn cpu_ticks(pid: &str) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let f = stat_fields(&stat)?;
    // After the command: state is field 3, utime 14, stime 15.
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}

/// The fields of a `/proc/<pid>/stat` line after `(comm)`, which may hold spaces.
fn stat_fields(stat: &str) -> Option<Vec<&str>> {
    Some(stat.rsplit_once(')')?.1.split_whitespace().collect())
}

/// CPU ticks of a process and of every descendant alive now (a server that runs workers).
pub(super) fn tree_ticks(root: u32) -> u64 {
    let mut parent = Vec::new();
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for e in dir.flatten() {
            let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                continue;
            };
            if let Some(ppid) = stat_fields(&stat).and_then(|f| f.get(1)?.parse::<u32>().ok()) {
                parent.push((pid, ppid));
            }
        }
    }
    let mut tree = vec![root];
    let mut i = 0;
    while i < tree.len() {
        let p = tree[i];
        tree.extend(parent.iter().filter(|(_, pp)| *pp == p).map(|(c, _)| *c));
        i += 1;
    }
    tree.iter().filter_map(|p| cpu_ticks(&p.to_string())).sum()
}

/// A `/proc/<pid>/status` value in KiB (`VmHWM`, `VmRSS`).
pub(super) fn status_kib(pid: u32, key: &str) -> Option<u64> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix(key))?
        .trim_start_matches(':')
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

pub(super) fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

/// The `p`th percentile (nearest rank) of sorted values.
pub(super) fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

pub(super) fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    if s.is_empty() {
        return f64::NAN;
    }
    let n = s.len();
    if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    }
}

pub(super) fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
