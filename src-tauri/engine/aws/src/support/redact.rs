//! Scrubbing text before it leaves the process for a file a person may share: AWS secret
//! access keys and session tokens are replaced by `***`, access key ids are shortened, and
//! (for the support bundle) the home directory becomes `~`.

use std::borrow::Cow;
use std::path::Path;
use std::sync::{LazyLock, RwLock};

use regex::{Captures, Regex};

/// A value after a name that says it is secret: `aws_secret_access_key = …`,
/// `AWS_SESSION_TOKEN=…`, `"secretAccessKey": "…"`, `X-Amz-Security-Token: …`, and the
/// SSO sign-in's: `"x-amz-sso_bearer_token": "…"` (the SDK traces request headers),
/// `accessToken`, `refresh_token`, `clientSecret`, `codeVerifier`, `deviceCode`.
static LABELLED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?i)((?:aws_)?secret_?access_?key|(?:aws_)?session_?token|x-amz-security-token|security_?token|(?:x-amz-sso_)?bearer_?token|access_?token|refresh_?token|client_?secret|code_?verifier|device_?code)((?:\\?["'])?\s*[:=]\s*(?:\\?["'])?)([^\s"'\\,;&}\]]+)"#,
    )
    .expect("labelled secret pattern")
});

/// A run of base64 characters long enough to be a session token or an ECR login token
/// (hundreds long). Not starting with `/`, and only masked when it mixes upper case, lower
/// case and digits, so that a long path stays readable.
static LONG_TOKEN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[A-Za-z0-9+=][A-Za-z0-9/+=]{99,}").expect("long token pattern"));

/// Exactly 40 base64 characters standing alone: the shape of a secret access key. Only
/// masked when it mixes upper and lower case, so SHA-1 hashes (git commits) stay readable.
static FORTY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(^|[^A-Za-z0-9/+=])([A-Za-z0-9/+]{40})($|[^A-Za-z0-9/+=])")
        .expect("secret access key pattern")
});

/// Long-term (AKIA) and temporary (ASIA) access key ids.
static KEY_ID: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b((?:AKIA|ASIA)[A-Z0-9]{12,})\b").expect("key id pattern"));

/// A CloudFormation parameter's value in whatever form the SDK traces it: the XML of an
/// answer (`<ParameterValue>…</ParameterValue>`), a request's form field
/// (`Parameters.member.1.ParameterValue=…`) or the parsed output (`parameter_value:
/// Some("…")`). A NoEcho value is among them, and not every answer masks it (the emulator
/// does not; a stack read before its template is known cannot be told apart), so all are.
static PARAMETER_VALUE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(<ParameterValue>)[^<]*(</ParameterValue>)|(ParameterValue=)[^&\s"]*()|(parameter_value: Some\(")(?:[^"\\]|\\.)*("\))|(parameter_value: Some\(\\")(?:[^"\\]|\\\\.|\\[^"\\])*?(\\"\))"#,
    )
    .expect("parameter value pattern")
});

/// Values this process was handed as secret (a template's NoEcho values): masked wherever
/// they appear, whatever carries them (an emulator that answers them back unmasked, an
/// error quoting a request). Only values of at least [`HIDDEN_MIN`] characters, so that a
/// short one cannot garble every line.
static HIDDEN: LazyLock<RwLock<Vec<String>>> = LazyLock::new(Default::default);
const HIDDEN_MIN: usize = 6;

/// Masks `value` in every log line from now on (see [`HIDDEN`]).
pub fn hide(value: &str) {
    if value.chars().count() < HIDDEN_MIN {
        return;
    }
    let mut hidden = HIDDEN.write().unwrap_or_else(|e| e.into_inner());
    if !hidden.iter().any(|h| h == value) {
        hidden.push(value.to_owned());
    }
}

/// `text` with every value handed over as secret ([`hide`]) masked: for text shown to the
/// user that AWS wrote (a stack event's reason, a refusal).
pub fn mask_hidden(text: &str) -> String {
    masked_hidden(Cow::Borrowed(text)).into_owned()
}

