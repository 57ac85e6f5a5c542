//! The session of one open project folder: its settings, read at each use (a small file,
//! so an edit made in an editor counts at once), and its AWS connection, proven with STS
//! once and reused until it is [`IDENTITY_TTL`] old or the profile, region or endpoint
//! changes; and the setup a deploy observed, which the next deploy within [`SETUP_TTL`]
//! trusts instead of asking AWS again. [`Sessions`] keeps one per folder for the window;
//! a CLI verb makes its own.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use slipway_aws::aws::{self, AwsTarget, Connection};
use slipway_aws::setup::{self, Observed, ResourceNames};
use slipway_core::error::Result;
use slipway_core::host::HostEnv;
use slipway_core::project::{self, ProjectConfig};

/// How long a proven identity is trusted before STS is asked again: a status refresh every
/// 15 s makes no STS call, and an expired SSO login or a deleted key shows within minutes
/// (sooner still: the first AWS call that fails with it drops the connection).
pub const IDENTITY_TTL: Duration = Duration::from_secs(10 * 60);

/// How long the setup a deploy found ready is trusted by the next deploy. A resource
/// removed meanwhile makes that deploy fail on it, which drops what was known.
pub const SETUP_TTL: Duration = Duration::from_secs(10 * 60);

pub struct Session {
    host: HostEnv,
    dir: PathBuf,
    endpoint_override: Option<String>,
    /// A tokio lock: proving the identity awaits STS, and two use cases starting at once
    /// should share one proof.
    linked: tokio::sync::Mutex<Option<Linked>>,
    setup: Mutex<Option<KnownSetup>>,
}

struct Linked {
    target: AwsTarget,
    connection: Connection,
    proven: Instant,
}

struct KnownSetup {
    account: String,
    region: String,
    names: ResourceNames,
    observed: Observed,
    at: Instant,
}

impl Session {
    pub fn new(host: HostEnv, dir: impl Into<PathBuf>) -> Self {
        Self {
            host,
            dir: dir.into(),
            endpoint_override: None,
            linked: tokio::sync::Mutex::new(None),
            setup: Mutex::new(None),
        }
    }

    /// Sends AWS calls to `endpoint` (an emulator) instead of the saved override or AWS.
    pub fn with_endpoint(mut self, endpoint: Option<String>) -> Self {
        self.endpoint_override = endpoint;
        self
    }

    pub fn host(&self) -> &HostEnv {
        &self.host
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Slipway's data file (history, the deploy journal) for this host.
    pub fn db(&self) -> PathBuf {
        slipway_core::store::db_path(&self.host)
    }

    /// The project's settings as saved now, validated.
    pub fn config(&self) -> Result<ProjectConfig> {
        Ok(project::open_saved(&self.dir)?.1)
    }

    /// The settings that stopping and status need (the app name and `[aws]`), also when
    /// the rest of slipway.toml does not validate.
    pub fn config_for_operations(&self) -> Result<ProjectConfig> {
        project::open_for_operations(&self.dir)
    }

    /// The validated settings and their connection.
    pub async fn connect(&self) -> Result<(ProjectConfig, Connection)> {
        let config = self.config()?;
        let connection = self.connection(&config).await?;
        Ok((config, connection))
    }

    /// The settings for stop and status, and their connection.
    pub async fn connect_for_operations(&self) -> Result<(ProjectConfig, Connection)> {
        let config = self.config_for_operations()?;
        let connection = self.connection(&config).await?;
        Ok((config, connection))
    }

    /// The connection for `config`'s account and region: the one already proven when its
    /// target is the same and it is recent, else a new one proven with STS.
    pub async fn connection(&self, config: &ProjectConfig) -> Result<Connection> {
        let target = setup::target_for(&self.host, &config.aws, self.endpoint_override.clone())?;
        let mut linked = self.linked.lock().await;
        if let Some(known) = linked.as_ref() {
            if known.target == target && known.proven.elapsed() < IDENTITY_TTL {
                return Ok(known.connection.clone());
            }
        }
        let connection = aws::connect(&self.host, &target, SystemTime::now()).await?;
        *linked = Some(Linked {
            target,
            connection: connection.clone(),
            proven: Instant::now(),
        });
        Ok(connection)
    }

    /// Forgets the connection and the known setup, after an error that may mean either is
    /// no longer true (expired credentials, a resource removed).
    pub async fn forget(&self) {
        *self.linked.lock().await = None;
        self.forget_setup();
    }

    /// The setup observed for `names` in `connection`'s account and region, when a deploy
    /// saw it ready within [`SETUP_TTL`].
    pub(crate) fn known_setup(
        &self,
        connection: &Connection,
        names: &ResourceNames,
    ) -> Option<Observed> {
        let known = self.setup.lock().expect("setup cache lock");
        known
            .as_ref()
            .filter(|k| {
                k.account == connection.identity.account
                    && k.region == connection.ctx.region
                    && k.names == *names
                    && k.at.elapsed() < SETUP_TTL
            })
            .map(|k| k.observed.clone())
    }

    pub(crate) fn remember_setup(
        &self,
        connection: &Connection,
        names: &ResourceNames,
        observed: Observed,
    ) {
        *self.setup.lock().expect("setup cache lock") = Some(KnownSetup {
            account: connection.identity.account.clone(),
            region: connection.ctx.region.clone(),
            names: names.clone(),
            observed,
            at: Instant::now(),
        });
    }

    /// After setup or teardown changed the account, or a deploy failed.
    pub fn forget_setup(&self) {
        *self.setup.lock().expect("setup cache lock") = None;
    }
}

/// The window's sessions, one per project folder it has used.
#[derive(Default)]
pub struct Sessions {
    open: Mutex<HashMap<PathBuf, Arc<Session>>>,
    endpoint_override: Option<String>,
}

impl Sessions {
    /// Sessions that send AWS calls to `endpoint` (an emulator; a CLI flag).
    pub fn with_endpoint(endpoint: Option<String>) -> Self {
        Self {
            open: Mutex::default(),
            endpoint_override: endpoint,
        }
    }

    /// The session of `dir`, made on first use.
    pub fn get(&self, host: &HostEnv, dir: impl AsRef<Path>) -> Arc<Session> {
        let dir = dir.as_ref();
        // The same folder reached by another spelling is the same project.
        let key = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_owned());
        self.open
            .lock()
            .expect("sessions lock")
            .entry(key.clone())
            .or_insert_with(|| {
                Arc::new(
                    Session::new(host.clone(), key).with_endpoint(self.endpoint_override.clone()),
                )
            })
            .clone()
    }
}
