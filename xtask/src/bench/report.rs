//! The results table, printed and written to `benches/RESULTS.md`.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Command;

use super::probe::loadavg;
use super::{BUILD_SECS_ENV, command_line};
use crate::root;

#[derive(Clone, Copy, PartialEq)]
pub(super) enum Status {
    Met,
    Missed,
    /// A figure without a target of its own.
    Info,
    NotRun,
}

impl Status {
    pub(super) fn of(met: bool) -> Status {
        if met { Status::Met } else { Status::Missed }
    }
    pub(super) fn label(self) -> &'static str {
        match self {
            Status::Met => "met",
            Status::Missed => "MISSED",
            Status::Info => "-",
            Status::NotRun => "NOT RUN",
        }
    }
}

pub(super) struct Row {
    area: &'static str,
    figure: String,
    value: String,
    target: String,
    status: Status,
}

#[derive(Default)]
pub(super) struct Report {
    pub(super) rows: Vec<Row>,
    /// Step timings and free-form details for RESULTS.md.
    pub(super) details: Vec<String>,
}

impl Report {
    pub(super) fn row(
        &mut self,
        area: &'static str,
        figure: String,
        value: String,
        target: &str,
        s: Status,
    ) {
        println!(
            "  {area:<11} {figure:<46} {value:<52} {target:<12} {}",
            s.label()
        );
        self.rows.push(Row {
            area,
            figure,
            value,
            target: target.to_string(),
            status: s,
        });
    }

    pub(super) fn not_run(&mut self, area: &'static str, why: String) {
        self.row(area, "(step)".into(), why, "", Status::NotRun);
    }

    pub(super) fn detail(&mut self, line: String) {
        println!("  {line}");
        self.details.push(line);
    }

    /// Targets met, targets in all (met or missed), steps not run.
    pub(super) fn counts(&self) -> (usize, usize, usize) {
        let n = |f: fn(Status) -> bool| self.rows.iter().filter(|r| f(r.status)).count();
        (
            n(|s| s == Status::Met),
            n(|s| matches!(s, Status::Met | Status::Missed)),
            n(|s| s == Status::NotRun),
        )
    }

    pub(super) fn table(&self) -> String {
        let w =
            |f: fn(&Row) -> usize, h: &str| self.rows.iter().map(f).max().unwrap_or(0).max(h.len());
        let (wa, wf, wv, wt) = (
            w(|r| r.area.len(), "area"),
            w(|r| r.figure.chars().count(), "figure"),
            w(|r| r.value.chars().count(), "value"),
            w(|r| r.target.chars().count(), "target"),
        );
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{:<wa$}  {:<wf$}  {:<wv$}  {:<wt$}  status",
            "area", "figure", "value", "target"
        );
        let _ = writeln!(s, "{}", "-".repeat(wa + wf + wv + wt + 14));
        for r in &self.rows {
            let _ = writeln!(
                s,
                "{:<wa$}  {:<wf$}  {:<wv$}  {:<wt$}  {}",
                r.area,
                r.figure,
                r.value,
                r.target,
                r.status.label()
            );
        }
        s
    }

    pub(super) fn markdown(&self) -> String {
        let mut s =
            String::from("| area | figure | value | target | status |\n|---|---|---|---|---|\n");
        for r in &self.rows {
            let esc = |t: &str| t.replace('|', "\\|");
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} |",
                r.area,
                esc(&r.figure),
                esc(&r.value),
                esc(&r.target),
                r.status.label()
            );
        }
        s
    }
}

const RESULTS_HEAD: &str = "# Benchmark results\n\n\
`cargo xtask bench [--quick]` writes the sections between the `bench:` markers; everything \
else here (the notes on targets not met) is written by hand and kept.\n\n";

