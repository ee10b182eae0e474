//! truth.json (what the model did) and verdict.json (what a correct diagnosis
//! says, in the shape of the real captures' verdict files).

use crate::clock::{TsFmt, TsStyle};
use crate::sim::Sim;
use anyhow::Result;
use serde_json::json;

pub fn write(sim: &Sim) -> Result<()> {
    let mut ts = TsFmt::new(TsStyle::Rfc3339Millis);
    let failing = sim
        .root_cause
        .as_ref()
        .map(|_| sim.names[sim.p.fail_node].clone());
    let truth = json!({
        "scenario": sim.scenario,
        "seed": sim.seed,
        "failing_node": failing,
        "root_cause": sim.root_cause,
        "fault_injected_at": sim.fault_time.map(|t| ts.string(t)),
        "nats_server_version": sim.p.version.to_string(),
        "nodes": sim.p.nodes,
        "start": ts.string(sim.p.start),
        "end": ts.string(sim.end),
        "chain": sim.chain,
    });
    let verdict = json!({
        "failing_node": failing,
        "causes": sim.causes,
        "quiet": sim.root_cause.is_none(),
        "split": "broker",
    });
    let out = &sim.opts.out;
    std::fs::write(
        out.join("truth.json"),
        serde_json::to_string_pretty(&truth)? + "\n",
    )?;
    std::fs::write(
        out.join("verdict.json"),
        serde_json::to_string_pretty(&verdict)? + "\n",
    )?;
    Ok(())
}
