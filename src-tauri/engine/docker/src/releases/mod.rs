//! Local releases: every successful build is an image labelled with its app, version and
//! content fingerprint. Docker's images are the record; this module reads them, says which
//! release the preview runs, and picks what a local rollback goes back to. The data file
//! only notes which image each content became (`record`), so that a build finds it
//! without listing every image on the engine.

mod record;

use std::collections::HashMap;

use bollard::query_parameters::ListImagesOptions;
use bollard::Docker;
use serde::Serialize;

use crate::docker::engine_error;
use record::{Record, Recorded};
use slipway_core::error::{EngineError, Result};
use slipway_core::host::HostEnv;

/// The labels Slipway puts on the images it builds and the containers it runs.
///
/// An image carries one label, `RELEASE` = `<app>:<version>:<fingerprint>`: the classic
/// builder adds each build label as a step of its own (about 80 ms each here), so one label
/// keeps a rebuild close to a plain `docker build`. Containers get theirs at creation, free.
pub mod labels {
    pub const RELEASE: &str = "dev.slipway.release";
    pub const APP: &str = "dev.slipway.app";
    pub const VERSION: &str = "dev.slipway.version";
    pub const PROJECT: &str = "dev.slipway.project";

    pub fn release(app: &str, version: &str, fingerprint: &str) -> String {
        format!("{app}:{version}:{fingerprint}")
    }

    /// (app, version, fingerprint) from a release label; app names and versions never
    /// contain ':' (validation and tag rules see to that).
    pub fn parse_release(value: &str) -> Option<(&str, &str, &str)> {
        let mut parts = value.splitn(3, ':');
        Some((parts.next()?, parts.next()?, parts.next()?))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct LocalRelease {
    pub app: String,
    pub version: String,
    pub image_id: String,
    /// Tags such as `hello-site:20261121-143005` and `hello-site:latest`.
    pub tags: Vec<String>,
    /// Seconds since the Unix epoch.
    pub created_at: f64,
    pub size_bytes: f64,
    pub fingerprint: String,
    /// True when `<app>:latest` points at this release.
    pub latest: bool,
}

/// The app's local releases, newest first.
pub async fn list(docker: &Docker, app: &str) -> Result<Vec<LocalRelease>> {
    let images = docker
        .list_images(Some(ListImagesOptions {
            filters: Some(HashMap::from([(
                "label".to_owned(),
                vec![labels::RELEASE.to_owned()],
            )])),
            ..Default::default()
        }))
        .await
        .map_err(|e| engine_error("list images", e))?;
    let mut releases: Vec<LocalRelease> = images
        .into_iter()
        .filter_map(|image| {
            release_from(
                app,
                &image.labels,
                &image.id,
                &image.repo_tags,
                image.created as f64,
                image.size as f64,
            )
        })
        .collect();
    // Newest first; images built within one second keep their version order.
    releases.sort_by(|a, b| {
        b.created_at
            .total_cmp(&a.created_at)
            .then(b.version.cmp(&a.version))
    });
    Ok(releases)
}

/// What a build needs to know of the app's releases before it starts: the release that
/// already has this content, and a version tag nobody has taken. The data file's record
/// says which image a fingerprint became, so the common case costs an inspect or two;
/// Docker's image list, which the engine makes by sizing every image it holds, is read
/// only when the record cannot say or is wrong, and then sets the record right.
pub struct Shelf<'a> {
    docker: &'a Docker,
    app: String,
    record: Record,
    /// The images tagged `<app>:*`, once listed.
    listed: Option<Vec<bollard::models::ImageSummary>>,
}

impl<'a> Shelf<'a> {
    /// The shelf of `app` on the engine `docker` reaches at `engine` (its endpoint).
    pub fn new(docker: &'a Docker, host: &HostEnv, engine: &str, app: &str) -> Self {
        Self {
            docker,
            app: app.to_owned(),
            record: Record::new(host, engine, app),
            listed: None,
        }
    }

    /// The newest release whose content fingerprint is `fingerprint`. Only a release
    /// tagged `<app>:*` counts: an untagged one cannot be run by its version.
    pub async fn with_fingerprint(&mut self, fingerprint: &str) -> Result<Option<LocalRelease>> {
        match self.record.lookup(fingerprint).await {
            Recorded::Absent => return Ok(None),
            Recorded::Image { image_id, version } => {
                if let Some(release) = self.recorded(&image_id, &version, fingerprint).await? {
                    return Ok(Some(release));
                }
                tracing::debug!(app = %self.app, %image_id, "the recorded image is gone or changed; listing");
            }
            Recorded::Unknown => {}
        }
        Ok(self.list().await?.remove(fingerprint))
    }

