//! Box-drawn and ASCII tables of the `nats` CLI: `nats server report
//! jetstream` (the per-server JetStream summary and the RAFT meta group
//! table) and `nats server list`. Columns are found by their header names,
//! so older and newer layouts (with or without `Domain`, `API Err`,
//! `Pending`, `ID`, `Offline` or `Online`) read alike; a row cut by the
//! paste still names its server.

use super::{
    Out, Row, go_duration, node_name, parse_bytes, parse_count, parse_duration, row_line, word,
};

/// Characters of table borders (go-pretty's rounded and light styles, ASCII, markdown).
const BORDER_CHARS: &[char] = &[
    '─', '━', '═', '┄', '┈', '╌', '╭', '╮', '╰', '╯', '┌', '┐', '└', '┘', '├', '┤', '┬', '┴', '┼',
    '│', '┃', '║', '╔', '╗', '╚', '╝', '╠', '╣', '╦', '╩', '╬', '╞', '╡', '╪', '+', '-', '=', '|',
    ':',
];
/// Cell separators.
const SEPARATORS: &[char] = &['│', '┃', '║', '|'];

/// What a table holds, known by its header.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `nats server report jetstream`: Server, Cluster, Streams, ...
    JetStreamSummary,
    /// Its `RAFT Meta Group Information`: Name, Leader, Current, Online, ...
    MetaGroup,
    /// `nats server list`: Name, Cluster, Host, Version, Conns, ...
    ServerList,
}

#[derive(Debug)]
pub struct Table {
    kind: Option<Kind>,
    /// Header names, lower-case.
    cols: Vec<String>,
    /// A header of a table no reader knows was seen: its rows are unparsed.
    unknown: bool,
    start: u64,
}

/// A line made only of border characters (at least three rule characters).
pub fn is_border(t: &str) -> bool {
    let t = t.trim();
    t.chars().all(|c| c == ' ' || BORDER_CHARS.contains(&c))
        && t.chars()
            .filter(|c| matches!(c, '─' | '━' | '═' | '-' | '=' | '┄' | '┈' | '╌'))
            .count()
            >= 3
}

/// The cells of a table row (`│ a │ b │`); `None` when the line is no row.
/// A row cut by the paste has no closing border: its last cell may be cut.
pub fn cells(t: &str) -> Option<Vec<&str>> {
    let t = t.trim();
    let rest = t.strip_prefix(SEPARATORS)?;
    let mut cells: Vec<&str> = rest.split(SEPARATORS).map(str::trim).collect();
    if rest.trim_end().ends_with(SEPARATORS) {
        cells.pop();
    }
    (!cells.is_empty()).then_some(cells)
}

fn kind_of(header: &[String]) -> Option<Kind> {
    let has = |n: &str| header.iter().any(|h| h == n);
    if has("server") && (has("streams") || has("api req") || has("consumers")) {
        return Some(Kind::JetStreamSummary);
    }
    if has("leader") && has("current") && (has("online") || has("offline")) {
        return Some(Kind::MetaGroup);
    }
    if has("name") && has("version") && (has("conns") || has("connections")) {
        return Some(Kind::ServerList);
    }
    None
}

fn lower(cells: &[&str]) -> Vec<String> {
    cells.iter().map(|c| c.to_ascii_lowercase()).collect()
}

/// Cells that read as a header: several, none of them a number.
fn looks_like_header(cells: &[&str]) -> bool {
    cells.len() >= 2
        && cells
            .iter()
            .all(|c| !c.is_empty() && parse_count(c).is_none() && parse_bytes(c).is_none())
}

impl Table {
    /// A line that opens a table: a border, or a header this reader knows.
    pub fn start(text: &str, line: u64, out: &mut Vec<Out>) -> Option<Table> {
        if is_border(text) {
            out.push(Out::Parsed("nats-cli", 1));
            return Some(Table {
                kind: None,
                cols: Vec::new(),
                unknown: false,
                start: line,
            });
        }
        let c = cells(text)?;
        let cols = lower(&c);
        let kind = kind_of(&cols)?;
        out.push(Out::Parsed("nats-cli", 1));
        Some(Table {
            kind: Some(kind),
            cols,
            unknown: false,
            start: line,
        })
    }

