//! Reading a `.env` file as the tools that write them do: `KEY=value` lines, an optional
//! `export ` in front, `#` comments, single quotes (taken as written) and double quotes
//! (with `\n`, `\"` and `\\` escapes, and line breaks inside). A line that is none of these
//! is reported with its number; nothing is guessed.

/// A variable: its name and value.
pub type Variable = (String, String);
/// A line that could not be read: its number (from 1) and what is wrong.
pub type LineProblem = (usize, String);

/// The file's variables in order, or every line that could not be read.
pub fn parse(text: &str) -> Result<Vec<Variable>, Vec<LineProblem>> {
    let mut found = Vec::new();
    let mut problems = Vec::new();
    let mut lines = text.lines().enumerate().peekable();
    while let Some((index, raw)) = lines.next() {
        let number = index + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line
            .strip_prefix("export ")
            .map(str::trim_start)
            .unwrap_or(line);
        let Some((key, rest)) = line.split_once('=') else {
            problems.push((number, "not a KEY=value line".to_owned()));
            continue;
        };
        let key = key.trim();
        let valid_key = key
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid_key {
            problems.push((number, format!("\"{key}\" is not a variable name")));
            continue;
        }
        let rest = rest.trim_start();
        let value = if let Some(quoted) = rest.strip_prefix('"') {
            // A double-quoted value may go on over the next lines until its closing quote.
            let mut text = quoted.to_owned();
            loop {
                if let Some(end) = closing_quote(&text) {
                    break Some(unescape(&text[..end]));
                }
                match lines.next() {
                    Some((_, next)) => {
                        text.push('\n');
                        text.push_str(next);
                    }
                    None => break None,
                }
            }
        } else if let Some(quoted) = rest.strip_prefix('\'') {
            quoted.find('\'').map(|end| quoted[..end].to_owned())
        } else {
            // Unquoted: up to a comment that follows a space.
            let end = rest.find(" #").unwrap_or(rest.len());
            Some(rest[..end].trim_end().to_owned())
        };
        match value {
            Some(value) => found.push((key.to_owned(), value)),
            None => problems.push((number, format!("the quote after {key}= is never closed"))),
        }
    }
    if problems.is_empty() {
        Ok(found)
    } else {
        Err(problems)
    }
}

/// Where an unescaped `"` closes the value.
fn closing_quote(text: &str) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        match c {
            '\\' if !escaped => escaped = true,
            '"' if !escaped => return Some(i),
            _ => escaped = false,
        }
    }
    None
}

fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_usual_shapes_are_read() {
        let text = "# settings\nDATABASE_URL=postgres://a:b@db/app\nexport API_TOKEN = 'x#y z'\nGREETING=\"Hello, \\\"you\\\"\\n\" \nPLAIN=value # a comment\nEMPTY=\n\nKEY=\"-----BEGIN-----\nline\n-----END-----\"\n";
        let parsed = parse(text).unwrap();
        assert_eq!(
            parsed,
            vec![
                ("DATABASE_URL".into(), "postgres://a:b@db/app".into()),
                ("API_TOKEN".into(), "x#y z".into()),
                ("GREETING".into(), "Hello, \"you\"\n".into()),
                ("PLAIN".into(), "value".into()),
                ("EMPTY".into(), String::new()),
                ("KEY".into(), "-----BEGIN-----\nline\n-----END-----".into()),
            ]
        );
    }

    #[test]
    fn lines_that_are_not_variables_are_named_by_number() {
        let problems = parse("OK=1\njust text\n1BAD=2\nOPEN=\"never closed\n").unwrap_err();
        let numbers: Vec<usize> = problems.iter().map(|(n, _)| *n).collect();
        assert_eq!(numbers, vec![2, 3, 4]);
        assert!(problems[2].1.contains("never closed"));
    }
}
