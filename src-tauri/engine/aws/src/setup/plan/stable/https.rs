//! HTTPS on the user's domain, as part of the setup plan: the certificate, its DNS records
//! (in the domain's Route 53 zone, or for the user to add at their DNS provider), and the
//! HTTPS listener with port 80's redirect once the certificate is issued.

use super::{blocked, waits_upstream, Upstream};
use crate::setup::balancer::{dns_name, AliasTarget, BalancerWanted, DnsRecord, ObservedRecord};
use crate::setup::names::Ownership;
use crate::setup::observe::Observed;
use crate::setup::plan::{adopt, owner, resource, settle, whose, Wanted, OTHER_PROJECT};
use crate::setup::{Change, Owner, PlannedResource, ResourceKind, ResourceState};

pub(super) fn certificate(
    w: &Wanted,
    domain: &str,
    o: &Observed,
    changes: &mut Vec<Change>,
) -> PlannedResource {
    let kind = ResourceKind::Certificate;
    let mut facts = vec![format!(
        "for {domain}, from AWS Certificate Manager, validated by DNS (a CNAME record proves the domain is yours)"
    )];
    let Some(cert) = &o.certificate else {
        let state = settle(
            false,
            vec![Change::RequestCertificate {
                domain: domain.to_owned(),
            }],
            changes,
        );
        return resource(kind, domain, None, Owner::Nobody, state, facts);
    };
    let who = whose(&cert.tags, w);
    let id = Some(cert.arn.clone());
    match who {
        Ownership::OtherProject => facts.push(OTHER_PROJECT.to_owned()),
        Ownership::NotSlipways => facts.push(
            "an issued certificate for the domain that Slipway did not request: used as it is, never removed"
                .to_owned(),
        ),
        _ => {}
    }
    let state = match cert.status.as_str() {
        "ISSUED" => {
            facts.push("issued".to_owned());
            settle(true, adopt(w, who, kind, &cert.arn).into_iter().collect(), changes)
        }
        "PENDING_VALIDATION" => {
            changes.extend(adopt(w, who, kind, &cert.arn));
            ResourceState::Waiting {
                reason: format!(
                    "AWS issues the certificate once its validation record resolves (minutes after the record is in {domain}'s DNS; AWS gives up after 72 hours)."
                ),
                next: "The app answers over HTTP meanwhile; run setup again once it is issued to turn on HTTPS.".to_owned(),
            }
        }
        status => blocked(
            format!(
                "The certificate for {domain} is {} ({status}).",
                match status {
                    "VALIDATION_TIMED_OUT" => "not issued: its validation record was not found within 72 hours",
                    "FAILED" => "refused by AWS",
                    "EXPIRED" => "expired",
                    "REVOKED" => "revoked",
                    _ => "not usable",
                }
            ),
            format!(
                "Delete the certificate {} in the AWS Certificate Manager console, make sure the domain's DNS can hold the validation record, then run setup again to request a new one.",
                cert.arn
            ),
        ),
    };
    resource(kind, domain, id, owner(who), state, facts)
}

