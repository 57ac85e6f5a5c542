//! Live prices from the AWS Price List API (`pricing:GetProducts`), cached per region in
//! the app database with the time they were fetched. The bundled table is the fallback
//! whenever the API cannot be asked or does not answer; the book says which was used.

use std::path::Path;

use aws_sdk_pricing::types::{Filter, FilterType};
use serde_json::Value;
use time::OffsetDateTime;

use super::prices::{bundled, PriceBook, PriceSource, Prices, BUNDLED_AS_OF};
use crate::aws::{classify, Connection};
use slipway_core::error::{EngineError, Result};
use slipway_core::store::{open_at, storage_error};

/// The Price List API answers in these regions only, whatever region is priced.
const PRICING_REGION: &str = "us-east-1";
/// Cached prices older than this are refreshed when credentials are at hand.
pub const STALE_AFTER: time::Duration = time::Duration::days(30);
/// GetProducts pages are at most 100 products; a region's ECS or VPC list is a few pages.
const MAX_PAGES: usize = 20;

const X86_VCPU: &str = "Fargate-vCPU-Hours:perCPU";
const X86_GB: &str = "Fargate-GB-Hours";
const ARM_VCPU: &str = "Fargate-ARM-vCPU-Hours:perCPU";
const ARM_GB: &str = "Fargate-ARM-GB-Hours";
const PUBLIC_IPV4: &str = "PublicIPv4:InUseAddress";
/// ServiceCode `AWSELB` lists every kind of load balancer under the same usage types; the
/// product family tells the Application Load Balancer's from the Classic and Network ones.
const APPLICATION_LOAD_BALANCER: &str = "Load Balancer-Application";
const LOAD_BALANCER_HOUR: &str = "LoadBalancerUsage";
const LOAD_BALANCER_LCU_HOUR: &str = "LCUUsage";

/// One product of a GetProducts answer: its usage type, product family and on-demand USD
/// price.
#[derive(Debug, Clone, PartialEq)]
pub struct PriceRow {
    pub usage_type: String,
    /// `product.productFamily` ("Load Balancer-Application"); empty when the product has none.
    pub family: String,
    pub usd: f64,
}

/// Reads GetProducts' `PriceList`: an array of JSON *strings*, each a product with
/// `product.attributes.usagetype` and its price at
/// `terms.OnDemand.*.priceDimensions.*.pricePerUnit.USD`. Products without an on-demand
/// USD price are skipped; an item that is not JSON is an error.
pub fn parse_price_list(items: &[String]) -> std::result::Result<Vec<PriceRow>, String> {
    let mut rows = Vec::new();
    for item in items {
        let product: Value = serde_json::from_str(item)
            .map_err(|e| format!("a PriceList item is not JSON ({e})"))?;
        let Some(usage_type) = product
            .pointer("/product/attributes/usagetype")
            .and_then(Value::as_str)
        else {
            continue;
        };
        let usd = product
            .pointer("/terms/OnDemand")
            .and_then(Value::as_object)
            .into_iter()
            .flat_map(|terms| terms.values())
            .filter_map(|term| term.get("priceDimensions")?.as_object())
            .flat_map(|dimensions| dimensions.values())
            .filter_map(|d| {
                d.pointer("/pricePerUnit/USD")?
                    .as_str()?
                    .parse::<f64>()
                    .ok()
            })
            .find(|usd| *usd > 0.0);
        if let Some(usd) = usd {
            rows.push(PriceRow {
                usage_type: usage_type.to_owned(),
                family: product
                    .pointer("/product/productFamily")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                usd,
            });
        }
    }
    Ok(rows)
}

/// True when `usage_type` is exactly `wanted`, bare or behind one region prefix
/// ("USE1-", "EUC1-", "EU-"). Suffix matching would also take Spot
/// ("USE1-SpotUsage:Fargate-vCPU-Hours:perCPU") and ARM rows for x86.
fn usage_is(usage_type: &str, wanted: &str) -> bool {
    usage_type == wanted
        || usage_type.split_once('-').is_some_and(|(prefix, rest)| {
            rest == wanted
                && !prefix.is_empty()
                && prefix
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        })
}

fn find(rows: &[PriceRow], wanted: &str) -> Option<f64> {
    rows.iter()
        .find(|r| usage_is(&r.usage_type, wanted))
        .map(|r| r.usd)
}

