//! From the URLs given to the servers to poll: each URL's `/varz` names its
//! server; with one URL, the cluster's other servers are found from it.
//!
//! nats-server publishes no peer's monitoring address anywhere: `/varz`
//! `cluster.urls` lists route URLs (cluster port), `/routez` lists each
//! route's `remote_id`, `remote_name` and `ip`/`port` (for a route this
//! server solicited, the peer's cluster port). Discovery therefore *guesses
//! and verifies*: for every route peer it tries (1) the peer's host with the
//! seed's monitoring port (the usual deployment: same config on every
//! host), then (2) the peer's cluster port shifted by the seed's own
//! `http_port - cluster_port` (several servers on one host). A guess is kept
//! only when its `/varz` answers with the `server_id` of one of the seed's
//! routes; peers no guess reached are reported by name, to be given as URLs.

use super::CollectError;
use super::http::Client;
use serde_json::Value;
use std::collections::BTreeSet;

/// What a server's `/varz` says about it.
#[derive(Clone, Debug, PartialEq)]
pub struct ServerInfo {
    /// Base monitoring URL (`http://host:8222`, no trailing slash).
    pub url: String,
    pub id: String,
    /// `server_name` (the id when not configured).
    pub name: String,
    pub version: String,
    pub cluster: Option<String>,
    pub http_port: Option<u16>,
    pub cluster_port: Option<u16>,
    /// `cluster.urls`: configured route URLs.
    pub route_urls: Vec<String>,
}

/// `http://host:8222/` or `host:8222/varz` → `http://host:8222`.
pub fn normalize_url(url: &str) -> String {
    let mut u = url.trim().to_string();
    if !u.contains("://") {
        u = format!("http://{u}");
    }
    while u.ends_with('/') {
        u.pop();
    }
    for ep in ["/varz", "/healthz", "/jsz", "/routez", "/connz"] {
        if let Some(x) = u.strip_suffix(ep) {
            u = x.to_string();
        }
    }
    u
}

/// Fetches `/varz` of `url` and reads the server's identity.
pub fn probe(client: &Client, url: &str) -> Result<ServerInfo, CollectError> {
    let base = normalize_url(url);
    let full = format!("{base}/varz");
    let ans = client.get(&full);
    let (status, body) = ans.result.map_err(|message| CollectError::Unreachable {
        url: full.clone(),
        hint: if message.contains("refused") {
            "is this the monitoring port (`http_port`, e.g. 8222), not the client port?"
        } else if message.contains("timeout") {
            "the server or the network is slow: raise --timeout, or check the address"
        } else {
            "check the URL, the scheme (http/https) and --ca-file"
        },
        message,
    })?;
    if status == 401 || status == 403 {
        return Err(CollectError::Http {
            url: full,
            status,
            hint: "authentication required: use --user/--password or --token",
        });
    }
    if !(200..300).contains(&status) {
        return Err(CollectError::Http {
            url: full,
            status,
            hint: "not a nats-server monitoring endpoint? give the base URL, e.g. http://host:8222",
        });
    }
    let v: Value = serde_json::from_slice(&body).map_err(|e| CollectError::NotMonitoring {
        url: full.clone(),
        message: format!("answer is not JSON: {e}"),
    })?;
    let id = v.get("server_id").and_then(Value::as_str).unwrap_or("");
    if id.is_empty() {
        return Err(CollectError::NotMonitoring {
            url: full,
            message: "the JSON has no `server_id`: not a nats-server /varz".into(),
        });
    }
    let name = v
        .get("server_name")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .unwrap_or(id);
    let cluster = v.get("cluster");
    let port = |x: Option<&Value>| {
        x.and_then(Value::as_u64)
            .and_then(|p| u16::try_from(p).ok())
    };
    Ok(ServerInfo {
        url: base,
        id: id.to_string(),
        name: name.to_string(),
        version: v
            .get("version")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        cluster: cluster
            .and_then(|c| c.get("name"))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string),
        http_port: port(v.get("http_port")).filter(|p| *p != 0),
        cluster_port: port(cluster.and_then(|c| c.get("cluster_port"))).filter(|p| *p != 0),
        route_urls: cluster
            .and_then(|c| c.get("urls"))
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default(),
    })
}

