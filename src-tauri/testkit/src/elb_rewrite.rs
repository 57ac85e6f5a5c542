//! DescribeTargetHealth as Elastic Load Balancing would answer it: moto says every
//! registered target is healthy; the Fargate stand-in checks each one itself and reports
//! what it measured here, and the proxy answers with those states (and with the targets
//! still draining, which moto has already forgotten). Target groups the stand-in has not
//! reported keep moto's answer.

use std::collections::HashMap;

/// One target's health as the stand-in measured it (DescribeTargetHealth's words).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetHealth {
    /// The target's id: a task's private IP.
    pub id: String,
    pub port: i32,
    /// `initial`, `healthy`, `unhealthy`, `draining`, `unused`.
    pub state: String,
    /// `Elb.InitialHealthChecking`, `Target.ResponseCodeMismatch`...
    pub reason: Option<String>,
    pub description: Option<String>,
}

#[derive(Default)]
pub(crate) struct TargetHealthReports {
    groups: HashMap<String, Vec<TargetHealth>>,
}

impl TargetHealthReports {
    pub(crate) fn report(&mut self, target_group_arn: &str, targets: Vec<TargetHealth>) {
        self.groups.insert(target_group_arn.to_owned(), targets);
    }

    pub(crate) fn forget(&mut self, target_group_arn: &str) {
        self.groups.remove(target_group_arn);
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// moto's XML answer to the form-encoded `request` with the measured states, or
    /// `None` to keep moto's answer.
    pub(crate) fn answer(&self, request: &[u8], xml: &str) -> Option<String> {
        let form = form(request);
        let group = form.get("TargetGroupArn")?;
        let measured = self.groups.get(group)?;
        let (open, close) = ("<TargetHealthDescriptions>", "</TargetHealthDescriptions>");
        // The element's outer bounds, and moto's members inside it.
        let (before, after, inner) = match (xml.find(open), xml.find(close)) {
            (Some(start), Some(end)) => (start, end + close.len(), &xml[start + open.len()..end]),
            _ => {
                let empty = xml.find("<TargetHealthDescriptions/>")?;
                (empty, empty + "<TargetHealthDescriptions/>".len(), "")
            }
        };
        let listed: Vec<(String, i32)> = members(inner);
        let asked: Vec<(String, Option<i32>)> = (1..)
            .map_while(|n| {
                let id = form.get(&format!("Targets.member.{n}.Id"))?;
                let port = form
                    .get(&format!("Targets.member.{n}.Port"))
                    .and_then(|p| p.parse().ok());
                Some((id.clone(), port))
            })
            .collect();
        let find = |id: &str, port: Option<i32>| {
            measured
                .iter()
                .find(|t| t.id == id && port.is_none_or(|p| p == t.port))
        };
        let shown: Vec<TargetHealth> = if asked.is_empty() {
            // Every target moto lists, in the state measured (a target registered since
            // the last check is still registering), then those draining.
            let mut shown: Vec<TargetHealth> = listed
                .iter()
                .map(|(id, port)| {
                    find(id, Some(*port))
                        .cloned()
                        .unwrap_or_else(|| registering(id, *port))
                })
                .collect();
            shown.extend(
                measured
                    .iter()
                    .filter(|t| t.state == "draining")
                    .filter(|t| {
                        !listed
                            .iter()
                            .any(|(id, port)| *id == t.id && *port == t.port)
                    })
                    .cloned(),
            );
            shown
        } else {
            asked
                .iter()
                .map(|(id, port)| {
                    let listed_port = listed.iter().find(|(i, _)| i == id).map(|(_, p)| *p);
                    match (find(id, *port), listed_port) {
                        (Some(t), _) => t.clone(),
                        (None, Some(p)) => registering(id, port.unwrap_or(p)),
                        (None, None) => TargetHealth {
                            id: id.clone(),
                            port: port.unwrap_or_default(),
                            state: "unused".into(),
                            reason: Some("Target.NotRegistered".into()),
                            description: Some("Target is not registered".into()),
                        },
                    }
                })
                .collect()
        };
        let body: String = shown.iter().map(member).collect();
        Some(format!(
            "{}{open}{body}{close}{}",
            &xml[..before],
            &xml[after..]
        ))
    }
}

fn registering(id: &str, port: i32) -> TargetHealth {
    TargetHealth {
        id: id.to_owned(),
        port,
        state: "initial".into(),
        reason: Some("Elb.RegistrationInProgress".into()),
        description: Some("Target registration is in progress".into()),
    }
}

fn member(t: &TargetHealth) -> String {
    let mut health = format!("<State>{}</State>", t.state);
    if let Some(reason) = &t.reason {
        health.push_str(&format!("<Reason>{reason}</Reason>"));
    }
    if let Some(description) = &t.description {
        health.push_str(&format!(
            "<Description>{}</Description>",
            escape(description)
        ));
    }
    format!(
        "<member><Target><Id>{}</Id><Port>{}</Port></Target><HealthCheckPort>{}</HealthCheckPort><TargetHealth>{health}</TargetHealth></member>",
        t.id, t.port, t.port
    )
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The (Id, Port) of each `<member>` of moto's list.
fn members(xml: &str) -> Vec<(String, i32)> {
    xml.split("<member>")
        .skip(1)
        .filter_map(|m| {
            let id = between(m, "<Id>", "</Id>")?;
            let port = between(m, "<Port>", "</Port>")?.parse().ok()?;
            Some((id.to_owned(), port))
        })
        .collect()
}

fn between<'a>(text: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let start = text.find(open)? + open.len();
    let len = text[start..].find(close)?;
    Some(&text[start..start + len])
}

/// A query-protocol request body as key → value (percent-decoded).
fn form(body: &[u8]) -> HashMap<String, String> {
    String::from_utf8_lossy(body)
        .split('&')
        .filter_map(|pair| {
            let (key, value) = pair.split_once('=')?;
            Some((decode(key), decode(value)))
        })
        .collect()
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match u8::from_str_radix(&text[i + 1..i + 3], 16) {
                Ok(b) => {
                    out.push(b);
                    i += 2;
                }
                Err(_) => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOTO: &str = "<DescribeTargetHealthResponse><DescribeTargetHealthResult><TargetHealthDescriptions><member><Target><Id>10.0.0.5</Id><Port>8080</Port></Target><HealthCheckPort>traffic-port</HealthCheckPort><TargetHealth><State>healthy</State></TargetHealth></member><member><Target><Id>10.0.0.6</Id><Port>8080</Port></Target><TargetHealth><State>healthy</State></TargetHealth></member></TargetHealthDescriptions></DescribeTargetHealthResult></DescribeTargetHealthResponse>";

    fn reports() -> TargetHealthReports {
        let mut reports = TargetHealthReports::default();
        reports.report(
            "arn:tg/a",
            vec![
                TargetHealth {
                    id: "10.0.0.5".into(),
                    port: 8080,
                    state: "unhealthy".into(),
                    reason: Some("Target.ResponseCodeMismatch".into()),
                    description: Some("Health checks failed with these codes: [404]".into()),
                },
                TargetHealth {
                    id: "10.0.0.4".into(),
                    port: 8080,
                    state: "draining".into(),
                    reason: Some("Target.DeregistrationInProgress".into()),
                    description: None,
                },
            ],
        );
        reports
    }

    #[test]
    fn measured_states_replace_motos_and_draining_targets_stay_listed() {
        let xml = reports()
            .answer(
                b"Action=DescribeTargetHealth&TargetGroupArn=arn%3Atg%2Fa",
                MOTO,
            )
            .expect("a group the stand-in reported is rewritten");
        let listed = members(&xml);
        assert_eq!(
            listed,
            vec![
                ("10.0.0.5".to_owned(), 8080),
                ("10.0.0.6".to_owned(), 8080),
                ("10.0.0.4".to_owned(), 8080)
            ]
        );
        assert!(xml.contains("<State>unhealthy</State><Reason>Target.ResponseCodeMismatch</Reason><Description>Health checks failed with these codes: [404]</Description>"), "{xml}");
        // Registered since the last check: still registering, not moto's "healthy".
        assert!(!xml.contains("<State>healthy</State>"), "{xml}");
        assert!(xml.contains("Elb.RegistrationInProgress"), "{xml}");
        assert!(xml.starts_with("<DescribeTargetHealthResponse><DescribeTargetHealthResult><TargetHealthDescriptions><member>"));
        assert!(xml.ends_with("</TargetHealthDescriptions></DescribeTargetHealthResult></DescribeTargetHealthResponse>"));
    }

    #[test]
    fn a_named_target_that_is_not_registered_is_unused() {
        let xml = reports()
            .answer(
                b"Action=DescribeTargetHealth&TargetGroupArn=arn%3Atg%2Fa&Targets.member.1.Id=10.0.0.9&Targets.member.1.Port=8080",
                MOTO,
            )
            .unwrap();
        assert_eq!(members(&xml), vec![("10.0.0.9".to_owned(), 8080)]);
        assert!(xml.contains("<State>unused</State><Reason>Target.NotRegistered</Reason>"));
    }

    #[test]
    fn a_group_not_reported_keeps_motos_answer() {
        assert!(reports()
            .answer(b"TargetGroupArn=arn%3Atg%2Fb", MOTO)
            .is_none());
    }
}
