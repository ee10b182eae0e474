//! Metric conditions → PromQL over the exporters' metric names.
//!
//! Names were read from the exporters' source: prometheus-nats-exporter
//! flattens `/varz` into `gnatsd_varz_<path>` gauges labelled `server_id`
//! (collector/collector.go, namespace `gnatsd`); NATS Surveyor publishes
//! `nats_core_*` from `$SYS` statsz with labels `server_name`, `server_id`
//! and `server_cluster` (JetStream series: `cluster_name`)
//! (surveyor/collector_statz.go).

use super::{Alert, Exported, common, duration};
use crate::lang::RuleSet;
use crate::lang::ir::{CmpOp, Detect, MC, MX, PeerAgg, Rule, WinFn};

/// Which exporter's metric names the expressions use.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Exporter {
    /// prometheus-nats-exporter (`gnatsd_varz_*`).
    NatsExporter,
    /// NATS Surveyor (`nats_core_*`).
    Surveyor,
}

#[derive(Clone, Debug)]
pub struct PromOptions {
    pub exporter: Exporter,
    /// The label that groups one cluster's servers, for `peers()`.
    /// Default: `job` (exporter), `server_cluster`/`cluster_name` (Surveyor).
    pub cluster_label: Option<String>,
}

impl PromOptions {
    /// The label naming the server in alerts.
    pub fn node_label(&self) -> &'static str {
        match self.exporter {
            Exporter::NatsExporter => "server_id",
            Exporter::Surveyor => "server_name",
        }
    }
}

