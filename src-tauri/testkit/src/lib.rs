//! Test-only parts of Slipway's own, shared by the engine, CLI and desktop tests. Nothing
//! here ships in the app. [`emulator`] makes moto's account look like a real one where
//! the difference matters.
//!
//! [`FaultProxy`] sits between the app and the AWS emulator on 127.0.0.1: it forwards each
//! request as it is, records which AWS action it was (so a test can count mutating calls),
//! and, when told to, answers an action with a fault instead: throttling, a 5xx, an
//! AccessDenied, or a dropped connection, in the wire format of that service's protocol
//! (JSON with `x-amz-target`, or the query/XML protocol of IAM, STS and EC2); or forwards
//! it late, or forwards it and cuts the answer short (the call happened, the caller cannot
//! know). A rule names one action (`RunTask`) or every action of a service (`ecs:*`), for
//! a number of calls or at random with a given chance. It answers ECS's service-deployment
//! API itself, which moto lacks, from what the Fargate stand-in reports
//! ([`deployments_api`]).

mod deployments_api;
mod elb_rewrite;
pub mod emulator;
mod fault_answer;
pub mod logs;
mod rewrite;
pub mod scenario;
pub mod sso;
pub mod standin;

pub use elb_rewrite::TargetHealth;
pub use rewrite::ScriptedChange;
pub use standin::FargateStandIn;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The service's throttling error (retryable).
    Throttle,
    /// An HTTP 5xx with the service's internal-error body (retryable).
    ServerError(u16),
    /// The service's access-denied error (not retryable).
    AccessDenied,
    /// The connection is closed without an answer (retryable).
    Drop,
    /// Forwarded after this long (a slow answer).
    Slow(Duration),
    /// Forwarded, and the emulator's answer cut off halfway: the call took effect but the
    /// caller cannot read the answer (the SDK retries it).
    Truncate,
}

impl Fault {
    /// True when the emulator saw the call (it was forwarded).
    pub fn reached_emulator(self) -> bool {
        matches!(self, Self::Slow(_) | Self::Truncate)
    }
}

/// One request that reached the proxy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// The signing name of the service ("ecs", "iam", "ec2"...).
    pub service: String,
    /// The action ("CreateCluster").
    pub action: String,
    /// The fault answered instead of forwarding, if any.
    pub fault: Option<Fault>,
}

impl Call {
    /// True for actions that change something (everything that is not a read).
    pub fn is_mutating(&self) -> bool {
        !["Describe", "List", "Get", "BatchGet", "Filter", "Lookup"]
            .iter()
            .any(|read| self.action.starts_with(read))
    }
}

struct Rule {
    /// An action (`RunTask`) or every action of a service (`ecs:*`).
    pattern: String,
    fault: Fault,
    remaining: u32,
    /// Each matching call is faulted with this chance (1.0: every one, while `remaining`).
    chance: f64,
}

impl Rule {
    fn matches(&self, service: &str, action: &str) -> bool {
        match self.pattern.strip_suffix(":*") {
            Some(wanted) => wanted == service,
            None => self.pattern == action,
        }
    }
}

/// A canned answer for the next call of an action (status and JSON body).
struct Canned {
    action: String,
    status: u16,
    body: String,
}

#[derive(Default)]
struct State {
    canned: Vec<Canned>,
    rules: Vec<Rule>,
    calls: Vec<Call>,
    rewrites: rewrite::Rewrites,
    service_deployments: deployments_api::ServiceDeployments,
    /// The random faults' generator (xorshift, seeded, so a run can be repeated).
    seed: u64,
}

impl State {
    fn roll(&mut self) -> f64 {
        let mut x = self.seed.max(1);
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.seed = x;
        (x >> 11) as f64 / (1u64 << 53) as f64
    }

    /// The fault for this call, if a rule wants one.
    fn fault_for(&mut self, service: &str, action: &str) -> Option<Fault> {
        let index = self
            .rules
            .iter()
            .position(|r| r.remaining > 0 && r.matches(service, action))?;
        let chance = self.rules[index].chance;
        if chance < 1.0 && self.roll() >= chance {
            return None;
        }
        let rule = &mut self.rules[index];
        rule.remaining -= 1;
        Some(rule.fault)
    }
}

pub struct FaultProxy {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    task: JoinHandle<()>,
}

