//! Node names from paths: `n2/nats-server.log` → `n2`, `nats-2.log.1.gz` →
//! `nats-2`, `logs/nats-0_nats.log` → `nats-0_nats`.

/// File stems that name the program or a log, not a node.
const GENERIC: &[&str] = &[
    "nats",
    "nats-server",
    "natsserver",
    "gnatsd",
    "server",
    "log",
    "logs",
    "messages",
    "syslog",
    "output",
    "stdout",
    "stderr",
    "current",
    "console",
    "journal",
    "var",
    "tmp",
    "incident",
    "bundle",
    "capture",
    "metrics",
    "data",
    "nats-logs",
    "export",
    "docker",
    "container",
    "containers",
    "pods",
    "pod",
    "kubectl",
    "k8s",
    "journalctl",
    "all",
];

/// Strips compression, archive, rotation and `.log`/`.txt`/`.json` suffixes.
pub fn stem(file_name: &str) -> &str {
    let mut s = file_name;
    loop {
        let before = s;
        for ext in [
            ".gz", ".zst", ".bz2", ".xz", ".tgz", ".tar", ".zip", ".log", ".txt", ".json",
            ".jsonl", ".out", ".err", ".csv", ".prom",
        ] {
            if let Some(x) = s.strip_suffix(ext) {
                s = x;
            }
        }
        // Rotation: .1, .2, or nats-server's .YYYY.MM.DD.hh.mm.ss.nnnnnnnnn,
        // or logrotate's -20261124.
        if let Some(pos) = s.rfind(['.', '-']) {
            let tail = &s[pos + 1..];
            if !tail.is_empty()
                && tail.len() <= 9
                && tail.bytes().all(|b| b.is_ascii_digit())
                && pos > 0
            {
                let head = &s[..pos];
                // Keep `nats-2` (a short node number), strip `.1`, `-20261124`.
                if s.as_bytes()[pos] == b'.' || tail.len() >= 6 {
                    s = head;
                }
            }
        }
        if s == before {
            return s;
        }
    }
}

fn is_generic(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    GENERIC.contains(&lower.as_str()) || lower.is_empty()
}

/// The node a path names, if any: the file stem unless generic, else the
/// nearest non-generic directory. A time in a name (snapshots saved as
/// `healthz-20261126T170313Z.json`, folders named by time) is not part of a
/// node's name, and a name that is only a time, an endpoint or both
/// (`healthz/`, `healthz-20261126T170313Z`) names no node.
pub fn node_from_path(path: &str) -> Option<String> {
    let parts: Vec<&str> = path
        .split(['/', '\\', '!'])
        .filter(|p| !p.is_empty() && *p != "." && *p != "..")
        .collect();
    let (file, dirs) = parts.split_last()?;
    // `10.0.0.213.log`, `10.0.0.213.varz.jsonl`: the address is the node
    // (its dotted numbers are not rotation suffixes).
    if let Some(ip) = ipv4_prefix(file) {
        return Some(ip.to_string());
    }
    let file_stem = without_time(stem(file));
    // Metric files like `n1.varz.jsonl`: the node is the first dotted part.
    let first = file_stem.split('.').next().unwrap_or(&file_stem);
    if names_a_node(first) {
        return Some(first.to_string());
    }
    // Hidden folders (`.cache`, a temporary `.tmpXYZ`) name no node.
    for d in dirs.iter().rev().filter(|d| !d.starts_with('.')) {
        let d = without_time(stem(d));
        if names_a_node(&d) {
            return Some(d);
        }
    }
    None
}

/// An IPv4 address at the start of `s`, followed by its end or a dot.
fn ipv4_prefix(s: &str) -> Option<&str> {
    let mut end = 0;
    for i in 0..4 {
        let rest = &s[end..];
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || digits > 3 || rest[..digits].parse::<u16>().ok()? > 255 {
            return None;
        }
        end += digits;
        let next = s.as_bytes().get(end);
        if i < 3 {
            (next == Some(&b'.')).then_some(())?;
            end += 1;
        } else if next.is_some_and(|&b| b != b'.') {
            return None;
        }
    }
    Some(&s[..end])
}

