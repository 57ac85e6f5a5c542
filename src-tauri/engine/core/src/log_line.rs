//! Telling an error line from an ordinary one in an app's output: the words programs use
//! for failures and an HTTP 5xx in an access-log line. The Logs view counts and marks
//! these, and the preview shows only these in red (servers write everything to stderr).

const ERROR_WORDS: [&str; 7] = [
    "error",
    "exception",
    "fatal",
    "panic",
    "traceback",
    "critical",
    "segfault",
];

/// A 5xx status in an access-log line: after the protocol ("HTTP/1.1" 503) or named
/// ("status=500", "status: 502").
static SERVER_ERROR: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(r#"(?i)(http/\d(\.\d)?"?\s+5\d\d\b|status[=: ]+5\d\d\b)"#)
        .expect("a valid pattern")
});

/// Whether a line looks like an error: an error word, or an HTTP 5xx status.
pub fn is_error(message: &str) -> bool {
    let lower = message.to_lowercase();
    ERROR_WORDS.iter().any(|w| lower.contains(w)) || SERVER_ERROR.is_match(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_lines_are_recognised_and_ordinary_ones_are_not() {
        assert!(is_error("ERROR: database unreachable"));
        assert!(is_error("Traceback (most recent call last):"));
        assert!(is_error("thread 'main' panicked at src/main.rs"));
        assert!(is_error("GET /api HTTP/1.1 503"));
        assert!(is_error("response status=500 path=/"));
        assert!(!is_error("[::ffff:127.0.0.1]:48838: url:/"));
        assert!(!is_error("GET / HTTP/1.1 200 512 bytes"));
        assert!(
            !is_error("listening on port 5000"),
            "a number that is not a status"
        );
    }
}
