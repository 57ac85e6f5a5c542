//! What running the app on Fargate costs: the estimate before deploying (`estimate`), the
//! prices it uses and where they came from (`prices`, `pricelist`), the meter of what runs
//! now (`meter`, with the app's load balancers from `load_balancers`) and the idle guard
//! (`guard`). Each app's cost choices (schedule, log
//! volume, auto-stop, reminder) are stored here, in the app database; this module is
//! their one writer.

pub mod estimate;
pub mod load_balancers;
pub mod meter;
pub mod pricelist;
pub mod prices;

use std::path::Path;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

pub use estimate::{
    cost_sheet, AddressChoice, CostComponent, CostInputs, CostLine, CostSheet, Estimate, SizeCost,
    TaskRange,
};
pub use meter::{BilledLoadBalancer, LoadBalancerCost, RunningCost, TaskCost};
pub use prices::{PriceBook, PriceSource, Prices};

use pricelist::{price_book, Refresh};
use slipway_core::error::{EngineError, Result};
use slipway_core::host::HostEnv;
use slipway_core::project::ProjectConfig;
use slipway_core::store::{open_at, storage_error};

/// An app's cost choices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct CostSettings {
    /// Tasks running at once.
    pub tasks: u32,
    /// Hours a week it runs ("only while I demo"); None when always on.
    pub hours_per_week: Option<f64>,
    /// Expected log volume, GB a month.
    pub log_gb_per_month: f64,
    pub load_balancer: bool,
    /// Stop standalone tasks after this many hours; None for never.
    pub auto_stop_hours: Option<f64>,
    /// Remind when a task has run longer than this; None for never.
    pub remind_after_hours: Option<f64>,
}

impl Default for CostSettings {
    fn default() -> Self {
        Self {
            tasks: 1,
            hours_per_week: None,
            log_gb_per_month: 1.0,
            load_balancer: false,
            auto_stop_hours: None,
            remind_after_hours: None,
        }
    }
}

fn check_settings(s: &CostSettings) -> Result<()> {
    let invalid = |what: &str, reason: String| {
        Err(EngineError::InvalidInput {
            what: what.to_owned(),
            reason,
        })
    };
    if let Some(h) = s.auto_stop_hours.filter(|h| !(0.25..=720.0).contains(h)) {
        return invalid(
            "Auto-stop",
            format!("{h} hours is outside a quarter of an hour to 720 hours (30 days)"),
        );
    }
    if let Some(h) = s
        .remind_after_hours
        .filter(|h| !(0.25..=8760.0).contains(h))
    {
        return invalid(
            "The reminder",
            format!("{h} hours is outside a quarter of an hour to 8760 hours (a year)"),
        );
    }
    Ok(())
}

pub fn load_settings(db: &Path, app: &str) -> Result<CostSettings> {
    let conn = open_at(db)?;
    let row = conn.query_row(
        "SELECT settings FROM cost_settings WHERE app = ?1",
        [app],
        |row| row.get::<_, String>(0),
    );
    match row {
        // A field added later takes its default; a row that is not these settings at all is
        // reported rather than read as "no auto-stop".
        Ok(json) => {
            let unreadable = |e: serde_json::Error| EngineError::Storage {
                file: db.to_owned(),
                reason: format!(
                    "the cost settings of {app} could not be read ({e}); save them again"
                ),
            };
            let mut settings =
                serde_json::to_value(CostSettings::default()).expect("settings serialise");
            let stored: serde_json::Value = serde_json::from_str(&json).map_err(unreadable)?;
            if let (Some(fields), Some(stored)) = (settings.as_object_mut(), stored.as_object()) {
                fields.extend(stored.clone());
            }
            serde_json::from_value(settings).map_err(unreadable)
        }
        Err(rusqlite::Error::QueryReturnedNoRows) => Ok(CostSettings::default()),
        Err(e) => Err(storage_error(db, e)),
    }
}

/// Validates and saves `settings` for `app`; nothing is written when a value is invalid.
pub fn save_settings(db: &Path, app: &str, settings: &CostSettings) -> Result<CostSettings> {
    check_settings(settings)?;
    // The estimate's own checks cover tasks, hours a week and log volume.
    estimate::check_inputs(&CostInputs {
        region: String::new(),
        platform: slipway_core::project::Platform::default(),
        task: slipway_core::project::TaskSize::default(),
        tasks: settings.tasks,
        max_tasks: None,
        hours_per_week: settings.hours_per_week,
        log_gb_per_month: settings.log_gb_per_month,
        log_retention_days: 30,
        image_mb: None,
        load_balancer: settings.load_balancer,
    })?;
    let conn = open_at(db)?;
    let json = serde_json::to_string(settings).expect("settings serialise");
    conn.execute(
        "INSERT OR REPLACE INTO cost_settings (app, settings) VALUES (?1, ?2)",
        [app, json.as_str()],
    )
    .map_err(|e| storage_error(db, e))?;
    load_settings(db, app)
}