fn names_a_node(name: &str) -> bool {
    !is_generic(name)
        && !looks_like_endpoint(name)
        // `healthz-n2`-style names are handled by the caller's folders; an
        // endpoint with a suffix (`varz_2`) is still an endpoint dump.
        && !name
            .split(['-', '_'])
            .next()
            .is_some_and(looks_like_endpoint)
}

/// `name` without the date-time it contains (`healthz-20261126T170313Z` →
/// `healthz`, `2026-11-26T17-03-13` → ``), trimmed of the separators left.
pub fn without_time(name: &str) -> String {
    use std::sync::OnceLock;
    static RE: OnceLock<regex::Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        regex::Regex::new(
            r"(?:^|\b)1\d{9}(?:\.\d+)?(?:\b|$)|\d{4}-?\d{2}-?\d{2}(?:[T_ -]?\d{2}[:\-_]?\d{2}(?:[:\-_]?\d{2}(?:[.,]\d{1,9})?)?)?(?:Z|[+-]\d{2}:?\d{2})?",
        )
        .expect("static regex")
    });
    let out = re.replace_all(name, "");
    out.trim_matches(|c| matches!(c, '-' | '_' | '.' | ' ' | ':'))
        .to_string()
}

fn looks_like_endpoint(s: &str) -> bool {
    matches!(
        s,
        "varz"
            | "jsz"
            | "healthz"
            | "routez"
            | "connz"
            | "raftz"
            | "ipqueuesz"
            | "gatewayz"
            | "leafz"
            | "subsz"
            | "accountz"
            | "host"
            | "proc"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_name_nodes() {
        assert_eq!(
            node_from_path("x/10.0.0.213.log").as_deref(),
            Some("10.0.0.213")
        );
        assert_eq!(
            node_from_path("168.63.70.231.varz.jsonl").as_deref(),
            Some("168.63.70.231")
        );
        assert_eq!(ipv4_prefix("10.0.0.2134.log"), None);
        assert_eq!(ipv4_prefix("300.0.0.1"), None);
        assert_eq!(node_from_path("n2/nats.log.1").as_deref(), Some("n2"));
    }

    #[test]
    fn stems() {
        assert_eq!(stem("nats-server.log.1.gz"), "nats-server");
        assert_eq!(stem("nats-2.log"), "nats-2");
        assert_eq!(stem("n1.log.2026.11.24.19.02.17.123456789"), "n1");
        assert_eq!(stem("nats.log-20261124.gz"), "nats");
    }

    #[test]
    fn nodes() {
        assert_eq!(
            node_from_path("incident/n2/nats-server.log").as_deref(),
            Some("n2")
        );
        assert_eq!(node_from_path("nats-2.log").as_deref(), Some("nats-2"));
        assert_eq!(
            node_from_path("b.tgz!var/log/nats/nats.log").as_deref(),
            Some("b")
        );
        assert_eq!(
            node_from_path("metrics/n3.varz.jsonl").as_deref(),
            Some("n3")
        );
        assert_eq!(node_from_path("nats.log"), None);
    }

    #[test]
    fn times_are_not_nodes() {
        for p in [
            "bundle/healthz/n2/healthz-20261126T170313Z.json",
            "bundle/n2/healthz/healthz-20261126T170313Z.json",
            "n2/2026-11-26T17-03-13/varz.json",
            "n2/varz_2026-11-26_170313.json",
            "snapshots/n2/1795633204/jsz.json",
            "n2-20261126T170313Z.json",
        ] {
            assert_eq!(node_from_path(p).as_deref(), Some("n2"), "{p}");
        }
        assert_eq!(
            node_from_path("/tmp/.tmpX/healthz-20261126T170313Z.json"),
            None
        );
        assert_eq!(node_from_path("20261126T170313Z/healthz.json"), None);
        // A node name with digits is not a time.
        assert_eq!(node_from_path("nats-2.log").as_deref(), Some("nats-2"));
        assert_eq!(
            node_from_path("edge-01/varz.json").as_deref(),
            Some("edge-01")
        );
        assert_eq!(without_time("healthz-20261126T170313Z"), "healthz");
    }
}
