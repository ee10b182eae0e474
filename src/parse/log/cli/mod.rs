//! What users paste beside their logs, read as records: the outputs of the
//! CLIs operators run during an incident.
//!
//! - `kubectl get pods` tables (restarts, status, age) and the terminated
//!   states of `kubectl describe pod` ([`kubectl`]);
//! - `nats server report jetstream` (per-server summary, the RAFT meta group
//!   table), `nats server list` ([`table`]: box-drawn or ASCII tables);
//! - the `Cluster Information` of `nats stream info` ([`stream_info`]);
//! - `/raftz`, `/jsz`, `/varz` and `/healthz` JSON pasted without a time,
//!   possibly cut mid-object ([`dump`]).
//!
//! Each data row becomes one record whose message is coroner's own sentence
//! for the row (`kubectl get pods: Running, 2/3 ready, 12 restarts in
//! 1h3m0s, 11.43 an hour`), attributed to the node the row names (the pod,
//! the server, the peer): the templates of the `nats-snapshots` pack give
//! it a kind and typed fields, so rules decide on them as on any message.
//! The lines around the rows (borders, headers, titles, the command that
//! was typed) count as parsed; a row or header the readers cannot read is
//! unparsed, with its reason. Readers are general: any names, any number of
//! rows, columns found by their header, tables and JSON cut at any point.
//!
//! A block's rows carry no time of their own: the sink dates them (the time
//! of the log line before them, else the block's place in the file).

pub mod dump;
pub mod kubectl;
pub mod stream_info;
pub mod table;

/// The formats of the records and lines the readers make.
pub const FORMATS: &[&str] = &["kubectl-output", "nats-cli", "json-paste", "command"];

/// One record read from a CLI output.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// The node the row is about (pod, server, peer); `None`: the file's node.
    pub node: Option<String>,
    /// The record's message (see the module doc).
    pub msg: String,
    /// `kubectl-output`, `nats-cli`, `json-paste`.
    pub format: &'static str,
    /// The line the row was read from.
    pub line: u64,
    /// The first line of its block: rows of one block are one instant.
    pub block: u64,
}

/// What the reader made of lines. A record counts no line: the lines it
/// was read from are counted by the `Parsed` beside it.
#[derive(Clone, Debug, PartialEq)]
pub enum Out {
    /// A record.
    Row(Row),
    /// `n` lines understood without a record of their own (borders, headers,
    /// titles, commands), of this format.
    Parsed(&'static str, u64),
    /// A line that belongs to a CLI output but could not be read: (line, text).
    Unparsed(u64, String),
    /// A line taken while it looked like the start of an output that it
    /// turned out not to be: read as any other line without a header.
    Plain(u64, String),
}

/// The block being read.
#[derive(Debug)]
enum Block {
    None,
    Table(table::Table),
    Pods(kubectl::Pods),
    Describe(kubectl::Describe),
    Stream(stream_info::StreamInfo),
    Dump(dump::Dump),
}

/// Reads CLI outputs line by line. Offered the lines that are no log record
/// (in order); says which it takes. A line it does not take ends the block
/// being read.
#[derive(Debug)]
pub struct Reader {
    block: Block,
}

impl Default for Reader {
    fn default() -> Self {
        Reader::new()
    }
}

impl Reader {
    pub fn new() -> Reader {
        Reader { block: Block::None }
    }

    /// Whether a block is being read.
    pub fn in_block(&self) -> bool {
        !matches!(self.block, Block::None)
    }

    /// Offers one line (no line break); `true` when taken. What the taken
    /// lines gave is appended to `out` (possibly later, for blocks that are
    /// decided at their end: JSON).
    pub fn feed(&mut self, text: &str, line: u64, out: &mut Vec<Out>) -> bool {
        let taken = match &mut self.block {
            Block::None => false,
            Block::Table(t) => t.feed(text, line, out),
            Block::Pods(p) => p.feed(text, line, out),
            Block::Describe(d) => d.feed(text, line, out),
            Block::Stream(s) => s.feed(text, line, out),
            Block::Dump(d) => match d.feed(text, line, out) {
                dump::Fed::More => return true,
                dump::Fed::Done => {
                    self.block = Block::None;
                    return true;
                }
            },
        };
        if taken {
            return true;
        }
        self.end(out);
        self.start(text, line, out)
    }

