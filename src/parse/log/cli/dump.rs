//! Monitoring JSON pasted without a time (`curl .../raftz` into an issue),
//! possibly cut mid-object: what it holds is read as records, not samples
//! (a sample needs a time; a paste has none).
//!
//! - `/raftz`: one record per Raft group: state, size, quorum, committed,
//!   applied, then (when the paste reaches them) its leader and whether it
//!   ever had one, then its peers, counting those no server is known for
//!   (nats-server reports an empty `name` for a peer id it cannot map to a
//!   server: an identity no running server has);
//! - `/jsz` (`meta_cluster`) and `/varz` (`jetstream.meta`): the meta group
//!   as this server sees it, and one record per replica it lists;
//! - `/healthz`: its status and error.
//!
//! A value of another shape (a JSON payload after a log line, say) is given
//! back: its lines are read as any other header-less lines.

use super::{Out, Row, go_duration, node_name, word};
use crate::parse::json_prefix::{Read, Scanner, State};
use serde_json::{Map, Value};

#[derive(Debug)]
pub struct Dump {
    scanner: Scanner,
    /// (line, text, end offset in the scanner's text).
    lines: Vec<(u64, String, usize)>,
    start: u64,
}

pub enum Started {
    Open(Dump),
    /// Closed on its first line: already decided.
    Done,
}

pub enum Fed {
    More,
    Done,
}

impl Dump {
    pub fn start(text: &str, line: u64, out: &mut Vec<Out>) -> Option<Started> {
        let t = text.trim_start();
        if !(t.starts_with('{') || t.starts_with('[')) {
            return None;
        }
        let mut d = Dump {
            scanner: Scanner::new(),
            lines: Vec::new(),
            start: line,
        };
        match d.push(text, line) {
            State::Open | State::Empty => Some(Started::Open(d)),
            State::Closed | State::Broken => {
                d.finish(out);
                Some(Started::Done)
            }
        }
    }

    fn push(&mut self, text: &str, line: u64) -> State {
        let st = self.scanner.push(text);
        let st = if st == State::Broken {
            st
        } else {
            self.scanner.push("\n")
        };
        self.lines
            .push((line, text.to_string(), self.scanner.text().len()));
        st
    }

    pub fn feed(&mut self, text: &str, line: u64, out: &mut Vec<Out>) -> Fed {
        match self.push(text, line) {
            State::Open | State::Empty => Fed::More,
            State::Closed | State::Broken => {
                self.finish(out);
                Fed::Done
            }
        }
    }

    /// Decides the block: records and parsed lines, or the lines given back.
    pub fn finish(&mut self, out: &mut Vec<Out>) {
        let lines = std::mem::take(&mut self.lines);
        let read = self.scanner.finish();
        let rows = read.as_ref().map(rows).unwrap_or_default();
        let Some(read) = read.filter(|_| !rows.is_empty()) else {
            out.extend(lines.into_iter().map(|(l, t, _)| Out::Plain(l, t)));
            return;
        };
        for (node, msg) in rows {
            out.push(Out::Row(Row {
                node,
                msg,
                format: "json-paste",
                line: self.start,
                block: self.start,
            }));
        }
        // Lines the value used are parsed; after its last complete part (a
        // member the paste cut) they are not.
        let mut parsed = 0;
        let mut tail = Vec::new();
        let mut line_start = 0;
        for (l, t, end) in lines {
            if line_start < read.used {
                parsed += 1;
            } else {
                tail.push(Out::Unparsed(l, t));
            }
            line_start = end;
        }
        out.push(Out::Parsed("json-paste", parsed));
        out.extend(tail);
    }
}

/// The records a monitoring body holds: (node, message).
fn rows(read: &Read) -> Vec<(Option<String>, String)> {
    let Value::Object(top) = &read.value else {
        return Vec::new();
    };
    let paste = if read.cut { "cut" } else { "whole" };
    if let Some(meta) = top
        .get("meta_cluster")
        .or_else(|| top.get("jetstream").and_then(|j| j.get("meta")))
        .and_then(Value::as_object)
    {
        let server = top
            .get("server_name")
            .and_then(Value::as_str)
            .and_then(node_name);
        return meta_rows(server, meta, paste);
    }
    if let Some(status) = top.get("status").and_then(Value::as_str)
        && top.len() <= 6
    {
        let mut msg = format!("healthz: status {}", word(status));
        if let Some(e) = top.get("error").and_then(Value::as_str) {
            msg.push_str(": ");
            msg.push_str(&e.replace(['\n', '\r'], " "));
        }
        return vec![(None, msg)];
    }
    if is_group(top) {
        return group_row("unnamed", top, paste).into_iter().collect();
    }
    // `/raftz`: account → group → state.
    let mut out = Vec::new();
    for groups in top.values().filter_map(Value::as_object) {
        for (name, g) in groups {
            if let Some(g) = g.as_object().filter(|g| is_group(g))
                && let Some(r) = group_row(name, g, paste)
            {
                out.push(r);
            }
        }
    }
    out
}