/// The estimate's inputs for a project in `region` with the app's choices. What
/// slipway.toml says the app runs as wins over a choice saved for trying out: its load
/// balancer, its number of tasks (the service's desired count) and its scaling range.
pub fn inputs_for(
    config: &ProjectConfig,
    region: &str,
    settings: &CostSettings,
    image_mb: Option<f64>,
) -> CostInputs {
    let (tasks, max_tasks) = match config.aws.scaling() {
        Some(range) => (range.min, Some(range.max)),
        None => (config.aws.tasks.unwrap_or(settings.tasks), None),
    };
    CostInputs {
        region: region.to_owned(),
        platform: config.platform,
        task: config.task,
        tasks,
        max_tasks,
        hours_per_week: settings.hours_per_week,
        log_gb_per_month: settings.log_gb_per_month,
        log_retention_days: config.aws.log_retention_days(),
        image_mb,
        load_balancer: config.aws.load_balancer || settings.load_balancer,
    }
}

/// When to ask the AWS Price List API for a project's estimate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub enum PriceRefresh {
    /// Cached or bundled prices only (no network).
    Never,
    /// Ask when no prices were fetched in the last 30 days.
    IfStale,
    Now,
}

/// The cost sheet for the project in `dir` (saved settings, or Slipway's proposal for a
/// folder without them), in the region it deploys to, with its newest release's image
/// size. Asking the Price List API needs credentials; when they are missing or refused
/// the estimate still comes, at cached or bundled prices, and its notes say why.
pub async fn project_sheet(
    host: &HostEnv,
    dir: &Path,
    refresh: PriceRefresh,
    endpoint_override: Option<String>,
    now: OffsetDateTime,
) -> Result<CostSheet> {
    let config = match slipway_core::project::load(dir)? {
        Some(config) => config,
        None => slipway_core::project::propose(dir),
    };
    let db = slipway_core::store::db_path(host);
    let target = crate::setup::target_for(host, &config.aws, endpoint_override)?;
    let region = crate::aws::region_for(host, &target);
    let settings = load_settings(&db, &config.name)?;
    let image_mb = newest_image_mb(host, dir).await;
    let inputs = inputs_for(&config, &region, &settings, image_mb);
    let fresh =
        pricelist::cached(&db, &region)?.is_some_and(|(_, at)| now - at <= pricelist::STALE_AFTER);
    let refresh = match refresh {
        PriceRefresh::IfStale if fresh => PriceRefresh::Never,
        other => other,
    };
    let mut connect_problem = None;
    let connection = match refresh {
        PriceRefresh::Never => None,
        PriceRefresh::IfStale | PriceRefresh::Now => {
            match crate::aws::connect(host, &target, std::time::SystemTime::from(now)).await {
                Ok(c) => Some(c),
                Err(e) => {
                    connect_problem = Some(e.to_string());
                    None
                }
            }
        }
    };
    let how = match (&connection, refresh) {
        (Some(c), PriceRefresh::Now) => Refresh::Now(c),
        (Some(c), _) => Refresh::IfStale(c),
        (None, _) => Refresh::Never,
    };
    let mut book = price_book(&db, &region, how, now).await?;
    if let Some(problem) = connect_problem {
        book.notes.insert(
            0,
            format!("Prices were not refreshed: Slipway could not connect to AWS ({problem})"),
        );
    }
    cost_sheet(&inputs, book)
}

/// The sheet for inputs the user is trying out, at cached or bundled prices.
pub async fn sheet_for(
    host: &HostEnv,
    inputs: &CostInputs,
    now: OffsetDateTime,
) -> Result<CostSheet> {
    estimate::check_inputs(inputs)?;
    let db = slipway_core::store::db_path(host);
    let book = price_book(&db, &inputs.region, Refresh::Never, now).await?;
    cost_sheet(inputs, book)
}

/// The app name of the project in `dir` (saved, or proposed for a new folder).
fn app_of(dir: &Path) -> Result<String> {
    Ok(match slipway_core::project::load(dir)? {
        Some(config) => config.name,
        None => slipway_core::project::propose(dir).name,
    })
}