/// The validation CNAME and the domain's alias record in the domain's Route 53 zone, or,
/// without one, the records the user adds at their DNS provider.
pub(super) fn dns_records(
    w: &Wanted,
    domain: &str,
    o: &Observed,
    changes: &mut Vec<Change>,
) -> (PlannedResource, Vec<DnsRecord>) {
    let kind = ResourceKind::DnsRecords;
    let cert = o.certificate.as_ref();
    // Someone else's issued certificate is validated already: its record is theirs.
    let validates = cert.is_none_or(|c| whose(&c.tags, w).is_ours());
    let validation = cert
        .and_then(|c| c.validation.clone())
        .filter(|_| validates);
    let lb = o.load_balancer.as_ref();
    let Some(zone) = &o.hosted_zone else {
        let mut records = Vec::new();
        let mut facts = vec![format!(
            "no Route 53 hosted zone for {domain} in this account: add these records at your DNS provider"
        )];
        match (&validation, validates) {
            (Some(r), _) => {
                facts.push(format!("{} {} → {} (proves the domain to AWS)", r.kind, r.name, r.value));
                records.push(r.clone());
            }
            (None, true) => facts.push(
                "the certificate's validation CNAME: its value is known once setup has requested the certificate".to_owned(),
            ),
            (None, false) => {}
        }
        match lb {
            Some(lb) => {
                facts.push(format!(
                    "CNAME {domain} → {} (at the zone's apex, where a CNAME is not allowed, an ALIAS or ANAME record if your provider has one)",
                    lb.dns_name
                ));
                records.push(DnsRecord {
                    name: domain.to_owned(),
                    kind: "CNAME".to_owned(),
                    value: lb.dns_name.clone(),
                });
            }
            None => facts.push(format!(
                "CNAME {domain} → the load balancer's DNS name, known once setup has created it"
            )),
        }
        let issued = cert.is_some_and(|c| c.status == "ISSUED");
        let state = if issued {
            facts.push("Slipway cannot check records at another DNS provider".to_owned());
            ResourceState::Ready
        } else {
            ResourceState::Waiting {
                reason: format!("No Route 53 hosted zone for {domain} is in this account, so Slipway cannot add its DNS records."),
                next: format!(
                    "Add {} at your DNS provider; AWS issues the certificate once the validation record resolves.",
                    records
                        .iter()
                        .map(|r| format!("{} {} → {}", r.kind, r.name, r.value))
                        .collect::<Vec<_>>()
                        .join(" and ")
                ),
            }
        };
        return (
            resource(kind, domain, None, Owner::Someone, state, facts),
            records,
        );
    };
    let mut facts = vec![format!(
        "in the Route 53 hosted zone {} ({})",
        zone.name, zone.id
    )];
    let mut new = Vec::new();
    let mut present = 0;
    if validates {
        match &validation {
            Some(r) if zone.has(r) => {
                present += 1;
                facts.push(format!(
                    "{} {} → {} (proves the domain to AWS)",
                    r.kind, r.name, r.value
                ));
            }
            record => new.push(Change::AddValidationRecord {
                zone: zone.id.clone(),
                certificate: cert.map(|c| c.arn.clone()),
                record: record.clone(),
            }),
        }
    }
    let at_domain: Vec<_> = zone
        .records
        .iter()
        .filter(|r| r.name == dns_name(domain) && matches!(r.kind.as_str(), "A" | "CNAME"))
        .collect();
    let points = lb.is_some_and(|lb| zone.points_at(domain, &lb.dns_name));
    // An alias of an earlier load balancer of this name is Slipway's to move; any other A
    // or CNAME record at the domain is someone's, and stays.
    let earlier_balancer = |r: &&ObservedRecord| {
        r.alias.as_ref().is_some_and(|a| {
            dns_name(&a.dns_name)
                .trim_start_matches("dualstack.")
                .starts_with(&format!("{}-", w.names.load_balancer.to_ascii_lowercase()))
        })
    };
    let foreign = at_domain.iter().find(|r| !points && !earlier_balancer(r));
    if points {
        present += 1;
        facts.push(format!("{domain} → the load balancer (alias A record)"));
    } else if let Some(other) = foreign {
        let what = match &other.alias {
            Some(a) => format!("an alias of {}", a.dns_name),
            None => other.values.join(", "),
        };
        let state = blocked(
            format!(
                "{domain} already has a {} record in the zone {} ({what}), which is not this load balancer; Slipway does not replace it.",
                other.kind, zone.name
            ),
            format!(
                "Delete that record in Route 53 (or point {domain} at the load balancer yourself), then run setup again."
            ),
        );
        return (
            resource(kind, domain, None, Owner::Someone, state, facts),
            vec![],
        );
    } else {
        new.push(Change::PointDomainAtBalancer {
            zone: zone.id.clone(),
            domain: domain.to_owned(),
            target: lb.map(|lb| AliasTarget {
                dns_name: lb.dns_name.clone(),
                hosted_zone: lb.canonical_zone.clone(),
            }),
        });
    }
    let who = if present > 0 {
        Owner::Slipway
    } else {
        Owner::Nobody
    };
    let state = settle(present > 0, new, changes);
    (resource(kind, domain, None, who, state, facts), vec![])
}