fn is_group(g: &Map<String, Value>) -> bool {
    g.get("state").is_some_and(Value::is_string)
        && (g.contains_key("quorum_needed") || g.contains_key("committed"))
}

fn num(g: &Map<String, Value>, k: &str) -> Option<i64> {
    let v = g.get(k)?;
    v.as_i64()
        .or_else(|| v.as_u64().map(|u| u.min(i64::MAX as u64) as i64))
}

/// Keys `/raftz` writes after `leader` (whose presence says the paste got past it).
const AFTER_LEADER: &[&str] = &[
    "leader_since",
    "ever_had_leader",
    "term",
    "voted_for",
    "pterm",
    "pindex",
    "system_account",
    "traffic_account",
    "ipq_proposal_len",
    "ipq_entry_len",
    "ipq_resp_len",
    "ipq_apply_len",
    "wal",
    "peers",
];

fn group_row(name: &str, g: &Map<String, Value>, paste: &str) -> Option<(Option<String>, String)> {
    let mut msg = format!(
        "raftz group {} ({paste} paste): {}, size {}, quorum {}, committed {}, applied {}",
        word(name),
        word(g.get("state")?.as_str()?),
        num(g, "size")?,
        num(g, "quorum_needed")?,
        num(g, "committed")?,
        num(g, "applied")?,
    );
    if g.contains_key("leader") || AFTER_LEADER.iter().any(|k| g.contains_key(*k)) {
        let leader = g
            .get("leader")
            .and_then(Value::as_str)
            .filter(|l| !l.is_empty())
            .map_or_else(|| "none".to_string(), word);
        let ever = g
            .get("ever_had_leader")
            .and_then(Value::as_bool)
            .map_or("unknown", |b| if b { "true" } else { "false" });
        msg.push_str(&format!(", leader {leader}, ever had a leader {ever}"));
        if let Some(peers) = g.get("peers").and_then(Value::as_object) {
            let unnamed = peers
                .values()
                .filter(|p| {
                    p.get("name")
                        .and_then(Value::as_str)
                        .is_none_or(str::is_empty)
                })
                .count();
            // Itself and the peers it can name.
            let known = peers.len() - unnamed + 1;
            msg.push_str(&format!(
                ", {} peers listed, {unnamed} with no server name, {known} members known",
                peers.len()
            ));
        }
    }
    Some((None, msg))
}

