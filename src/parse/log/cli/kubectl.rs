//! `kubectl get pods` tables and the terminated container states of
//! `kubectl describe pod`.
//!
//! Columns are found by the header (`NAMESPACE` first with `-A`, the
//! `-o wide` columns after `AGE`); cells by whitespace, so a paste that lost
//! the alignment still reads. `RESTARTS` may carry the last restart's age
//! (`5 (3m ago)`). Each pod row names its pod as the node.

use super::{Out, Row, go_duration, node_name, parse_count, parse_duration, row_line, word};

/// Header names that are two words.
const TWO_WORD: &[(&str, &str)] = &[("NOMINATED", "NODE"), ("READINESS", "GATES")];

#[derive(Debug)]
pub struct Pods {
    cols: Vec<String>,
    start: u64,
}

/// The header's column names.
fn header(text: &str) -> Option<Vec<String>> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut cols = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let w = words[i];
        if let Some((_, second)) = TWO_WORD.iter().find(|(a, _)| *a == w)
            && words.get(i + 1) == Some(second)
        {
            cols.push(format!("{w} {second}"));
            i += 2;
            continue;
        }
        cols.push(w.to_string());
        i += 1;
    }
    let has = |n: &str| cols.iter().any(|c| c == n);
    (has("NAME") && has("READY") && has("STATUS") && has("RESTARTS")).then_some(cols)
}

/// A row's cells: whitespace-separated, `(3m ago)` kept with the cell before it.
fn row_cells(text: &str) -> Vec<String> {
    let mut cells: Vec<String> = Vec::new();
    let mut open = false;
    for w in text.split_whitespace() {
        if open || w.starts_with('(') {
            if let Some(last) = cells.last_mut() {
                last.push(' ');
                last.push_str(w);
            } else {
                cells.push(w.to_string());
            }
            open = !w.ends_with(')');
            continue;
        }
        cells.push(w.to_string());
    }
    cells
}

/// `2/3` → (2, 3).
fn ready(s: &str) -> Option<(i64, i64)> {
    let (a, b) = s.split_once('/')?;
    Some((parse_count(a)?, parse_count(b)?))
}

impl Pods {
    pub fn start(text: &str, line: u64, out: &mut Vec<Out>) -> Option<Pods> {
        if !text.contains("RESTARTS") {
            return None;
        }
        let cols = header(text)?;
        out.push(Out::Parsed("kubectl-output", 1));
        Some(Pods { cols, start: line })
    }

    pub fn feed(&mut self, text: &str, line: u64, out: &mut Vec<Out>) -> bool {
        let cells = row_cells(text);
        if cells.len() != self.cols.len() {
            // A row with cells missing or extra is still a row of this table
            // when its READY cell is there; anything else ends the table.
            if cells.len() >= 2 && cells.iter().any(|c| ready(c).is_some()) {
                out.push(Out::Unparsed(line, text.to_string()));
                return true;
            }
            return false;
        }
        match self.row(&cells) {
            Some((node, msg)) => row_line(
                out,
                Row {
                    node: Some(node),
                    msg,
                    format: "kubectl-output",
                    line,
                    block: self.start,
                },
            ),
            None => out.push(Out::Unparsed(line, text.to_string())),
        }
        true
    }

    fn cell<'a>(&self, cells: &'a [String], name: &str) -> Option<&'a str> {
        let i = self.cols.iter().position(|c| c == name)?;
        cells.get(i).map(String::as_str)
    }

    fn row(&self, cells: &[String]) -> Option<(String, String)> {
        let node = node_name(self.cell(cells, "NAME")?)?;
        let (ready, containers) = ready(self.cell(cells, "READY")?)?;
        let status = word(self.cell(cells, "STATUS")?);
        let restarts_cell = self.cell(cells, "RESTARTS")?;
        let (count, last) = match restarts_cell.split_once('(') {
            Some((n, ago)) => (
                parse_count(n)?,
                parse_duration(
                    ago.trim_end_matches(')')
                        .trim()
                        .trim_end_matches("ago")
                        .trim(),
                ),
            ),
            None => (parse_count(restarts_cell)?, None),
        };
        let mut msg =
            format!("kubectl get pods: {status}, {ready}/{containers} ready, {count} restarts");
        if let Some(age) = self.cell(cells, "AGE").and_then(parse_duration) {
            // Per hour of the pod's life (at least a minute of it).
            let per_hour = count as f64 * 3600.0 / age.max(60.0);
            msg.push_str(&format!(" in {}, {per_hour:.2} an hour", go_duration(age)));
            if let Some(l) = last {
                msg.push_str(&format!(", last {} ago", go_duration(l)));
            }
        }
        Some((node, msg))
    }
}