/// The cost choices of the project in `dir`'s app.
pub fn project_settings(host: &HostEnv, dir: &Path) -> Result<CostSettings> {
    load_settings(&slipway_core::store::db_path(host), &app_of(dir)?)
}

pub fn save_project_settings(
    host: &HostEnv,
    dir: &Path,
    settings: &CostSettings,
) -> Result<CostSettings> {
    save_settings(&slipway_core::store::db_path(host), &app_of(dir)?, settings)
}

async fn newest_image_mb(host: &HostEnv, dir: &Path) -> Option<f64> {
    let list = slipway_docker::preview::release_list(host, dir)
        .await
        .ok()?;
    list.releases
        .iter()
        .max_by(|a, b| a.created_at.total_cmp(&b.created_at))
        .map(|r| r.size_bytes / 1_000_000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The UI's cost tests use sheets this engine computed (tests/fixtures/cost.json), so
    /// their figures are the engine's, not hand-written. Rewritten (and failed) on drift.
    #[test]
    fn the_ui_fixture_holds_the_engines_figures() {
        use slipway_core::project::{Platform, TaskSize};
        let base = CostInputs {
            region: "us-east-1".into(),
            platform: Platform::LinuxAmd64,
            task: TaskSize::default(),
            tasks: 1,
            max_tasks: None,
            hours_per_week: None,
            log_gb_per_month: 1.0,
            log_retention_days: 30,
            image_mb: Some(48.2),
            load_balancer: false,
        };
        let variants = [
            base.clone(),
            CostInputs {
                task: TaskSize {
                    cpu: 1024,
                    memory: 2048,
                },
                ..base.clone()
            },
            CostInputs {
                task: TaskSize {
                    cpu: 4096,
                    memory: 8192,
                },
                ..base.clone()
            },
            CostInputs {
                hours_per_week: Some(10.0),
                ..base.clone()
            },
            // One address that never changes, scaling from 1 to 3 tasks.
            CostInputs {
                load_balancer: true,
                max_tasks: Some(3),
                ..base.clone()
            },
        ];
        let sheets: Vec<CostSheet> = variants
            .iter()
            .map(|inputs| cost_sheet(inputs, prices::bundled("us-east-1")).unwrap())
            .collect();
        let json =
            serde_json::to_string_pretty(&serde_json::json!({ "sheets": sheets })).unwrap() + "\n";
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../tests/fixtures/cost.json");
        let current = std::fs::read_to_string(&path).unwrap_or_default();
        if current != json {
            std::fs::write(&path, &json).unwrap();
            panic!("tests/fixtures/cost.json was out of date and has been rewritten; commit it");
        }
    }

    #[test]
    fn the_estimate_follows_what_slipway_toml_runs() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = slipway_core::project::propose(dir.path());
        let tried = CostSettings {
            tasks: 4,
            ..CostSettings::default()
        };
        let inputs = inputs_for(&config, "us-east-1", &tried, None);
        assert_eq!(
            (inputs.tasks, inputs.max_tasks, inputs.load_balancer),
            (4, None, false),
            "without a word in slipway.toml, the saved choice"
        );
        config.aws.load_balancer = true;
        config.aws.tasks = Some(2);
        let inputs = inputs_for(&config, "us-east-1", &tried, None);
        assert_eq!(
            (inputs.tasks, inputs.max_tasks, inputs.load_balancer),
            (2, None, true),
            "the desired count slipway.toml sets"
        );
        config.aws.max_tasks = Some(5);
        let inputs = inputs_for(&config, "us-east-1", &tried, None);
        assert_eq!((inputs.tasks, inputs.max_tasks), (2, Some(5)));
    }

    #[test]
    fn settings_round_trip_and_invalid_ones_are_not_written() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("db.sqlite3");
        assert_eq!(load_settings(&db, "demo").unwrap(), CostSettings::default());
        let chosen = CostSettings {
            hours_per_week: Some(10.0),
            auto_stop_hours: Some(2.0),
            ..CostSettings::default()
        };
        assert_eq!(save_settings(&db, "demo", &chosen).unwrap(), chosen);
        let bad = CostSettings {
            auto_stop_hours: Some(0.0),
            ..chosen.clone()
        };
        let err = save_settings(&db, "demo", &bad).unwrap_err();
        assert!(err.to_string().contains("Auto-stop"), "{err}");
        assert_eq!(load_settings(&db, "demo").unwrap(), chosen, "unchanged");
    }
}
