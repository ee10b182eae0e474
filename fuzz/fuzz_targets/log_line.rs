//! One log line through every line format (nats header, wrappers, JSON,
//! Windows, Go runtime), in UTC, a DST zone and a fixed offset, plus the
//! connection and RAFT prefix parsers on the message.
#![no_main]

use coroner::parse::log::{LogOptions, Zone, nats, parse_line};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn zones() -> &'static [LogOptions; 3] {
    static Z: OnceLock<[LogOptions; 3]> = OnceLock::new();
    Z.get_or_init(|| {
        let with = |z: &str| LogOptions {
            zone: Zone::parse(z).expect("zone"),
            ..LogOptions::default()
        };
        [with("UTC"), with("Europe/Paris"), with("-05:30")]
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let line = String::from_utf8_lossy(rest);
    let opts = &zones()[sel as usize % 3];
    if let Some(rec) = parse_line(&line, opts) {
        let _ = nats::parse_conn_prefix(&rec.msg);
        let _ = nats::parse_raft_prefix(&rec.msg);
        if let Some(ts) = rec.ts {
            let _ = ts.rfc3339();
        }
    }
    let _ = nats::strip_ansi(&line);
    let _ = coroner::classify::normalize(&line);
});
