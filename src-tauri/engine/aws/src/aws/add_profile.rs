//! Adding an access-key profile for people without the AWS CLI: the key pair goes into
//! the CLI's own `credentials` file (and the region into `config`), exactly as
//! `aws configure --profile NAME` would write it. Both files are written whole to a
//! temporary file that is owner-only from its creation, then renamed into place, so a
//! failure leaves the old file untouched. The secret is never logged, echoed or kept.

use std::path::Path;

use serde::Deserialize;

use super::profiles::{file_paths, read_profiles, AwsProfile};
use slipway_core::error::{EngineError, Result};
use slipway_core::host::HostEnv;
use slipway_core::private_file;

/// A secret that prints as `***` in every Debug output, so it cannot reach a log by way
/// of `{:?}` on a request.
#[derive(Clone, Deserialize, specta::Type)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

#[derive(Debug, Clone, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct NewAccessKeyProfile {
    pub name: String,
    pub access_key_id: String,
    pub secret_access_key: Secret,
    pub region: Option<String>,
}

/// Writes the profile and returns it as the profile list now shows it.
pub fn add_access_key_profile(host: &HostEnv, request: &NewAccessKeyProfile) -> Result<AwsProfile> {
    check(request)?;
    let existing = read_profiles(host);
    let (config_path, credentials_path) = file_paths(host);
    if existing.get(&request.name).is_some() {
        return Err(EngineError::ProfileExists {
            profile: request.name.clone(),
            file: format!(
                "{} or {}",
                credentials_path.display(),
                config_path.display()
            ),
        });
    }
    let credentials = format!(
        "[{}]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
        request.name,
        request.access_key_id,
        request.secret_access_key.expose()
    );
    append_private(&credentials_path, &credentials)?;
    if let Some(region) = &request.region {
        let header = if request.name == "default" {
            "[default]".to_owned()
        } else {
            format!("[profile {}]", request.name)
        };
        append_private(&config_path, &format!("{header}\nregion = {region}\n"))?;
    }
    tracing::info!(profile = %request.name, file = %credentials_path.display(), "added an access key profile");
    read_profiles(host)
        .get(&request.name)
        .cloned()
        .ok_or_else(|| EngineError::Internal("the new profile could not be read back".into()))
}

fn check(request: &NewAccessKeyProfile) -> Result<()> {
    let invalid = |what: &str, reason: &str| EngineError::InvalidInput {
        what: what.to_owned(),
        reason: reason.to_owned(),
    };
    let name = &request.name;
    if name.is_empty()
        || name.len() > 64
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.@+".contains(c))
    {
        return Err(invalid(
            "The profile name",
            "use up to 64 letters, digits and - _ . @ + (for example work or my-demo)",
        ));
    }
    let id = &request.access_key_id;
    if !(16..=128).contains(&id.len())
        || !id
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    {
        return Err(invalid(
            "The access key ID",
            "it is 16 or more capital letters and digits, starting with AKIA for a long-term key (copy it from the IAM console)",
        ));
    }
    let secret = request.secret_access_key.expose();
    if secret.len() < 16 || secret.chars().any(char::is_whitespace) {
        return Err(invalid(
            "The secret access key",
            "it is a 40-character string without spaces, shown once when the key is created",
        ));
    }
    if let Some(region) = &request.region {
        let ok = regex::Regex::new(r"^[a-z]{2}(-[a-z]+)+-\d$")
            .expect("region pattern")
            .is_match(region);
        if !ok {
            return Err(invalid(
                "The region",
                "use a region code such as us-east-1 or eu-west-2",
            ));
        }
    }
    Ok(())
}

/// Appends `text` to `path` as a new whole file: the old content, a blank line, `text`,
/// written owner-only (see [`private_file`]).
fn append_private(path: &Path, text: &str) -> Result<()> {
    let mut content = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(EngineError::io(path, e)),
    };
    if !content.is_empty() {
        if !content.ends_with('\n') {
            content.push('\n');
        }
        content.push('\n');
    }
    content.push_str(text);
    private_file::write(path, &content)
}

