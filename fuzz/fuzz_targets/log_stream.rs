//! A whole log file through `parse_stream` with a small line limit: no panic,
//! and the accounting always balances.
#![no_main]

use coroner::parse::log::{LogOptions, Record, Sink, parse_stream};
use libfuzzer_sys::fuzz_target;

struct Count(u64, u64);

impl Sink for Count {
    fn record(&mut self, _rec: Record<'_>, _line: u64) {
        self.0 += 1;
    }
    fn continuation(&mut self, _line: u64, _text: &str) {
        self.1 += 1;
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let opts = LogOptions {
        max_line: 1 + (sel as usize % 64) * 16,
        ..LogOptions::default()
    };
    // A tiny buffer exercises the line reader's refill paths (CR at a boundary).
    let mut r = std::io::BufReader::with_capacity(1 + (sel as usize % 7), rest);
    let mut c = Count(0, 0);
    let acc = parse_stream(&mut r, &opts, &mut c);
    assert!(acc.balanced(), "{acc:?}");
    assert_eq!(acc.parsed, c.0);
    assert_eq!(acc.continuation, c.1);
    assert_eq!(acc.bytes, rest.len() as u64);
});