impl FaultProxy {
    /// Starts a proxy on a free port of 127.0.0.1 in front of `upstream`
    /// (`http://127.0.0.1:PORT`).
    pub async fn start(upstream: &str) -> Self {
        let upstream = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned();
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the fault proxy on 127.0.0.1");
        let addr = listener.local_addr().expect("the proxy's address");
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let state = shared.clone();
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    let _ = serve(client, &upstream, &state).await;
                });
            }
        });
        Self { addr, state, task }
    }

    /// The endpoint URL to give the app instead of the emulator's.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Answers the next `times` calls of `action` (or of every action of a service,
    /// `"ecs:*"`) with `fault`.
    pub fn fail(&self, action: &str, fault: Fault, times: u32) {
        self.state.lock().expect("proxy state").rules.push(Rule {
            pattern: action.to_owned(),
            fault,
            remaining: times,
            chance: 1.0,
        });
    }

    /// Answers every call of `action` (or `"ecs:*"`) with `fault` until [`Self::heal`].
    pub fn fail_always(&self, action: &str, fault: Fault) {
        self.fail(action, fault, u32::MAX);
    }

    /// Answers each call of `action` (or `"ecs:*"`) with `fault` with probability
    /// `chance`, from a generator seeded with `seed`, until [`Self::heal`].
    pub fn fail_randomly(&self, action: &str, fault: Fault, chance: f64, seed: u64) {
        let mut state = self.state.lock().expect("proxy state");
        state.seed = seed;
        state.rules.push(Rule {
            pattern: action.to_owned(),
            fault,
            remaining: u32::MAX,
            chance,
        });
    }

    /// Removes every fault rule: calls reach the emulator again.
    pub fn heal(&self) {
        self.state.lock().expect("proxy state").rules.clear();
    }

    /// Answers the next call of `action` with `status` and `body` (a JSON-protocol body),
    /// for services the emulator does not implement (the Price List API). Answers queue in
    /// the order given.
    pub fn answer(&self, action: &str, status: u16, body: &str) {
        self.state.lock().expect("proxy state").canned.push(Canned {
            action: action.to_owned(),
            status,
            body: body.to_owned(),
        });
    }

    pub fn calls(&self) -> Vec<Call> {
        self.state.lock().expect("proxy state").calls.clone()
    }

    /// The mutating actions that reached the emulator (faults that answered instead not
    /// counted).
    pub fn mutating_calls(&self) -> Vec<String> {
        self.calls()
            .into_iter()
            .filter(|c| c.fault.is_none_or(Fault::reached_emulator) && c.is_mutating())
            .map(|c| c.action)
            .collect()
    }

    /// Shows each task the emulator reports RUNNING in `states` first, each for its
    /// duration from the first time the task is described (moto starts tasks RUNNING).
    pub fn script_task_states(&self, states: &[(&str, Duration)]) {
        self.state
            .lock()
            .expect("proxy state")
            .rewrites
            .script(states);
    }

    /// When each scripted state was first shown, per task.
    pub fn scripted_changes(&self) -> Vec<ScriptedChange> {
        self.state.lock().expect("proxy state").rewrites.changes()
    }

    /// Adds `patch` (DescribeTasks JSON fields) to what the emulator says of a task.
    pub fn patch_task(&self, task_arn: &str, patch: serde_json::Value) {
        self.state
            .lock()
            .expect("proxy state")
            .rewrites
            .patch_task(task_arn, patch);
    }

    /// Adds `patch` (DescribeServices JSON fields) to what the emulator says of a service.
    pub fn patch_service(&self, service_arn: &str, patch: serde_json::Value) {
        self.state
            .lock()
            .expect("proxy state")
            .rewrites
            .patch_service(service_arn, patch);
    }

    /// Answers DescribeTargetHealth for `target_group_arn` with `targets`' states (the
    /// Fargate stand-in's measurements) instead of moto's "healthy".
    pub fn report_target_health(&self, target_group_arn: &str, targets: Vec<TargetHealth>) {
        self.state
            .lock()
            .expect("proxy state")
            .rewrites
            .target_health
            .report(target_group_arn, targets);
    }

    /// Leaves DescribeTargetHealth for `target_group_arn` to moto again.
    pub fn forget_target_health(&self, target_group_arn: &str) {
        self.state
            .lock()
            .expect("proxy state")
            .rewrites
            .target_health
            .forget(target_group_arn);
    }

    /// A field CreateService was given for `service_arn` that moto drops
    /// (`healthCheckGracePeriodSeconds`, `deploymentConfiguration`); DescribeServices
    /// through the proxy shows it.
    pub fn created_service_field(
        &self,
        service_arn: &str,
        field: &str,
    ) -> Option<serde_json::Value> {
        self.state
            .lock()
            .expect("proxy state")
            .rewrites
            .created(service_arn, field)
    }

    /// Answers ListServiceDeployments and DescribeServiceDeployments for `service_arn`
    /// with `deployments` (each as DescribeServiceDeployments shows it).
    pub(crate) fn report_service_deployments(
        &self,
        service_arn: &str,
        deployments: Vec<serde_json::Value>,
    ) {
        self.state
            .lock()
            .expect("proxy state")
            .service_deployments
            .report(service_arn, deployments);
    }

    /// The service deployments of `service_arn` that StopServiceDeployment asked to roll
    /// back since the last call (their ARNs).
    pub(crate) fn take_rollback_requests(&self, service_arn: &str) -> Vec<String> {
        self.state
            .lock()
            .expect("proxy state")
            .service_deployments
            .take_requests(service_arn)
    }

    pub fn forget_calls(&self) {
        self.state.lock().expect("proxy state").calls.clear();
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub(crate) struct Request {
    pub(crate) head: String,
    pub(crate) body: Vec<u8>,
}

impl Request {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim().eq_ignore_ascii_case(name).then(|| value.trim())
        })
    }

    fn service(&self) -> String {
        self.credential_scope(3)
    }

    fn region(&self) -> String {
        self.credential_scope(2)
    }

    /// A part of the signature's scope.
    fn credential_scope(&self, part: usize) -> String {
        // Authorization: AWS4-HMAC-SHA256 Credential=KEY/DATE/REGION/SERVICE/aws4_request, ...
        self.header("authorization")
            .and_then(|auth| auth.split("Credential=").nth(1))
            .and_then(|cred| cred.split('/').nth(part))
            .unwrap_or("unknown")
            .to_owned()
    }

    fn action(&self) -> String {
        if let Some(target) = self.header("x-amz-target") {
            return target.rsplit('.').next().unwrap_or(target).to_owned();
        }
        if let Some(action) = String::from_utf8_lossy(&self.body)
            .split('&')
            .find_map(|pair| pair.strip_prefix("Action="))
        {
            return action.to_owned();
        }
        self.rest_action().unwrap_or("unknown").to_owned()
    }

    /// The action of a REST call (Route 53 names it by method and path, not in the body).
    fn rest_action(&self) -> Option<&'static str> {
        let mut words = self.head.lines().next()?.split_whitespace();
        let (method, target) = (words.next()?, words.next()?);
        let path = target.split('?').next()?.trim_end_matches('/');
        let route53 = path.strip_prefix("/2013-04-01/")?;
        Some(
            match (method, route53.split('/').collect::<Vec<_>>().as_slice()) {
                ("POST", ["hostedzone", _, "rrset"]) => "ChangeResourceRecordSets",
                ("GET", ["hostedzone", _, "rrset"]) => "ListResourceRecordSets",
                ("GET", ["hostedzone"]) => "ListHostedZones",
                ("POST", ["hostedzone"]) => "CreateHostedZone",
                ("GET", ["hostedzonesbyname"]) => "ListHostedZonesByName",
                ("GET", ["hostedzone", _]) => "GetHostedZone",
                ("DELETE", ["hostedzone", _]) => "DeleteHostedZone",
                ("GET", ["change", _]) => "GetChange",
                _ => return None,
            },
        )
    }

    fn is_json_protocol(&self) -> bool {
        self.header("x-amz-target").is_some()
    }
}

