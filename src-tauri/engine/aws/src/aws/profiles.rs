//! Reading the AWS CLI's `config` and `credentials` files, as the CLI lays them out, to list
//! profiles with their kind and region. Slipway parses them itself (read-only) so that a
//! malformed line is reported with its file and line number; the SDK still does the
//! credential work from the same files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use slipway_core::host::HostEnv;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
pub enum ProfileKind {
    AccessKeys,
    Sso,
    /// Made by the AWS CLI's console sign-in (`login_session`).
    ConsoleSignIn,
    AssumeRole,
    CredentialProcess,
    WebIdentity,
    /// Settings (a region, say) but no way to get credentials.
    NoCredentials,
}

#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct AwsProfile {
    pub name: String,
    pub kind: ProfileKind,
    pub region: Option<String>,
    /// The files that define this profile, config first.
    pub defined_in: Vec<String>,
    pub sso_session: Option<String>,
    pub endpoint_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct AwsFile {
    pub path: String,
    pub exists: bool,
}

/// A line Slipway could not read. The file is still used up to and after that line.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct AwsFileProblem {
    pub path: String,
    pub line: u32,
    pub problem: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct EnvironmentCredentials {
    /// The key id with all but its first 4 and last 4 characters hidden.
    pub access_key_id: String,
    pub has_session_token: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct AwsProfiles {
    pub config_file: AwsFile,
    pub credentials_file: AwsFile,
    pub profiles: Vec<AwsProfile>,
    /// AWS_PROFILE when set, else "default".
    pub selected_profile: String,
    pub environment: Option<EnvironmentCredentials>,
    pub environment_region: Option<String>,
    pub problems: Vec<AwsFileProblem>,
}

impl AwsProfiles {
    pub fn get(&self, name: &str) -> Option<&AwsProfile> {
        self.profiles.iter().find(|p| p.name == name)
    }

    /// The first problem in the file that defines `profile`, if any.
    pub fn problem_for(&self, profile: &AwsProfile) -> Option<&AwsFileProblem> {
        self.problems
            .iter()
            .find(|p| profile.defined_in.contains(&p.path))
    }
}

/// The paths of the AWS CLI's two files on this host, honouring AWS_CONFIG_FILE and
/// AWS_SHARED_CREDENTIALS_FILE as the CLI does.
pub fn file_paths(host: &HostEnv) -> (PathBuf, PathBuf) {
    let aws_dir = host.home.clone().unwrap_or_default().join(".aws");
    let config = host
        .var("AWS_CONFIG_FILE")
        .map(PathBuf::from)
        .unwrap_or_else(|| aws_dir.join("config"));
    let credentials = host
        .var("AWS_SHARED_CREDENTIALS_FILE")
        .map(PathBuf::from)
        .unwrap_or_else(|| aws_dir.join("credentials"));
    (config, credentials)
}

/// A `[section]` of an INI-style AWS file with its keys (lower-cased) and values.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Section {
    pub header: String,
    pub keys: BTreeMap<String, String>,
}

