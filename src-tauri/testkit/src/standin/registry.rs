//! ECR's two faces kept in step: real ECR shows a `docker push` through its API at once
//! (DescribeImages, BatchGetImage), but the test registry and moto are separate, so the
//! stand-in copies each pushed tag's manifest into moto with PutImage (keeping the
//! registry's digest). Each tag is copied once, so an image a test deletes through the
//! API stays deleted there, as a lifecycle rule's deletion would.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use crate::standin::decode_token;

const MANIFEST_TYPES: &str = "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.index.v1+json";

pub struct Mirror {
    http: Option<reqwest::Client>,
    copied: HashSet<(String, String, String)>,
    last: Option<Instant>,
}

/// How often the registry is looked at (a push takes longer than this to deploy).
const EVERY: Duration = Duration::from_millis(500);

impl Mirror {
    /// Trusts the test registry's CA (`SLIPWAY_TEST_ECR_CA`); without it nothing is copied.
    pub fn new() -> Self {
        let http = std::env::var("SLIPWAY_TEST_ECR_CA")
            .ok()
            .and_then(|path| std::fs::read(path).ok())
            .and_then(|pem| reqwest::Certificate::from_pem(&pem).ok())
            .and_then(|ca| {
                reqwest::Client::builder()
                    .add_root_certificate(ca)
                    .timeout(std::time::Duration::from_secs(5))
                    .build()
                    .ok()
            });
        Self {
            http,
            copied: HashSet::new(),
            last: None,
        }
    }

    /// Copies tags pushed since the last call into moto's repositories of the region.
    pub async fn copy_new_pushes(&mut self, ecr: &aws_sdk_ecr::Client) {
        let Some(http) = self.http.clone() else {
            return;
        };
        if self.last.is_some_and(|at| at.elapsed() < EVERY) {
            return;
        }
        self.last = Some(Instant::now());
        let Ok(repositories) = ecr.describe_repositories().send().await else {
            return;
        };
        let Some(auth) = login(ecr).await else {
            return;
        };
        for repository in repositories.repositories() {
            let (Some(name), Some(uri)) =
                (repository.repository_name(), repository.repository_uri())
            else {
                continue;
            };
            let host = uri.split('/').next().unwrap_or_default();
            let Some(tags) = tags(&http, host, name, &auth).await else {
                continue;
            };
            for tag in tags {
                let Some((manifest, media_type, digest)) =
                    manifest(&http, host, name, &tag, &auth).await
                else {
                    continue;
                };
                let key = (name.to_owned(), tag.clone(), digest.clone());
                if self.copied.contains(&key) {
                    continue;
                }
                let put = ecr
                    .put_image()
                    .repository_name(name)
                    .image_manifest(manifest)
                    .image_manifest_media_type(media_type)
                    .image_tag(&tag)
                    .image_digest(&digest)
                    .send()
                    .await;
                // An ImageAlreadyExistsException means moto has it already (a re-tag).
                if put.is_ok()
                    || put.as_ref().is_err_and(|e| {
                        e.as_service_error()
                            .is_some_and(|s| s.is_image_already_exists_exception())
                    })
                {
                    self.copied.insert(key);
                }
            }
        }
    }
}

async fn login(ecr: &aws_sdk_ecr::Client) -> Option<(String, String)> {
    let token = ecr.get_authorization_token().send().await.ok()?;
    let decoded = token
        .authorization_data()
        .first()
        .and_then(|a| a.authorization_token())
        .and_then(decode_token)?;
    let (user, password) = decoded.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

async fn tags(
    http: &reqwest::Client,
    host: &str,
    name: &str,
    (user, password): &(String, String),
) -> Option<Vec<String>> {
    let answer = http
        .get(format!("https://{host}/v2/{name}/tags/list"))
        .basic_auth(user, Some(password))
        .send()
        .await
        .ok()?;
    if !answer.status().is_success() {
        return None;
    }
    let body: serde_json::Value = answer.json().await.ok()?;
    Some(
        body["tags"]
            .as_array()?
            .iter()
            .filter_map(|t| t.as_str().map(str::to_owned))
            .collect(),
    )
}

async fn manifest(
    http: &reqwest::Client,
    host: &str,
    name: &str,
    tag: &str,
    (user, password): &(String, String),
) -> Option<(String, String, String)> {
    let answer = http
        .get(format!("https://{host}/v2/{name}/manifests/{tag}"))
        .basic_auth(user, Some(password))
        .header("Accept", MANIFEST_TYPES)
        .send()
        .await
        .ok()?;
    if !answer.status().is_success() {
        return None;
    }
    let header = |name: &str| {
        answer
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let digest = header("docker-content-digest")?;
    let media_type = header("content-type")?;
    let body = answer.text().await.ok()?;
    Some((body, media_type, digest))
}