/// A route peer of the seed, as `/routez` tells it.
#[derive(Clone, Debug, PartialEq)]
pub struct Peer {
    pub id: String,
    /// `remote_name` (2.9.16+), else empty.
    pub name: String,
    pub ip: String,
    /// The peer's cluster port when the seed solicited the route.
    pub cluster_port: Option<u16>,
}

/// The seed's route peers, one per `remote_id` (route pooling opens several routes per peer).
pub fn route_peers(routez: &Value) -> Vec<Peer> {
    let mut out: Vec<Peer> = Vec::new();
    for r in routez
        .get("routes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(id) = r
            .get("remote_id")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
        else {
            continue;
        };
        let solicited = r.get("did_solicit").and_then(Value::as_bool) == Some(true);
        let cluster_port = r
            .get("port")
            .and_then(Value::as_u64)
            .and_then(|p| u16::try_from(p).ok())
            .filter(|_| solicited);
        let ip = r
            .get("ip")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let name = r
            .get("remote_name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        match out.iter_mut().find(|p| p.id == id) {
            Some(p) => {
                if p.cluster_port.is_none() {
                    p.cluster_port = cluster_port;
                }
            }
            None => out.push(Peer {
                id: id.to_string(),
                name,
                ip,
                cluster_port,
            }),
        }
    }
    out
}

/// Monitoring URLs to try for `peer`, best guess first.
pub fn candidates(seed: &ServerInfo, peer: &Peer) -> Vec<String> {
    let (scheme, rest) = seed.url.split_once("://").unwrap_or(("http", &seed.url));
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let seed_port: Option<u16> = authority
        .rsplit_once(':')
        .and_then(|(_, p)| p.parse().ok())
        .or(seed.http_port);
    let host_of = |h: &str| {
        if h.contains(':') && !h.starts_with('[') {
            format!("[{h}]")
        } else {
            h.to_string()
        }
    };
    let mut out = Vec::new();
    let mut push = |host: &str, port: u16| {
        let u = format!("{scheme}://{}:{port}{path}", host_of(host));
        if u != seed.url && !out.contains(&u) {
            out.push(u);
        }
    };
    if let (false, Some(p)) = (peer.ip.is_empty(), seed_port) {
        push(&peer.ip, p);
    }
    if let (Some(hp), Some(cp)) = (seed.http_port, seed.cluster_port) {
        let shift = i32::from(hp) - i32::from(cp);
        let mut route_ports: Vec<(String, u16)> = Vec::new();
        if let Some(p) = peer.cluster_port {
            route_ports.push((peer.ip.clone(), p));
        }
        // Configured route URLs (nats-route://host:port): which one is this
        // peer is unknown, so each is tried; the server_id check decides.
        for u in &seed.route_urls {
            let hostport = u.rsplit("://").next().unwrap_or(u);
            let hostport = hostport.rsplit('@').next().unwrap_or(hostport);
            if let Some((h, p)) = hostport.rsplit_once(':')
                && let Ok(p) = p.trim_end_matches('/').parse::<u16>()
                && p != cp
            {
                route_ports.push((h.trim_matches(['[', ']']).to_string(), p));
            }
        }
        for (h, p) in route_ports {
            if let Ok(mp) = u16::try_from(i32::from(p) + shift) {
                push(&h, mp);
            }
        }
    }
    out
}

/// What discovery found: the peers' servers, and the peers it could not reach.
#[derive(Clone, Debug, Default)]
pub struct Discovery {
    pub found: Vec<ServerInfo>,
    /// `(name or id, the URLs tried)`.
    pub missing: Vec<(String, Vec<String>)>,
}