/// Parses the AWS CLI's INI dialect: `[section]`, `key = value`, `#`/`;` comments and
/// indented sub-keys under an empty value (`s3 =\n  max_concurrent_requests = 10`).
/// Returns every section it could read and every line it could not.
pub(crate) fn parse_ini(text: &str) -> (Vec<Section>, Vec<(u32, String)>) {
    let mut sections: Vec<Section> = Vec::new();
    let mut problems = Vec::new();
    let mut in_nested = false;
    for (index, raw) in text.lines().enumerate() {
        let line_no = index as u32 + 1;
        let line = raw.trim_end();
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
            continue;
        }
        let indented = line.len() != trimmed.len();
        if trimmed.starts_with('[') {
            in_nested = false;
            match trimmed.find(']') {
                Some(end)
                    if trimmed[end + 1..].trim().is_empty() || is_comment(&trimmed[end + 1..]) =>
                {
                    let header = trimmed[1..end].trim();
                    if header.is_empty() {
                        problems
                            .push((line_no, "a section header with no name (\"[]\")".to_owned()));
                    } else {
                        sections.push(Section {
                            header: header.to_owned(),
                            keys: BTreeMap::new(),
                        });
                    }
                }
                Some(_) => problems.push((
                    line_no,
                    format!("unexpected text after the section header \"{trimmed}\""),
                )),
                None => problems.push((
                    line_no,
                    format!("the section header \"{trimmed}\" has no closing \"]\""),
                )),
            }
            continue;
        }
        if indented && in_nested {
            continue; // a sub-key of a nested setting; profiles never need these
        }
        let Some((key, value)) = trimmed.split_once('=') else {
            problems.push((
                line_no,
                format!("expected \"key = value\", found \"{}\"", shorten(trimmed)),
            ));
            continue;
        };
        let key = key.trim();
        if key.is_empty() {
            problems.push((line_no, "a value with no key before \"=\"".to_owned()));
            continue;
        }
        let Some(section) = sections.last_mut() else {
            problems.push((
                line_no,
                format!("\"{key}\" appears before any [section] header"),
            ));
            continue;
        };
        let value = value.trim();
        in_nested = value.is_empty();
        section.keys.insert(key.to_lowercase(), value.to_owned());
    }
    (sections, problems)
}

fn is_comment(rest: &str) -> bool {
    let rest = rest.trim_start();
    rest.starts_with('#') || rest.starts_with(';')
}

/// Never echo a long line: it may hold a secret pasted in the wrong place.
fn shorten(line: &str) -> String {
    let visible: String = line.chars().take(24).collect();
    if line.chars().count() > 24 {
        format!("{visible}…")
    } else {
        visible
    }
}

struct FileRead {
    file: AwsFile,
    sections: Vec<Section>,
    problems: Vec<AwsFileProblem>,
}

fn read_file(path: &Path) -> FileRead {
    let shown = path.display().to_string();
    let (text, exists, read_problem) = match std::fs::read_to_string(path) {
        Ok(text) => (text, true, None),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => (String::new(), false, None),
        Err(e) => (String::new(), true, Some(format!("could not be read: {e}"))),
    };
    let (sections, lines) = parse_ini(&text);
    let mut problems: Vec<AwsFileProblem> = lines
        .into_iter()
        .map(|(line, problem)| AwsFileProblem {
            path: shown.clone(),
            line,
            problem,
        })
        .collect();
    if let Some(problem) = read_problem {
        problems.push(AwsFileProblem {
            path: shown.clone(),
            line: 0,
            problem,
        });
    }
    FileRead {
        file: AwsFile {
            path: shown,
            exists,
        },
        sections,
        problems,
    }
}

/// Lists the profiles of both files, merged by name, with the environment's credentials.
pub fn read_profiles(host: &HostEnv) -> AwsProfiles {
    let (config_path, credentials_path) = file_paths(host);
    let config = read_file(&config_path);
    let credentials = read_file(&credentials_path);

    // name -> (merged keys, files that define it); config wins for settings, as in the CLI.
    let mut merged: BTreeMap<String, (BTreeMap<String, String>, Vec<String>)> = BTreeMap::new();
    for section in &credentials.sections {
        let entry = merged.entry(section.header.clone()).or_default();
        entry.0.extend(section.keys.clone());
        entry.1.push(credentials.file.path.clone());
    }
    for section in &config.sections {
        let name = match section.header.as_str() {
            "default" => "default",
            other => match other.strip_prefix("profile ") {
                Some(name) => name.trim(),
                None => continue, // sso-session, services and other non-profile sections
            },
        };
        let entry = merged.entry(name.to_owned()).or_default();
        for (k, v) in &section.keys {
            entry.0.entry(k.clone()).or_insert_with(|| v.clone());
        }
        entry.1.insert(0, config.file.path.clone());
    }

    let profiles = merged
        .into_iter()
        .map(|(name, (keys, defined_in))| AwsProfile {
            kind: kind_of(&keys),
            region: keys.get("region").cloned(),
            sso_session: keys.get("sso_session").cloned(),
            endpoint_url: keys.get("endpoint_url").cloned(),
            name,
            defined_in,
        })
        .collect();

    let environment = host
        .var("AWS_ACCESS_KEY_ID")
        .map(|key| EnvironmentCredentials {
            access_key_id: mask_key_id(key),
            has_session_token: host.var("AWS_SESSION_TOKEN").is_some(),
        });

    AwsProfiles {
        config_file: config.file,
        credentials_file: credentials.file,
        profiles,
        selected_profile: host.var("AWS_PROFILE").unwrap_or("default").to_owned(),
        environment,
        environment_region: host
            .var("AWS_REGION")
            .or(host.var("AWS_DEFAULT_REGION"))
            .map(str::to_owned),
        problems: config
            .problems
            .into_iter()
            .chain(credentials.problems)
            .collect(),
    }
}

