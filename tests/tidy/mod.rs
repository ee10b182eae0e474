//! The architecture README.md promises, checked on the source text (the way
//! rust-analyzer's tidy tests hold theirs): which module may use which crate,
//! no printing or exiting from the library, the broker independent of
//! coroner, every `src/` module in the README's code map.

use crate::common;
use std::path::{Path, PathBuf};

/// (crate path prefix, the only places that may name it, why).
const CRATE_HOMES: &[(&str, &[&str], &str)] = &[
    ("polars", &["src/metrics/"], "polars only in metrics"),
    (
        "plotters",
        &["src/render/chart/"],
        "plotters only in the chart renderer",
    ),
    (
        "ab_glyph",
        &["src/render/chart/"],
        "fonts only in the chart renderer",
    ),
    (
        "png::",
        &["src/render/chart/"],
        "PNG encoding only in the chart renderer",
    ),
    ("clap", &["src/bin/"], "clap only in the binary"),
    (
        "indicatif",
        &["src/bin/"],
        "terminal progress only in the binary",
    ),
    (
        "IsTerminal",
        &["src/bin/"],
        "terminal detection only in the binary",
    ),
    ("nom::", &["src/lang/"], "the rule grammar only in lang"),
    ("ureq", &["src/collect/"], "HTTP only in collect"),
    ("rustls", &["src/collect/"], "TLS only in collect"),
    ("ctrlc", &["src/bin/"], "signal handling only in the binary"),
    (
        "anyhow",
        &["src/bin/"],
        "library errors are typed (thiserror); anyhow only in the binary",
    ),
    ("zip::", &["src/source/"], "archives only in source"),
    (
        "tar::",
        &["src/source/", "src/collect/"],
        "archives read in source, the bundle packed in collect",
    ),
    (
        "flate2",
        &["src/source/", "src/collect/"],
        "gzip read in source, the bundle packed in collect",
    ),
    ("zstd", &["src/source/"], "decompression only in source"),
    ("bzip2", &["src/source/"], "decompression only in source"),
    ("liblzma", &["src/source/"], "decompression only in source"),
    (
        "csv::",
        &["src/parse/metric/", "src/metrics/"],
        "CSV only where dumps are read (parse::metric) and series exported (metrics)",
    ),
];

/// Macros and calls the library never makes: it returns data, the binary talks.
const LIBRARY_NEVER: &[(&str, &str)] = &[
    ("println!", "printing"),
    ("eprintln!", "printing"),
    ("print!(", "printing"),
    ("eprint!(", "printing"),
    ("dbg!(", "debug printing"),
    ("std::io::stdout()", "writing to stdout"),
    ("std::io::stderr()", "writing to stderr"),
    ("process::exit", "exiting"),
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// (repo-relative path, code with comments and `#[cfg(test)]` modules removed).
fn sources(under: &str) -> Vec<(String, String)> {
    let root = common::root();
    let mut files = Vec::new();
    rust_files(&root.join(under), &mut files);
    files
        .into_iter()
        .map(|p| {
            let rel = p
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            (rel, code_only(&std::fs::read_to_string(&p).unwrap()))
        })
        .collect()
}

/// Drops line comments (doc comments included) and everything from a
/// `#[cfg(test)]` line on (test modules sit at the end of our files).
fn code_only(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        if line.trim_start().starts_with("#[cfg(test)]") {
            break;
        }
        let code = match line.find("//") {
            Some(i) if !line[..i].contains('"') => &line[..i],
            _ => line,
        };
        out.push_str(code);
        out.push('\n');
    }
    out
}

/// Violations of the crate homes in `files`.
fn crate_violations(files: &[(String, String)]) -> Vec<String> {
    let mut bad = Vec::new();
    for (path, code) in files {
        for (name, homes, why) in CRATE_HOMES {
            if homes.iter().any(|h| path.starts_with(h)) {
                continue;
            }
            for (i, line) in code.lines().enumerate() {
                let uses = line.contains(&format!("use {name}"))
                    || line.contains(&format!("{name}::"))
                    || line.contains(&format!("::{name}"))
                    || (name.ends_with("::") && line.contains(name));
                if uses {
                    bad.push(format!("{path}:{}: names `{name}`: {why}", i + 1));
                }
            }
        }
    }
    bad
}

fn printing_violations(files: &[(String, String)]) -> Vec<String> {
    let mut bad = Vec::new();
    for (path, code) in files {
        if path.starts_with("src/bin/") {
            continue;
        }
        for (i, line) in code.lines().enumerate() {
            for (needle, what) in LIBRARY_NEVER {
                if line.contains(needle) {
                    bad.push(format!(
                        "{path}:{}: {what} (`{needle}`) from the library: return it to the caller",
                        i + 1
                    ));
                }
            }
        }
    }
    bad
}

#[test]
fn each_crate_is_used_only_where_the_readme_says() {
    let bad = crate_violations(&sources("src"));
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn the_library_never_prints_or_exits() {
    let bad = printing_violations(&sources("src"));
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn the_checks_catch_what_they_are_for() {
    // The checks themselves, on code that breaks each invariant once.
    let files = vec![
        (
            "src/engine/mod.rs".to_string(),
            code_only("use polars::prelude::*;\nfn f() { println!(\"x\"); }\n"),
        ),
        (
            "src/bin/coroner/main.rs".to_string(),
            code_only("use clap::Parser;\nfn main() { println!(\"ok\"); }\n"),
        ),
        (
            "src/render/text.rs".to_string(),
            code_only(
                "// plotters:: in a comment is fine\nfn g() {}\n#[cfg(test)]\nmod t { fn h() { dbg!(1); } }\n",
            ),
        ),
    ];
    let crates = crate_violations(&files);
    assert_eq!(crates.len(), 1, "{crates:?}");
    assert!(crates[0].starts_with("src/engine/mod.rs:1: names `polars`"));
    let prints = printing_violations(&files);
    assert_eq!(prints.len(), 1, "{prints:?}");
    assert!(prints[0].starts_with("src/engine/mod.rs:2: printing"));
}

#[test]
fn the_broker_is_independent_of_coroner() {
    let manifest = std::fs::read_to_string(common::root().join("broker/Cargo.toml")).unwrap();
    let deps = manifest
        .split("[dependencies]")
        .nth(1)
        .unwrap_or_default()
        .to_string();
    assert!(
        !deps.lines().any(|l| l.trim_start().starts_with("coroner")),
        "broker/Cargo.toml depends on coroner: the broker meets the analyzer only through the files it writes"
    );
    for (path, code) in sources("broker") {
        assert!(
            !code.contains("coroner::") && !code.contains("use coroner"),
            "{path} uses coroner"
        );
    }
}

#[test]
fn every_module_is_in_the_readme_code_map() {
    let readme = std::fs::read_to_string(common::root().join("README.md")).unwrap();
    let arch = readme
        .split("## Architecture")
        .nth(1)
        .expect("README.md has an Architecture section");
    let mut dirs: Vec<String> = std::fs::read_dir(common::root().join("src"))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    dirs.sort();
    for d in dirs {
        assert!(
            arch.contains(&format!("`src/{d}/")),
            "src/{d}/ is not in README.md's code map"
        );
    }
}