/// `text` with each hidden value replaced by `***`, still borrowed when none is there.
fn masked_hidden(text: Cow<'_, str>) -> Cow<'_, str> {
    let mut out = text;
    for value in HIDDEN.read().unwrap_or_else(|e| e.into_inner()).iter() {
        if out.contains(value.as_str()) {
            out = Cow::Owned(out.replace(value.as_str(), "***"));
        }
    }
    out
}

/// `text` without AWS secrets. Secret keys and session tokens become `***`. Access key ids
/// are not secret (AWS prints them in its own error messages) but they name a user, so
/// they keep only what a support case needs: their kind (AKIA long-term, ASIA temporary)
/// and their last four characters, as the IAM console shows them.
pub fn redact(text: &str) -> Cow<'_, str> {
    let out = replace(
        masked_hidden(Cow::Borrowed(text)),
        &PARAMETER_VALUE,
        |c: &Captures| {
            let (open, close) = [(1, 2), (3, 4), (5, 6), (7, 8)]
                .into_iter()
                .find(|(o, _)| c.get(*o).is_some())
                .map(|(o, e)| (&c[o], c.get(e).map_or("", |m| m.as_str())))
                .unwrap_or(("", ""));
            format!("{open}***{close}")
        },
    );
    let out = replace(out, &LABELLED, |c: &Captures| {
        format!("{}{}***", &c[1], &c[2])
    });
    let out = replace(out, &LONG_TOKEN, |c: &Captures| {
        let run = &c[0];
        let looks_random = run.chars().any(|ch| ch.is_ascii_uppercase())
            && run.chars().any(|ch| ch.is_ascii_lowercase())
            && run.chars().any(|ch| ch.is_ascii_digit());
        if looks_random {
            "***".to_owned()
        } else {
            run.to_owned()
        }
    });
    let out = replace(out, &FORTY, |c: &Captures| {
        let candidate = &c[2];
        let mixed = candidate.chars().any(|ch| ch.is_ascii_uppercase())
            && candidate.chars().any(|ch| ch.is_ascii_lowercase());
        if mixed {
            format!("{}***{}", &c[1], &c[3])
        } else {
            c[0].to_owned()
        }
    });
    replace(out, &KEY_ID, |c: &Captures| {
        let id = &c[1];
        format!("{}…{}", &id[..4], &id[id.len() - 4..])
    })
}

/// `text` with `pattern` replaced, still borrowed when nothing matched.
fn replace<'a>(
    text: Cow<'a, str>,
    pattern: &Regex,
    with: impl FnMut(&Captures) -> String,
) -> Cow<'a, str> {
    let replaced = match pattern.replace_all(&text, with) {
        Cow::Borrowed(_) => None,
        Cow::Owned(changed) => Some(changed),
    };
    match replaced {
        Some(changed) => Cow::Owned(changed),
        None => text,
    }
}

