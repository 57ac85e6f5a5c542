//! A registry's sign-in, found where Docker keeps it: `config.json` in `$DOCKER_CONFIG` or
//! `~/.docker` (of the [`HostEnv`], never the process), through its `credHelpers` or
//! `credsStore` helper (`docker-credential-NAME get`) or its `auths` entry. Slipway stores
//! no credential of its own and never logs one.

use std::io::Write;
use std::path::PathBuf;
use std::process::Stdio;

use base64::Engine as _;
use bollard::auth::DockerCredentials;
use serde_json::Value;

use slipway_core::host::HostEnv;
use slipway_core::project::image_ref::{host_of_config_key, ImageRef};

/// A sign-in found for a registry, and where it came from (for the build log; never the
/// secret itself).
#[derive(Clone)]
pub struct Login {
    pub credentials: DockerCredentials,
    pub username: String,
    pub source: String,
}

impl std::fmt::Debug for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Login")
            .field("username", &self.username)
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

/// Where Docker's config file is for this host.
pub fn config_path(host: &HostEnv) -> Option<PathBuf> {
    match host.var("DOCKER_CONFIG") {
        Some(dir) => Some(PathBuf::from(dir).join("config.json")),
        None => host
            .home
            .as_ref()
            .map(|home| home.join(".docker").join("config.json")),
    }
}

/// The sign-in for `image`'s registry, `None` when the Docker config has none (the pull
/// is then anonymous). The error says what in the config could not be used.
pub fn login_for(host: &HostEnv, image: &ImageRef) -> Result<Option<Login>, String> {
    let Some(path) = config_path(host) else {
        return Ok(None);
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{} could not be read: {e}", path.display())),
    };
    let config: Value = serde_json::from_str(&text)
        .map_err(|e| format!("{} is not valid JSON ({e})", path.display()))?;
    let shown = path.display().to_string();
    let registry = image.registry.as_str();
    let matches = |key: &str| {
        let host = host_of_config_key(key);
        host == registry
            || (image.config_key() == slipway_core::project::image_ref::DOCKER_HUB_CONFIG_KEY
                && host == "index.docker.io")
    };
    let helper_for_registry = config
        .get("credHelpers")
        .and_then(Value::as_object)
        .and_then(|helpers| helpers.iter().find(|(key, _)| matches(key)))
        .and_then(|(_, name)| name.as_str());
    if let Some(helper) = helper_for_registry {
        return run_helper(host, helper, image.config_key());
    }
    if let Some(store) = config.get("credsStore").and_then(Value::as_str) {
        if let Some(login) = run_helper(host, store, image.config_key())? {
            return Ok(Some(login));
        }
    }
    let Some((key, entry)) = config
        .get("auths")
        .and_then(Value::as_object)
        .and_then(|auths| auths.iter().find(|(key, _)| matches(key)))
    else {
        return Ok(None);
    };
    from_auths_entry(entry, key, &shown)
}

/// An `auths` entry: `auth` (base64 of `user:password`), or `username` and `password`, or an
/// `identitytoken`. An empty entry (what `docker login` leaves beside a credential store)
/// holds none.
fn from_auths_entry(entry: &Value, key: &str, file: &str) -> Result<Option<Login>, String> {
    let field = |name: &str| {
        entry
            .get(name)
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
    };
    let source = format!("{file} (auths, {key})");
    if let Some(token) = field("identitytoken") {
        return Ok(Some(Login {
            username: field("username").unwrap_or("<token>").to_owned(),
            credentials: DockerCredentials {
                identitytoken: Some(token.to_owned()),
                serveraddress: Some(key.to_owned()),
                ..Default::default()
            },
            source,
        }));
    }
    let (username, password) = match field("auth") {
        Some(auth) => {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(auth.trim())
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .ok_or_else(|| format!("the sign-in for {key} in {file} is not valid base64"))?;
            let (user, password) = decoded.split_once(':').ok_or_else(|| {
                format!("the sign-in for {key} in {file} is not of the form user:password")
            })?;
            (user.to_owned(), password.to_owned())
        }
        None => match (field("username"), field("password")) {
            (Some(user), Some(password)) => (user.to_owned(), password.to_owned()),
            (None, None) => return Ok(None),
            _ => {
                return Err(format!(
                    "the entry for {key} in {file} has a user name or a password but not both"
                ))
            }
        },
    };
    Ok(Some(Login {
        credentials: DockerCredentials {
            username: Some(username.clone()),
            password: Some(password),
            serveraddress: Some(key.to_owned()),
            ..Default::default()
        },
        username,
        source,
    }))
}

