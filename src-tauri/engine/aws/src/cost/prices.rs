//! The prices an estimate uses: a table bundled with Slipway (with its source and date),
//! or prices fetched from the AWS Price List API and cached (see `pricelist`). A
//! [`PriceBook`] always says which it is, from when, and what it had to assume.

use serde::{Deserialize, Serialize};

use slipway_core::project::Platform;

/// On-demand USD prices for one region, Linux.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct Prices {
    pub x86_vcpu_hour: f64,
    pub x86_gb_hour: f64,
    /// None where AWS lists no ARM (Graviton) Fargate price for the region.
    pub arm_vcpu_hour: Option<f64>,
    pub arm_gb_hour: Option<f64>,
    /// Per public IPv4 address per hour (every task with a public IP pays it).
    pub public_ipv4_hour: f64,
    /// An Application Load Balancer's hour, and its load balancer capacity unit (LCU) hour.
    pub load_balancer_hour: f64,
    pub load_balancer_lcu_hour: f64,
    /// True when the load balancer's prices came from the Price List API; false when they
    /// are Slipway's bundled us-east-1 rates (and for prices cached before Slipway asked).
    #[serde(default)]
    #[specta(optional)]
    pub load_balancer_listed: bool,
    pub log_ingestion_gb: f64,
    pub log_storage_gb_month: f64,
    pub image_storage_gb_month: f64,
}

impl Prices {
    /// vCPU-hour and GB-hour for `platform`, and whether the x86 price stood in for a
    /// missing ARM one.
    pub fn compute(&self, platform: Platform) -> (f64, f64, bool) {
        match (platform, self.arm_vcpu_hour, self.arm_gb_hour) {
            (Platform::LinuxArm64, Some(vcpu), Some(gb)) => (vcpu, gb, false),
            (Platform::LinuxArm64, _, _) => (self.x86_vcpu_hour, self.x86_gb_hour, true),
            (Platform::LinuxAmd64, _, _) => (self.x86_vcpu_hour, self.x86_gb_hour, false),
        }
    }

    /// What one task costs an hour: its vCPU and memory, and its public IPv4 address when
    /// it has one.
    pub fn task_hour(&self, platform: Platform, cpu: u32, memory: u32, public_ip: bool) -> f64 {
        let (vcpu_hour, gb_hour, _) = self.compute(platform);
        let ip = if public_ip {
            self.public_ipv4_hour
        } else {
            0.0
        };
        f64::from(cpu) / 1024.0 * vcpu_hour + f64::from(memory) / 1024.0 * gb_hour + ip
    }

    /// What an Application Load Balancer costs an hour while it exists, with or without
    /// tasks behind it: its hour, the [`ASSUMED_LCUS`] of light traffic, and one public IPv4
    /// address for each of its `public_addresses` (one per zone when internet-facing).
    pub fn load_balancer_per_hour(&self, public_addresses: u32) -> f64 {
        self.load_balancer_hour
            + ASSUMED_LCUS * self.load_balancer_lcu_hour
            + f64::from(public_addresses) * self.public_ipv4_hour
    }
}

/// Load balancer capacity units an estimate assumes: light traffic (a demo, a small team).
/// One LCU is 25 new connections a second, 3,000 active connections a minute, 1 GB an hour
/// processed or 1,000 rule evaluations a second, whichever is highest.
pub const ASSUMED_LCUS: f64 = 1.0;
/// The assumption in words a person reads beside the load balancer's figure.
pub const LCU_ASSUMPTION: &str = "assumes light traffic: 1 LCU";
/// An internet-facing Application Load Balancer spans at least two zones and has a public
/// IPv4 address in each; Slipway's spans two.
pub const LOAD_BALANCER_ZONES: u32 = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub enum PriceSource {
    /// The table shipped with Slipway.
    Bundled,
    /// The AWS Price List API (`pricing:GetProducts`), fetched at `as_of`.
    PriceList,
}

/// The prices an estimate used and where they came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct PriceBook {
    /// The region being priced.
    pub region: String,
    pub prices: Prices,
    pub source: PriceSource,
    /// The table's date (bundled) or when the prices were fetched (ISO 8601).
    pub as_of: String,
    /// "AWS Price List API" or the bundled table's own source line.
    pub source_text: String,
    /// What the figures had to assume, in plain words (a region priced like another, an
    /// ARM price missing, a refresh that failed).
    pub notes: Vec<String>,
}

/// Source of the bundled table, shown wherever its figures are.
pub const BUNDLED_SOURCE: &str =
    "AWS Fargate, VPC, CloudWatch Logs and ECR pricing (AWS Price List data)";
pub const BUNDLED_AS_OF: &str = "2026-11-01";

/// Compute rows: regions, x86 vCPU-h, x86 GB-h, ARM vCPU-h, ARM GB-h. Source above; the
/// us-west-2 and eu-central-1 ARM figures are derived (80 % of x86), not queried.
/// Regions, x86 vCPU-h, x86 GB-h, ARM vCPU-h, ARM GB-h.
type FargateRow = (&'static [&'static str], f64, f64, Option<f64>, Option<f64>);

