//! Image references as Docker reads them (`ghcr.io/org/app:1.2`, `nginx`,
//! `registry:5000/team/app@sha256:…`): parsed once, each malformed part named in words.

use std::fmt;
use std::sync::LazyLock;

use regex::Regex;

/// Docker Hub as the engine names it, and as Docker's config keys its sign-in.
pub const DOCKER_HUB: &str = "docker.io";
pub const DOCKER_HUB_CONFIG_KEY: &str = "https://index.docker.io/v1/";

static HOST: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:]+\])(?::[0-9]+)?$")
        .expect("registry host pattern")
});
static PATH_COMPONENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$").expect("path component pattern")
});
static TAG: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$").expect("tag pattern"));
static DIGEST: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$")
        .expect("digest pattern")
});

/// Docker's limit on the length of an image name (registry and path).
const NAME_MAX: usize = 255;

/// A parsed image reference. `registry` is `docker.io` for Docker Hub, whose one-part names
/// live under `library/` (`nginx` is `docker.io/library/nginx`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    pub registry: String,
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

impl ImageRef {
    /// Reads `text` as Docker does; the error is a sentence saying what is wrong.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("Give the image to deploy, e.g. ghcr.io/org/app:1.2 or nginx:1.27.".into());
        }
        if let Some((scheme, rest)) = text.split_once("://") {
            return Err(format!(
                "Leave out \"{scheme}://\": an image is written as registry/name:tag, e.g. {rest}."
            ));
        }
        if text.chars().any(char::is_whitespace) {
            return Err("An image reference has no spaces.".into());
        }
        let (name_and_tag, digest) = match text.split_once('@') {
            Some((name, digest)) => {
                if !DIGEST.is_match(digest) {
                    return Err(format!(
                        "\"{digest}\" after @ is not a digest; a digest is sha256: followed by 64 hex digits."
                    ));
                }
                (name, Some(digest.to_owned()))
            }
            None => (text, None),
        };
        // A ':' after the last '/' starts the tag; one before it is a registry's port.
        let last_slash = name_and_tag.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match name_and_tag[last_slash..].rfind(':') {
            Some(i) => {
                let at = last_slash + i;
                let tag = &name_and_tag[at + 1..];
                if tag.is_empty() {
                    return Err("Nothing follows the ':'. Give a tag such as 1.2, or leave the ':' out for latest.".into());
                }
                if !TAG.is_match(tag) {
                    return Err(format!(
                        "The tag \"{tag}\" is not valid: a tag is up to 128 letters, digits, _, . and -, and does not start with . or -."
                    ));
                }
                (&name_and_tag[..at], Some(tag.to_owned()))
            }
            None => (name_and_tag, None),
        };
        if name.is_empty() {
            return Err("The image has a tag or digest but no name.".into());
        }
        if name.len() > NAME_MAX {
            return Err(format!(
                "The image name is {} characters; Docker allows at most {NAME_MAX}.",
                name.len()
            ));
        }
        let (registry, path) = split_registry(name);
        if let Some(registry) = &registry {
            if !HOST.is_match(registry) {
                return Err(format!(
                    "\"{registry}\" is not a registry host; write it as a host name with an optional :port, e.g. ghcr.io or registry.example.com:5000."
                ));
            }
        }
        for component in path.split('/') {
            if component.is_empty() {
                return Err(format!(
                    "\"{name}\" has an empty part between slashes (or a slash at an end)."
                ));
            }
            if !PATH_COMPONENT.is_match(component) {
                let lower = component.to_ascii_lowercase();
                return Err(if lower != component && PATH_COMPONENT.is_match(&lower) {
                    format!(
                        "Image names are lowercase: write \"{lower}\" instead of \"{component}\"."
                    )
                } else {
                    format!(
                        "\"{component}\" is not a valid part of an image name: use lowercase letters and digits, with single . _ or - (or __) between them."
                    )
                });
            }
        }
        let registry = match registry.as_deref() {
            None | Some("index.docker.io") => DOCKER_HUB.to_owned(),
            Some(other) => other.to_owned(),
        };
        let repository = if registry == DOCKER_HUB && !path.contains('/') {
            format!("library/{path}")
        } else {
            path.to_owned()
        };
        Ok(Self {
            registry,
            repository,
            tag,
            digest,
        })
    }

    /// What to ask the engine for: the name with its digest, else its tag (`latest` when it
    /// names none, since pulling a bare name would fetch every tag).
    pub fn pull_name(&self) -> String {
        let name = format!("{}/{}", self.registry, self.repository);
        match (&self.digest, &self.tag) {
            (Some(digest), Some(tag)) => format!("{name}:{tag}@{digest}"),
            (Some(digest), None) => format!("{name}@{digest}"),
            (None, tag) => format!("{name}:{}", tag.as_deref().unwrap_or("latest")),
        }
    }

    /// The key Docker's config files use for this registry's sign-in.
    pub fn config_key(&self) -> &str {
        if self.registry == DOCKER_HUB {
            DOCKER_HUB_CONFIG_KEY
        } else {
            &self.registry
        }
    }

    /// The version a release of this image is called by: its tag, unless the tag says
    /// nothing about the version (`latest`, or none).
    pub fn version(&self) -> Option<&str> {
        self.tag.as_deref().filter(|t| *t != "latest")
    }

    /// A proposed app name: the last part of the repository, made into a valid app name.
    pub fn app_name(&self) -> String {
        let last = self.repository.rsplit('/').next().unwrap_or_default();
        let mut name = String::new();
        for c in last.chars() {
            if c.is_ascii_alphanumeric() {
                name.push(c);
            } else if !name.is_empty() && !name.ends_with('-') {
                name.push('-');
            }
        }
        let name = name.trim_end_matches('-').to_owned();
        if crate::project::is_app_name(&name) {
            name
        } else {
            "my-app".into()
        }
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.pull_name())
    }
}

