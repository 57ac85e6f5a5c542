//! What tests of every layer need to find the test environment that `tests/env/up`
//! starts. Lives in the engine so the engine, desktop and end-to-end tests share one rule:
//! outside CI a missing environment skips loudly; under CI it fails.

/// The value of a `SLIPWAY_TEST_*` variable, or `None` after a loud skip message.
/// Panics when CI is set, because there a missing environment is a broken run.
pub fn require(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(value) if !value.is_empty() => Some(value),
        _ => {
            skip_or_fail(&format!(
                "{var} is not set, so this test cannot reach the test environment"
            ));
            None
        }
    }
}

/// Under CI, fails with `reason`; elsewhere prints it as a loud skip.
pub fn skip_or_fail(reason: &str) {
    if std::env::var_os("CI").is_some() {
        panic!("{reason}: under CI the tests run through `make test`, which prepares everything");
    }
    eprintln!(
        "\n*** SKIPPED: {reason}.\n*** Run `eval \"$(tests/env/up)\"` first, or use `make test`.\n"
    );
}
