//! Message templates: compile a pattern, then classify a message with it.
#![no_main]

use coroner::classify::{Classifier, Template};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // pattern \n message
    let (pattern, msg) = text.split_once('\n').unwrap_or((&text, "x"));
    if let Ok(t) = Template::new("fuzz_kind", pattern) {
        let c = Classifier::new(vec![t]);
        let _ = c.classify(msg);
        let _ = c.classify(pattern);
    }
});