/// Asks `docker-credential-<helper>` (found on the host's PATH) for `server`'s sign-in;
/// `None` when it has none.
fn run_helper(host: &HostEnv, helper: &str, server: &str) -> Result<Option<Login>, String> {
    let program = format!("docker-credential-{helper}");
    let mut command = slipway_core::host::command(&program);
    command
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(path) = host.var("PATH") {
        command.env("PATH", path);
    }
    let mut child = command.spawn().map_err(|e| {
        format!("the Docker config names the credential helper {program}, which could not be started ({e})")
    })?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(server.as_bytes())
            .map_err(|e| format!("{program} did not take the registry's name: {e}"))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| format!("{program} did not answer: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        // The helpers' protocol has no code for "none": only this message says so.
        if stdout.contains("credentials not found") {
            return Ok(None);
        }
        let stderr = String::from_utf8_lossy(&out.stderr);
        return Err(format!(
            "{program} failed: {}",
            [stdout.trim(), stderr.trim()]
                .iter()
                .find(|s| !s.is_empty())
                .copied()
                .unwrap_or("no message")
        ));
    }
    let answer: Value = serde_json::from_str(&stdout)
        .map_err(|e| format!("{program} answered something that is not JSON ({e})"))?;
    let username = answer
        .get("Username")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let secret = answer
        .get("Secret")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if secret.is_empty() {
        return Ok(None);
    }
    let mut credentials = DockerCredentials {
        serveraddress: Some(server.to_owned()),
        ..Default::default()
    };
    // A helper hands out an identity token under the user name "<token>".
    if username == "<token>" {
        credentials.identitytoken = Some(secret.to_owned());
    } else {
        credentials.username = Some(username.to_owned());
        credentials.password = Some(secret.to_owned());
    }
    Ok(Some(Login {
        credentials,
        username: username.to_owned(),
        source: program,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use slipway_core::host::Os;

    fn no_vars() -> Vec<(String, String)> {
        Vec::new()
    }

    fn host_with_config(json: &str) -> (tempfile::TempDir, HostEnv) {
        let home = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(home.path().join(".docker")).unwrap();
        std::fs::write(home.path().join(".docker/config.json"), json).unwrap();
        let host = HostEnv::new(Os::Linux, Some(home.path().to_owned()), no_vars());
        (home, host)
    }

    fn image(text: &str) -> ImageRef {
        ImageRef::parse(text).unwrap()
    }

    #[test]
    fn a_base64_auth_entry_gives_the_user_and_password_of_that_registry_only() {
        let auth = base64::engine::general_purpose::STANDARD.encode("ana:s3cret:with-colon");
        let (_home, host) = host_with_config(&format!(
            r#"{{"auths": {{"http://127.0.0.1:5056": {{"auth": "{auth}"}},
                "https://index.docker.io/v1/": {{"username": "hub", "password": "pw"}}}}}}"#
        ));
        let login = login_for(&host, &image("127.0.0.1:5056/team/app:1.2"))
            .unwrap()
            .expect("the registry has an entry, keyed by URL");
        assert_eq!(login.credentials.username.as_deref(), Some("ana"));
        assert_eq!(
            login.credentials.password.as_deref(),
            Some("s3cret:with-colon"),
            "only the first ':' separates the user"
        );
        assert!(
            !format!("{login:?}").contains("s3cret"),
            "a sign-in never prints its secret"
        );
        let hub = login_for(&host, &image("nginx:1.27")).unwrap().unwrap();
        assert_eq!(
            hub.credentials.username.as_deref(),
            Some("hub"),
            "Docker Hub's key is its v1 URL"
        );
        assert!(
            login_for(&host, &image("ghcr.io/org/app"))
                .unwrap()
                .is_none(),
            "a registry without an entry is pulled anonymously"
        );
    }

    #[test]
    fn no_config_means_anonymous_and_a_broken_one_is_named() {
        let home = tempfile::tempdir().unwrap();
        let host = HostEnv::new(Os::Linux, Some(home.path().to_owned()), no_vars());
        assert!(login_for(&host, &image("nginx")).unwrap().is_none());
        let (_home, host) = host_with_config("{not json");
        let err = login_for(&host, &image("nginx")).unwrap_err();
        assert!(err.contains("config.json is not valid JSON"), "{err}");
        let (_home, host) = host_with_config(r#"{"auths": {"ghcr.io": {"auth": "%%%"}}}"#);
        let err = login_for(&host, &image("ghcr.io/org/app")).unwrap_err();
        assert!(err.contains("not valid base64"), "{err}");
    }

    #[test]
    fn docker_config_points_at_another_folder() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("config.json"),
            r#"{"auths": {"ghcr.io": {"identitytoken": "tok"}}}"#,
        )
        .unwrap();
        let host = HostEnv::new(Os::Linux, None, no_vars())
            .with_var("DOCKER_CONFIG", dir.path().display().to_string());
        let login = login_for(&host, &image("ghcr.io/org/app"))
            .unwrap()
            .unwrap();
        assert_eq!(login.credentials.identitytoken.as_deref(), Some("tok"));
    }

    #[cfg(unix)]
    #[test]
    fn a_credential_helper_is_asked_with_the_registry_on_its_input() {
        use std::os::unix::fs::PermissionsExt;
        let bin = tempfile::tempdir().unwrap();
        let helper = bin.path().join("docker-credential-fake");
        std::fs::write(
            &helper,
            "#!/bin/sh\nread server\nif [ \"$server\" = ghcr.io ]; then\n  printf '{\"ServerURL\":\"ghcr.io\",\"Username\":\"bot\",\"Secret\":\"from-helper\"}'\nelse\n  echo 'credentials not found in native keychain'; exit 1\nfi\n",
        )
        .unwrap();
        std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
        let (_home, host) =
            host_with_config(r#"{"credsStore": "fake", "auths": {"quay.io": {"auth": "cTpw"}}}"#);
        let host = host.with_var("PATH", format!("{}:/usr/bin:/bin", bin.path().display()));
        let login = login_for(&host, &image("ghcr.io/org/app"))
            .unwrap()
            .unwrap();
        assert_eq!(login.credentials.password.as_deref(), Some("from-helper"));
        assert_eq!(login.source, "docker-credential-fake");
        let quay = login_for(&host, &image("quay.io/org/app"))
            .unwrap()
            .unwrap();
        assert_eq!(
            quay.credentials.username.as_deref(),
            Some("q"),
            "what the store does not know falls back to auths"
        );

        let (_home, host) = host_with_config(
            r#"{"credsStore": "fake", "auths": {"https://index.docker.io/v1/": {}}}"#,
        );
        let host = host.with_var("PATH", format!("{}:/usr/bin:/bin", bin.path().display()));
        assert!(
            login_for(&host, &image("nginx")).unwrap().is_none(),
            "an empty entry beside a store that knows nothing is an anonymous pull"
        );

        let (_home, host) = host_with_config(r#"{"credHelpers": {"ghcr.io": "missing"}}"#);
        let err = login_for(&host, &image("ghcr.io/org/app")).unwrap_err();
        assert!(
            err.contains("docker-credential-missing"),
            "a helper that is not installed is named: {err}"
        );
    }
}
