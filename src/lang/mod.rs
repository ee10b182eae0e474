//! The rule language: syntax (nom) → [`ast`] → [`check`] → [`ir`]. Nothing
//! runs here; the [`engine`](crate::engine) evaluates the IR.
//!
//! Architecture invariant: this module knows no events, no metric values and
//! no clock. It turns pack text into checked rules and message templates, or
//! into [`Diagnostic`]s that point at file:line:column.

pub mod ast;
pub mod check;
pub mod diag;
pub mod explain;
pub mod ir;
pub mod syntax;

pub use check::TemplateInfo;
pub use diag::{DiagSeverity, Diagnostic};

use crate::classify::Classifier;
use diag::SourceMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Largest pack file accepted (bytes).
pub const MAX_PACK_BYTES: usize = 2 * 1024 * 1024;
/// Most rules accepted in one pack.
pub const MAX_RULES_PER_PACK: usize = 2000;

/// The packs compiled into the binary, in load order (templates first).
pub const BUILTIN_PACKS: &[(&str, &str)] = &[
    (
        "rules/nats-messages.rules",
        include_str!("../../rules/nats-messages.rules"),
    ),
    (
        "rules/nats-snapshots.rules",
        include_str!("../../rules/nats-snapshots.rules"),
    ),
    (
        "rules/nats-excerpts.rules",
        include_str!("../../rules/nats-excerpts.rules"),
    ),
    (
        "rules/nats-jetstream.rules",
        include_str!("../../rules/nats-jetstream.rules"),
    ),
    (
        "rules/nats-mqtt.rules",
        include_str!("../../rules/nats-mqtt.rules"),
    ),
    (
        "rules/nats-cluster.rules",
        include_str!("../../rules/nats-cluster.rules"),
    ),
    (
        "rules/nats-core.rules",
        include_str!("../../rules/nats-core.rules"),
    ),
    (
        "rules/resources.rules",
        include_str!("../../rules/resources.rules"),
    ),
    (
        "rules/nats-defects.rules",
        include_str!("../../rules/nats-defects.rules"),
    ),
];

/// A loaded pack.
#[derive(Clone, Debug)]
pub struct PackInfo {
    pub name: Arc<str>,
    pub file: Arc<str>,
    pub description: Option<String>,
    pub templates: usize,
    pub rules: usize,
}

/// Every template and rule of a set of packs, checked and compiled.
#[derive(Clone, Debug)]
pub struct RuleSet {
    packs: Vec<PackInfo>,
    templates: Vec<TemplateInfo>,
    rules: Vec<ir::Rule>,
    classifier: Classifier,
}

impl RuleSet {
    /// The built-in packs. They are tested to load without errors.
    pub fn builtin() -> RuleSet {
        let (set, _) = RuleSet::from_sources(&builtin_sources());
        set
    }

    /// The built-in packs extended by the packs found at `paths` (files, or
    /// directories searched for `*.rules`). A pack with the same name as a
    /// built-in one replaces it; a rule id defined again replaces the earlier rule.
    pub fn load(paths: &[PathBuf]) -> (RuleSet, Vec<Diagnostic>) {
        let (user, mut diags) = read_sources(paths);
        let mut sources = builtin_sources();
        for (file, text) in user {
            let name = pack_name(&file, &text);
            sources.retain(|(f, t)| pack_name(f, t) != name);
            sources.push((file, text));
        }
        let (set, d) = RuleSet::from_sources(&sources);
        diags.extend(d);
        (set, diags)
    }

    /// Only the packs found at `paths` (no built-in packs).
    pub fn load_only(paths: &[PathBuf]) -> (RuleSet, Vec<Diagnostic>) {
        let (sources, mut diags) = read_sources(paths);
        let (set, d) = RuleSet::from_sources(&sources);
        diags.extend(d);
        (set, diags)
    }