const FARGATE: [FargateRow; 6] = [
    (
        &["us-east-1", "us-east-2", "us-west-2", "eu-west-1"],
        0.04048,
        0.004445,
        Some(0.03238),
        Some(0.00356),
    ),
    (
        &["eu-central-1", "eu-west-2"],
        0.04656,
        0.00511,
        Some(0.03725),
        Some(0.00409),
    ),
    (
        &["ap-southeast-1", "ap-northeast-1"],
        0.05056,
        0.00553,
        Some(0.04045),
        Some(0.00442),
    ),
    (
        &["ap-southeast-2"],
        0.04856,
        0.00532,
        Some(0.03885),
        Some(0.00426),
    ),
    (&["ap-south-1"], 0.04256, 0.004655, None, None),
    (&["sa-east-1"], 0.0696, 0.0076, Some(0.0557), Some(0.00612)),
];

/// The region whose prices stand in for a region the table lacks.
pub const FALLBACK_REGION: &str = "us-east-1";

/// Beyond compute, us-east-1 prices (the table has no other region's): public IPv4
/// 0.005/h since 2024-02-01, ALB 0.0225/h + 0.008/LCU-h, CloudWatch Logs 0.50/GB ingested
/// and 0.03/GB-month stored, ECR 0.10/GB-month.
const PUBLIC_IPV4_HOUR: f64 = 0.005;
const LOAD_BALANCER_HOUR: f64 = 0.0225;
const LOAD_BALANCER_LCU_HOUR: f64 = 0.008;
const LOG_INGESTION_GB: f64 = 0.50;
const LOG_STORAGE_GB_MONTH: f64 = 0.03;
const IMAGE_STORAGE_GB_MONTH: f64 = 0.10;

fn row(region: &str) -> Option<(f64, f64, Option<f64>, Option<f64>)> {
    FARGATE
        .iter()
        .find(|(regions, ..)| regions.contains(&region))
        .map(|&(_, a, b, c, d)| (a, b, c, d))
}

/// The bundled prices for `region`; a region the table lacks is priced like us-east-1,
/// and the book says so.
pub fn bundled(region: &str) -> PriceBook {
    let mut notes = Vec::new();
    let (x86_vcpu, x86_gb, arm_vcpu, arm_gb) = row(region).unwrap_or_else(|| {
        notes.push(format!(
            "Slipway's price table has no Fargate prices for {region}; {FALLBACK_REGION}'s are shown. Refresh prices with your AWS credentials for {region}'s own."
        ));
        row(FALLBACK_REGION).expect("the fallback region is in the table")
    });
    if region != FALLBACK_REGION {
        notes.push(format!(
            "Public IPv4, the load balancer, logs and image storage are priced at {FALLBACK_REGION}'s rates."
        ));
    }
    PriceBook {
        region: region.to_owned(),
        prices: Prices {
            x86_vcpu_hour: x86_vcpu,
            x86_gb_hour: x86_gb,
            arm_vcpu_hour: arm_vcpu,
            arm_gb_hour: arm_gb,
            public_ipv4_hour: PUBLIC_IPV4_HOUR,
            load_balancer_hour: LOAD_BALANCER_HOUR,
            load_balancer_lcu_hour: LOAD_BALANCER_LCU_HOUR,
            load_balancer_listed: false,
            log_ingestion_gb: LOG_INGESTION_GB,
            log_storage_gb_month: LOG_STORAGE_GB_MONTH,
            image_storage_gb_month: IMAGE_STORAGE_GB_MONTH,
        },
        source: PriceSource::Bundled,
        as_of: BUNDLED_AS_OF.to_owned(),
        source_text: BUNDLED_SOURCE.to_owned(),
        notes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tabled_region_has_its_own_compute_prices() {
        let book = bundled("eu-west-2");
        assert_eq!(book.prices.x86_vcpu_hour, 0.04656);
        assert_eq!(book.prices.arm_gb_hour, Some(0.00409));
        assert_eq!(book.source, PriceSource::Bundled);
        assert_eq!(book.as_of, BUNDLED_AS_OF);
        assert!(
            !book.notes.iter().any(|n| n.contains("no Fargate prices")),
            "eu-west-2 is in the table"
        );
    }

    #[test]
    fn a_region_the_table_lacks_is_priced_like_us_east_1_and_says_so() {
        let book = bundled("eu-north-1");
        assert_eq!(book.prices.x86_vcpu_hour, 0.04048);
        assert!(book.notes[0].contains("no Fargate prices for eu-north-1"));
    }

    #[test]
    fn arm_without_an_arm_price_uses_x86_and_says_so() {
        let book = bundled("ap-south-1");
        assert_eq!(
            book.prices.compute(Platform::LinuxArm64),
            (0.04256, 0.004655, true)
        );
        assert_eq!(
            bundled("us-east-1").prices.compute(Platform::LinuxArm64),
            (0.03238, 0.00356, false)
        );
    }
}