/// The keys of `profile`'s section in the config file (`[default]` or `[profile NAME]`).
fn config_keys(host: &HostEnv, profile: &str) -> Option<BTreeMap<String, String>> {
    let (config_path, _) = file_paths(host);
    let text = std::fs::read_to_string(config_path).ok()?;
    let (sections, _) = parse_ini(&text);
    let header = if profile == "default" {
        "default".to_owned()
    } else {
        format!("profile {profile}")
    };
    sections
        .into_iter()
        .find(|s| s.header == header)
        .map(|s| s.keys)
}

/// The SSO settings of a profile: its `[sso-session NAME]` section or its legacy keys.
pub(crate) fn sso_settings(
    host: &HostEnv,
    profile: &str,
) -> Option<(Option<String>, Option<String>)> {
    let keys = config_keys(host, profile)?;
    Some((
        keys.get("sso_session").cloned(),
        keys.get("sso_start_url").cloned(),
    ))
}

/// The `login_session` of a profile made by the AWS CLI's console sign-in, if it is one.
pub(crate) fn login_session(host: &HostEnv, profile: &str) -> Option<String> {
    config_keys(host, profile)?.get("login_session").cloned()
}

fn kind_of(keys: &BTreeMap<String, String>) -> ProfileKind {
    // The same precedence as the SDK's profile provider.
    if keys.contains_key("role_arn") {
        if keys.contains_key("web_identity_token_file") {
            ProfileKind::WebIdentity
        } else {
            ProfileKind::AssumeRole
        }
    } else if keys.contains_key("sso_session") || keys.contains_key("sso_start_url") {
        ProfileKind::Sso
    } else if keys.contains_key("login_session") {
        ProfileKind::ConsoleSignIn
    } else if keys.contains_key("credential_process") {
        ProfileKind::CredentialProcess
    } else if keys.contains_key("aws_access_key_id") {
        ProfileKind::AccessKeys
    } else {
        ProfileKind::NoCredentials
    }
}

