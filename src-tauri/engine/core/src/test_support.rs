//! What tests of every layer need to find the test environment that `tests/env/up`
//! starts. Lives in the core so the engine, desktop and end-to-end tests share one rule:
//! when a run must be complete (`make test`, which sets `SLIPWAY_TEST_REQUIRE_ENV`, or CI)
//! a missing environment fails the test; a bare `cargo test` skips loudly. Also the one
//! way tests give a temporary home its own AWS CLI files, and its own Docker host.

/// Set by `make test` so that a test which cannot reach the environment fails.
pub const REQUIRE_ENV: &str = "SLIPWAY_TEST_REQUIRE_ENV";

/// The value of a `SLIPWAY_TEST_*` variable, or `None` after a loud skip message.
/// Panics when the run must be complete (see [`skip_or_fail`]).
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

/// Fails with `reason` when `SLIPWAY_TEST_REQUIRE_ENV` or `CI` is set (there a missing
/// environment is a broken run, not a pass); otherwise prints it as a loud skip.
pub fn skip_or_fail(reason: &str) {
    if let Some(why) = must_not_skip(|name| std::env::var_os(name).is_some()) {
        panic!(
            "{reason}. This run may not skip ({why}): `make test` starts the test environment \
             (tests/env/up) and sources target/testenv.sh before it runs the tests"
        );
    }
    eprintln!(
        "\n*** SKIPPED: {reason}.\n*** Run `eval \"$(tests/env/up)\"` first, or use `make test`.\n"
    );
}

/// Why skipping is not allowed in this run, when it is not: `is_set` says whether an
/// environment variable is set (a parameter, so the rule is tested without touching the
/// process environment).
fn must_not_skip(is_set: impl Fn(&str) -> bool) -> Option<&'static str> {
    if is_set(REQUIRE_ENV) {
        Some("SLIPWAY_TEST_REQUIRE_ENV is set")
    } else if is_set("CI") {
        Some("CI is set")
    } else {
        None
    }
}

/// Writes `home/.aws/config` and `home/.aws/credentials` with the given contents, as the
/// AWS CLI lays them out, so a test's host never reads the real `~/.aws`.
pub fn write_aws_files(home: &std::path::Path, config: &str, credentials: &str) {
    let dir = home.join(".aws");
    std::fs::create_dir_all(&dir).expect("create the test's .aws directory");
    std::fs::write(dir.join("config"), config).expect("write the test's AWS config");
    std::fs::write(dir.join("credentials"), credentials).expect("write the test's AWS credentials");
}

/// A host whose home is `home`, which reaches Docker at `docker_host` and keeps Slipway's
/// data in `home/data`: what a test that builds or previews runs as, never the machine's
/// own home or data.
pub fn docker_host_env(home: &std::path::Path, docker_host: &str) -> crate::host::HostEnv {
    crate::host::HostEnv::new(
        crate::host::Os::current(),
        Some(home.to_owned()),
        [
            ("DOCKER_HOST".to_owned(), docker_host.to_owned()),
            (
                "SLIPWAY_DATA_DIR".to_owned(),
                home.join("data").display().to_string(),
            ),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn make_test_or_ci_turn_a_missing_environment_into_a_failure() {
        assert_eq!(
            must_not_skip(|name| name == REQUIRE_ENV),
            Some("SLIPWAY_TEST_REQUIRE_ENV is set"),
            "make test exports it, so a missing service fails instead of passing silently"
        );
        assert_eq!(must_not_skip(|name| name == "CI"), Some("CI is set"));
        assert_eq!(
            must_not_skip(|_| false),
            None,
            "a bare cargo test on a laptop may skip, loudly"
        );
    }
}