/// `kubectl describe pod`: the pod's name, its containers, and each
/// `State:` / `Last State:` that is `Terminated` with its `Reason` and
/// `Exit Code`. The other lines of the output are read as its parts.
#[derive(Debug)]
pub struct Describe {
    pod: String,
    /// The `Name:` line until `Namespace:` confirms the output.
    unconfirmed: Option<(u64, String)>,
    container: String,
    term: Option<Term>,
    start: u64,
}

#[derive(Debug)]
struct Term {
    state: &'static str,
    reason: Option<String>,
}

/// `Key:   value` at the start of a line: (key, value).
fn key_value(text: &str) -> Option<(&str, &str)> {
    let (k, v) = text.split_once(':')?;
    let k = k.trim();
    let ok = !k.is_empty()
        && k.len() <= 40
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '-' | '_' | '.' | '/'));
    ok.then(|| (k, v.trim()))
}

impl Describe {
    pub fn start(text: &str, line: u64, _out: &mut Vec<Out>) -> Option<Describe> {
        if text.starts_with(char::is_whitespace) {
            return None;
        }
        let (k, v) = key_value(text)?;
        if k != "Name" || v.is_empty() || v.contains(char::is_whitespace) {
            return None;
        }
        Some(Describe {
            pod: node_name(v)?,
            unconfirmed: Some((line, text.to_string())),
            container: String::new(),
            term: None,
            start: line,
        })
    }

    pub fn feed(&mut self, text: &str, line: u64, out: &mut Vec<Out>) -> bool {
        if let Some((l, t)) = self.unconfirmed.take() {
            if text.starts_with("Namespace:") {
                out.push(Out::Parsed("kubectl-output", 2));
                return true;
            }
            // Not a `kubectl describe` after all: the `Name:` line is read as any other.
            out.push(Out::Plain(l, t));
            return false;
        }
        let indented = text.starts_with(char::is_whitespace);
        let Some((k, v)) = key_value(text) else {
            if indented || text.trim().is_empty() {
                out.push(Out::Parsed("kubectl-output", 1));
                return true;
            }
            return false;
        };
        if !indented && k == "Name" {
            // The next pod of `kubectl describe pods`.
            return false;
        }
        let depth = text.len() - text.trim_start().len();
        match k {
            _ if depth == 2 && v.is_empty() => {
                self.container = word(k);
                self.term = None;
            }
            "State" | "Last State" => {
                self.term = (v == "Terminated").then(|| Term {
                    state: if k == "State" { "current" } else { "last" },
                    reason: None,
                });
            }
            "Reason" => {
                if let Some(t) = &mut self.term {
                    t.reason = Some(word(v));
                }
            }
            "Exit Code" => {
                if let (Some(t), Some(code)) = (self.term.take(), parse_count(v)) {
                    let container = if self.container.is_empty() {
                        "-".to_string()
                    } else {
                        self.container.clone()
                    };
                    row_line(
                        out,
                        Row {
                            node: Some(self.pod.clone()),
                            msg: format!(
                                "kubectl describe pod: container {container} terminated ({} state), reason {}, exit code {code}",
                                t.state,
                                t.reason.as_deref().unwrap_or("unknown"),
                            ),
                            format: "kubectl-output",
                            line,
                            block: self.start,
                        },
                    );
                    return true;
                }
            }
            _ => {}
        }
        out.push(Out::Parsed("kubectl-output", 1));
        true
    }