#[cfg(test)]
mod tests {
    use super::*;
    use slipway_core::host::Os;

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

    fn request(name: &str) -> NewAccessKeyProfile {
        NewAccessKeyProfile {
            name: name.into(),
            access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
            secret_access_key: Secret::new(SECRET),
            region: Some("eu-west-2".into()),
        }
    }

    #[test]
    fn a_new_profile_is_written_owner_only_and_read_back_with_its_region() {
        let home = tempfile::tempdir().unwrap();
        let host = HostEnv::new(Os::Linux, Some(home.path().to_owned()), []);
        let profile = add_access_key_profile(&host, &request("demo")).unwrap();
        assert_eq!(profile.region.as_deref(), Some("eu-west-2"));
        let credentials = home.path().join(".aws/credentials");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&credentials)
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "only the owner may read the key");
            let dir_mode = std::fs::metadata(home.path().join(".aws"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(dir_mode & 0o777, 0o700);
        }
        let config = std::fs::read_to_string(home.path().join(".aws/config")).unwrap();
        assert!(
            !config.contains(SECRET),
            "the secret goes to the credentials file only"
        );
        assert_eq!(format!("{:?}", request("x")).matches(SECRET).count(), 0);
    }

    #[cfg(unix)]
    #[test]
    fn a_symlinked_credentials_file_is_written_through_its_link() {
        let home = tempfile::tempdir().unwrap();
        let dotfiles = home.path().join("dotfiles");
        std::fs::create_dir_all(&dotfiles).unwrap();
        std::fs::write(
            dotfiles.join("credentials"),
            "[old]\naws_access_key_id = AKIAOLD\naws_secret_access_key = o\n",
        )
        .unwrap();
        std::fs::create_dir_all(home.path().join(".aws")).unwrap();
        std::os::unix::fs::symlink(
            dotfiles.join("credentials"),
            home.path().join(".aws/credentials"),
        )
        .unwrap();
        let host = HostEnv::new(Os::Linux, Some(home.path().to_owned()), []);
        let mut req = request("linked");
        req.region = None;
        add_access_key_profile(&host, &req).unwrap();
        let link = home.path().join(".aws/credentials");
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink(),
            "the link is kept"
        );
        let target = std::fs::read_to_string(dotfiles.join("credentials")).unwrap();
        assert!(target.contains("[old]") && target.contains("[linked]"));
        let leftovers: Vec<_> = std::fs::read_dir(&dotfiles)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(
            leftovers.is_empty(),
            "no temporary file with the secret is left"
        );
    }

    #[test]
    fn an_existing_profile_or_a_bad_key_changes_no_file() {
        let home = tempfile::tempdir().unwrap();
        slipway_core::test_support::write_aws_files(
            home.path(),
            "# mine\n[profile demo]\nregion = us-east-1\n",
            "[demo]\naws_access_key_id = AKIAOLD\naws_secret_access_key = old\n",
        );
        let host = HostEnv::new(Os::Linux, Some(home.path().to_owned()), []);
        let before = std::fs::read_to_string(home.path().join(".aws/credentials")).unwrap();
        assert!(matches!(
            add_access_key_profile(&host, &request("demo")),
            Err(EngineError::ProfileExists { .. })
        ));
        let mut bad = request("other");
        bad.access_key_id = "akia lower".into();
        assert!(matches!(
            add_access_key_profile(&host, &bad),
            Err(EngineError::InvalidInput { .. })
        ));
        assert_eq!(
            std::fs::read_to_string(home.path().join(".aws/credentials")).unwrap(),
            before
        );

        add_access_key_profile(&host, &request("other")).unwrap();
        let after = std::fs::read_to_string(home.path().join(".aws/credentials")).unwrap();
        assert!(
            after.starts_with(&before),
            "existing profiles are kept as they were"
        );
        let config = std::fs::read_to_string(home.path().join(".aws/config")).unwrap();
        assert!(
            config.starts_with("# mine\n")
                && config.contains("[profile other]\nregion = eu-west-2")
        );
    }
}
