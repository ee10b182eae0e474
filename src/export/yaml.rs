//! The little YAML the rule files need, written by hand: every scalar that
//! comes from a rule is a double-quoted string (JSON string syntax, which
//! YAML accepts), so no rule text can change the document's structure.

use super::Alert;

/// A double-quoted YAML scalar.
pub fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

/// Text for a `#` comment: one line, no control characters.
pub fn comment(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

pub(super) fn alert(out: &mut String, a: &Alert) {
    for n in &a.notes {
        out.push_str(&format!("      # note: {}\n", comment(n)));
    }
    out.push_str(&format!("      - alert: {}\n", quote(&a.alert)));
    out.push_str(&format!("        expr: {}\n", quote(&a.expr)));
    if let Some(f) = &a.for_ {
        out.push_str(&format!("        for: {}\n", quote(f)));
    }
    out.push_str("        labels:\n");
    for (k, v) in &a.labels {
        out.push_str(&format!("          {k}: {}\n", quote(v)));
    }
    out.push_str("        annotations:\n");
    for (k, v) in &a.annotations {
        out.push_str(&format!("          {k}: {}\n", quote(v)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn untrusted_text_stays_one_scalar() {
        assert_eq!(quote("a\"b\n: c"), r#""a\"b\n: c""#);
        assert_eq!(comment("x\ny\u{1b}[31m"), "x y [31m");
    }
}
