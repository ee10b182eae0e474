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
/// nearest non-generic directory.
pub fn node_from_path(path: &str) -> Option<String> {
    let parts: Vec<&str> = path
        .split(['/', '\\', '!'])
        .filter(|p| !p.is_empty() && *p != "." && *p != "..")
        .collect();
    let (file, dirs) = parts.split_last()?;
    let file_stem = stem(file);
    // Metric files like `n1.varz.jsonl`: the node is the first dotted part.
    let first = file_stem.split('.').next().unwrap_or(file_stem);
    if !is_generic(first) && !looks_like_endpoint(first) {
        return Some(first.to_string());
    }
    for d in dirs.iter().rev() {
        let d = stem(d);
        if !is_generic(d) {
            return Some(d.to_string());
        }
    }
    None
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
            | "host"
            | "proc"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