async fn serve(mut client: TcpStream, upstream: &str, state: &Mutex<State>) -> std::io::Result<()> {
    let Some(request) = read_request(&mut client).await? else {
        return Ok(());
    };
    let service = request.service();
    let action = request.action();
    let canned = {
        let mut state = state.lock().expect("proxy state");
        let found = state.canned.iter().position(|c| c.action == action);
        let canned = found.map(|i| state.canned.remove(i));
        if canned.is_some() {
            state.calls.push(Call {
                service: service.clone(),
                action: action.clone(),
                fault: None,
            });
        }
        canned
    };
    if let Some(canned) = canned {
        let answer = format!(
            "HTTP/1.1 {} Canned\r\nContent-Type: application/x-amz-json-1.1\r\nx-amzn-RequestId: fault-proxy\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
            canned.status,
            canned.body.len(),
            canned.body
        );
        return client.write_all(answer.as_bytes()).await;
    }
    let fault = {
        let mut state = state.lock().expect("proxy state");
        let fault = state.fault_for(&service, &action);
        state.calls.push(Call {
            service: service.clone(),
            action: action.clone(),
            fault,
        });
        fault
    };
    match fault {
        Some(Fault::Drop) => Ok(()),
        Some(Fault::Slow(wait)) => {
            tokio::time::sleep(wait).await;
            let response = forward(upstream, &request, &action, state).await?;
            client.write_all(&response).await
        }
        Some(Fault::Truncate) => {
            let response = forward(upstream, &request, &action, state).await?;
            client.write_all(&response[..response.len() / 2]).await
        }
        Some(fault) => {
            let answer = fault_answer::fault_response(fault, &request, &service, &action);
            client.write_all(&answer).await
        }
        None => {
            let response = forward(upstream, &request, &action, state).await?;
            client.write_all(&response).await
        }
    }
}