    /// The block ends (a log record came, or the file ended).
    pub fn end(&mut self, out: &mut Vec<Out>) {
        if let Block::Dump(d) = &mut self.block {
            d.finish(out);
        }
        if let Block::Describe(d) = &mut self.block {
            d.finish(out);
        }
        self.block = Block::None;
    }

    /// A line that may start a block.
    fn start(&mut self, text: &str, line: u64, out: &mut Vec<Out>) -> bool {
        if let Some(t) = table::Table::start(text, line, out) {
            self.block = Block::Table(t);
            return true;
        }
        if let Some(p) = kubectl::Pods::start(text, line, out) {
            self.block = Block::Pods(p);
            return true;
        }
        if let Some(d) = kubectl::Describe::start(text, line, out) {
            self.block = Block::Describe(d);
            return true;
        }
        if let Some(s) = stream_info::StreamInfo::start(text, line, out) {
            self.block = Block::Stream(s);
            return true;
        }
        if let Some(d) = dump::Dump::start(text, line, out) {
            self.block = match d {
                dump::Started::Open(d) => Block::Dump(d),
                dump::Started::Done => Block::None,
            };
            return true;
        }
        if is_command(text) {
            out.push(Out::Parsed("command", 1));
            return true;
        }
        false
    }
}

/// A row read from one line: the record and its line.
pub(crate) fn row_line(out: &mut Vec<Out>, row: Row) {
    let format = row.format;
    out.push(Out::Row(row));
    out.push(Out::Parsed(format, 1));
}

/// A shell command that prints what the readers read: `$ kubectl get pods`,
/// `nats server report jetstream`, `curl -s localhost:8222/raftz`.
pub fn is_command(text: &str) -> bool {
    let t = strip_prompt(text.trim());
    let mut words = t.split_whitespace();
    let (Some(cmd), Some(sub)) = (words.next(), words.next()) else {
        return false;
    };
    const KUBECTL: &[&str] = &["get", "describe", "logs", "top", "-n", "--namespace"];
    const NATS: &[&str] = &[
        "server",
        "s",
        "stream",
        "str",
        "consumer",
        "con",
        "account",
        "kv",
        "--context",
        "-s",
    ];
    const ENDPOINTS: &[&str] = &[
        "varz",
        "jsz",
        "raftz",
        "healthz",
        "routez",
        "connz",
        "ipqueuesz",
        "leafz",
        "gatewayz",
        "accountz",
        "subsz",
    ];
    match cmd {
        "kubectl" | "oc" => KUBECTL.contains(&sub),
        "nats" => NATS.contains(&sub),
        "curl" | "wget" => ENDPOINTS.iter().any(|e| t.contains(e)),
        _ => false,
    }
}

/// A shell prompt before a command: `$ `, `$`, `# `, `> `, `user@host:~$ `, `PS C:\> `.
fn strip_prompt(t: &str) -> &str {
    if let Some(i) = t.find(['$', '#', '>']) {
        let before = &t[..i];
        if i < 64 && (before.starts_with("PS ") || !before.contains(char::is_whitespace)) {
            return t[i + 1..].trim_start();
        }
    }
    t
}

/// `484,777` → 484777; `-` and empty are none.
pub fn parse_count(s: &str) -> Option<i64> {
    let t: String = s
        .trim()
        .chars()
        .filter(|c| *c != ',' && *c != '_')
        .collect();
    t.parse().ok()
}

/// `53 MiB`, `0 B`, `1.2 GB`, `512` → bytes.
pub fn parse_bytes(s: &str) -> Option<i64> {
    let t = s.trim().replace(',', "");
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let x: f64 = num.parse().ok()?;
    let mult: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "kib" | "ki" => 1024.0,
        "mib" | "mi" => 1024f64.powi(2),
        "gib" | "gi" => 1024f64.powi(3),
        "tib" | "ti" => 1024f64.powi(4),
        "pib" | "pi" => 1024f64.powi(5),
        "kb" | "k" => 1e3,
        "mb" | "m" => 1e6,
        "gb" | "g" => 1e9,
        "tb" | "t" => 1e12,
        "pb" | "p" => 1e15,
        _ => return None,
    };
    let v = x * mult;
    (0.0..9.0e18).contains(&v).then_some(v.round() as i64)
}

