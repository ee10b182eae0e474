//! `nats stream info` (and `nats kv info`): the `Cluster Information`
//! section names the group's leader and each replica's state, as natscli
//! prints it: `Replica: n2, outdated, OFFLINE, seen 1.2s ago, 1,204
//! operations behind`. The configuration and state sections around it are
//! `Key: value` lines, read as parts of the output.

use super::{Out, Row, go_duration, node_name, parse_count, parse_duration, row_line};

#[derive(Debug)]
pub struct StreamInfo {
    start: u64,
    /// Inside `Cluster Information`.
    cluster: bool,
}

/// A `Key: value` line of natscli's column output (key right-aligned).
fn key_value(text: &str) -> Option<(&str, &str)> {
    let (k, v) = text.split_once(':')?;
    let k = k.trim();
    let ok = !k.is_empty()
        && k.len() <= 40
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '-' | '_' | '/' | '(' | ')'));
    ok.then(|| (k, v.trim()))
}

fn opens(t: &str) -> Option<bool> {
    let t = t.trim();
    if t == "Cluster Information:" {
        return Some(true);
    }
    let info = [
        "Information for Stream ",
        "State for Stream ",
        "Information for Consumer ",
    ];
    info.iter().any(|p| t.starts_with(p)).then_some(false)
}

impl StreamInfo {
    pub fn start(text: &str, line: u64, out: &mut Vec<Out>) -> Option<StreamInfo> {
        let cluster = opens(text)?;
        out.push(Out::Parsed("nats-cli", 1));
        Some(StreamInfo {
            start: line,
            cluster,
        })
    }

    pub fn feed(&mut self, text: &str, line: u64, out: &mut Vec<Out>) -> bool {
        let t = text.trim();
        if t.is_empty() {
            out.push(Out::Parsed("nats-cli", 1));
            return true;
        }
        if let Some(c) = opens(t) {
            self.cluster = c;
            out.push(Out::Parsed("nats-cli", 1));
            return true;
        }
        let Some((k, v)) = key_value(t) else {
            return false;
        };
        if v.is_empty() {
            // A section title (`Configuration:`, `State:`).
            self.cluster = false;
            out.push(Out::Parsed("nats-cli", 1));
            return true;
        }
        let row = match (self.cluster, k) {
            (true, "Replica") => replica(v),
            (true, "Leader") => v.split_whitespace().next().and_then(node_name).map(|n| {
                (
                    n,
                    "nats stream info: leader of the stream's Raft group".to_string(),
                )
            }),
            _ => {
                out.push(Out::Parsed("nats-cli", 1));
                return true;
            }
        };
        match row {
            Some((node, msg)) => row_line(
                out,
                Row {
                    node: Some(node),
                    msg,
                    format: "nats-cli",
                    line,
                    block: self.start,
                },
            ),
            None => out.push(Out::Unparsed(line, text.to_string())),
        }
        true
    }
}

/// `n2, outdated, OFFLINE, seen 1.2s ago, 1,204 operations behind`.
fn replica(v: &str) -> Option<(String, String)> {
    let mut parts = v.split(", ").map(str::trim);
    let node = node_name(parts.next()?)?;
    let (mut current, mut online, mut lag, mut seen) = (None, true, 0i64, None);
    for p in parts {
        match p {
            "current" => current = Some(true),
            "outdated" => current = Some(false),
            "OFFLINE" => online = false,
            "not seen" => seen = Some(None),
            _ if p.starts_with("seen ") && p.ends_with(" ago") => {
                seen = Some(Some(parse_duration(&p[5..p.len() - 4])?));
            }
            _ if p.ends_with(" operations behind") || p.ends_with(" operation behind") => {
                lag = parse_count(p.split_whitespace().next()?)?;
            }
            _ => return None,
        }
    }
    let current = current?;
    let seen = match seen {
        Some(Some(s)) => format!("seen {} ago", go_duration(s)),
        _ => "not seen".to_string(),
    };
    Some((
        node,
        format!(
            "nats stream info: replica current {current}, online {online}, {lag} operations behind, {seen}"
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::super::read_for_tests as read;
    use super::*;

    #[test]
    fn replicas_and_leader() {
        let t = "Information for Stream EVENTS created 2024-01-02 10:00:00\n\n             Subjects: events.>\n             Replicas: 3\n\nCluster Information:\n\n                 Name: prod\n               Leader: store-3 (2h1m)\n              Replica: store-1, outdated, OFFLINE, seen 5m2s ago, 1,204,000 operations behind\n              Replica: store-2, current, seen 0.05s ago\n\nState:\n\n             Messages: 10";
        let out = read(t);
        let rows: Vec<(String, String)> = out
            .iter()
            .filter_map(|o| match o {
                Out::Row(r) => Some((r.node.clone().unwrap(), r.msg.clone())),
                _ => None,
            })
            .collect();
        assert_eq!(rows.len(), 3, "{out:#?}");
        assert_eq!(rows[0].0, "store-3");
        assert_eq!(
            rows[1].1,
            "nats stream info: replica current false, online false, 1204000 operations behind, seen 5m2s ago"
        );
        assert_eq!(
            rows[2].1,
            "nats stream info: replica current true, online true, 0 operations behind, seen 0.05s ago"
        );
        assert!(
            !out.iter()
                .any(|o| matches!(o, Out::Unparsed(..) | Out::Plain(..)))
        );
    }

    #[test]
    fn an_unknown_replica_state_is_unparsed() {
        let out = read("Cluster Information:\n  Replica: x, sleepy\nnot a key line at all");
        assert!(matches!(out[1], Out::Unparsed(2, _)));
        assert!(matches!(out[2], Out::Plain(3, _)));
    }
}