pub(super) fn write_results(report: &Report, quick: bool, elapsed: f64) -> anyhow::Result<PathBuf> {
    let path = root().join("benches/RESULTS.md");
    let mode = if quick { "quick" } else { "full" };
    let (begin, end) = (
        format!("<!-- bench:{mode}:begin -->"),
        format!("<!-- bench:{mode}:end -->"),
    );
    let mut sec = String::new();
    let _ = writeln!(sec, "{begin}");
    let _ = writeln!(sec, "## `{}`\n", command_line(quick));
    let commit = commit();
    let date = Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let (met, targets, _) = report.counts();
    let _ = writeln!(
        sec,
        "Run {date} at `{commit}`, {} CPUs, load average {} at the end; measured in {elapsed:.0} s{}. \
         {met} of {targets} targets met.\n",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        loadavg(),
        std::env::var(BUILD_SECS_ENV)
            .map(|s| format!(" after {s} s of build checks"))
            .unwrap_or_default()
    );
    sec.push_str(&report.markdown());
    sec.push_str("\nDetails:\n\n");
    for d in &report.details {
        let _ = writeln!(sec, "- {d}");
    }
    let _ = writeln!(sec, "{end}");

    let old = std::fs::read_to_string(&path).unwrap_or_else(|_| RESULTS_HEAD.to_string());
    std::fs::write(&path, splice(&old, &begin, &end, &sec))?;
    Ok(path)
}

/// The commit measured, `-dirty` when files other than RESULTS.md itself (which every run
/// rewrites) differ from it.
fn commit() -> String {
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(root())
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default()
    };
    let head = git(&["rev-parse", "--short", "HEAD"]);
    let changed = git(&[
        "status",
        "--porcelain",
        "--untracked-files=no",
        "--",
        ".",
        ":(exclude)benches/RESULTS.md",
    ]);
    if changed.is_empty() {
        head
    } else {
        format!("{head}-dirty")
    }
}

/// `old` with the section between `begin` and `end` (markers included) replaced by `sec`, or
/// `sec` appended when there is none; everything else is kept as written.
fn splice(old: &str, begin: &str, end: &str, sec: &str) -> String {
    match (old.find(begin), old.find(end)) {
        (Some(b), Some(e)) if e > b => {
            format!(
                "{}{}{}",
                old.get(..b).unwrap_or_default(),
                sec.trim_end(),
                old.get(e + end.len()..).unwrap_or_default()
            )
        }
        _ => format!("{}\n{}", old.trim_end(), sec),
    }
}

#[cfg(test)]
mod tests {
    use super::{Report, Status, splice};

    #[test]
    fn counts_and_tables() {
        let mut r = Report::default();
        r.row("a", "one".into(), "1x".into(), "<= 2x", Status::Met);
        r.row(
            "a",
            "two | pipes".into(),
            "3x".into(),
            "<= 2x",
            Status::Missed,
        );
        r.row("b", "info".into(), "7".into(), "-", Status::Info);
        r.not_run("c", "it failed".into());
        assert_eq!(r.counts(), (1, 2, 1));
        let md = r.markdown();
        assert!(
            md.contains("| a | two \\| pipes | 3x | <= 2x | MISSED |"),
            "{md}"
        );
        assert!(
            md.contains("| c | (step) | it failed |  | NOT RUN |"),
            "{md}"
        );
        let table = r.table();
        assert_eq!(table.lines().count(), 2 + 4, "{table}");
    }

    #[test]
    fn splice_replaces_only_its_own_section() {
        let (b, e) = ("<!-- q:begin -->", "<!-- q:end -->");
        let old = format!("head\n{b}\nold run\n{e}\nnotes kept\n<!-- f:begin -->x<!-- f:end -->\n");
        let new = splice(&old, b, e, &format!("{b}\nnew run\n{e}\n"));
        assert_eq!(
            new,
            format!("head\n{b}\nnew run\n{e}\nnotes kept\n<!-- f:begin -->x<!-- f:end -->\n")
        );
        // No section yet: appended, the rest untouched.
        let new = splice("head\nnotes\n", b, e, &format!("{b}\nrun\n{e}\n"));
        assert_eq!(new, format!("head\nnotes\n{b}\nrun\n{e}\n"));
    }
}
