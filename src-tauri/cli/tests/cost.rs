//! `slipway cost` without AWS: the estimate for the sample project at the bundled prices,
//! with their source and date, for people and as JSON.

mod common;

use common::{json, slipway};
use slipway_core::project::write_sample;

#[test]
fn cost_prints_the_estimate_with_its_prices_source_and_date() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join("site");
    write_sample(&dir).unwrap();
    let d = dir.to_str().unwrap();

    let (code, out, err) = slipway(
        home.path(),
        &["cost", "--project", d, "--offline", "--json"],
        "",
    );
    assert_eq!(code, 0, "{err}");
    let sheet = json(&out);
    // The sample is 0.25 vCPU / 512 MiB x86; no AWS configuration means us-east-1.
    assert_eq!(sheet["inputs"]["region"], "us-east-1");
    let per_hour = sheet["estimate"]["perHour"].as_f64().unwrap();
    assert!(
        (per_hour - 0.0173425).abs() < 1e-9,
        "compute 0.0123425 + public IPv4 0.005: {per_hour}"
    );
    assert_eq!(sheet["prices"]["source"], "Bundled");
    assert_eq!(sheet["prices"]["asOf"], "2026-11-01");
    assert_eq!(sheet["sizes"].as_array().unwrap().len(), 74);

    let (code, out, err) = slipway(
        home.path(),
        &[
            "cost",
            "--project",
            d,
            "--offline",
            "--hours-per-week",
            "10",
        ],
        "",
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("10 hours a week"), "{out}");
    assert!(out.contains("always on it would be"), "{out}");
    assert!(out.contains("Public IPv4 addresses"), "{out}");
    assert!(out.contains("dated 2026-11-01"), "{out}");

    let (code, _, err) = slipway(
        home.path(),
        &[
            "cost",
            "--project",
            d,
            "--offline",
            "--hours-per-week",
            "200",
        ],
        "",
    );
    assert_eq!(code, 1);
    assert!(err.contains("outside 0 to 168"), "{err}");
}