    /// The recorded image, when it is still the release `version` of this content and
    /// still tagged as that version.
    async fn recorded(
        &self,
        image_id: &str,
        version: &str,
        fingerprint: &str,
    ) -> Result<Option<LocalRelease>> {
        let found = match self.docker.inspect_image(image_id).await {
            Ok(found) => found,
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => return Ok(None),
            Err(e) => return Err(engine_error("read the image", e)),
        };
        let tag = format!("{}:{version}", self.app);
        Ok(release_inspected(&self.app, found, image_id).filter(|r| {
            r.fingerprint == fingerprint && r.version == version && r.tags.contains(&tag)
        }))
    }

    /// Lists the app's images (once), sets the record to what they are, and returns the
    /// newest release of each fingerprint.
    async fn list(&mut self) -> Result<HashMap<String, LocalRelease>> {
        if self.listed.is_some() {
            return Ok(self.newest_by_fingerprint());
        }
        let images = self
            .docker
            .list_images(Some(ListImagesOptions {
                filters: Some(HashMap::from([(
                    "reference".to_owned(),
                    vec![self.app.clone()],
                )])),
                ..Default::default()
            }))
            .await
            .map_err(|e| engine_error("list images", e))?;
        self.listed = Some(images);
        let newest = self.newest_by_fingerprint();
        self.record
            .replace_all(newest.values().cloned().collect())
            .await;
        Ok(newest)
    }

    fn newest_by_fingerprint(&self) -> HashMap<String, LocalRelease> {
        let mut newest: HashMap<String, LocalRelease> = HashMap::new();
        for image in self.listed.iter().flatten() {
            let Some(release) = release_from(
                &self.app,
                &image.labels,
                &image.id,
                &image.repo_tags,
                image.created as f64,
                image.size as f64,
            ) else {
                continue;
            };
            match newest.get(&release.fingerprint) {
                Some(kept) if kept.created_at > release.created_at => {}
                _ => {
                    newest.insert(release.fingerprint.clone(), release);
                }
            }
        }
        newest
    }

    /// `wanted`, or `wanted-2`, `wanted-3`… when that tag is taken already: one inspect
    /// per version tried, or the listing when there is one.
    pub async fn free_version(&self, wanted: String) -> Result<String> {
        let mut version = wanted.clone();
        let mut n = 2;
        while self.is_taken(&version).await? {
            version = format!("{wanted}-{n}");
            n += 1;
        }
        Ok(version)
    }

    async fn is_taken(&self, version: &str) -> Result<bool> {
        let tag = format!("{}:{version}", self.app);
        if let Some(images) = &self.listed {
            return Ok(images.iter().any(|i| i.repo_tags.contains(&tag)));
        }
        match self.docker.inspect_image(&tag).await {
            Ok(_) => Ok(true),
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(false),
            Err(e) => Err(engine_error("read the image", e)),
        }
    }

