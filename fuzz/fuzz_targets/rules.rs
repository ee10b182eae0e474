//! Rule packs: parse, check, compile; then read each rule's examples (the
//! `repeat`/`samples` expansions) without running the engine.
#![no_main]

use coroner::lang::RuleSet;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (set, diags) = RuleSet::from_sources(&[("fuzz.rules".to_string(), text.to_string())]);
    for d in diags.iter().take(8) {
        let _ = d.to_string();
    }
    for rule in set.rules() {
        for ex in &rule.examples {
            let _ = coroner::engine::examples::parse_example(ex, &rule.file, &set);
        }
        let _ = coroner::lang::explain::describe(&rule.detect);
    }
});
