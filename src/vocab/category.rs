//! Cause categories: what a finding says happened, and whether that is a
//! node's own trouble (a cause) or what its peers report about it (a cascade).

/// The part a category plays in the diagnosis.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Role {
    /// A node's own trouble: it can be the root cause.
    Cause,
    /// What peers report when another node is in trouble; it explains
    /// nothing by itself and names the sick node at most.
    Cascade,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct CategoryDef {
    pub name: &'static str,
    pub role: Role,
    /// One sentence, as rules/README.md §7 documents it.
    pub meaning: &'static str,
}

const fn cause(name: &'static str, meaning: &'static str) -> CategoryDef {
    CategoryDef {
        name,
        role: Role::Cause,
        meaning,
    }
}

const fn cascade(name: &'static str, meaning: &'static str) -> CategoryDef {
    CategoryDef {
        name,
        role: Role::Cascade,
        meaning,
    }
}

/// Every category a rule may use, in the order rules/README.md §7 lists them.
/// A new category must say its role here: it cannot silently become either.
pub const CATEGORIES: &[CategoryDef] = &[
    cause(
        "jetstream-api-overload",
        "the JetStream API request queue backs up faster than it is served",
    ),
    cause(
        "cpu-starvation",
        "the server process gets too little CPU to keep up",
    ),
    cause(
        "memory-exhaustion",
        "memory grows towards a limit or the process is OOM-killed",
    ),
    cause(
        "storage-exhaustion",
        "JetStream storage reaches its configured or physical limit",
    ),
    cause(
        "slow-storage",
        "disk writes or fsyncs are too slow (or fail)",
    ),
    cause(
        "node-unresponsive",
        "the node stops answering: frozen, paused, hung",
    ),
    cause(
        "process-restart",
        "the server process died or was restarted",
    ),
    cascade(
        "route-instability",
        "cluster routes close, go stale or flap",
    ),
    cascade("raft-quorum-loss", "a Raft group lost its leader or quorum"),
    cause(
        "slow-consumer",
        "a client or route cannot keep up with what it is sent",
    ),
    cause(
        "mqtt-connection-storm",
        "a surge of MQTT connects or sessions",
    ),
    cause(
        "connection-limit",
        "a connection, subscription or payload limit is hit",
    ),
    cause(
        "auth-failure",
        "clients or routes fail authentication or authorization",
    ),
    cause("config-error", "a configuration mistake or mismatch"),
    cause(
        "known-defect",
        "a pattern matching a known nats-server defect",
    ),
    cascade("network-partition", "nodes cannot reach each other"),
    cascade(
        "consequence",
        "a symptom that follows other causes, not a cause by itself",
    ),
];

/// The category named `name`.
pub fn category(name: &str) -> Option<&'static CategoryDef> {
    CATEGORIES.iter().find(|c| c.name == name)
}

/// Whether `name` is a cause (unknown names are not).
pub fn is_cause(name: &str) -> bool {
    category(name).is_some_and(|c| c.role == Role::Cause)
}

/// Category names, in vocabulary order.
pub fn names() -> impl Iterator<Item = &'static str> {
    CATEGORIES.iter().map(|c| c.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_kebab_case() {
        let mut seen = std::collections::BTreeSet::new();
        for c in CATEGORIES {
            assert!(seen.insert(c.name), "{} twice", c.name);
            assert!(
                c.name.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
                "{}",
                c.name
            );
            assert!(!c.meaning.is_empty());
        }
    }

    #[test]
    fn roles() {
        assert!(is_cause("cpu-starvation"));
        assert!(!is_cause("route-instability"));
        assert!(!is_cause("no-such-category"));
    }
}
