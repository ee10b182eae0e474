//! A normalized template for messages no template matched: numbers, ids,
//! addresses and quoted values masked, so similar lines count together.

/// Masks every token that contains a digit (ids, addresses, counts, durations)
/// and the content of quoted strings. `Readloop processing time: 2.1s` →
/// `Readloop processing time: <*>`.
pub fn normalize(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len());
    let mut in_quote: Option<char> = None;
    for (i, tok) in msg.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        if let Some(q) = in_quote {
            if tok.ends_with(q) {
                in_quote = None;
                out.push_str("<*>");
                out.push(q);
            }
            continue;
        }
        let first = tok.chars().next();
        if let Some(q @ ('"' | '\'')) = first {
            if tok.len() > 1 && tok.ends_with(q) {
                out.push(q);
                out.push_str("<*>");
                out.push(q);
            } else {
                out.push(q);
                in_quote = Some(q);
            }
            continue;
        }
        if tok.bytes().any(|b| b.is_ascii_digit()) {
            let trimmed = tok.trim_end_matches([',', ':', ';', ')', ']', '.']);
            out.push_str("<*>");
            out.push_str(&tok[trimmed.len()..]);
        } else {
            out.push_str(tok);
        }
    }
    if in_quote.is_some() {
        out.push_str("<*>");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn masks_numbers_and_quotes() {
        assert_eq!(normalize("Readloop processing time: 2.1s"), "Readloop processing time: <*>");
        assert_eq!(
            normalize("Error trying to connect to route (attempt 3): dial tcp 127.0.0.1:16221: connect: connection refused"),
            "Error trying to connect to route (attempt <*>): dial tcp <*>: connect: connection refused"
        );
        assert_eq!(normalize("stream 'APP > ORDERS' is gone"), "stream '<*>' is gone");
        assert_eq!(normalize("x \"a b"), "x \"<*>");
    }
}