    pub fn feed(&mut self, text: &str, line: u64, out: &mut Vec<Out>) -> bool {
        if is_border(text) {
            out.push(Out::Parsed("nats-cli", 1));
            return true;
        }
        let Some(c) = cells(text) else {
            return false;
        };
        if c.len() == 1 {
            // A title (`JetStream Summary`, `RAFT Meta Group Information`)
            // or an empty row.
            out.push(Out::Parsed("nats-cli", 1));
            return true;
        }
        let cols = lower(&c);
        if let Some(k) = kind_of(&cols) {
            self.kind = Some(k);
            self.cols = cols;
            self.unknown = false;
            out.push(Out::Parsed("nats-cli", 1));
            return true;
        }
        if self.kind.is_none() && !self.unknown && looks_like_header(&c) {
            self.unknown = true;
        }
        let Some(kind) = self.kind.filter(|_| !self.unknown) else {
            out.push(Out::Unparsed(line, text.to_string()));
            return true;
        };
        if c.first().is_some_and(|f| f.is_empty()) {
            // The totals footer.
            out.push(Out::Parsed("nats-cli", 1));
            return true;
        }
        let row = match kind {
            Kind::JetStreamSummary => self.summary_row(&c),
            Kind::MetaGroup => self.meta_row(&c),
            Kind::ServerList => self.list_row(&c),
        };
        match row {
            Some((node, msg)) => row_line(
                out,
                Row {
                    node,
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

    fn col(&self, names: &[&str]) -> Option<usize> {
        self.cols.iter().position(|h| names.contains(&h.as_str()))
    }

    fn cell<'a>(&self, c: &[&'a str], names: &[&str]) -> Option<&'a str> {
        self.col(names).and_then(|i| c.get(i).copied())
    }

    /// A row of `JetStream Summary`: (server, message).
    fn summary_row(&self, c: &[&str]) -> Option<(Option<String>, String)> {
        let server = self.cell(c, &["server"])?;
        let leader = server.trim_end().ends_with('*');
        let node = node_name(server.trim_end().trim_end_matches('*'))?;
        if c.len() < self.cols.len() {
            return Some((
                Some(node),
                format!(
                    "nats server report jetstream: row cut after {} of {} columns",
                    c.len(),
                    self.cols.len()
                ),
            ));
        }
        let n = |names: &[&str]| self.cell(c, names).and_then(parse_count);
        let b = |names: &[&str]| self.cell(c, names).and_then(parse_bytes);
        let mut msg = format!(
            "nats server report jetstream: meta leader {}, {} streams, {} consumers, {} messages, {} bytes, memory {} bytes, file {} bytes, {} API requests",
            if leader { "yes" } else { "no" },
            n(&["streams"])?,
            n(&["consumers"])?,
            n(&["messages", "msgs"])?,
            b(&["bytes"])?,
            b(&["memory"])?,
            b(&["file", "store"])?,
            n(&["api req", "api requests"])?,
        );
        if let Some(err) = self.cell(c, &["api err", "api errors"]) {
            let (count, pct) = api_errors(err, n(&["api req", "api requests"]).unwrap_or(0))?;
            msg.push_str(&format!(", {count} API errors ({pct:.3}%)"));
        }
        if let Some(p) = self.cell(c, &["pending"]) {
            msg.push_str(&format!(", {} API requests pending", parse_count(p)?));
        }
        Some((Some(node), msg))
    }

    /// A row of `RAFT Meta Group Information`: (peer, message).
    fn meta_row(&self, c: &[&str]) -> Option<(Option<String>, String)> {
        let name = self.cell(c, &["name", "connection name", "server"])?;
        let name = name.trim_end_matches('*');
        let node = node_name(name);
        let leader = self
            .cell(c, &["leader"])
            .is_some_and(|l| !l.is_empty() && !l.eq_ignore_ascii_case("no"));
        let current = truth(self.cell(c, &["current"])?)?;
        let online = match self.cell(c, &["online"]) {
            Some(o) => truth(o)?,
            None => !truth(self.cell(c, &["offline"])?)?,
        };
        let active = self
            .cell(c, &["active"])
            .and_then(parse_duration)
            .map_or_else(|| "unknown".to_string(), go_duration);
        let lag = self.cell(c, &["lag"]).and_then(parse_count)?;
        let msg = format!(
            "nats server report jetstream: meta group peer {}, leader {}, current {current}, online {online}, active {active}, lag {lag}",
            if node.is_some() { "named" } else { "unnamed" },
            if leader { "yes" } else { "no" },
        );
        Some((node, msg))
    }

    /// A row of `nats server list`: (server, message).
    fn list_row(&self, c: &[&str]) -> Option<(Option<String>, String)> {
        let node = node_name(self.cell(c, &["name"])?.trim_end_matches('*'))?;
        let n = |names: &[&str]| self.cell(c, names).and_then(parse_count);
        let js = self.cell(c, &["js"]).map_or("unknown", |j| {
            if j.eq_ignore_ascii_case("yes") || j.eq_ignore_ascii_case("true") {
                "yes"
            } else {
                "no"
            }
        });
        let cpu: f64 = self
            .cell(c, &["cpu %", "cpu"])?
            .trim_end_matches('%')
            .trim()
            .parse()
            .ok()?;
        let msg = format!(
            "nats server list: version {}, jetstream {js}, {} connections, {} subscriptions, {} routes, {} bytes of memory, cpu {cpu}%, {} slow consumers, up {}",
            word(self.cell(c, &["version"])?),
            n(&["conns", "connections"])?,
            n(&["subs", "subscriptions"])?,
            n(&["routes"])?,
            self.cell(c, &["mem", "memory"]).and_then(parse_bytes)?,
            n(&["slow", "slow consumers"])?,
            go_duration(self.cell(c, &["uptime"]).and_then(parse_duration)?),
        );
        Some((Some(node), msg))
    }
}

fn truth(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" => Some(true),
        "false" | "no" => Some(false),
        _ => None,
    }
}