/// Where a coroner metric comes from in the exporter.
#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    /// A gauge with the same meaning.
    Gauge(&'static str),
    /// A cumulative count: coroner's per-second rate between samples is `irate`.
    CounterRate(&'static str),
    /// `100 * used / limit`.
    Pct(&'static str, &'static str),
    /// The server start time: `change(restarts, D)` is `changes(start[D])`.
    Start(&'static str),
}

impl Source {
    /// The series names the source reads.
    pub fn series(&self) -> Vec<&'static str> {
        match self {
            Source::Gauge(s) | Source::CounterRate(s) | Source::Start(s) => vec![s],
            Source::Pct(u, m) => vec![u, m],
        }
    }
}

/// The exporter source of a coroner metric, or why there is none.
pub fn source(metric: &str, exporter: Exporter) -> Result<Source, String> {
    use Exporter::*;
    use Source::*;
    let s = match (metric, exporter) {
        ("cpu" | "proc_cpu", NatsExporter) => Gauge("gnatsd_varz_cpu"),
        ("cpu" | "proc_cpu", Surveyor) => Gauge("nats_core_cpu_percentage"),
        ("mem_rss", NatsExporter) => Gauge("gnatsd_varz_mem"),
        ("mem_rss", Surveyor) => Gauge("nats_core_mem_bytes"),
        ("connections", NatsExporter) => Gauge("gnatsd_varz_connections"),
        ("connections", Surveyor) => Gauge("nats_core_connection_count"),
        ("routes", NatsExporter) => Gauge("gnatsd_varz_routes"),
        ("routes", Surveyor) => Gauge("nats_core_route_count"),
        ("slow_consumers", NatsExporter) => Gauge("gnatsd_varz_slow_consumers"),
        ("slow_consumers", Surveyor) => Gauge("nats_core_slow_consumer_count"),
        ("slow_consumers_rate", NatsExporter) => CounterRate("gnatsd_varz_slow_consumers"),
        ("slow_consumers_rate", Surveyor) => CounterRate("nats_core_slow_consumer_count"),
        ("in_msgs_rate", NatsExporter) => CounterRate("gnatsd_varz_in_msgs"),
        ("in_msgs_rate", Surveyor) => CounterRate("nats_core_recv_msgs_count"),
        ("out_msgs_rate", NatsExporter) => CounterRate("gnatsd_varz_out_msgs"),
        ("out_msgs_rate", Surveyor) => CounterRate("nats_core_sent_msgs_count"),
        ("js_api_pending", NatsExporter) => Gauge("gnatsd_varz_jetstream_meta_pending"),
        ("js_api_pending", Surveyor) => Gauge("nats_core_jetstream_api_pending"),
        ("js_api_total", NatsExporter) => Gauge("gnatsd_varz_jetstream_stats_api_total"),
        ("js_api_total", Surveyor) => Gauge("nats_core_jetstream_api_requests"),
        ("js_api_rate", NatsExporter) => CounterRate("gnatsd_varz_jetstream_stats_api_total"),
        ("js_api_rate", Surveyor) => CounterRate("nats_core_jetstream_api_requests"),
        ("js_api_errors", NatsExporter) => Gauge("gnatsd_varz_jetstream_stats_api_errors"),
        ("js_api_errors", Surveyor) => Gauge("nats_core_jetstream_api_errors"),
        ("js_api_errors_rate", NatsExporter) => {
            CounterRate("gnatsd_varz_jetstream_stats_api_errors")
        }
        ("js_api_errors_rate", Surveyor) => CounterRate("nats_core_jetstream_api_errors"),
        ("js_store", NatsExporter) => Gauge("gnatsd_varz_jetstream_stats_storage"),
        ("js_store", Surveyor) => Gauge("nats_core_jetstream_filestore_used_bytes"),
        ("js_store_max", NatsExporter) => Gauge("gnatsd_varz_jetstream_config_max_storage"),
        ("js_store_max", Surveyor) => Gauge("nats_core_jetstream_filestore_size_bytes"),
        ("js_mem", NatsExporter) => Gauge("gnatsd_varz_jetstream_stats_memory"),
        ("js_mem", Surveyor) => Gauge("nats_core_jetstream_memstore_used_bytes"),
        ("js_mem_max", NatsExporter) => Gauge("gnatsd_varz_jetstream_config_max_memory"),
        ("js_mem_max", Surveyor) => Gauge("nats_core_jetstream_memstore_size_bytes"),
        ("js_store_pct", NatsExporter) => Pct(
            "gnatsd_varz_jetstream_stats_storage",
            "gnatsd_varz_jetstream_config_max_storage",
        ),
        ("js_store_pct", Surveyor) => Pct(
            "nats_core_jetstream_filestore_used_bytes",
            "nats_core_jetstream_filestore_size_bytes",
        ),
        ("js_mem_pct", NatsExporter) => Pct(
            "gnatsd_varz_jetstream_stats_memory",
            "gnatsd_varz_jetstream_config_max_memory",
        ),
        ("js_mem_pct", Surveyor) => Pct(
            "nats_core_jetstream_memstore_used_bytes",
            "nats_core_jetstream_memstore_size_bytes",
        ),
        ("restarts", NatsExporter) => Start("gnatsd_varz_start"),
        ("restarts", Surveyor) => Start("nats_core_start_time"),
        ("proc_stopped" | "proc_absent" | "fds" | "threads", _) => {
            return Err(format!(
                "`{metric}` is read from /proc on the server's host; neither NATS exporter publishes it \
                 (node_exporter/process-exporter or the kubelet does, with labels that cannot be joined to the server)"
            ));
        }
        ("cg_throttled_rate", _) => {
            return Err(
                "`cg_throttled_rate` is the container's CPU throttling (cgroup); it comes from cAdvisor \
                 (`container_cpu_cfs_throttled_periods_total`), not from the NATS exporters, and its \
                 labels cannot be joined to the server"
                    .into(),
            );
        }
        ("route_pending", NatsExporter) => {
            return Err(
                "`route_pending` sums /routez `pending_size`; prometheus-nats-exporter drops JSON arrays, \
                 so routes' pending bytes are not exported (Surveyor has nats_core_route_pending_bytes)"
                    .into(),
            );
        }
        ("route_pending", Surveyor) => {
            return Err(
                "`route_pending` is per server; Surveyor publishes nats_core_route_pending_bytes per route"
                    .into(),
            );
        }
        (other, _) => {
            return Err(format!(
                "no {} metric for `{other}`",
                match exporter {
                    NatsExporter => "prometheus-nats-exporter",
                    Surveyor => "NATS Surveyor",
                }
            ));
        }
    };
    Ok(s)
}

/// The shape of a PromQL value: a number, one series per server, or one
/// series per cluster (peers' aggregate).
#[derive(Clone, Debug, PartialEq)]
enum Shape {
    Scalar,
    Node,
    Cluster(String),
}

struct Q {
    text: String,
    shape: Shape,
    /// A bare selector (usable in a range `X[5m]`).
    selector: bool,
}

struct Cx<'a> {
    o: &'a PromOptions,
    notes: Vec<String>,
}

