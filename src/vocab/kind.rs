//! The event kinds the Rust code itself names (everything else about kinds
//! lives in the rule packs: `rules/nats-messages.rules` declares them). A test
//! (`tests/vocab`) fails when one of these is not a kind of the built-in templates.

/// `Starting nats-server`: a new process lifetime begins.
pub const SERVER_STARTING: &str = "server_starting";
/// `Server Exiting..`: a clean end of a lifetime.
pub const SERVER_EXITING: &str = "server_exiting";
/// `Initiating Shutdown...`.
pub const SHUTDOWN_INITIATED: &str = "shutdown_initiated";
/// The banner's `Name:` line: the node's name.
pub const BANNER_NAME: &str = "banner_name";
/// The banner's `Node:` line: the node's short id (RAFT prefixes use it).
pub const BANNER_NODE: &str = "banner_node";
/// The banner's `Version:` line.
pub const BANNER_VERSION: &str = "banner_version";
/// `Self is new JetStream cluster metadata leader`.
pub const META_LEADER_SELF: &str = "meta_leader_self";
/// `JetStream cluster new metadata leader: <name>`.
pub const META_LEADER_NEW: &str = "meta_leader_new";
/// `JetStream cluster no metadata leader`.
pub const META_LEADER_NONE: &str = "meta_leader_none";
/// `Route connection created`.
pub const ROUTE_CREATED: &str = "route_created";
/// `<kind> connection closed: <reason>` (routes: `Router`).
pub const CONNECTION_CLOSED: &str = "connection_closed";
/// A line no template matched.
pub const UNKNOWN: &str = "unknown";

/// Kinds worth a line in a report's timeline even without a finding; the
/// analysis keeps them for that (the reports read this list, they don't own it).
pub const TIMELINE: &[&str] = &[
    SERVER_STARTING,
    SERVER_EXITING,
    SHUTDOWN_INITIATED,
    META_LEADER_SELF,
    META_LEADER_NONE,
    "stream_no_quorum",
    "consumer_no_quorum",
    "js_out_of_resources",
    "lame_duck_enter",
    "go_panic",
    "go_fatal",
];

/// Kinds of the start-up banner's lines (`banner_name`, `jetstream_banner_art`...):
/// never taken for a message of their own when they come without a header.
pub fn is_banner(kind: &str) -> bool {
    kind.starts_with("banner_") || kind.starts_with("jetstream_banner")
}

/// The kinds the derived fields `uptime` and `conn_age` are computed from
/// (`ingest::derive_fields`): the analysis keeps them whatever the rules select.
pub const DERIVED_FROM: &[&str] = &[SERVER_STARTING, ROUTE_CREATED];

/// Every kind named by Rust code, for the vocabulary test.
pub const NAMED: &[&str] = &[
    ROUTE_CREATED,
    CONNECTION_CLOSED,
    SERVER_STARTING,
    SERVER_EXITING,
    SHUTDOWN_INITIATED,
    BANNER_NAME,
    BANNER_NODE,
    BANNER_VERSION,
    META_LEADER_SELF,
    META_LEADER_NEW,
    META_LEADER_NONE,
];
