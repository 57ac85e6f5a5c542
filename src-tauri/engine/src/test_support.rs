//! What tests of every layer need to find the test environment that `tests/env/up`
//! starts. Lives in the engine so the engine, desktop and end-to-end tests share one rule:
//! outside CI a missing environment skips loudly; under CI it fails. Also the one way tests
//! give a temporary home its own AWS CLI files.

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

/// Writes `home/.aws/config` and `home/.aws/credentials` with the given contents, as the
/// AWS CLI lays them out, so a test's host never reads the real `~/.aws`.
pub fn write_aws_files(home: &std::path::Path, config: &str, credentials: &str) {
    let dir = home.join(".aws");
    std::fs::create_dir_all(&dir).expect("create the test's .aws directory");
    std::fs::write(dir.join("config"), config).expect("write the test's AWS config");
    std::fs::write(dir.join("credentials"), credentials).expect("write the test's AWS credentials");
}

/// A temporary folder holding `files` (relative path, contents), for the engine's unit tests.
#[cfg(test)]
pub(crate) fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary folder");
    for (name, contents) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().expect("a file has a folder")).unwrap();
        std::fs::write(path, contents).unwrap();
    }
    dir
}