/// HTTPS on 443 with the domain's certificate, and port 80's redirect to it; or, without
/// a domain any more, the removal of the 443 listener Slipway added. `None` when there is
/// neither a domain nor a 443 listener.
pub(super) fn https_listener(
    b: &BalancerWanted,
    o: &Observed,
    up: &Upstream,
    changes: &mut Vec<Change>,
) -> Option<PlannedResource> {
    let kind = ResourceKind::HttpsListener;
    let name = "HTTPS :443";
    let found = o
        .listeners
        .iter()
        .find(|l| l.port == 443 && !up.removed_listeners.contains(&l.arn));
    let http = o
        .listeners
        .iter()
        .find(|l| l.port == 80 && !up.removed_listeners.contains(&l.arn));
    let who = if up.ours {
        Owner::Slipway
    } else {
        Owner::Someone
    };
    let Some(domain) = &b.domain else {
        let l = found?;
        let mut new = Vec::new();
        if up.ours {
            new.push(Change::DeleteListener {
                listener: l.arn.clone(),
                port: 443,
            });
        }
        let state = settle(true, new, changes);
        return Some(resource(
            kind,
            name,
            Some(l.arn.clone()),
            who,
            state,
            vec![],
        ));
    };
    let mut facts = vec![
        format!("HTTPS on port 443 with the certificate for {domain}"),
        "port 80 redirects to HTTPS (301)".to_owned(),
    ];
    if !up.usable {
        return Some(resource(
            kind,
            name,
            None,
            Owner::Nobody,
            waits_upstream(),
            facts,
        ));
    }
    let issued = o
        .certificate
        .as_ref()
        .filter(|c| c.status == "ISSUED" && dns_name(&c.domain) == *domain);
    let Some(cert) = issued else {
        if let Some(l) = found {
            // Set up earlier, with a certificate this look did not see: left as it is.
            return Some(resource(
                kind,
                name,
                Some(l.arn.clone()),
                who,
                ResourceState::Ready,
                facts,
            ));
        }
        facts.truncate(1);
        let state = ResourceState::Waiting {
            reason: format!("Port 443 is added once the certificate for {domain} is issued."),
            next: "The app answers over HTTP on port 80 meanwhile; run setup again after the certificate is issued.".to_owned(),
        };
        return Some(resource(kind, name, None, Owner::Nobody, state, facts));
    };
    if !up.ours {
        let ready =
            found.is_some_and(|l| l.certificate.is_some()) && http.is_some_and(|l| l.redirects);
        if !ready {
            facts.push(
                "the load balancer is not this project's: its listeners are left as they are"
                    .to_owned(),
            );
        }
        return Some(resource(
            kind,
            name,
            found.map(|l| l.arn.clone()),
            who,
            ResourceState::Ready,
            facts,
        ));
    }
    let mut new = Vec::new();
    match found {
        None => new.push(Change::CreateListener {
            load_balancer: up.load_balancer.clone(),
            port: 443,
            certificate: Some(cert.arn.clone()),
            target_group: up.target_group.clone(),
        }),
        Some(l) => {
            if l.certificate.as_deref() != Some(cert.arn.as_str()) {
                new.push(Change::SetListenerCertificate {
                    listener: l.arn.clone(),
                    certificate: cert.arn.clone(),
                });
            }
            if l.forwards_to.is_none() || l.forwards_to != up.target_group {
                new.push(Change::ForwardListener {
                    listener: l.arn.clone(),
                    port: 443,
                    target_group: up.target_group.clone(),
                });
            }
        }
    }
    if !http.is_some_and(|l| l.redirects) {
        new.push(Change::RedirectToHttps {
            listener: http.map(|l| l.arn.clone()),
        });
    }
    let state = settle(found.is_some(), new, changes);
    Some(resource(
        kind,
        name,
        found.map(|l| l.arn.clone()),
        if found.is_some() { who } else { Owner::Nobody },
        state,
        facts,
    ))
}