/// The rows the API answered for each service Slipway asks about.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Answers {
    /// `AmazonECS`: Fargate.
    pub ecs: Vec<PriceRow>,
    /// `AmazonVPC`: public IPv4 addresses.
    pub vpc: Vec<PriceRow>,
    /// `AWSELB`: the Application Load Balancer's hour and LCU-hour.
    pub elb: Vec<PriceRow>,
}

/// Fargate's, the public IPv4 and the Application Load Balancer's prices from the API's
/// rows, over `base` for what the API was not asked (logs, image storage) or did not list.
/// The load balancer counts as listed only when both its prices are. None without both
/// x86 prices.
pub fn prices_from_rows(answers: &Answers, base: &Prices) -> Option<Prices> {
    let application: Vec<PriceRow> = answers
        .elb
        .iter()
        .filter(|r| r.family == APPLICATION_LOAD_BALANCER)
        .cloned()
        .collect();
    let load_balancer =
        find(&application, LOAD_BALANCER_HOUR).zip(find(&application, LOAD_BALANCER_LCU_HOUR));
    Some(Prices {
        x86_vcpu_hour: find(&answers.ecs, X86_VCPU)?,
        x86_gb_hour: find(&answers.ecs, X86_GB)?,
        arm_vcpu_hour: find(&answers.ecs, ARM_VCPU),
        arm_gb_hour: find(&answers.ecs, ARM_GB),
        public_ipv4_hour: find(&answers.vpc, PUBLIC_IPV4).unwrap_or(base.public_ipv4_hour),
        load_balancer_hour: load_balancer.map_or(base.load_balancer_hour, |(hour, _)| hour),
        load_balancer_lcu_hour: load_balancer.map_or(base.load_balancer_lcu_hour, |(_, lcu)| lcu),
        load_balancer_listed: load_balancer.is_some(),
        ..base.clone()
    })
}

fn term(field: &str, value: &str) -> Filter {
    Filter::builder()
        .r#type(FilterType::TermMatch)
        .field(field)
        .value(value)
        .build()
        .expect("type, field and value are set")
}

async fn products(
    client: &aws_sdk_pricing::Client,
    conn: &Connection,
    service_code: &str,
    filters: Vec<Filter>,
) -> Result<Vec<PriceRow>> {
    let mut rows = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let answer = client
            .get_products()
            .service_code(service_code)
            .set_filters(Some(filters.clone()))
            .format_version("aws_v1")
            .max_results(100)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| classify(&conn.ctx, "pricing:GetProducts", e))?;
        rows.extend(parse_price_list(answer.price_list()).map_err(|reason| {
            EngineError::PricesUnreadable {
                reason: format!("{service_code}: {reason}"),
            }
        })?);
        token = answer
            .next_token()
            .filter(|t| !t.is_empty())
            .map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    Ok(rows)
}

/// Asks the Price List API for `region`'s Fargate, public IPv4 and Application Load
/// Balancer prices.
pub async fn fetch(conn: &Connection, region: &str) -> Result<Prices> {
    let config = aws_sdk_pricing::config::Builder::from(&conn.ctx.sdk)
        .region(aws_sdk_pricing::config::Region::new(PRICING_REGION))
        .build();
    let client = aws_sdk_pricing::Client::from_conf(config);
    let in_region = || vec![term("regionCode", region)];
    let answers = Answers {
        ecs: products(&client, conn, "AmazonECS", in_region()).await?,
        vpc: products(&client, conn, "AmazonVPC", in_region()).await?,
        elb: products(
            &client,
            conn,
            "AWSELB",
            vec![
                term("regionCode", region),
                term("productFamily", APPLICATION_LOAD_BALANCER),
            ],
        )
        .await?,
    };
    prices_from_rows(&answers, &bundled(region).prices).ok_or_else(|| {
        EngineError::PricesUnreadable {
            reason: format!("the answer has no Fargate x86 prices for {region}"),
        }
    })
}

/// The prices cached for `region` and when they were fetched.
pub fn cached(db: &Path, region: &str) -> Result<Option<(Prices, OffsetDateTime)>> {
    let conn = open_at(db)?;
    let row = conn.query_row(
        "SELECT prices, fetched_at FROM prices WHERE region = ?1",
        [region],
        |row| Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?)),
    );
    match row {
        Ok((json, at)) => Ok(serde_json::from_str(&json)
            .ok()
            .zip(OffsetDateTime::from_unix_timestamp(at).ok())),
        Err(rusqlite::Error::QueryReturnedNoRows) => Ok(None),
        Err(e) => Err(storage_error(db, e)),
    }
}