/// The emulator's answer to `request`, with the scripted rewrites applied; the proxy's
/// own for the actions moto lacks.
async fn forward(
    upstream: &str,
    request: &Request,
    action: &str,
    state: &Mutex<State>,
) -> std::io::Result<Vec<u8>> {
    if let Some(answer) = state
        .lock()
        .expect("proxy state")
        .service_deployments
        .answer(&request.service(), action, &request.region(), &request.body)
    {
        return Ok(answer);
    }
    let mut server = TcpStream::connect(upstream).await?;
    let head = with_connection_close(&request.head);
    server.write_all(head.as_bytes()).await?;
    server.write_all(&request.body).await?;
    let response = read_response(&mut server).await?;
    Ok(state
        .lock()
        .expect("proxy state")
        .rewrites
        .apply(action, &request.body, response))
}

/// Reads one HTTP/1.1 request (head and Content-Length body); `None` on a closed socket.
pub(crate) async fn read_request(stream: &mut TcpStream) -> std::io::Result<Option<Request>> {
    let Some((head, rest)) = read_head(stream).await? else {
        return Ok(None);
    };
    let length = content_length(&head);
    let body = read_body(stream, rest, length).await?;
    Ok(Some(Request { head, body }))
}

async fn read_response(stream: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let Some((head, rest)) = read_head(stream).await? else {
        return Err(std::io::Error::other("the emulator closed the connection"));
    };
    let body = match content_length(&head) {
        Some(length) => read_body(stream, rest, Some(length)).await?,
        None => {
            let mut body = rest;
            stream.read_to_end(&mut body).await?;
            body
        }
    };
    let mut out = with_connection_close(&head).into_bytes();
    out.extend_from_slice(&body);
    Ok(out)
}

pub(crate) async fn read_head<S: AsyncRead + Unpin>(
    stream: &mut S,
) -> std::io::Result<Option<(String, Vec<u8>)>> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buffer[..end + 4]).into_owned();
            return Ok(Some((head, buffer[end + 4..].to_vec())));
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
}

async fn read_body<S: AsyncRead + Unpin>(
    stream: &mut S,
    mut body: Vec<u8>,
    length: Option<usize>,
) -> std::io::Result<Vec<u8>> {
    let length = length.unwrap_or(0);
    let mut chunk = [0u8; 8192];
    while body.len() < length {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Ok(body)
}

fn content_length(head: &str) -> Option<usize> {
    head.lines().skip(1).find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.trim()
            .eq_ignore_ascii_case("content-length")
            .then(|| value.trim().parse().ok())?
    })
}

/// The head with its Connection header set to close: one exchange per connection keeps
/// the proxy simple and every request visible.
fn with_connection_close(head: &str) -> String {
    let mut lines: Vec<&str> = head
        .trim_end_matches("\r\n")
        .split("\r\n")
        .filter(|l| {
            !l.split(':')
                .next()
                .unwrap_or_default()
                .trim()
                .eq_ignore_ascii_case("connection")
        })
        .collect();
    lines.push("Connection: close");
    format!("{}\r\n\r\n", lines.join("\r\n"))
}

/// Removes every image of `app` from the test environment's Docker engine: its local
/// releases and the ECR-named tags the push made (`…/app`), whatever a test's end.
pub fn remove_app_images(app: &str) {
    let _ = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "docker images --format '{{{{.Repository}}}} {{{{.ID}}}}' | awk '$1 ~ /(^|\\/){app}$/ {{print $2}}' | sort -u | xargs -r docker rmi -f"
        ))
        .output();
}

/// A temporary folder holding `files` (relative path, contents), for unit tests that read
/// a project folder.
pub fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary folder");
    for (name, contents) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().expect("a file has a folder")).unwrap();
        std::fs::write(path, contents).unwrap();
    }
    dir
}

#[cfg(test)]
mod tests {
    use super::Request;

    fn request(line: &str, body: &str) -> Request {
        Request {
            head: format!("{line}\r\nHost: 127.0.0.1\r\n"),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn route53_calls_are_named_by_method_and_path() {
        let named = |line: &str| request(line, "").action();
        assert_eq!(
            named("POST /2013-04-01/hostedzone/Z123/rrset/ HTTP/1.1"),
            "ChangeResourceRecordSets"
        );
        assert_eq!(
            named("GET /2013-04-01/hostedzone/Z123/rrset?name=a HTTP/1.1"),
            "ListResourceRecordSets"
        );
        assert_eq!(
            named("GET /2013-04-01/hostedzone HTTP/1.1"),
            "ListHostedZones"
        );
        assert_eq!(
            request("POST / HTTP/1.1", "Action=DescribeLoadBalancers&Version=1").action(),
            "DescribeLoadBalancers"
        );
        assert_eq!(named("PUT /elsewhere HTTP/1.1"), "unknown");
    }
}
