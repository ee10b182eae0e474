//! Diagnostics: stable codes, file:line:column, the source line and a caret,
//! and a did-you-mean hint.
//!
//! Codes are never reused: a retired code stays in [`CODES`] with its meaning.

use std::fmt;
use std::sync::Arc;

/// Every diagnostic code with a one-line meaning (also listed in rules/README.md).
pub const CODES: &[(&str, &str)] = &[
    ("E0001", "syntax error"),
    (
        "E0002",
        "unknown top-level item (expected `pack`, `template` or `rule`)",
    ),
    ("E0003", "unknown event kind"),
    ("E0004", "unknown cause category"),
    ("E0005", "unknown severity"),
    ("E0006", "unknown rule attribute"),
    ("E0007", "duplicate rule id"),
    ("E0008", "invalid template pattern"),
    ("E0009", "invalid or too complex regular expression"),
    ("E0010", "missing required rule attribute"),
    ("E0011", "attribute given twice"),
    ("E0012", "unknown rule referenced"),
    ("E0013", "unknown function or wrong arguments"),
    ("E0014", "group-by key not available in a step"),
    ("E0015", "invalid duration or number"),
    ("E0016", "invalid example line"),
    ("E0017", "pack too large"),
    ("E0018", "comparison not allowed here"),
    ("E0019", "cascade dependency cycle"),
    ("E0020", "unknown level name"),
    ("E0021", "unreadable pack file"),
    ("E0022", "invalid placeholder in message"),
    ("E0023", "unknown field for the selected event kinds"),
    (
        "E0024",
        "unknown template weight (expected decisive, few or context)",
    ),
    ("E0025", "invalid release or release range"),
    (
        "W0101",
        "unknown metric name (it will be unknown, never true, unless a metric source provides it)",
    ),
    ("W0102", "rule without examples"),
    ("W0103", "rule has no `fire` example or no `quiet` example"),
    (
        "W0104",
        "template without a meaning (`means`, `evidence`, `weight` and `releases`)",
    ),
];

#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DiagSeverity {
    Warning,
    Error,
}

/// A problem found in a pack, pointing at file:line:column.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    pub code: &'static str,
    pub file: Arc<str>,
    /// 1-based line and column (column counted in characters).
    pub line: usize,
    pub column: usize,
    /// Length of the highlighted range in characters (at least 1).
    pub width: usize,
    pub message: String,
    /// "did you mean ..." or another hint.
    pub hint: Option<String>,
    pub severity: DiagSeverity,
    /// The source line the diagnostic points at.
    pub source_line: String,
}

impl Diagnostic {
    pub fn is_error(&self) -> bool {
        self.severity == DiagSeverity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            DiagSeverity::Error => "error",
            DiagSeverity::Warning => "warning",
        };
        writeln!(f, "{sev}[{}]: {}", self.code, self.message)?;
        let ln = self.line.to_string();
        let pad = " ".repeat(ln.len());
        writeln!(f, "{pad}--> {}:{}:{}", self.file, self.line, self.column)?;
        writeln!(f, "{pad} |")?;
        writeln!(f, "{ln} | {}", self.source_line)?;
        write!(
            f,
            "{pad} | {}{}",
            " ".repeat(self.column.saturating_sub(1)),
            "^".repeat(self.width.max(1))
        )?;
        if let Some(h) = &self.hint {
            write!(f, "\n{pad} = help: {h}")?;
        }
        Ok(())
    }
}

/// Maps byte offsets of one source file to line/column and builds diagnostics.
pub struct SourceMap<'a> {
    pub file: Arc<str>,
    pub src: &'a str,
    line_starts: Vec<usize>,
}

impl<'a> SourceMap<'a> {
    pub fn new(file: Arc<str>, src: &'a str) -> SourceMap<'a> {
        let mut line_starts = vec![0];
        line_starts.extend(src.match_indices('\n').map(|(i, _)| i + 1));
        SourceMap {
            file,
            src,
            line_starts,
        }
    }

    /// 1-based (line, column) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.src.len());
        let line = self.line_starts.partition_point(|&s| s <= offset) - 1;
        let start = self.line_starts[line];
        let col = self.src[start..floor_char(self.src, offset)]
            .chars()
            .count()
            + 1;
        (line + 1, col)
    }

    pub fn line_text(&self, line: usize) -> &str {
        let start = self.line_starts[line - 1];
        let end = self.src[start..]
            .find('\n')
            .map_or(self.src.len(), |e| start + e);
        self.src[start..end].trim_end_matches('\r')
    }

    pub fn diag(
        &self,
        code: &'static str,
        start: usize,
        end: usize,
        message: impl Into<String>,
        hint: Option<String>,
    ) -> Diagnostic {
        let (line, column) = self.line_col(start);
        let text = self.line_text(line).to_string();
        let line_end_col = text.chars().count() + 1;
        let (_, end_col) = if end > start {
            self.line_col(end)
        } else {
            (line, column + 1)
        };
        let width = if self.line_col(end.max(start)).0 != line {
            line_end_col.saturating_sub(column).max(1)
        } else {
            end_col.saturating_sub(column).max(1)
        };
        Diagnostic {
            code,
            file: self.file.clone(),
            line,
            column,
            width,
            message: message.into(),
            hint,
            severity: if code.starts_with('W') {
                DiagSeverity::Warning
            } else {
                DiagSeverity::Error
            },
            source_line: text,
        }
    }
}

fn floor_char(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Levenshtein distance (small strings only).
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The closest candidate, if it is close enough to be a plausible typo.
pub fn did_you_mean<'c>(
    word: &str,
    candidates: impl IntoIterator<Item = &'c str>,
) -> Option<String> {
    let limit = (word.chars().count() / 3).max(2);
    candidates
        .into_iter()
        .map(|c| (edit_distance(word, c), c))
        .filter(|(d, c)| *d <= limit || (c.contains(word) && word.len() >= 4))
        .min_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(b.1)))
        .map(|(_, c)| format!("did you mean `{c}`?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caret_points_at_column() {
        let src = "rule a {\n  severity hihg\n}\n";
        let sm = SourceMap::new("x.rules".into(), src);
        let off = src.find("hihg").unwrap();
        let d = sm.diag(
            "E0005",
            off,
            off + 4,
            "unknown severity `hihg`",
            did_you_mean("hihg", ["high", "low"]),
        );
        assert_eq!((d.line, d.column, d.width), (2, 12, 4));
        let text = d.to_string();
        assert!(text.contains("--> x.rules:2:12"), "{text}");
        assert!(
            text.contains("2 |   severity hihg\n  |            ^^^^"),
            "{text}"
        );
        assert!(text.contains("did you mean `high`?"), "{text}");
    }

    #[test]
    fn codes_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for (c, _) in CODES {
            assert!(seen.insert(c), "duplicate code {c}");
        }
    }
}
