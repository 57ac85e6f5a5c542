//! The calls on an app's tasks that deploy, status, stop and undo share: listing and
//! describing tasks (in AWS's batch size), their public IPs, their last log lines, and
//! stopping one. Each is one AWS call or a few; what to make of the answers is left to
//! the callers.

use std::collections::HashMap;

use super::watch::{task_id, TaskSnapshot};
use crate::aws::{classify, Connection};
use slipway_core::error::Result;
use slipway_core::taskdef::CONTAINER;

/// DescribeTasks takes at most 100 tasks a call.
const DESCRIBE_BATCH: usize = 100;

pub async fn describe_tasks(
    conn: &Connection,
    cluster: &str,
    arns: &[String],
) -> Result<Vec<TaskSnapshot>> {
    let ecs = aws_sdk_ecs::Client::new(&conn.ctx.sdk);
    let mut out = Vec::new();
    for batch in arns.chunks(DESCRIBE_BATCH) {
        let answer = ecs
            .describe_tasks()
            .cluster(cluster)
            .set_tasks(Some(batch.to_vec()))
            .send()
            .await
            .map_err(|e| classify(&conn.ctx, "ecs:DescribeTasks", e))?;
        out.extend(answer.tasks().iter().map(TaskSnapshot::from_sdk));
    }
    Ok(out)
}

/// Which tasks ListTasks should return. ECS refuses `startedBy` combined with any other
/// filter, so it stands alone (and then lists RUNNING tasks only).
#[derive(Debug, Clone)]
pub enum TaskFilter<'a> {
    StartedBy(&'a str),
    Family(&'a str, aws_sdk_ecs::types::DesiredStatus),
    /// Every task of the cluster that is meant to run.
    Running,
}

/// Task ARNs in `cluster` (all pages).
pub async fn list_tasks(
    conn: &Connection,
    cluster: &str,
    filter: TaskFilter<'_>,
) -> Result<Vec<String>> {
    let ecs = aws_sdk_ecs::Client::new(&conn.ctx.sdk);
    let request = ecs.list_tasks().cluster(cluster);
    let request = match filter {
        TaskFilter::StartedBy(by) => request.started_by(by),
        TaskFilter::Family(family, desired) => request.family(family).desired_status(desired),
        TaskFilter::Running => request.desired_status(aws_sdk_ecs::types::DesiredStatus::Running),
    };
    let mut pages = request.into_paginator().send();
    let mut arns = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| classify(&conn.ctx, "ecs:ListTasks", e))?;
        arns.extend(page.task_arns().iter().cloned());
    }
    Ok(arns)
}

/// Public IPs by network interface id (interfaces without one are left out).
pub async fn public_ips(conn: &Connection, enis: &[String]) -> Result<HashMap<String, String>> {
    if enis.is_empty() {
        return Ok(HashMap::new());
    }
    let ec2 = aws_sdk_ec2::Client::new(&conn.ctx.sdk);
    let answer = ec2
        .describe_network_interfaces()
        .set_network_interface_ids(Some(enis.to_vec()))
        .send()
        .await
        .map_err(|e| classify(&conn.ctx, "ec2:DescribeNetworkInterfaces", e))?;
    Ok(answer
        .network_interfaces()
        .iter()
        .filter_map(|n| {
            let ip = n.association()?.public_ip()?;
            Some((n.network_interface_id()?.to_owned(), ip.to_owned()))
        })
        .collect())
}

/// The log stream ECS's awslogs driver writes a task's container to.
pub fn log_stream(task_arn: &str) -> String {
    format!("slipway/{CONTAINER}/{}", task_id(task_arn))
}

/// The last `n` lines a task logged, oldest first; empty when it logged nothing (or its
/// stream does not exist yet).
pub async fn last_log_lines(
    conn: &Connection,
    log_group: &str,
    task_arn: &str,
    n: i32,
) -> Vec<String> {
    let logs = aws_sdk_cloudwatchlogs::Client::new(&conn.ctx.sdk);
    match logs
        .get_log_events()
        .log_group_name(log_group)
        .log_stream_name(log_stream(task_arn))
        .start_from_head(false)
        .limit(n)
        .send()
        .await
    {
        Ok(answer) => answer
            .events()
            .iter()
            .filter_map(|e| e.message().map(|m| m.trim_end().to_owned()))
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// "arn:…:task-definition/FAMILY:REV" → FAMILY.
pub fn family_of(task_definition_arn: &str) -> &str {
    task_definition_arn
        .rsplit('/')
        .next()
        .and_then(|f| f.rsplit_once(':'))
        .map_or(task_definition_arn, |(family, _)| family)
}

pub fn revision_of(task_definition_arn: &str) -> Option<i32> {
    task_definition_arn.rsplit(':').next()?.parse().ok()
}

pub async fn stop_task(conn: &Connection, cluster: &str, arn: &str, reason: &str) -> Result<()> {
    let ecs = aws_sdk_ecs::Client::new(&conn.ctx.sdk);
    ecs.stop_task()
        .cluster(cluster)
        .task(arn)
        .reason(reason)
        .send()
        .await
        .map_err(|e| classify(&conn.ctx, "ecs:StopTask", e))?;
    Ok(())
}