/// `8 / 88.888%` or `8` (with the request count) → (errors, percent).
fn api_errors(cell: &str, requests: i64) -> Option<(i64, f64)> {
    let (count, pct) = match cell.split_once('/') {
        Some((a, p)) => (
            parse_count(a)?,
            Some(p.trim().trim_end_matches('%').trim().parse::<f64>().ok()?),
        ),
        None => (parse_count(cell)?, None),
    };
    let pct = pct.unwrap_or(if requests > 0 {
        count as f64 * 100.0 / requests as f64
    } else {
        0.0
    });
    Some((count, pct))
}

#[cfg(test)]
mod tests {
    use super::super::Reader;
    use super::*;

    fn read(text: &str) -> Vec<Out> {
        let mut r = Reader::new();
        let mut out = Vec::new();
        for (i, l) in text.lines().enumerate() {
            if !r.feed(l, i as u64 + 1, &mut out) && !l.trim().is_empty() {
                out.push(Out::Unparsed(i as u64 + 1, format!("not taken: {l}")));
            }
        }
        r.end(&mut out);
        out
    }

    fn rows(out: &[Out]) -> Vec<(Option<String>, String)> {
        out.iter()
            .filter_map(|o| match o {
                Out::Row(r) => Some((r.node.clone(), r.msg.clone())),
                _ => None,
            })
            .collect()
    }

    const SUMMARY: &str = "\
╭──────────────────────────────────────────────────────────────────────────────────╮
│                                JetStream Summary                                 │
├──────────┬─────────┬─────────┬───────────┬──────────┬────────┬────────┬────────┬─────────┬───────────────┤
│ Server   │ Cluster │ Streams │ Consumers │ Messages │ Bytes  │ Memory │ File   │ API Req │ API Err       │
├──────────┼─────────┼─────────┼───────────┼──────────┼────────┼────────┼────────┼─────────┼───────────────┤
│ alpha-a* │ east    │ 2       │ 1,001     │ 5,000    │ 2 MiB  │ 0 B    │ 2 MiB  │ 40      │ 30 / 75%      │
│ alpha-b  │ east    │ 2       │ 998       │ 5,000    │ 2 MiB  │ 0 B    │ 2 MiB  │ 0       │ 0             │
├──────────┼─────────┼─────────┼───────────┼──────────┼────────┼────────┼────────┼─────────┼───────────────┤
│          │         │ 4       │ 1,999     │ 10,000   │ 4 MiB  │ 0 B    │ 4 MiB  │ 40      │ 30            │
╰──────────┴─────────┴─────────┴───────────┴──────────┴────────┴────────┴────────┴─────────┴───────────────╯

╭────────────────────────────────────────────────────────────────╮
│                  RAFT Meta Group Information                   │
├──────────┬──────────┬────────┬─────────┬────────┬────────┬─────┤
│ Name     │ ID       │ Leader │ Current │ Online │ Active │ Lag │
├──────────┼──────────┼────────┼─────────┼────────┼────────┼─────┤
│ alpha-a  │ q1w2e3r4 │ yes    │ true    │ true   │ 0s     │ 0   │
│ alpha-b  │ t5y6u7i8 │        │ false   │ false  │ 5m2s   │ 1,234 │
╰──────────┴──────────┴────────┴─────────┴────────┴────────┴─────╯
";

