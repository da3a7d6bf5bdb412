//! HTML escaping for everything that came from an input file (names, metadata,
//! phase names, reasons): the report must never execute or mis-render file content.

/// Escape text for HTML element content and double- or single-quoted attributes.
pub fn html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' && c != '\t' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// A quoted CSS string literal holding `text` (for `content:` in the stylesheet).
///
/// Every character other than ASCII letters, digits, space and `.,:;_-/()#+` is written as
/// a CSS hex escape (`\\3C ` for `<`), so the literal can neither end the string, nor the
/// rule, nor the `<style>` element (`</style>` cannot appear); control characters become
/// U+FFFD, line breaks a space.
pub fn css_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        let c = match c {
            '\n' | '\r' | '\t' => ' ',
            c if c.is_control() => '\u{FFFD}',
            c => c,
        };
        if c.is_ascii_alphanumeric() || " .,:;_-/()#+".contains(c) {
            out.push(c);
        } else {
            // The space ends the hex escape; CSS consumes it.
            out.push_str(&format!("\\{:X} ", c as u32));
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn css_strings_cannot_break_out() {
        assert_eq!(css_string("Lab 1"), "\"Lab 1\"");
        assert_eq!(
            css_string("</style><script>\"x\\"),
            "\"\\3C /style\\3E \\3C script\\3E \\22 x\\5C \""
        );
        assert_eq!(css_string("a\nb·"), "\"a b\\B7 \"");
        assert_eq!(css_string("a\u{0}"), "\"a\\FFFD \"");
    }

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            html("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
    }

    #[test]
    fn replaces_control_characters() {
        assert_eq!(html("a\u{0}b"), "a\u{FFFD}b");
        assert_eq!(html("a\nb"), "a\nb");
    }
}