/// `text` with the home directory written as `~`, where it starts a path (so `/home/ana`
/// becomes `~` in `/home/ana/app` but `/home/anabel` is left alone).
pub fn tilde_home<'a>(text: &'a str, home: Option<&Path>) -> Cow<'a, str> {
    let Some(home) = home.map(|h| h.display().to_string()) else {
        return Cow::Borrowed(text);
    };
    let home = home.trim_end_matches(['/', '\\']);
    if home.is_empty() || !text.contains(home) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(home) {
        let after = &rest[at + home.len()..];
        let ends_a_name = after
            .chars()
            .next()
            .is_none_or(|c| !(c.is_alphanumeric() || "-_.".contains(c)));
        out.push_str(&rest[..at]);
        out.push_str(if ends_a_name { "~" } else { home });
        rest = after;
    }
    out.push_str(rest);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {

    #[test]
    fn cloudformation_parameter_values_are_masked_as_the_sdk_traces_them() {
        for (line, want) in [
            (
                "<Parameter><ParameterKey>Db</ParameterKey><ParameterValue>pw-123</ParameterValue></Parameter>",
                "<Parameter><ParameterKey>Db</ParameterKey><ParameterValue>***</ParameterValue></Parameter>",
            ),
            (
                "Action=CreateStack&Parameters.member.1.ParameterValue=pw%2D123&Version=2010-05-15",
                "Action=CreateStack&Parameters.member.1.ParameterValue=***&Version=2010-05-15",
            ),
            (
                r#"Parameter { parameter_key: Some("Db"), parameter_value: Some("pw \"123"), use_previous_value: None }"#,
                r#"Parameter { parameter_key: Some("Db"), parameter_value: Some("***"), use_previous_value: None }"#,
            ),
            (
                r#"parameter_value: Some("Pa\")ss-word"), x"#,
                r#"parameter_value: Some("***"), x"#,
            ),
            (
                r#"line=\"parameter_value: Some(\"pw-9\"), x\""#,
                r#"line=\"parameter_value: Some(\"***\"), x\""#,
            ),
        ] {
            assert_eq!(redact(line), want);
        }
    }

    #[test]
    fn a_hidden_value_is_masked_wherever_it_appears() {
        hide("hunter2-but-longer");
        hide("abc");
        let line = "Parameter validation failed: hunter2-but-longer is not valid abc";
        assert_eq!(
            redact(line),
            "Parameter validation failed: *** is not valid abc"
        );
        assert_eq!(
            mask_hidden(line),
            "Parameter validation failed: *** is not valid abc"
        );
    }

    use super::*;

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

    #[test]
    fn secret_keys_and_session_tokens_are_masked_wherever_they_are_labelled() {
        let token = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD";
        for line in [
            format!("aws_secret_access_key = {SECRET}"),
            format!("AWS_SECRET_ACCESS_KEY={SECRET}"),
            format!(r#"{{"secretAccessKey": "{SECRET}"}}"#),
            format!("aws_session_token={token}"),
            format!("X-Amz-Security-Token: {token}"),
            format!(r#"headers: {{"x-amz-sso_bearer_token": "{token}", "user-agent": "x"}}"#),
            format!(r#"{{"accessToken": "{token}", "refreshToken": "{token}"}}"#),
            format!("clientSecret={token}&codeVerifier={token}"),
            format!(r#"body: b"{{\"deviceCode\":\"{token}\",\"userCode\":\"AB\"}}""#),
        ] {
            let clean = redact(&line);
            assert!(
                !clean.contains(SECRET) && !clean.contains(token),
                "{line} became {clean}"
            );
            assert!(clean.contains("***"), "{clean} says something was removed");
        }
    }

    #[test]
    fn a_bare_secret_key_is_masked_but_a_git_commit_hash_is_not() {
        let line = format!("copied {SECRET} by mistake");
        assert_eq!(redact(&line), "copied *** by mistake");
        let commit = "built 4a1d0c7e9b2f3a5c6d8e0f1a2b3c4d5e6f7a8b9c";
        assert_eq!(
            redact(commit),
            commit,
            "a lowercase hex hash is not a secret"
        );
    }

    #[test]
    fn a_long_unlabelled_session_token_is_masked() {
        let token = "IQoJb3JpZ2luX2VjEJr".repeat(8);
        assert_eq!(redact(&format!("token {token} end")), "token *** end");
    }

    #[test]
    fn access_key_ids_keep_their_kind_and_last_four_characters() {
        assert_eq!(
            redact("using AKIAIOSFODNN7EXAMPLE now"),
            "using AKIA…MPLE now"
        );
        assert_eq!(redact("ASIAY34FZKBOKMUTVV7A"), "ASIA…VV7A");
    }

    #[test]
    fn ordinary_log_lines_are_left_as_they_are() {
        let line = "INFO slipway_aws::deploy: task arn:aws:ecs:eu-west-2:123456789012:task/demo/0f1e2d3c4b5a69788796a5b4c3d2e1f0 is RUNNING";
        assert_eq!(redact(line), line);
    }

    #[test]
    fn the_home_directory_becomes_a_tilde_only_where_it_starts_a_path() {
        let home = Path::new("/home/ana");
        assert_eq!(
            tilde_home(
                "opened /home/ana/site and /home/anabel/x and /home/ana",
                Some(home)
            ),
            "opened ~/site and /home/anabel/x and ~"
        );
        assert_eq!(tilde_home("no home here", Some(home)), "no home here");
        assert_eq!(tilde_home("/home/ana/x", None), "/home/ana/x");
    }
}