/// A duration as kubectl and natscli print them (`63m`, `10d`, `2y45d`,
/// `1h2m3s`, `0.12s`, `252ms`) → seconds. `never` and `<invalid>` are none.
pub fn parse_duration(s: &str) -> Option<f64> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    let mut total = 0.0;
    let mut num = String::new();
    let mut chars = s.chars().peekable();
    let mut any = false;
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() || c == '.' {
            num.push(c);
            continue;
        }
        let n: f64 = num.parse().ok()?;
        num.clear();
        let unit = match c {
            'y' => 365.0 * 86_400.0,
            'd' => 86_400.0,
            'h' => 3_600.0,
            'm' if chars.peek() == Some(&'s') => {
                chars.next();
                1e-3
            }
            'm' => 60.0,
            's' => 1.0,
            'µ' | 'u' if chars.peek() == Some(&'s') => {
                chars.next();
                1e-6
            }
            'n' if chars.peek() == Some(&'s') => {
                chars.next();
                1e-9
            }
            _ => return None,
        };
        total += n * unit;
        any = true;
    }
    if !num.is_empty() {
        return None;
    }
    (any && total.is_finite()).then_some(total)
}

/// Seconds in Go's duration syntax (what templates capture): `1h3m0s`, `2.5s`.
pub fn go_duration(secs: f64) -> String {
    if !secs.is_finite() || secs < 0.0 {
        return "0s".into();
    }
    if secs < 60.0 {
        let s = format!("{secs:.3}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        return format!("{s}s");
    }
    let total = secs.round() as u64;
    let (h, m, s) = (total / 3600, total / 60 % 60, total % 60);
    if h > 0 {
        format!("{h}h{m}m{s}s")
    } else {
        format!("{m}m{s}s")
    }
}

/// A name read from a paste, made one word (rows name nodes with it).
pub fn node_name(s: &str) -> Option<String> {
    let n: String = s
        .trim()
        .chars()
        .filter(|c| !c.is_control())
        .map(|c| if c.is_whitespace() { '_' } else { c })
        .collect();
    (!n.is_empty() && n.len() <= 253).then_some(n)
}

/// A value written into a record's message as one word (no spaces).
pub fn word(s: &str) -> String {
    let w: String = s
        .trim()
        .chars()
        .filter(|c| !c.is_control())
        .map(|c| if c.is_whitespace() { '_' } else { c })
        .take(200)
        .collect();
    if w.is_empty() { "-".into() } else { w }
}

/// Every line of `text` through a [`Reader`]; lines it does not take as
/// `Out::Plain` (the readers' unit tests).
#[cfg(test)]
pub(super) fn read_for_tests(text: &str) -> Vec<Out> {
    let mut r = Reader::new();
    let mut out = Vec::new();
    for (i, l) in text.lines().enumerate() {
        if !r.feed(l, i as u64 + 1, &mut out) {
            out.push(Out::Plain(i as u64 + 1, l.to_string()));
        }
    }
    r.end(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_bytes_durations() {
        assert_eq!(parse_count("484,777"), Some(484_777));
        assert_eq!(parse_count("x"), None);
        assert_eq!(parse_bytes("53 MiB"), Some(53 * 1024 * 1024));
        assert_eq!(parse_bytes("0 B"), Some(0));
        assert_eq!(parse_bytes("1.5 KiB"), Some(1536));
        assert_eq!(parse_bytes("12 parsecs"), None);
        assert_eq!(parse_duration("63m"), Some(3780.0));
        assert_eq!(parse_duration("10d"), Some(864_000.0));
        assert_eq!(parse_duration("2y45d"), Some((730.0 + 45.0) * 86_400.0));
        assert_eq!(parse_duration("252ms"), Some(0.252));
        assert_eq!(parse_duration("1.02s"), Some(1.02));
        assert_eq!(parse_duration("never"), None);
        assert_eq!(parse_duration("<invalid>"), None);
        assert_eq!(parse_duration("12"), None);
        assert_eq!(go_duration(3780.0), "1h3m0s");
        assert_eq!(go_duration(2.5), "2.5s");
        assert_eq!(go_duration(0.0), "0s");
        assert_eq!(go_duration(90.0), "1m30s");
    }

    #[test]
    fn commands() {
        assert!(is_command("$kubectl get pods"));
        assert!(is_command("$ kubectl -n nats get pods -o wide"));
        assert!(is_command("nats server report jetstream"));
        assert!(is_command("user@host:~$ nats str info ORDERS"));
        assert!(is_command(
            "curl -s http://localhost:8222/raftz?group=_meta_"
        ));
        assert!(!is_command("nats is a messaging system"));
        assert!(!is_command("kubectl"));
        assert!(!is_command("$"));
    }
}