pub fn mask_key_id(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    if chars.len() <= 8 {
        return "•".repeat(chars.len());
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}…{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use slipway_core::host::Os;

    fn host_with(config: &str, credentials: &str) -> (tempfile::TempDir, HostEnv) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(".aws")).unwrap();
        std::fs::write(dir.path().join(".aws/config"), config).unwrap();
        std::fs::write(dir.path().join(".aws/credentials"), credentials).unwrap();
        let host = HostEnv::new(Os::Linux, Some(dir.path().to_owned()), []);
        (dir, host)
    }

    #[test]
    fn profiles_from_both_files_are_merged_with_their_kinds() {
        let (_dir, host) = host_with(
            "[default]\nregion = us-west-2\n\n[profile dev]\nsso_session = corp\nsso_account_id = 1\nregion = eu-west-1\n\n\
             [sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\n\n[profile admin]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = default\n",
            "[default]\naws_access_key_id = AKIAEXAMPLE12345678\naws_secret_access_key = s3cr3t\n\n[ci]\naws_access_key_id = AKIAOTHER\naws_secret_access_key = x\n",
        );
        let found = read_profiles(&host);
        let kinds: Vec<_> = found
            .profiles
            .iter()
            .map(|p| (p.name.as_str(), p.kind))
            .collect();
        assert_eq!(
            kinds,
            vec![
                ("admin", ProfileKind::AssumeRole),
                ("ci", ProfileKind::AccessKeys),
                ("default", ProfileKind::AccessKeys),
                ("dev", ProfileKind::Sso),
            ]
        );
        assert_eq!(
            found.get("default").unwrap().region.as_deref(),
            Some("us-west-2")
        );
        assert_eq!(
            found.get("default").unwrap().defined_in.len(),
            2,
            "defined in both files"
        );
        assert!(
            found.get("corp").is_none(),
            "an sso-session section is not a profile"
        );
        assert!(found.problems.is_empty());
    }

    #[test]
    fn a_malformed_line_is_reported_with_file_and_line_and_the_rest_still_read() {
        let (dir, host) = host_with("[default]\nregion = us-east-1\nthis line is broken\n[profile ok]\nregion = eu-west-1\n", "");
        let found = read_profiles(&host);
        assert_eq!(found.problems.len(), 1);
        let problem = &found.problems[0];
        assert_eq!(problem.line, 3);
        assert_eq!(
            problem.path,
            dir.path().join(".aws/config").display().to_string()
        );
        assert!(
            problem.problem.contains("key = value"),
            "{}",
            problem.problem
        );
        assert!(
            found.get("ok").is_some(),
            "a bad line must not hide the profiles after it"
        );
    }

    #[test]
    fn an_unclosed_header_is_a_problem_and_never_echoes_a_long_secret() {
        let (sections, problems) = parse_ini("[default\naws_secret_access_key\n");
        assert!(sections.is_empty());
        assert_eq!(problems[0].0, 1);
        assert!(problems[0].1.contains("closing"));
        let (_, problems) = parse_ini("[x]\nwJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY\n");
        assert!(
            !problems[0].1.contains("EXAMPLEKEY"),
            "a pasted secret must not be printed whole"
        );
    }

    #[test]
    fn nested_settings_and_comments_are_accepted() {
        let (sections, problems) = parse_ini(
            "# c\n[default]\ns3 =\n  max_concurrent_requests = 20\nregion = us-east-1 \n; c2\n",
        );
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(
            sections[0].keys.get("region").map(String::as_str),
            Some("us-east-1")
        );
    }

    #[test]
    fn missing_files_are_not_problems() {
        let dir = tempfile::tempdir().unwrap();
        let host = HostEnv::new(Os::Macos, Some(dir.path().to_owned()), []);
        let found = read_profiles(&host);
        assert!(!found.config_file.exists && !found.credentials_file.exists);
        assert!(found.profiles.is_empty() && found.problems.is_empty());
    }

    #[test]
    fn environment_credentials_are_shown_masked_and_aws_profile_selects() {
        let dir = tempfile::tempdir().unwrap();
        let host = HostEnv::new(
            Os::Linux,
            Some(dir.path().to_owned()),
            [
                ("AWS_ACCESS_KEY_ID".into(), "AKIAIOSFODNN7EXAMPLE".into()),
                ("AWS_SECRET_ACCESS_KEY".into(), "secret".into()),
                ("AWS_PROFILE".into(), "work".into()),
                (
                    "AWS_CONFIG_FILE".into(),
                    dir.path().join("elsewhere").display().to_string(),
                ),
            ],
        );
        let found = read_profiles(&host);
        let env = found.environment.expect("environment credentials");
        assert_eq!(env.access_key_id, "AKIA…MPLE");
        assert!(!env.has_session_token);
        assert_eq!(found.selected_profile, "work");
        assert!(
            found.config_file.path.ends_with("elsewhere"),
            "AWS_CONFIG_FILE is honoured"
        );
    }
}