fn store(db: &Path, region: &str, prices: &Prices, at: OffsetDateTime) -> Result<()> {
    let conn = open_at(db)?;
    let json = serde_json::to_string(prices).expect("prices serialise");
    conn.execute(
        "INSERT OR REPLACE INTO prices (region, prices, fetched_at) VALUES (?1, ?2, ?3)",
        rusqlite::params![region, json, at.unix_timestamp()],
    )
    .map_err(|e| storage_error(db, e))?;
    Ok(())
}

fn date(at: OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| at.unix_timestamp().to_string())
}

fn fetched_book(region: &str, prices: Prices, at: OffsetDateTime) -> PriceBook {
    let bundled = if prices.load_balancer_listed {
        "Logs and image storage use"
    } else {
        "The load balancer, logs and image storage use"
    };
    PriceBook {
        region: region.to_owned(),
        prices,
        source: PriceSource::PriceList,
        as_of: date(at),
        source_text: "AWS Price List API (pricing:GetProducts)".to_owned(),
        notes: vec![format!(
            "{bundled} Slipway's bundled us-east-1 rates ({BUNDLED_AS_OF})."
        )],
    }
}

/// Whether to ask the Price List API.
pub enum Refresh<'a> {
    /// Use the cache or the bundled table (no network).
    Never,
    /// Ask when nothing is cached or the cache is older than [`STALE_AFTER`].
    IfStale(&'a Connection),
    /// Ask now.
    Now(&'a Connection),
}

/// The prices to use for `region`: fetched (when asked and it works), else cached, else
/// bundled. A failed refresh never fails the estimate; the book's notes say why it was
/// not refreshed.
pub async fn price_book(
    db: &Path,
    region: &str,
    refresh: Refresh<'_>,
    now: OffsetDateTime,
) -> Result<PriceBook> {
    let cache = cached(db, region)?;
    let conn = match refresh {
        Refresh::Never => None,
        Refresh::IfStale(conn) => cache
            .as_ref()
            .is_none_or(|(_, at)| now - *at > STALE_AFTER)
            .then_some(conn),
        Refresh::Now(conn) => Some(conn),
    };
    let problem = match conn {
        None => None,
        Some(conn) => match fetch(conn, region).await {
            Ok(prices) => {
                store(db, region, &prices, now)?;
                return Ok(fetched_book(region, prices, now));
            }
            Err(e) => Some(e.to_string()),
        },
    };
    let mut book = match cache {
        Some((prices, at)) => fetched_book(region, prices, at),
        None => bundled(region),
    };
    if let Some(problem) = problem {
        let used = match book.source {
            PriceSource::PriceList => format!("the prices fetched {}", book.as_of),
            PriceSource::Bundled => format!("Slipway's bundled prices ({BUNDLED_AS_OF})"),
        };
        book.notes.insert(
            0,
            format!("Prices could not be refreshed from the AWS Price List API, so {used} are used. {problem}"),
        );
    }
    Ok(book)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A GetProducts answer for AmazonECS in us-east-1 as the API returns it (trimmed to
    /// the products that matter and a Spot row that must not be taken for on-demand).
    pub(crate) const ECS_US_EAST_1: &str =
        include_str!("../../../../../tests/fixtures/pricelist/amazonecs-us-east-1.json");
    const VPC_US_EAST_1: &str =
        include_str!("../../../../../tests/fixtures/pricelist/amazonvpc-us-east-1.json");
    /// AWSELB's answer with the Classic and Network load balancers' rows beside the
    /// Application one's, under the same usage types.
    const ELB_US_EAST_1: &str =
        include_str!("../../../../../tests/fixtures/pricelist/awselb-us-east-1.json");

    fn rows(answer: &str) -> Vec<PriceRow> {
        let answer: Value = serde_json::from_str(answer).unwrap();
        let items: Vec<String> = answer["PriceList"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i.as_str().unwrap().to_owned())
            .collect();
        parse_price_list(&items).unwrap()
    }

    fn recorded() -> Answers {
        Answers {
            ecs: rows(ECS_US_EAST_1),
            vpc: rows(VPC_US_EAST_1),
            elb: rows(ELB_US_EAST_1),
        }
    }

    #[test]
    fn the_recorded_answers_give_us_east_1_prices() {
        let prices = prices_from_rows(&recorded(), &bundled("us-east-1").prices).unwrap();
        assert_eq!(prices.x86_vcpu_hour, 0.04048);
        assert_eq!(prices.x86_gb_hour, 0.004445);
        assert_eq!(prices.arm_vcpu_hour, Some(0.03238));
        assert_eq!(prices.arm_gb_hour, Some(0.00356));
        assert_eq!(prices.public_ipv4_hour, 0.005);
        // The Classic (0.025) and Network (LCU 0.006) rows come first in the answer, under
        // the same usage types: only the Application Load Balancer's are taken.
        assert_eq!(prices.load_balancer_hour, 0.0225);
        assert_eq!(prices.load_balancer_lcu_hour, 0.008);
        assert!(prices.load_balancer_listed);
    }

    #[test]
    fn without_application_load_balancer_rows_the_bundled_rates_stand_and_the_book_says_so() {
        let mut answers = recorded();
        answers.elb.retain(|r| {
            r.family != APPLICATION_LOAD_BALANCER || r.usage_type.ends_with("LCUUsage")
        });
        let base = bundled("eu-west-2").prices;
        let prices = prices_from_rows(&answers, &base).unwrap();
        assert!(!prices.load_balancer_listed, "the hour is missing");
        assert_eq!(prices.load_balancer_hour, base.load_balancer_hour);
        assert_eq!(
            prices.load_balancer_lcu_hour, base.load_balancer_lcu_hour,
            "not half from the API and half bundled"
        );
        let now = OffsetDateTime::from_unix_timestamp(1_795_000_000).unwrap();
        let book = fetched_book("eu-west-2", prices, now);
        assert!(
            book.notes[0]
                .starts_with("The load balancer, logs and image storage use Slipway's bundled"),
            "{:?}",
            book.notes
        );
        let listed = prices_from_rows(&recorded(), &base).unwrap();
        let book = fetched_book("eu-west-2", listed, now);
        assert!(
            book.notes[0].starts_with("Logs and image storage use"),
            "{:?}",
            book.notes
        );
    }

    #[test]
    fn prices_cached_before_load_balancers_were_asked_read_as_bundled_for_them() {
        let mut old = serde_json::to_value(bundled("us-east-1").prices).unwrap();
        old.as_object_mut().unwrap().remove("loadBalancerListed");
        let prices: Prices = serde_json::from_value(old).unwrap();
        assert!(!prices.load_balancer_listed);
    }

    #[test]
    fn usage_types_match_exactly_behind_one_region_prefix() {
        assert!(usage_is("USE1-Fargate-vCPU-Hours:perCPU", X86_VCPU));
        assert!(usage_is("Fargate-vCPU-Hours:perCPU", X86_VCPU));
        assert!(usage_is("EU-Fargate-GB-Hours", X86_GB));
        assert!(!usage_is(
            "USE1-SpotUsage:Fargate-vCPU-Hours:perCPU",
            X86_VCPU
        ));
        assert!(!usage_is("USE1-Fargate-ARM-vCPU-Hours:perCPU", X86_VCPU));
        assert!(!usage_is("USE1-Fargate-GB-Hours-SpotDiscount", X86_GB));
        assert!(!usage_is("USE1-PublicIPv4:IdleAddress", PUBLIC_IPV4));
    }

    #[test]
    fn an_answer_without_x86_prices_gives_none_and_bad_json_is_an_error() {
        let arm_only = Answers {
            ecs: vec![PriceRow {
                usage_type: "USE1-Fargate-ARM-GB-Hours".into(),
                family: "Compute".into(),
                usd: 0.00356,
            }],
            ..Answers::default()
        };
        assert_eq!(
            prices_from_rows(&arm_only, &bundled("us-east-1").prices),
            None
        );
        assert!(parse_price_list(&["{not json".to_owned()]).is_err());
    }

    #[tokio::test]
    async fn without_a_connection_the_cache_is_used_and_else_the_bundled_table() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("db.sqlite3");
        let now = OffsetDateTime::from_unix_timestamp(1_795_000_000).unwrap();
        let book = price_book(&db, "eu-west-2", Refresh::Never, now)
            .await
            .unwrap();
        assert_eq!(book.source, PriceSource::Bundled);
        let mut prices = book.prices.clone();
        prices.x86_vcpu_hour = 0.05;
        store(&db, "eu-west-2", &prices, now).unwrap();
        let book = price_book(&db, "eu-west-2", Refresh::Never, now)
            .await
            .unwrap();
        assert_eq!(book.source, PriceSource::PriceList);
        assert_eq!(book.prices.x86_vcpu_hour, 0.05);
        assert!(book.as_of.starts_with("2026-11-18"), "{}", book.as_of);
    }
}