    /// Compiles packs given as (file name, text), in order.
    pub fn from_sources(sources: &[(String, String)]) -> (RuleSet, Vec<Diagnostic>) {
        let mut diags = Vec::new();
        let mut parsed = Vec::new();
        for (file, text) in sources {
            let file: Arc<str> = file.as_str().into();
            let map = SourceMap::new(file.clone(), text);
            if text.len() > MAX_PACK_BYTES {
                diags.push(map.diag(
                    "E0017",
                    0,
                    1,
                    format!(
                        "pack is {} bytes; the limit is {MAX_PACK_BYTES}",
                        text.len()
                    ),
                    None,
                ));
                continue;
            }
            let (mut ast, issues) = syntax::parse_pack(text);
            for i in issues {
                diags.push(map.diag(i.code, i.start, i.end, i.msg, i.hint));
            }
            if ast.rules.len() > MAX_RULES_PER_PACK {
                diags.push(map.diag(
                    "E0017",
                    0,
                    1,
                    format!(
                        "pack has {} rules; the limit is {MAX_RULES_PER_PACK}",
                        ast.rules.len()
                    ),
                    None,
                ));
                ast.rules.truncate(MAX_RULES_PER_PACK);
            }
            let name: Arc<str> = ast
                .name
                .as_ref()
                .map(|n| n.v.clone())
                .unwrap_or_else(|| file_stem(&file))
                .into();
            parsed.push(check::ParsedPack { name, map, ast });
        }
        let (templates, rules) = check::check(&parsed, &mut diags);
        let packs = parsed
            .iter()
            .map(|p| PackInfo {
                name: p.name.clone(),
                file: p.map.file.clone(),
                description: p.ast.description.clone(),
                templates: templates.iter().filter(|t| t.file == p.map.file).count(),
                rules: rules.iter().filter(|r| r.file == p.map.file).count(),
            })
            .collect();
        let classifier = Classifier::new(templates.iter().map(|t| t.compiled.clone()).collect());
        diags.sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
        (
            RuleSet {
                packs,
                templates,
                rules,
                classifier,
            },
            diags,
        )
    }

    /// A classifier over all templates of all packs, in declaration order.
    pub fn classifier(&self) -> Classifier {
        self.classifier.clone()
    }

    /// The shared classifier, without cloning.
    pub fn classifier_ref(&self) -> &Classifier {
        &self.classifier
    }

    pub fn rules(&self) -> &[ir::Rule] {
        &self.rules
    }

    pub fn rule(&self, id: &str) -> Option<&ir::Rule> {
        self.rules.iter().find(|r| &*r.id == id)
    }

    pub fn templates(&self) -> &[TemplateInfo] {
        &self.templates
    }

    pub fn packs(&self) -> &[PackInfo] {
        &self.packs
    }

    /// Keeps only the rules for which `keep` is true (templates stay).
    pub fn retain_rules(&mut self, keep: impl FnMut(&ir::Rule) -> bool) {
        self.rules.retain(keep);
    }
}

/// The built-in packs as (file name, text), in load order.
pub fn builtin_sources() -> Vec<(String, String)> {
    BUILTIN_PACKS
        .iter()
        .map(|(f, t)| (f.to_string(), t.to_string()))
        .collect()
}

fn file_stem(file: &str) -> String {
    Path::new(file)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| file.to_string())
}

/// The `pack` name declared in `text`, or the file stem.
fn pack_name(file: &str, text: &str) -> String {
    for line in text.lines() {
        let t = line.trim();
        if let Some(rest) = t.strip_prefix("pack ")
            && let Some(n) = rest.split_whitespace().next()
        {
            {
                return n.to_string();
            }
        }
        if t.starts_with("rule ") || t.starts_with("template ") {
            break;
        }
    }
    file_stem(file)
}

/// Reads pack files; directories are searched (not recursively) for `*.rules`, sorted by name.
fn read_sources(paths: &[PathBuf]) -> (Vec<(String, String)>, Vec<Diagnostic>) {
    let mut out = Vec::new();
    let mut diags = Vec::new();
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            match std::fs::read_dir(p) {
                Ok(rd) => {
                    let mut v: Vec<PathBuf> = rd
                        .filter_map(|e| e.ok().map(|e| e.path()))
                        .filter(|f| f.extension().is_some_and(|e| e == "rules"))
                        .collect();
                    v.sort();
                    files.extend(v);
                }
                Err(e) => diags.push(io_diag(p, &e.to_string())),
            }
        } else {
            files.push(p.clone());
        }
    }
    for f in files {
        match std::fs::metadata(&f) {
            Ok(m) if m.len() as usize > MAX_PACK_BYTES => {
                diags.push(io_diag(
                    &f,
                    &format!("pack is {} bytes; the limit is {MAX_PACK_BYTES}", m.len()),
                ));
                continue;
            }
            Err(e) => {
                diags.push(io_diag(&f, &e.to_string()));
                continue;
            }
            _ => {}
        }
        match std::fs::read_to_string(&f) {
            Ok(t) => out.push((f.display().to_string(), t)),
            Err(e) => diags.push(io_diag(&f, &e.to_string())),
        }
    }
    (out, diags)
}

fn io_diag(p: &Path, msg: &str) -> Diagnostic {
    let map = SourceMap::new(p.display().to_string().into(), "");
    let mut d = map.diag(
        "E0021",
        0,
        0,
        format!("cannot read {}: {msg}", p.display()),
        None,
    );
    d.code = "E0021";
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_packs_load_without_diagnostics() {
        let (set, diags) = RuleSet::from_sources(&builtin_sources());
        let text: Vec<String> = diags.iter().map(|d| d.to_string()).collect();
        assert!(diags.is_empty(), "{}", text.join("\n\n"));
        assert!(set.rules().len() >= 40, "{} rules", set.rules().len());
        assert!(set.templates().len() >= 60);
    }
}
