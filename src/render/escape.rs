//! Escaping of untrusted text for each output medium.

/// For terminals: control characters (ANSI escapes included) become visible
/// `\x1b`-style escapes, so log text can never drive the terminal.
pub fn terminal(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(|c| c.is_control() || is_bidi(c)) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c == '\t' {
            out.push(' ');
        } else if c.is_control() || is_bidi(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

fn is_bidi(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// For HTML and SVG text and attribute values.
pub fn html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in terminal(s).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// For Markdown text (also inside table cells): markup characters are
/// backslash-escaped, `|` and newlines cannot break a table, HTML is escaped.
pub fn markdown(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in terminal(s).chars() {
        match c {
            '\\' | '`' | '*' | '_' | '{' | '}' | '[' | ']' | '(' | ')' | '#' | '+' | '!' | '|'
            | '~' => {
                out.push('\\');
                out.push(c);
            }
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\n' | '\r' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_strings() {
        let s = "<script>alert(1)</script>\"><img src=x onerror=y>";
        let h = html(s);
        assert!(!h.contains('<') && !h.contains('>') && !h.contains('"'));
        let m = markdown("[x](javascript:alert(1)) | <b> `code`");
        assert!(!m.contains("](") && !m.contains("<b>") && m.contains("\\|"));
        let t = terminal("red \x1b[31m text\x07");
        assert!(!t.contains('\x1b') && !t.contains('\x07'));
    }
}