/// The registry part of a name, when it has one: the first part, when it has a `.` or a
/// `:` or is `localhost`; anything else is a Docker Hub namespace. (Docker also takes a
/// first part with capitals for a host; read as a namespace, it gets the clearer message.)
fn split_registry(name: &str) -> (Option<String>, &str) {
    match name.split_once('/') {
        Some((first, rest)) if first.contains(['.', ':']) || first == "localhost" => {
            (Some(first.to_owned()), rest)
        }
        _ => (None, name),
    }
}

/// Docker's config keys a registry by URL or by host: the host of `key`.
pub fn host_of_config_key(key: &str) -> &str {
    let key = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    key.split('/').next().unwrap_or(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> ImageRef {
        ImageRef::parse(text).unwrap_or_else(|e| panic!("{text} should parse: {e}"))
    }

    fn refused(text: &str) -> String {
        ImageRef::parse(text).expect_err(text)
    }

    #[test]
    fn vendor_registry_hub_and_private_registry_references_parse_as_docker_reads_them() {
        let ghcr = parsed("ghcr.io/dbward-dev/dbward-server:v0.1.3");
        assert_eq!(ghcr.registry, "ghcr.io");
        assert_eq!(ghcr.repository, "dbward-dev/dbward-server");
        assert_eq!(ghcr.version(), Some("v0.1.3"));
        assert_eq!(ghcr.app_name(), "dbward-server");

        let hub = parsed("nginx");
        assert_eq!(
            hub.pull_name(),
            "docker.io/library/nginx:latest",
            "a bare Hub name is an official image, pulled at latest (not every tag)"
        );
        assert_eq!(hub.config_key(), DOCKER_HUB_CONFIG_KEY);
        assert_eq!(hub.version(), None, "latest names no version");
        assert_eq!(parsed("bitnami/redis:7.2").registry, DOCKER_HUB);
        assert_eq!(parsed("index.docker.io/library/nginx").registry, DOCKER_HUB);

        let private = parsed("127.0.0.1:5056/team/app:1.2");
        assert_eq!(
            private.registry, "127.0.0.1:5056",
            "a port is the registry's"
        );
        assert_eq!(private.tag.as_deref(), Some("1.2"));
        assert_eq!(private.config_key(), "127.0.0.1:5056");
        assert_eq!(parsed("localhost/app").registry, "localhost");

        let ecr = parsed("123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
        assert_eq!(ecr.tag, None);
        assert!(ecr.pull_name().ends_with(
            "/shop@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
        ));
    }

    #[test]
    fn each_malformed_reference_is_refused_naming_what_is_wrong() {
        assert!(
            refused("").contains("e.g."),
            "an empty field says what to write"
        );
        assert!(refused("https://ghcr.io/org/app:1").contains("Leave out \"https://\""));
        assert!(refused("ghcr.io/org/app :1").contains("no spaces"));
        assert!(refused("ghcr.io/org/app:").contains("Nothing follows the ':'"));
        assert!(refused("ghcr.io/Org/app:1.2").contains("write \"org\" instead of \"Org\""));
        assert!(refused("ghcr.io/org//app").contains("empty part"));
        assert!(refused("ghcr.io/org/app:-bad").contains("The tag \"-bad\""));
        assert!(refused("ghcr.io/org/app@sha256:xyz").contains("is not a digest"));
        assert!(refused("ghcr.io/org/a!pp").contains("\"a!pp\" is not a valid part"));
        assert!(refused("bad_host.io/app").contains("is not a registry host"));
        assert!(refused(":1.2").contains("no name"));
        assert!(refused(&format!("ghcr.io/{}", "a".repeat(300))).contains("at most 255"));
    }

    #[test]
    fn config_keys_written_as_urls_name_their_host() {
        assert_eq!(
            host_of_config_key("https://index.docker.io/v1/"),
            "index.docker.io"
        );
        assert_eq!(
            host_of_config_key("http://127.0.0.1:5056"),
            "127.0.0.1:5056"
        );
        assert_eq!(host_of_config_key("ghcr.io"), "ghcr.io");
    }

    #[test]
    fn an_app_name_is_proposed_from_the_last_part_of_the_name() {
        assert_eq!(
            parsed("ghcr.io/org/My_App".to_lowercase().as_str()).app_name(),
            "my-app"
        );
        assert_eq!(parsed("tomorrowx/cap.agent:3").app_name(), "cap-agent");
        assert_eq!(
            parsed("x").app_name(),
            "my-app",
            "one letter is too short an app name"
        );
    }
}