    /// Notes the release a build just made, so the next build of this content finds it
    /// with one inspect.
    pub async fn remember(&self, release: &LocalRelease) {
        self.record.remember(release).await;
    }
}

/// The release `image` (an id or a tag) is, read from the image itself (one inspect,
/// where a listing reads every image on the engine).
pub async fn inspect(docker: &Docker, app: &str, image: &str) -> Result<LocalRelease> {
    let found = docker
        .inspect_image(image)
        .await
        .map_err(|e| engine_error("read the image", e))?;
    let image_id = found.id.clone().unwrap_or_else(|| image.to_owned());
    release_inspected(app, found, image).ok_or_else(|| {
        EngineError::Internal(format!("image {image_id} has no release label for {app}"))
    })
}

/// A release from what an inspect of `image` said, when it is one of `app`'s.
fn release_inspected(
    app: &str,
    found: bollard::models::ImageInspect,
    image: &str,
) -> Option<LocalRelease> {
    let image_id = found.id.as_deref().unwrap_or(image);
    let labels = found.config.and_then(|c| c.labels).unwrap_or_default();
    release_from(
        app,
        &labels,
        image_id,
        &found.repo_tags.unwrap_or_default(),
        found.created.map_or(0.0, |t| t.unix_timestamp() as f64),
        found.size.unwrap_or(0) as f64,
    )
}

/// A release from an image's facts, when its label says it is one of `app`'s.
fn release_from(
    app: &str,
    labels: &HashMap<String, String>,
    image_id: &str,
    tags: &[String],
    created_at: f64,
    size_bytes: f64,
) -> Option<LocalRelease> {
    let (label_app, version, fingerprint) = labels::parse_release(labels.get(labels::RELEASE)?)?;
    (label_app == app).then(|| LocalRelease {
        latest: tags.iter().any(|t| *t == format!("{app}:latest")),
        app: app.to_owned(),
        version: version.to_owned(),
        fingerprint: fingerprint.to_owned(),
        image_id: image_id.to_owned(),
        tags: tags.to_vec(),
        created_at,
        size_bytes,
    })
}

/// The release named `version`: one read of the image tagged `<app>:<version>`, which is
/// how a build names it; only when that tag is not a release of `app` (a version given
/// as an image id prefix, or none such) is every image listed to find it or to say which
/// versions there are.
pub async fn find(docker: &Docker, app: &str, version: &str) -> Result<LocalRelease> {
    if let Ok(release) = inspect(docker, app, &format!("{app}:{version}")).await {
        if release.version == version {
            return Ok(release);
        }
    }
    let releases = list(docker, app).await?;
    pick(&releases, app, Some(version)).cloned()
}

/// The release named `version`, or the newest when `None`.
pub fn pick<'a>(
    releases: &'a [LocalRelease],
    app: &str,
    version: Option<&str>,
) -> Result<&'a LocalRelease> {
    match version {
        None => releases.first().ok_or_else(|| EngineError::NoReleases {
            app: app.to_owned(),
        }),
        Some(v) => releases
            .iter()
            .find(|r| r.version == v || r.image_id.trim_start_matches("sha256:").starts_with(v))
            .ok_or_else(|| EngineError::ReleaseNotFound {
                app: app.to_owned(),
                version: v.to_owned(),
                known: releases.iter().map(|r| r.version.clone()).collect(),
            }),
    }
}

/// What a rollback without a named target goes back to: the release just older than the
/// current one (the running one, else the one tagged latest, else the newest).
pub fn rollback_target<'a>(
    releases: &'a [LocalRelease],
    app: &str,
    current: Option<&str>,
) -> Result<&'a LocalRelease> {
    let current_index = current
        .and_then(|v| releases.iter().position(|r| r.version == v))
        .or_else(|| releases.iter().position(|r| r.latest))
        .unwrap_or(0);
    releases
        .get(current_index + 1)
        .ok_or_else(|| EngineError::NoEarlierRelease {
            app: app.to_owned(),
            current: releases
                .get(current_index)
                .map(|r| r.version.clone())
                .unwrap_or_default(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn release(version: &str, latest: bool) -> LocalRelease {
        LocalRelease {
            app: "hello-site".into(),
            version: version.into(),
            image_id: format!("sha256:{version}ff"),
            tags: vec![],
            created_at: 0.0,
            size_bytes: 0.0,
            fingerprint: String::new(),
            latest,
        }
    }

    #[test]
    fn rollback_goes_to_the_release_before_the_running_one() {
        let releases = vec![
            release("v3", true),
            release("v2", false),
            release("v1", false),
        ];
        assert_eq!(
            rollback_target(&releases, "a", Some("v2")).unwrap().version,
            "v1"
        );
        assert_eq!(
            rollback_target(&releases, "a", None).unwrap().version,
            "v2",
            "latest counts as current"
        );
        let err = rollback_target(&releases, "a", Some("v1")).unwrap_err();
        assert!(
            matches!(err, EngineError::NoEarlierRelease { .. }),
            "nothing is older than the oldest"
        );
    }

    #[test]
    fn a_release_is_picked_by_version_or_image_id_prefix() {
        let releases = vec![release("v2", true), release("v1", false)];
        assert_eq!(pick(&releases, "a", None).unwrap().version, "v2");
        assert_eq!(pick(&releases, "a", Some("v1ff")).unwrap().version, "v1");
        let err = pick(&releases, "a", Some("v9")).unwrap_err();
        assert!(
            err.to_string().contains("v2, v1"),
            "the message lists what exists: {err}"
        );
        assert!(matches!(
            pick(&[], "a", None),
            Err(EngineError::NoReleases { .. })
        ));
    }
}
