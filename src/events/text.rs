//! Event text (titles, places, descriptions) cleaned where it enters — typed commands, forms,
//! imported or synced calendars — and once more where it leaves as iCalendar TEXT. RFC 5545
//! TEXT allows no control character but HTAB (and line breaks only as the escape `\n`); a bare
//! CR, which some calendar tools take for the end of a line, would let an imported file
//! smuggle properties (a URL, an alarm) into every subscriber's calendar. Pure.

/// A line break as people mean it: CR LF, a bare CR or LF, VT, FF, NEL and the Unicode line
/// and paragraph separators.
fn is_break(c: char) -> bool {
    matches!(
        c,
        '\n' | '\r' | '\u{0B}' | '\u{0C}' | '\u{85}' | '\u{2028}' | '\u{2029}'
    )
}

/// A character no event text keeps: the other C0 controls (NUL, ESC, …), DEL and the C1
/// controls. Tabs become spaces.
fn is_dropped(c: char) -> bool {
    (c.is_control() && c != '\t') && !is_break(c)
}

/// A title or a place: one line. Breaks become spaces, controls go, runs of blanks collapse.
pub fn one_line(s: &str) -> String {
    let cleaned: String = s
        .chars()
        .filter(|c| !is_dropped(*c))
        .map(|c| if is_break(c) || c == '\t' { ' ' } else { c })
        .collect();
    cleaned.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// An identifier (a UID): every control character and break dropped, nothing else touched —
/// two UIDs that differ only in spacing stay two UIDs.
pub fn identifier(s: &str) -> String {
    s.chars()
        .filter(|c| !is_dropped(*c) && !is_break(*c) && *c != '\t')
        .collect()
}

/// A description: lines kept (every kind of break becomes one LF; CR LF is one break),
/// controls dropped, tabs kept as spaces, the ends trimmed.
pub fn multi_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\r' && chars.peek() == Some(&'\n') {
            continue;
        }
        if is_break(c) {
            out.push('\n');
        } else if c == '\t' {
            out.push(' ');
        } else if !is_dropped(c) {
            out.push(c);
        }
    }
    out.trim().to_string()
}

/// A TEXT value as it may be written into an iCalendar file: LF is the only break left (the
/// writer escapes it as `\n`), no other control character. Applied to everything written,
/// whatever the database holds (rows stored before text was cleaned on entry included).
pub fn ical_text(s: &str) -> String {
    multi_line(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_title_is_one_clean_line() {
        assert_eq!(one_line("Town\r\nhall\u{1b}[31m\u{0}"), "Town hall[31m");
        assert_eq!(one_line("a\u{2028}b\u{0B}c\u{7f}d"), "a b cd");
    }

    #[test]
    fn a_description_keeps_its_lines_and_loses_its_controls() {
        assert_eq!(
            multi_line("one\r\ntwo\rthree\u{2029}four\u{0C}five\u{0}"),
            "one\ntwo\nthree\nfour\nfive"
        );
    }

    proptest! {
        #[test]
        fn nothing_that_ends_a_line_or_controls_a_terminal_survives(s in "\\PC*|[\\x00-\\x7f\\u{80}-\\u{9f}\\u{2028}\\u{2029}]*") {
            let line = one_line(&s);
            prop_assert!(!line.chars().any(|c| c.is_control() || c == '\u{2028}' || c == '\u{2029}'), "{:?}", line);
            let text = ical_text(&s);
            prop_assert!(!text.chars().any(|c| (c.is_control() && c != '\n') || c == '\u{2028}' || c == '\u{2029}'), "{:?}", text);
            prop_assert_eq!(ical_text(&text), text.clone(), "cleaning twice changes nothing");
        }
    }
}
