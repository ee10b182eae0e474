//! A normalized template for messages no template matched: numbers, ids,
//! addresses and quoted values masked, so similar lines count together.

/// Masks every token that contains a digit (ids, addresses, counts, durations)
/// and the content of quoted strings. `Readloop processing time: 2.1s` →
/// `Readloop processing time: <*>`.
pub fn normalize(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len());
    let mut rest = msg;
    while !rest.is_empty() {
        // Quoted span at a token start: mask its content as one unit.
        let q = rest.as_bytes()[0];
        if (q == b'"' || q == b'\'') && (out.is_empty() || out.ends_with([' ', '(', '[', '='])) {
            if let Some(end) = rest[1..].find(q as char) {
                out.push(q as char);
                out.push_str("<*>");
                out.push(q as char);
                rest = &rest[end + 2..];
                continue;
            }
        }
        let tok_end = rest.find(' ').unwrap_or(rest.len());
        let tok = &rest[..tok_end];
        if tok.bytes().any(|b| b.is_ascii_digit()) {
            let trimmed = tok.trim_end_matches([',', ':', ';', ')', ']', '.']);
            let lead = tok.len() - tok.trim_start_matches(['(', '[']).len();
            out.push_str(&tok[..lead.min(trimmed.len())]);
            out.push_str("<*>");
            out.push_str(&tok[trimmed.len()..]);
        } else {
            out.push_str(tok);
        }
        if tok_end < rest.len() {
            out.push(' ');
            rest = &rest[tok_end + 1..];
        } else {
            rest = "";
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn masks_numbers_and_quotes() {
        assert_eq!(
            normalize("Readloop processing time: 2.1s"),
            "Readloop processing time: <*>"
        );
        assert_eq!(
            normalize(
                "Error trying to connect to route (attempt 3): dial tcp 127.0.0.1:16221: connect: connection refused"
            ),
            "Error trying to connect to route (attempt <*>): dial tcp <*>: connect: connection refused"
        );
        assert_eq!(
            normalize("stream 'APP > ORDERS' is gone"),
            "stream '<*>' is gone"
        );
        assert_eq!(normalize("x \"a b"), "x \"a b");
        assert_eq!(
            normalize("index [12] beyond [3]"),
            "index [<*>] beyond [<*>]"
        );
    }
}