    /// The output ended: an unconfirmed `Name:` line is read as any other.
    pub fn finish(&mut self, out: &mut Vec<Out>) {
        if let Some((l, t)) = self.unconfirmed.take() {
            out.push(Out::Plain(l, t));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::read_for_tests as read;
    use super::*;

    fn msgs(out: &[Out]) -> Vec<(String, String)> {
        out.iter()
            .filter_map(|o| match o {
                Out::Row(r) => Some((r.node.clone().unwrap_or_default(), r.msg.clone())),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn pods_with_misaligned_columns_and_last_restart_ages() {
        let t = "$ kubectl get pods -n messaging\nNAME                                   READY   STATUS             RESTARTS       AGE\nmq-0          1/2     CrashLoopBackOff   7 (2m10s ago)   41m\nmq-1   2/2     Running   0          41m\nmq-2                    0/2     OOMKilled          3 (15s ago)    2d4h\ntools-5f7c9   1/1     Running   0          90d";
        let out = read(t);
        let m = msgs(&out);
        assert_eq!(m.len(), 4, "{out:#?}");
        assert_eq!(
            m[0],
            (
                "mq-0".into(),
                "kubectl get pods: CrashLoopBackOff, 1/2 ready, 7 restarts in 41m0s, 10.24 an hour, last 2m10s ago".into()
            )
        );
        assert_eq!(
            m[1].1,
            "kubectl get pods: Running, 2/2 ready, 0 restarts in 41m0s, 0.00 an hour"
        );
        assert!(
            m[2].1
                .starts_with("kubectl get pods: OOMKilled, 0/2 ready, 3 restarts in 52h0m0s")
        );
        assert!(matches!(out[0], Out::Parsed("command", 1)));
        assert!(
            !out.iter()
                .any(|o| matches!(o, Out::Unparsed(..) | Out::Plain(..)))
        );
    }

    #[test]
    fn all_namespaces_and_wide_columns() {
        let t = "NAMESPACE   NAME     READY   STATUS    RESTARTS   AGE   IP           NODE     NOMINATED NODE   READINESS GATES\nprod        js-2     1/1     Running   4          3h    10.0.3.4     node-a   <none>           <none>";
        let m = msgs(&read(t));
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].0, "js-2");
        assert!(m[0].1.contains("4 restarts in 3h0m0s, 1.33 an hour"));
    }

    #[test]
    fn a_row_that_lost_cells_is_unparsed_and_prose_ends_the_table() {
        let t = "NAME READY STATUS RESTARTS AGE\nnats-0 1/1 Running\nthe pods restart all the time";
        let out = read(t);
        assert!(matches!(out[1], Out::Unparsed(2, _)));
        assert!(matches!(out[2], Out::Plain(3, _)));
    }

    #[test]
    fn describe_terminated_states() {
        let t = "Name:             queue-1\nNamespace:        default\nStatus:           Running\nContainers:\n  nats:\n    Container ID:   containerd://abc\n    State:          Running\n      Started:      Tue, 04 Oct 2022 10:30:00 +0000\n    Last State:     Terminated\n      Reason:       OOMKilled\n      Exit Code:    137\n      Started:      Tue, 04 Oct 2022 10:20:00 +0000\n    Ready:          True\n    Restart Count:  12\n  reloader:\n    State:          Running\nEvents:           <none>";
        let out = read(t);
        let m = msgs(&out);
        assert_eq!(
            m,
            vec![(
                "queue-1".to_string(),
                "kubectl describe pod: container nats terminated (last state), reason OOMKilled, exit code 137".to_string()
            )]
        );
        assert!(
            !out.iter()
                .any(|o| matches!(o, Out::Unparsed(..) | Out::Plain(..)))
        );
    }

    #[test]
    fn a_name_line_alone_is_no_describe() {
        let out = read("Name: n1\n[1] something else");
        assert!(matches!(&out[0], Out::Plain(1, t) if t == "Name: n1"));
    }

    #[test]
    fn hostile_rows_never_panic() {
        for t in [
            "NAME READY STATUS RESTARTS AGE\n( ( ( (\n",
            "NAME READY STATUS RESTARTS AGE\nx 1/ Running 1 1d\n",
            "NAME READY STATUS RESTARTS AGE\nx 99999999999999999999/1 Running 1 1d\n",
            "NAME READY STATUS RESTARTS AGE\nx 1/1 Running 1 (((ago 1d\n",
            "NAME READY STATUS RESTARTS AGE\nx 1/1 Running 3 999999999999y\n",
            "Name: p\nNamespace: q\n  :\n    Exit Code: 1\n",
        ] {
            let _ = read(t);
        }
    }
}
