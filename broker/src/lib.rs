//! broker: a deterministic discrete-event model of a NATS cluster that writes
//! nats-server logs, monitoring dumps and ground truth, and reproduces incidents
//! on demand. It shares no code with the coroner analyzer; they meet in files.
//!
//! Pipeline: scenario (TOML + `--set`) → [`sim::Sim`] (virtual clock, event
//! queue, per-node CPU budget) → per-node logs, metrics, truth.json.

mod banner;
pub mod clock;
pub mod cluster;
pub mod groups;
pub mod logger;
pub mod model;
pub mod monitor;
pub mod net;
pub mod queue;
pub mod rng;
mod routes;
pub mod scenario;
pub mod sim;
pub mod truth;
pub mod version;
pub mod workload;

use anyhow::Result;

/// Runs a scenario to completion and writes its output directory.
pub fn run(sc: &scenario::Scenario, seed: u64, opts: sim::RunOptions) -> Result<sim::RunStats> {
    let s = sim::Sim::new(sc, seed, opts)?;
    let (stats, _) = s.run()?;
    Ok(stats)
}
