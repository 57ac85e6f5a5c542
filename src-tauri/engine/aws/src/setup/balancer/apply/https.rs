//! Making the HTTPS changes of a setup plan: the certificate request (with an idempotency
//! token, so a retried request returns the same certificate) and the DNS records,
//! UPSERTed in the domain's Route 53 zone.

use std::time::Duration;

use aws_sdk_route53::types::{
    ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet, RrType,
};

use super::{pick, planned_but_not_made, Created, Made};
use crate::aws::{classify, Connection};
use crate::setup::balancer::{AliasTarget, DnsRecord};
use crate::setup::names::Tags;
use slipway_core::error::{EngineError, Result};

/// How long apply waits for ACM to show a new certificate's validation record.
const VALIDATION_RECORD_WAIT: Duration = Duration::from_secs(90);

/// The token that makes a retried request return the same certificate: the same for one
/// app and domain (ACM keeps it an hour), at most 32 word characters.
fn idempotency_token(app: &str, domain: &str) -> String {
    use sha2::Digest;
    let hash = sha2::Sha256::digest(format!("slipway\n{app}\n{domain}").as_bytes());
    hash.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

pub(super) async fn request_certificate(
    c: &Connection,
    app: &str,
    tags: &Tags,
    made: &mut Made,
    domain: &str,
) -> Result<Created> {
    let tags = tags
        .iter()
        .map(|(k, v)| aws_sdk_acm::types::Tag::builder().key(k).value(v).build())
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| EngineError::Internal(e.to_string()))?;
    let out = aws_sdk_acm::Client::new(&c.ctx.sdk)
        .request_certificate()
        .domain_name(domain)
        .validation_method(aws_sdk_acm::types::ValidationMethod::Dns)
        .idempotency_token(idempotency_token(app, domain))
        .set_tags(Some(tags))
        .send()
        .await
        .map_err(|e| classify(&c.ctx, "acm:RequestCertificate", e))?;
    let arn = out
        .certificate_arn
        .ok_or_else(|| planned_but_not_made("the certificate"))?;
    made.certificate = Some(arn.clone());
    Ok(Some((domain.to_owned(), Some(arn))))
}

/// Reads the validation record of `certificate`, waiting for ACM to show it (a few seconds
/// after the request on AWS).
async fn validation_record(c: &Connection, certificate: &str) -> Result<DnsRecord> {
    let deadline = tokio::time::Instant::now() + VALIDATION_RECORD_WAIT;
    let mut pause = Duration::from_millis(500);
    loop {
        let found =
            crate::setup::balancer::observe::describe_certificate(c, certificate, Tags::new())
                .await?
                .validation;
        if let Some(record) = found {
            return Ok(record);
        }
        if tokio::time::Instant::now() + pause > deadline {
            return Err(EngineError::AwsWaitTimedOut {
                what: "AWS Certificate Manager to show the certificate's validation record"
                    .to_owned(),
                seconds: VALIDATION_RECORD_WAIT.as_secs(),
            });
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(5));
    }
}

pub(super) async fn add_validation_record(
    c: &Connection,
    made: &Made,
    zone: &str,
    certificate: &Option<String>,
    record: &Option<DnsRecord>,
) -> Result<Created> {
    let record = match record {
        Some(record) => record.clone(),
        None => {
            let arn = pick(certificate, &made.certificate, "the certificate")?;
            validation_record(c, &arn).await?
        }
    };
    let set = ResourceRecordSet::builder()
        .name(&record.name)
        .r#type(RrType::from(record.kind.as_str()))
        .ttl(300)
        .resource_records(
            ResourceRecord::builder()
                .value(&record.value)
                .build()
                .map_err(|e| EngineError::Internal(e.to_string()))?,
        )
        .build()
        .map_err(|e| EngineError::Internal(e.to_string()))?;
    upsert(c, zone, set, "Slipway: validates the certificate").await
}

pub(super) async fn point_domain(
    c: &Connection,
    made: &Made,
    zone: &str,
    domain: &str,
    target: &Option<AliasTarget>,
) -> Result<Created> {
    let target = match target {
        Some(t) => t.clone(),
        None => {
            let (_, dns_name, hosted_zone) = made
                .load_balancer
                .clone()
                .ok_or_else(|| planned_but_not_made("the load balancer"))?;
            AliasTarget {
                dns_name,
                hosted_zone,
            }
        }
    };
    let alias = aws_sdk_route53::types::AliasTarget::builder()
        .hosted_zone_id(&target.hosted_zone)
        .dns_name(&target.dns_name)
        .evaluate_target_health(false)
        .build()
        .map_err(|e| EngineError::Internal(e.to_string()))?;
    let set = ResourceRecordSet::builder()
        .name(domain)
        .r#type(RrType::A)
        .alias_target(alias)
        .build()
        .map_err(|e| EngineError::Internal(e.to_string()))?;
    upsert(c, zone, set, "Slipway: the app's load balancer").await
}

async fn upsert(
    c: &Connection,
    zone: &str,
    set: ResourceRecordSet,
    comment: &str,
) -> Result<Created> {
    let change = aws_sdk_route53::types::Change::builder()
        .action(ChangeAction::Upsert)
        .resource_record_set(set)
        .build()
        .map_err(|e| EngineError::Internal(e.to_string()))?;
    let batch = ChangeBatch::builder()
        .comment(comment)
        .changes(change)
        .build()
        .map_err(|e| EngineError::Internal(e.to_string()))?;
    aws_sdk_route53::Client::new(&c.ctx.sdk)
        .change_resource_record_sets()
        .hosted_zone_id(zone)
        .change_batch(batch)
        .send()
        .await
        .map_err(|e| classify(&c.ctx, "route53:ChangeResourceRecordSets", e))?;
    Ok(None)
}