/// Finds the route peers of `seed` (see the module docs for how).
pub fn discover(client: &Client, seed: &ServerInfo) -> Discovery {
    let routez = client.get(&format!("{}/routez", seed.url));
    let peers = match routez.result {
        Ok((200, body)) => serde_json::from_slice::<Value>(&body)
            .map(|v| route_peers(&v))
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    let mut d = Discovery::default();
    let mut seen: BTreeSet<String> = BTreeSet::from([seed.id.clone()]);
    for peer in &peers {
        if seen.contains(&peer.id) {
            continue;
        }
        let tried = candidates(seed, peer);
        let mut hit = None;
        for url in &tried {
            if let Ok(info) = probe(client, url)
                && info.id == peer.id
            {
                hit = Some(info);
                break;
            }
        }
        match hit {
            Some(info) => {
                seen.insert(info.id.clone());
                d.found.push(info);
            }
            None => d.missing.push((
                if peer.name.is_empty() {
                    peer.id.clone()
                } else {
                    peer.name.clone()
                },
                tried,
            )),
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_normalized() {
        assert_eq!(normalize_url("localhost:8222"), "http://localhost:8222");
        assert_eq!(
            normalize_url("https://n1:8222/varz"),
            "https://n1:8222".to_string()
        );
        assert_eq!(normalize_url("http://n1:8222/"), "http://n1:8222");
        assert_eq!(
            normalize_url("https://proxy/nats/n1/"),
            "https://proxy/nats/n1"
        );
    }

    fn seed() -> ServerInfo {
        ServerInfo {
            url: "http://127.0.0.1:18221".into(),
            id: "A".into(),
            name: "n1".into(),
            version: "2.10.26".into(),
            cluster: Some("lab".into()),
            http_port: Some(18221),
            cluster_port: Some(16221),
            route_urls: vec![
                "nats-route://127.0.0.1:16221".into(),
                "nats-route://user:pw@127.0.0.1:16222".into(),
                "nats-route://127.0.0.1:16223".into(),
            ],
        }
    }

    #[test]
    fn routez_peers_are_deduplicated_across_pooled_routes() {
        let v: Value = serde_json::from_str(
            r#"{"routes":[
              {"rid":1,"remote_id":"B","remote_name":"n2","did_solicit":true,"ip":"127.0.0.1","port":16222},
              {"rid":2,"remote_id":"B","remote_name":"n2","did_solicit":false,"ip":"127.0.0.1","port":51234},
              {"rid":3,"remote_id":"C","did_solicit":false,"ip":"127.0.0.1","port":51999},
              {"rid":4,"remote_id":""}
            ]}"#,
        )
        .unwrap();
        let p = route_peers(&v);
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].name, "n2");
        assert_eq!(p[0].cluster_port, Some(16222));
        assert_eq!(p[1].id, "C");
        assert_eq!(
            p[1].cluster_port, None,
            "an accepted route's port is ephemeral"
        );
    }

    #[test]
    fn candidates_try_same_port_then_shifted_route_ports() {
        let peer = Peer {
            id: "B".into(),
            name: "n2".into(),
            ip: "127.0.0.1".into(),
            cluster_port: Some(16222),
        };
        let c = candidates(&seed(), &peer);
        assert_eq!(
            c,
            vec![
                "http://127.0.0.1:18222".to_string(),
                "http://127.0.0.1:18223".to_string(),
            ]
        );
        // Behind a path prefix and https, the scheme and path are kept.
        let mut s = seed();
        s.url = "https://10.1.2.3:8222".into();
        s.http_port = Some(8222);
        s.cluster_port = Some(6222);
        s.route_urls.clear();
        let peer = Peer {
            id: "B".into(),
            name: String::new(),
            ip: "10.1.2.4".into(),
            cluster_port: None,
        };
        assert_eq!(candidates(&s, &peer), vec!["https://10.1.2.4:8222"]);
    }
}