impl Cx<'_> {
    fn cluster_label(&self, src: &Source) -> String {
        if let Some(l) = &self.o.cluster_label {
            return l.clone();
        }
        match self.o.exporter {
            Exporter::NatsExporter => "job".into(),
            Exporter::Surveyor if src.series().iter().any(|s| s.contains("jetstream")) => {
                "cluster_name".into()
            }
            Exporter::Surveyor => "server_cluster".into(),
        }
    }

    fn metric(&mut self, m: &str) -> Result<(Q, Source), String> {
        let src = source(m, self.o.exporter)?;
        if m == "proc_cpu" {
            self.note(
                "proc_cpu (from /proc) is read as the server's own /varz cpu, the same counters sampled by the server",
            );
        }
        let q = match &src {
            Source::Gauge(s) => Q {
                text: s.to_string(),
                shape: Shape::Node,
                selector: true,
            },
            Source::CounterRate(c) => Q {
                text: format!("irate({c}[1m])"),
                shape: Shape::Node,
                selector: false,
            },
            Source::Pct(u, l) => Q {
                text: format!("(100 * {u} / {l})"),
                shape: Shape::Node,
                selector: false,
            },
            Source::Start(_) => {
                return Err(format!(
                    "`{m}` is only expressible as change({m}, D) (server start time changes)"
                ));
            }
        };
        Ok((q, src))
    }

    fn note(&mut self, n: &str) {
        if !self.notes.iter().any(|x| x == n) {
            self.notes.push(n.to_string());
        }
    }

    fn mx(&mut self, e: &MX) -> Result<Q, String> {
        Ok(match e {
            MX::Num(n) => Q {
                text: num(*n),
                shape: Shape::Scalar,
                selector: false,
            },
            MX::Metric(m) => self.metric(m)?.0,
            MX::Peers(m, agg) => {
                if *agg != PeerAgg::Median {
                    return Err(
                        "peers_max()/peers_min() exclude the node itself; a PromQL max/min over the cluster includes it, which changes the meaning"
                            .into(),
                    );
                }
                let (q, src) = self.metric(m)?;
                let cl = self.cluster_label(&src);
                self.note("peers(m) is the median over the cluster including the node itself (coroner: the other nodes)");
                Q {
                    text: format!("quantile by ({cl}) (0.5, {})", q.text),
                    shape: Shape::Cluster(cl),
                    selector: false,
                }
            }
            MX::Win(f, m, d) => {
                let dur = duration(*d);
                if *f == WinFn::Change && &**m == "restarts" {
                    let Source::Start(s) = source(m, self.o.exporter)? else {
                        return Err("restarts has no start-time series".into());
                    };
                    return Ok(Q {
                        text: format!("changes({s}[{dur}])"),
                        shape: Shape::Node,
                        selector: false,
                    });
                }
                let (q, _) = self.metric(m)?;
                let range = if q.selector {
                    format!("{}[{dur}]", q.text)
                } else {
                    format!("({})[{dur}:]", q.text)
                };
                let text = match f {
                    WinFn::Avg => format!("avg_over_time({range})"),
                    WinFn::Max => format!("max_over_time({range})"),
                    WinFn::Min => format!("min_over_time({range})"),
                    WinFn::Baseline => {
                        self.note("baseline(m, D) is the median of the trailing window including the current sample");
                        format!("quantile_over_time(0.5, {range})")
                    }
                    WinFn::Change => format!("({} - {} offset {dur})", q.text, q.text),
                    WinFn::Rate => format!(
                        "(({} - {} offset {dur}) / {})",
                        q.text,
                        q.text,
                        num(*d as f64 / 1e9)
                    ),
                };
                Q {
                    text,
                    shape: Shape::Node,
                    selector: false,
                }
            }
            MX::Bin(a, op, b) => {
                let a = self.mx(a)?;
                let b = self.mx(b)?;
                let (m, shape) = matching(&a.shape, &b.shape)?;
                Q {
                    text: format!("({} {op} {m}{})", a.text, b.text),
                    shape,
                    selector: false,
                }
            }
        })
    }

    fn mc(&mut self, c: &MC) -> Result<Q, String> {
        Ok(match c {
            MC::Cmp(a, op, b) => {
                let a = self.mx(a)?;
                let b = self.mx(b)?;
                if a.shape == Shape::Scalar && b.shape == Shape::Scalar {
                    return Err("a comparison of two numbers".into());
                }
                let (m, shape) = matching(&a.shape, &b.shape)?;
                if !matches!(shape, Shape::Node) {
                    return Err(
                        "a condition on the cluster's aggregate only, not on a server".into(),
                    );
                }
                Q {
                    text: format!("{} {} {m}{}", a.text, cmp(*op), b.text),
                    shape,
                    selector: false,
                }
            }
            MC::And(a, b) | MC::Or(a, b) => {
                let x = self.mc(a)?;
                let y = self.mc(b)?;
                let op = if matches!(c, MC::And(..)) {
                    "and"
                } else {
                    "or"
                };
                Q {
                    text: format!("({}) {op} on({}) ({})", x.text, self.o.node_label(), y.text),
                    shape: Shape::Node,
                    selector: false,
                }
            }
        })
    }
}