    #[test]
    fn jetstream_report_rows_become_records() {
        let out = read(SUMMARY);
        let r = rows(&out);
        assert_eq!(r.len(), 4, "{out:#?}");
        assert_eq!(r[0].0.as_deref(), Some("alpha-a"));
        assert_eq!(
            r[0].1,
            "nats server report jetstream: meta leader yes, 2 streams, 1001 consumers, 5000 messages, 2097152 bytes, memory 0 bytes, file 2097152 bytes, 40 API requests, 30 API errors (75.000%)"
        );
        assert!(r[1].1.contains("meta leader no") && r[1].1.ends_with("0 API errors (0.000%)"));
        assert_eq!(
            r[3],
            (
                Some("alpha-b".into()),
                "nats server report jetstream: meta group peer named, leader no, current false, online false, active 5m2s, lag 1234".into()
            )
        );
        // every line but the blank one is taken; none unparsed
        assert!(
            !out.iter().any(|o| matches!(o, Out::Unparsed(..))),
            "{out:#?}"
        );
    }

    #[test]
    fn a_cut_table_keeps_the_rows_it_has() {
        let cut = "│ Server │ Cluster  │ Domain │ Streams │ Consumers │ Messages │ Bytes   │ Memory │ File    │ API Req │ API Err      │\n│ s-1    │ c        │ ...    │ 15      │ 4         │ 484,777  │ 53 MiB  │ 0 B    │ 53 MiB  │ 9       │ 8 / 88.888%  │\n│ s-2    │ c";
        let out = read(cut);
        let r = rows(&out);
        assert_eq!(r.len(), 2);
        assert!(r[0].1.ends_with("9 API requests, 8 API errors (88.888%)"));
        assert_eq!(
            r[1].1,
            "nats server report jetstream: row cut after 2 of 11 columns"
        );
    }

    #[test]
    fn older_layouts_and_ascii_borders() {
        let t = "+------+--------+---------+---------+--------+--------+\n| Name | Leader | Current | Offline | Active | Lag    |\n+------+--------+---------+---------+--------+--------+\n| n1   | yes    | true    | false   | 0.00s  | 0      |\n| n2   |        | true    | true    | never  | 12     |\n+------+--------+---------+---------+--------+--------+";
        let r = rows(&read(t));
        assert_eq!(r.len(), 2);
        assert!(r[1].1.contains("online false, active unknown, lag 12"));
    }

    #[test]
    fn server_list_rows() {
        let t = "╭─────╮\n│ Name │ Cluster │ Host │ Version │ JS │ Conns │ Subs │ Routes │ GWs │ Mem │ CPU % │ Cores │ Slow │ Uptime │ RTT │\n│ b-1  │ b │ 0 │ 2.10.24 │ yes │ 12 │ 300 │ 2 │ 0 │ 40 MiB │ 3 │ 4 │ 0 │ 2d3h1m5s │ 1ms │\n│ b-2  │ b │ 0 │ 2.10.24 │ yes │ 7 │ 300 │ 1 │ 0 │ 1.2 GiB │ 99.5 │ 4 │ 17 │ 4m2s │ 1ms │";
        let r = rows(&read(t));
        assert_eq!(r.len(), 2);
        assert_eq!(
            r[1].1,
            "nats server list: version 2.10.24, jetstream yes, 7 connections, 300 subscriptions, 1 routes, 1288490189 bytes of memory, cpu 99.5%, 17 slow consumers, up 4m2s"
        );
    }

    #[test]
    fn tables_of_unknown_kinds_are_unparsed_not_guessed() {
        let t = "╭────╮\n│ Stream │ Consumers │ Messages │\n│ ORDERS │ 3 │ 100 │\n╰────╯";
        let out = read(t);
        assert!(rows(&out).is_empty());
        let unparsed = out
            .iter()
            .filter(|o| matches!(o, Out::Unparsed(..)))
            .count();
        assert_eq!(unparsed, 2);
    }

    #[test]
    fn hostile_rows_never_panic() {
        for t in [
            "│",
            "││││",
            "│ Server │ Streams │\n│ x │ 99999999999999999999999 │",
            "│ Server │ Streams │\n│ │",
            "│ Name │ Leader │ Current │ Online │\n│ \u{0} │ ? │ ? │ ? │",
            "+--+\n| é | ü |\n| 1 |",
        ] {
            let _ = read(t);
        }
    }
}
