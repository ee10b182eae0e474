//! Tests that run real nats-server clusters on 127.0.0.1 (collect from a live
//! cluster, each release's lab smoke). A binary of their own: cargo runs test
//! binaries one after another, so these never share the CPU with the
//! CPU-bound tests of `tests.rs`. On a 2-core machine a starved cluster logs
//! real overload (slow handlers, stalled read loops) that the analysis
//! rightly reports, and the verdict the test expects would no longer be the
//! truth. Within this binary the clusters take turns (`common::cluster_turn`).

mod collect;
mod common;
mod releases;