/// Vector matching for a binary operation, and the result's shape.
fn matching(a: &Shape, b: &Shape) -> Result<(String, Shape), String> {
    Ok(match (a, b) {
        (Shape::Scalar, s) | (s, Shape::Scalar) => (String::new(), s.clone()),
        // Same server, same label set: default one-to-one matching keeps all labels.
        (Shape::Node, Shape::Node) => (String::new(), Shape::Node),
        (Shape::Node, Shape::Cluster(l)) => (format!("on({l}) group_left() "), Shape::Node),
        (Shape::Cluster(l), Shape::Node) => (format!("on({l}) group_right() "), Shape::Node),
        (Shape::Cluster(l), Shape::Cluster(m)) if l == m => {
            (format!("on({l}) "), Shape::Cluster(l.clone()))
        }
        _ => return Err("aggregates over different cluster labels".into()),
    })
}

fn cmp(op: CmpOp) -> &'static str {
    match op {
        CmpOp::Eq => "==",
        CmpOp::Ne => "!=",
        CmpOp::Lt => "<",
        CmpOp::Le => "<=",
        CmpOp::Gt => ">",
        CmpOp::Ge => ">=",
    }
}

/// A PromQL number literal (no exponent surprises, no trailing `.0`).
fn num(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

/// One rule as a Prometheus alert, or why not.
pub fn rule(r: &Rule, o: &PromOptions) -> Result<Alert, String> {
    let mc = match &r.detect {
        Detect::Metric(mc) => mc,
        Detect::Event { .. } | Detect::Window { .. } | Detect::NotFollowed { .. } => {
            return Err("a condition on log messages (see --format loki)".into());
        }
        Detect::Sequence { .. } => {
            return Err(
                "an ordered sequence of steps per node; PromQL has no order between conditions"
                    .into(),
            );
        }
        Detect::Silence { .. } => {
            return Err(
                "silence in the logs: a log condition (alert on the log pipeline instead)".into(),
            );
        }
        Detect::Gap { .. } => {
            return Err(
                "a gap in the collector's scrapes: alert on the exporter's target `up == 0` or on \
                 `gnatsd_healthz_status_value{value=\"unreachable\"}` instead"
                    .into(),
            );
        }
        Detect::Cascade { .. } => {
            return Err("a cascade of other rules' findings across nodes".into());
        }
    };
    let mut cx = Cx {
        o,
        notes: Vec::new(),
    };
    let q = cx.mc(&mc.cond)?;
    let (labels, annotations) = common(r, o.node_label());
    let mut notes = vec![format!("coroner: `{}`", mc.text)];
    notes.extend(cx.notes);
    Ok(Alert {
        alert: super::alert_name(&r.id),
        expr: q.text,
        for_: mc.for_.map(duration),
        labels,
        annotations,
        notes,
    })
}

/// Every rule of the set, in pack order.
pub fn export(set: &RuleSet, o: &PromOptions) -> Vec<Exported> {
    set.rules()
        .iter()
        .map(|r| Exported {
            rule: r.id.to_string(),
            pack: r.pack.to_string(),
            result: rule(r, o),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(e: Exporter) -> PromOptions {
        PromOptions {
            exporter: e,
            cluster_label: None,
        }
    }

    #[test]
    fn builtin_metric_rules_translate_or_say_why() {
        let set = RuleSet::builtin();
        let ex = export(&set, &opts(Exporter::NatsExporter));
        let get = |id: &str| ex.iter().find(|e| e.rule == id).unwrap();
        let a = get("nats-jetstream.api-pending-metric").result.as_ref();
        let a = a.unwrap();
        assert_eq!(a.expr, "gnatsd_varz_jetstream_meta_pending > 1000");
        assert_eq!(a.for_.as_deref(), Some("10s"));
        assert!(
            get("resources.cpu-throttled")
                .result
                .as_ref()
                .unwrap_err()
                .contains("cAdvisor")
        );
        assert!(get("resources.scrape-gap").result.is_err());
        let s = export(&set, &opts(Exporter::Surveyor));
        let a = s
            .iter()
            .find(|e| e.rule == "nats-jetstream.api-pending-metric")
            .unwrap();
        assert_eq!(
            a.result.as_ref().unwrap().expr,
            "nats_core_jetstream_api_pending > 1000"
        );
    }
}
