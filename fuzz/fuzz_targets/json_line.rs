//! JSON structured-log lines.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let line = String::from_utf8_lossy(data);
    if let Some(r) = coroner::parse::log::json::parse_json_line(&line) {
        if let Some(ts) = r.ts {
            let _ = ts.rfc3339();
        }
    }
});
