//! Rule packs are data: nothing in a pack runs; regexes are Rust regexes
//! (linear time) within size limits; oversized packs, pathological patterns
//! and huge repetition counts are rejected with a diagnostic, quickly.

use coroner::classify::Template;
use coroner::lang::{BUILTIN_PACKS, Diagnostic, MAX_PACK_BYTES, MAX_RULES_PER_PACK, RuleSet};

fn load(pack: &str) -> (RuleSet, Vec<Diagnostic>) {
    let mut sources: Vec<(String, String)> = BUILTIN_PACKS
        .iter()
        .map(|(f, t)| (f.to_string(), t.to_string()))
        .collect();
    sources.push(("hostile.rules".to_string(), pack.to_string()));
    RuleSet::from_sources(&sources)
}

fn rule_with(cond: &str) -> String {
    format!(
        "pack hostile \"hostile\"\n\nrule hostile.r {{\n  title \"t\"\n  severity high\n  category slow-consumer\n  when event slow_consumer_max_pending where {cond}\n}}\n"
    )
}

fn assert_rejected(pack: &str, code: &str, words: &str) {
    let (set, diags) = load(pack);
    let d = diags
        .iter()
        .find(|d| d.code == code && d.file.as_ref() == "hostile.rules")
        .unwrap_or_else(|| {
            let all: Vec<String> = diags.iter().map(|d| d.to_string()).collect();
            panic!("no {code}: {}", all.join("\n"))
        });
    assert!(d.is_error(), "{d}");
    assert!(d.message.contains(words), "{d}");
    assert!(d.line > 0);
    assert!(set.rule("hostile.r").is_none());
}

#[test]
fn pathological_regexes_are_rejected_with_a_diagnostic() {
    // Compiles to far more than the size limit.
    assert_rejected(
        &rule_with(r"client ~ /(\w{100}){100}(\w{100}){100}/"),
        "E0009",
        "too complex",
    );
    // Repetition counts beyond what the regex engine accepts.
    assert_rejected(&rule_with(r"client ~ /a{4294967295}/"), "E0009", "regex");
    assert_rejected(&rule_with(r"client ~ /(a{1000}){1000}/"), "E0009", "regex");
    // Backtracking-only features do not exist in a linear-time engine.
    assert_rejected(&rule_with(r"client ~ /(a+)\1/"), "E0009", "invalid regex");
    assert_rejected(&rule_with(r"client ~ /(?=a)a/"), "E0009", "invalid regex");
    // Length limit.
    let long = format!("client ~ /{}/", "a".repeat(2000));
    assert_rejected(&rule_with(&long), "E0009", "longer than");
}

#[test]
fn classic_redos_patterns_run_in_linear_time() {
    // `(a+)+$` is accepted: the engine has no backtracking, so a hostile
    // message cannot make it slow.
    let (set, diags) = load(&rule_with(r"client ~ /^(a+)+$/"));
    assert!(
        !diags
            .iter()
            .any(|d| d.file.as_ref() == "hostile.rules" && d.is_error()),
        "{diags:?}"
    );
    assert!(set.rule("hostile.r").is_some());
    let re = regex::Regex::new(r"^(a+)+$").unwrap();
    let hay = format!("{}!", "a".repeat(100_000));
    // The regex crate matches in linear time: this returns (a backtracking
    // engine would not, and the test would hang).
    assert!(!re.is_match(&hay));
}

#[test]
fn pack_size_limits() {
    let big = format!("# {}\n", "x".repeat(MAX_PACK_BYTES));
    let (_, diags) = load(&big);
    let d = diags
        .iter()
        .find(|d| d.code == "E0017" && d.file.as_ref() == "hostile.rules")
        .expect("size diagnostic");
    assert!(d.message.contains("limit"), "{d}");

    let mut many = String::from("pack many \"many\"\n");
    for i in 0..=MAX_RULES_PER_PACK {
        many.push_str(&format!(
            "rule many.r{i} {{\n  title \"t\"\n  severity low\n  category slow-consumer\n  when event slow_consumer_max_pending\n}}\n"
        ));
    }
    let (set, diags) = load(&many);
    assert!(
        diags
            .iter()
            .any(|d| d.code == "E0017" && d.message.contains("rules")),
        "{diags:?}"
    );
    let kept = set
        .rules()
        .iter()
        .filter(|r| r.id.starts_with("many."))
        .count();
    assert_eq!(kept, MAX_RULES_PER_PACK);
}

#[test]
fn huge_templates_are_rejected_not_compiled_forever() {
    // Many captures: the regex would exceed the template size limit, and
    // the template is refused before any regex is compiled (how long that
    // takes is measured by benches, not asserted here).
    let mut p = String::new();
    for i in 0..20_000 {
        p.push_str(&format!("x{{c{i}:float}}"));
    }
    let e = Template::new("k", &p).unwrap_err();
    assert!(e.message.contains("too complex"), "{e}");
    // Malformed patterns are errors with an offset.
    for bad in ["{", "}", "{a:nope}", "{1a}", "{a}{b}", "{a} {a}"] {
        assert!(Template::new("k", bad).is_err(), "{bad}");
    }
}

#[test]
fn packs_cannot_name_files_or_commands() {
    // A pack is text: there is no include, exec or file syntax. Words that
    // look like it are syntax errors, not actions.
    for evil in [
        "include \"/etc/passwd\"\n",
        "exec \"rm -rf /\"\n",
        "rule x.y {\n  title \"t\"\n  severity high\n  category slow-consumer\n  when $(touch /tmp/coroner-pwned)\n}\n",
    ] {
        let (_, diags) = load(evil);
        assert!(
            diags
                .iter()
                .any(|d| d.file.as_ref() == "hostile.rules" && d.is_error()),
            "{evil}: {diags:?}"
        );
    }
    assert!(!std::path::Path::new("/tmp/coroner-pwned").exists());
}
