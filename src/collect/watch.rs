//! `--until-healthy` / `--for-incident`: while collecting, run the rule
//! packs (the same engine as `analyze`) over the last `window` of the bundle
//! every `check_every`, and end when the cluster is healthy again.
//!
//! A rule *fires* when it has a finding at or above `min_severity` that
//! ended less than `quiet_for` ago (wall clock: the bundle's fetch times are
//! UTC). Each check analyzes a copy of the bundle's tail (complete lines
//! only) in a temporary directory, so its cost and memory follow the window,
//! not the length of the run.

use super::Progress;
use crate::lang::RuleSet;
use crate::model::{Severity, Timestamp};
use std::collections::{BTreeMap, VecDeque};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum WatchMode {
    /// Collect at least `min_duration`, then until no rule fires.
    UntilHealthy,
    /// Collect until a rule has fired and then stopped firing.
    ForIncident,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Watch {
    pub mode: WatchMode,
    pub min_duration: Duration,
    pub quiet_for: Duration,
    pub check_every: Duration,
    /// How much of the bundle's tail each check analyzes.
    pub window: Duration,
    /// Collection ends after this long whatever the rules say.
    pub max_duration: Duration,
    pub min_severity: Severity,
    /// Extra rule packs (as `--rules`: a pack with a built-in name replaces it).
    pub rules: Vec<PathBuf>,
}

impl Default for Watch {
    fn default() -> Self {
        Watch {
            mode: WatchMode::UntilHealthy,
            min_duration: Duration::from_secs(60),
            quiet_for: Duration::from_secs(60),
            check_every: Duration::from_secs(15),
            window: Duration::from_secs(600),
            max_duration: Duration::from_secs(6 * 3600),
            min_severity: Severity::High,
            rules: Vec::new(),
        }
    }
}

/// One firing rule at a check.
#[derive(Clone, Debug, PartialEq)]
pub struct Firing {
    pub rule: String,
    pub node: Option<String>,
    pub severity: Severity,
}

pub(super) struct Watcher {
    w: Watch,
    dir: PathBuf,
    rules: RuleSet,
    last_check: Option<Duration>,
    /// (elapsed, file → size) at each check, oldest first, spanning the window.
    sizes: VecDeque<(Duration, BTreeMap<PathBuf, u64>)>,
    incident_seen: bool,
    tmp: PathBuf,
}

impl Watcher {
    pub(super) fn new(w: Watch, dir: &Path) -> Watcher {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let rules = if w.rules.is_empty() {
            RuleSet::builtin()
        } else {
            RuleSet::load(&w.rules).0
        };
        Watcher {
            w,
            dir: dir.to_path_buf(),
            rules,
            last_check: None,
            sizes: VecDeque::new(),
            incident_seen: false,
            tmp: std::env::temp_dir().join(format!("coroner-watch-{}-{nanos}", std::process::id())),
        }
    }

    /// Runs a check when one is due; `Some(reason)` when collection should end.
    pub(super) fn poll(&mut self, elapsed: Duration, progress: &dyn Progress) -> Option<String> {
        if self
            .last_check
            .is_some_and(|t| elapsed < t + self.w.check_every)
        {
            return None;
        }
        self.last_check = Some(elapsed);
        let firing = match self.check(elapsed) {
            Ok(f) => f,
            Err(e) => {
                progress.note(&format!("health check failed: {e}"));
                return None;
            }
        };
        let quiet = humantime(self.w.quiet_for);
        if firing.is_empty() {
            progress.note(&format!(
                "check: no rule at or above {} fired in the last {quiet}",
                self.w.min_severity
            ));
        } else {
            self.incident_seen = true;
            let list: Vec<String> = firing
                .iter()
                .map(|f| format!("{} on {}", f.rule, f.node.as_deref().unwrap_or("cluster")))
                .collect();
            progress.note(&format!("check: firing: {}", list.join(", ")));
            return None;
        }
        match self.w.mode {
            WatchMode::UntilHealthy if elapsed >= self.w.min_duration => Some(format!(
                "healthy: no rule at or above {} fired in the last {quiet}",
                self.w.min_severity
            )),
            WatchMode::ForIncident if self.incident_seen => {
                Some(format!("incident over: rules fired, then none for {quiet}"))
            }
            _ => None,
        }
    }

    fn check(&mut self, elapsed: Duration) -> std::io::Result<Vec<Firing>> {
        let mut now = BTreeMap::new();
        sizes(&self.dir, &self.dir, &mut now)?;
        self.sizes.push_back((elapsed, now.clone()));
        // Keep the newest snapshot at least `window` old as the base.
        while self.sizes.len() > 1 && elapsed.saturating_sub(self.sizes[1].0) >= self.w.window {
            self.sizes.pop_front();
        }
        let (base_at, base) = &self.sizes[0];
        // While the run is shorter than the window, the whole bundle is read.
        let whole = elapsed.saturating_sub(*base_at) < self.w.window;
        let _ = std::fs::remove_dir_all(&self.tmp);
        for (rel, &end) in &now {
            let start = if whole {
                0
            } else {
                base.get(rel).copied().unwrap_or(0)
            };
            copy_lines(&self.dir.join(rel), &self.tmp.join(rel), start, end)?;
        }
        let a = crate::analyze::run(
            &[crate::source::Input::Path(self.tmp.clone())],
            &self.rules,
            &crate::ingest::IngestOptions::default(),
        );
        let _ = std::fs::remove_dir_all(&self.tmp);
        let wall = chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0);
        let since = Timestamp(wall).sub(self.w.quiet_for.as_nanos() as i64);
        let mut out: Vec<Firing> = a
            .findings
            .iter()
            .filter(|f| f.severity >= self.w.min_severity && f.end >= since)
            .map(|f| Firing {
                rule: f.rule.to_string(),
                node: f.node.as_deref().map(str::to_string),
                severity: f.severity,
            })
            .collect();
        out.dedup();
        Ok(out)
    }

    pub(super) fn cleanup(self) {
        let _ = std::fs::remove_dir_all(&self.tmp);
    }
}

