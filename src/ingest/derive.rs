//! Fields derived from the merged, time-ordered event stream of each node,
//! after attribution (what one line alone cannot say):
//!
//! * `uptime` — seconds since the node's last `Starting nats-server` line
//!   (absent before its first banner, e.g. a log that starts mid-lifetime).
//!   Rules use it to tell start-up noise (health checks failing while the
//!   meta group forms, a JetStream store recovering) from trouble later.
//! * `conn_age` — on a route's `Router connection closed` line: seconds since
//!   the same node logged `Route connection created` for that route id in the
//!   same lifetime (absent when the creation is not in the data). From 2.10
//!   on, route pooling opens several connections per peer pair and closes the
//!   duplicates within milliseconds while the cluster forms (as `Duplicate
//!   Route` or, on the other side, `Client Closed`); `conn_age` tells those
//!   from the loss of an established route.
//!
//! Both depend only on lines of the same node, in the stream order, so they
//! are the same whatever the number of threads or how files were chunked.
//! Under coalescing, the route lines of different route ids are kept apart
//! when a rule reads `conn_age` (engine::coalesce).

use crate::model::{Event, Timestamp, Value};
use crate::vocab::kind;
use std::collections::HashMap;
use std::sync::Arc;

/// Route creations remembered per node, at most: older ones are forgotten
/// first (a route closing after that many newer ones gets no `conn_age`).
const MAX_OPEN_ROUTES: usize = 4096;

/// Adds `uptime` and `conn_age` to `events` (sorted by time, node, file,
/// line), on the events whose kind some consumer reads them of
/// (`wanted(kind, field)`): a field on every event costs memory per line.
pub fn derive_fields(events: &mut [Event], wanted: &dyn Fn(&str, &str) -> bool) {
    let uptime: Arc<str> = Arc::from("uptime");
    let conn_age: Arc<str> = Arc::from("conn_age");
    #[derive(Default)]
    struct NodeState {
        started: Option<Timestamp>,
        /// route id → (creation time, order of creation)
        routes: HashMap<i64, (Timestamp, u64)>,
        seq: u64,
    }
    let mut nodes: HashMap<Arc<str>, NodeState> = HashMap::new();
    for e in events.iter_mut() {
        let Some(ts) = e.ts else { continue };
        let st = nodes.entry(e.node.clone()).or_default();
        let k = &*e.kind;
        if k == kind::SERVER_STARTING {
            st.started = Some(ts);
            st.routes.clear();
        } else if (k == kind::ROUTE_CREATED || k == kind::CONNECTION_CLOSED) && is_route(e) {
            if let Some(Value::Int(id)) = e.field("conn_id").cloned() {
                if k == kind::ROUTE_CREATED {
                    st.seq += 1;
                    if st.routes.len() >= MAX_OPEN_ROUTES {
                        forget_oldest(&mut st.routes);
                    }
                    st.routes.insert(id, (ts, st.seq));
                } else if let Some((created, _)) = st.routes.remove(&id) {
                    let age = ts.since(created).max(0) as f64 / 1e9;
                    if wanted(k, &conn_age) {
                        // Exactly one more: the vectors of millions of events
                        // would otherwise double.
                        e.fields.reserve_exact(1);
                        e.fields.push((conn_age.clone(), Value::Float(age)));
                    }
                }
            }
        }
        if let Some(s) = st.started
            && wanted(&e.kind, &uptime)
        {
            let up = ts.since(s).max(0) as f64 / 1e9;
            e.fields.reserve_exact(1);
            e.fields.push((uptime.clone(), Value::Float(up)));
        }
    }
}

fn is_route(e: &Event) -> bool {
    matches!(e.field("conn"), Some(Value::Str(k)) if &**k == "rid")
}

fn forget_oldest(routes: &mut HashMap<i64, (Timestamp, u64)>) {
    let mut by_age: Vec<(u64, i64)> = routes.iter().map(|(id, (_, seq))| (*seq, *id)).collect();
    by_age.sort_unstable();
    for (_, id) in by_age.into_iter().take(MAX_OPEN_ROUTES / 4) {
        routes.remove(&id);
    }
}