fn meta_rows(
    server: Option<String>,
    meta: &Map<String, Value>,
    paste: &str,
) -> Vec<(Option<String>, String)> {
    let leader = meta
        .get("leader")
        .and_then(Value::as_str)
        .filter(|l| !l.is_empty())
        .map_or_else(|| "none".to_string(), word);
    let replicas: Vec<&Map<String, Value>> = meta
        .get("replicas")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_object).collect())
        .unwrap_or_default();
    let flag = |r: &Map<String, Value>, k: &str| r.get(k).and_then(Value::as_bool).unwrap_or(false);
    let offline = replicas.iter().filter(|r| flag(r, "offline")).count();
    let behind = replicas.iter().filter(|r| !flag(r, "current")).count();
    let Some(size) = num(meta, "cluster_size") else {
        return Vec::new();
    };
    let mut out = vec![(
        server,
        format!(
            "monitoring ({paste} paste): meta group leader {leader}, cluster size {size}, {} replicas listed, {offline} offline, {behind} not current",
            replicas.len()
        ),
    )];
    for r in replicas {
        let node = r.get("name").and_then(Value::as_str).and_then(node_name);
        // `active` is nanoseconds since the peer was last heard from.
        let active = r
            .get("active")
            .and_then(Value::as_f64)
            .map_or_else(|| "unknown".to_string(), |ns| go_duration(ns / 1e9));
        out.push((
            node.clone(),
            format!(
                "monitoring: meta group peer {}, leader no, current {}, online {}, active {active}, lag {}",
                if node.is_some() { "named" } else { "unnamed" },
                flag(r, "current"),
                !flag(r, "offline"),
                num(r, "lag").unwrap_or(0),
            ),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::read_for_tests as read;
    use super::*;

    fn msgs(out: &[Out]) -> Vec<String> {
        out.iter()
            .filter_map(|o| match o {
                Out::Row(r) => Some(r.msg.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_raftz_paste_cut_inside_its_peers() {
        let t = "{\n  \"$SYS\": {\n    \"_meta_\": {\n      \"id\": \"Ab12Cd34\",\n      \"state\": \"CANDIDATE\",\n      \"size\": 7,\n      \"quorum_needed\": 4,\n      \"committed\": 90,\n      \"applied\": 90,\n      \"ever_had_leader\": false,\n      \"term\": 12,\n      \"peers\": {\n        \"Zz99Yy88\": {\n          \"name\": \"\",\n          \"known\": true\n        },\n        \"Xx77Ww66\": {\n          \"name\": \"node-b\",\n          \"kn";
        let out = read(t);
        assert_eq!(
            msgs(&out),
            vec![
                "raftz group _meta_ (cut paste): CANDIDATE, size 7, quorum 4, committed 90, applied 90, leader none, ever had a leader false, 2 peers listed, 1 with no server name, 2 members known"
            ]
        );
        // every line up to the cut member is parsed; the cut one is not
        let parsed: u64 = out
            .iter()
            .map(|o| match o {
                Out::Parsed(_, n) => *n,
                _ => 0,
            })
            .sum();
        let unparsed = out
            .iter()
            .filter(|o| matches!(o, Out::Unparsed(..)))
            .count();
        assert_eq!((parsed, unparsed as u64), (18, 1), "{out:#?}");
    }

    #[test]
    fn a_raftz_paste_cut_before_the_leader_says_nothing_of_it() {
        let t = "{\"$G\": {\"S-R3F-x\": {\"state\": \"FOLLOWER\", \"size\": 3, \"quorum_needed\": 2, \"committed\": 5, \"applied\": 4";
        assert_eq!(
            msgs(&read(t)),
            vec![
                "raftz group S-R3F-x (cut paste): FOLLOWER, size 3, quorum 2, committed 5, applied 4"
            ]
        );
    }

    #[test]
    fn jsz_meta_cluster_and_its_replicas() {
        let t = r#"{"server_id": "NABC", "server_name": "edge-1", "meta_cluster": {"name": "c", "leader": "edge-2", "cluster_size": 3, "replicas": [{"name": "edge-2", "current": true, "active": 120000000, "lag": 0}, {"name": "edge-3", "current": false, "offline": true, "active": 300000000000, "lag": 77}]}}"#;
        let out = read(t);
        let m = msgs(&out);
        assert_eq!(m.len(), 3);
        assert_eq!(
            m[0],
            "monitoring (whole paste): meta group leader edge-2, cluster size 3, 2 replicas listed, 1 offline, 1 not current"
        );
        assert_eq!(
            m[2],
            "monitoring: meta group peer named, leader no, current false, online false, active 5m0s, lag 77"
        );
    }

    #[test]
    fn healthz() {
        let m = msgs(&read(
            r#"{"status": "unavailable", "error": "JetStream has not established contact with a meta leader"}"#,
        ));
        assert_eq!(
            m,
            vec![
                "healthz: status unavailable: JetStream has not established contact with a meta leader"
            ]
        );
    }

    #[test]
    fn other_json_is_given_back() {
        let out = read("{\n  \"port\": 4222,\n  \"debug\": true\n}\n[3586] 2022/10/04 10:35:26.8");
        assert!(out.iter().all(|o| matches!(o, Out::Plain(..))), "{out:#?}");
        assert_eq!(out.len(), 5);
    }

    #[test]
    fn hostile_json_never_panics() {
        for t in [
            "{\"a\": {\"b\": {\"state\": 1, \"committed\": \"x\"}}}",
            "{\"meta_cluster\": {\"replicas\": [1, \"x\", null]}}",
            "{\"meta_cluster\": {\"cluster_size\": 1e300, \"replicas\": [{\"active\": -5}]}}",
            "{\"$SYS\": {\"_meta_\": {\"state\": \"X\", \"size\": 18446744073709551615, \"quorum_needed\": 1, \"committed\": 1, \"applied\": 1, \"peers\": 5}}}",
            "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
            "{\"status\": \"\\n\\r\", \"error\": \"a\\nb\"}",
        ] {
            let _ = read(t);
        }
    }
}
