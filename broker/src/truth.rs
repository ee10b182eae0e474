//! What the model did, for truth.json (scenario, seed, the fault and the
//! causal chain recorded as the mechanisms fire) and verdict.json (what a
//! correct diagnosis says, in the shape of the real captures' verdict files).

use crate::clock::{Micros, TsFmt, TsStyle};
use crate::scenario::{Params, Scenario};
use anyhow::Result;
use serde_json::json;
use std::collections::BTreeSet;
use std::path::Path;

#[derive(Clone, Debug, serde::Serialize)]
pub struct ChainEntry {
    pub at: String,
    pub node: Option<String>,
    pub what: String,
}

pub struct Truth {
    scenario: String,
    root_cause: Option<String>,
    causes: Vec<String>,
    seed: u64,
    fault_time: Option<Micros>,
    chain: Vec<ChainEntry>,
    /// Keys of the steps recorded so far (each is recorded once).
    keys: BTreeSet<String>,
}

impl Truth {
    pub fn new(sc: &Scenario, seed: u64) -> Truth {
        Truth {
            scenario: sc.name.clone(),
            root_cause: sc.root_cause.clone(),
            causes: sc.causes.clone(),
            seed,
            fault_time: None,
            chain: Vec::new(),
            keys: BTreeSet::new(),
        }
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// When the fault was injected, once it was.
    pub fn fault_time(&self) -> Option<Micros> {
        self.fault_time
    }

    pub fn fault_injected(&mut self, t: Micros) {
        self.fault_time = Some(t);
    }

    /// Records a step of the causal chain once per key.
    pub fn record(&mut self, t: Micros, node: Option<&str>, key: &str, what: String) {
        if self.keys.insert(key.to_string()) {
            let at = TsFmt::new(TsStyle::Rfc3339Millis).string(t);
            self.chain.push(ChainEntry {
                at,
                node: node.map(str::to_string),
                what,
            });
        }
    }

    pub fn chain(&self) -> &[ChainEntry] {
        &self.chain
    }

    /// Writes truth.json and verdict.json into `out`.
    pub fn write(&self, out: &Path, names: &[String], p: &Params, end: Micros) -> Result<()> {
        let mut ts = TsFmt::new(TsStyle::Rfc3339Millis);
        let failing = self.root_cause.as_ref().map(|_| names[p.fail_node].clone());
        let truth = json!({
            "scenario": self.scenario,
            "seed": self.seed,
            "failing_node": failing,
            "root_cause": self.root_cause,
            "fault_injected_at": self.fault_time.map(|t| ts.string(t)),
            "nats_server_version": p.version.to_string(),
            "nodes": p.nodes,
            "start": ts.string(p.start),
            "end": ts.string(end),
            "chain": self.chain,
        });
        let verdict = json!({
            "failing_node": failing,
            "causes": self.causes,
            "quiet": self.root_cause.is_none(),
            "split": "broker",
        });
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
}