fn humantime(d: Duration) -> String {
    crate::model::format_duration(d.as_nanos() as i64)
}

/// Sizes of the bundle's files (hidden ones skipped, as `analyze` does).
fn sizes(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, u64>) -> std::io::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        if e.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let p = e.path();
        let md = e.metadata()?;
        if md.is_dir() {
            sizes(root, &p, out)?;
        } else if let Ok(rel) = p.strip_prefix(root) {
            out.insert(rel.to_path_buf(), md.len());
        }
    }
    Ok(())
}

/// Copies the complete lines of `src` that lie in `[start, end)` to `dst`
/// (a line cut by `start` is skipped, an unfinished one at `end` left out).
pub(super) fn copy_lines(src: &Path, dst: &Path, start: u64, end: u64) -> std::io::Result<()> {
    if let Some(p) = dst.parent() {
        std::fs::create_dir_all(p)?;
    }
    let mut out = std::io::BufWriter::new(std::fs::File::create(dst)?);
    let mut f = std::fs::File::open(src)?;
    let mut skip_first = false;
    if start > 0 {
        f.seek(SeekFrom::Start(start - 1))?;
        let mut b = [0u8; 1];
        f.read_exact(&mut b)?;
        skip_first = b[0] != b'\n';
    }
    let mut r = BufReader::new(f.take(end.saturating_sub(start)));
    let mut line = Vec::new();
    loop {
        line.clear();
        if r.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        if std::mem::take(&mut skip_first) || line.last() != Some(&b'\n') {
            continue;
        }
        out.write_all(&line)?;
    }
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_copy_keeps_complete_lines_only() {
        let d = tempfile::tempdir().unwrap();
        let src = d.path().join("a.jsonl");
        std::fs::write(&src, "one\ntwo\nthree\nfou").unwrap();
        let dst = d.path().join("out/a.jsonl");
        copy_lines(&src, &dst, 5, 18).unwrap();
        assert_eq!(std::fs::read_to_string(&dst).unwrap(), "three\n");
        copy_lines(&src, &dst, 4, 18).unwrap();
        assert_eq!(std::fs::read_to_string(&dst).unwrap(), "two\nthree\n");
        copy_lines(&src, &dst, 0, 18).unwrap();
        assert_eq!(std::fs::read_to_string(&dst).unwrap(), "one\ntwo\nthree\n");
    }
}
