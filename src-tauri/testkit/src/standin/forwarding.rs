//! Answering one request to a load balancer's listener, per the action its rules choose
//! ([`Routes::route`]): `forward` proxies it to a target of the group (of a weighted
//! forward, the group whose turn it is by weight), picked by [`TargetGroups::pick`] (the
//! healthy ones in turn, sticky by the AWSALB cookie when the group says so, 503 when none
//! can take it); `redirect` answers with the Location the action builds, `fixed-response`
//! with its body. One request per connection (`Connection: close`): the bytes after the heads
//! are copied both ways, so bodies stream and upgrades work.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use aws_sdk_elasticloadbalancingv2::types::{Action, ActionTypeEnum};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use super::rules::{self, Routes};
use super::targets::TargetGroups;

/// The request line and headers of one request.
struct Head {
    target: String,
    headers: Vec<(String, String)>,
}

impl Head {
    fn parse(text: &str) -> Option<Self> {
        let mut lines = text.split("\r\n");
        let mut first = lines.next()?.split(' ');
        first.next()?;
        let target = first.next()?.to_owned();
        let headers = lines
            .filter_map(|l| {
                let (k, v) = l.split_once(':')?;
                Some((k.trim().to_owned(), v.trim().to_owned()))
            })
            .collect();
        Some(Self { target, headers })
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn cookie(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("cookie"))
            .flat_map(|(_, v)| v.split(';'))
            .find_map(|c| c.trim().strip_prefix(name)?.strip_prefix('='))
    }

    fn path_and_query(&self) -> (&str, &str) {
        self.target.split_once('?').unwrap_or((&self.target, ""))
    }
}

pub(super) async fn serve<S: AsyncRead + AsyncWrite + Unpin>(
    mut client: S,
    peer: SocketAddr,
    routes: &Routes,
    groups: &Mutex<TargetGroups>,
) -> std::io::Result<()> {
    let Some((text, rest)) = crate::read_head(&mut client).await? else {
        return Ok(());
    };
    let Some(head) = Head::parse(&text) else {
        return respond(
            &mut client,
            400,
            "Bad Request",
            &[],
            &page(400, "Bad Request"),
        )
        .await;
    };
    let port = routes.listener.port().unwrap_or(80);
    let protocol = routes.listener.protocol().map_or("HTTP", |p| p.as_str());
    let (path, _) = head.path_and_query();
    match routes.route(path, head.header("host").unwrap_or_default()) {
        Some(action) if action.r#type() == Some(&ActionTypeEnum::Forward) => {
            let Some(group) = forward_group(action) else {
                return unavailable(&mut client).await;
            };
            let pick = groups
                .lock()
                .expect("target groups")
                .pick(&group, head.cookie("AWSALB"));
            let Some(pick) = pick else {
                return unavailable(&mut client).await;
            };
            let target =
                tokio::time::timeout(Duration::from_secs(2), TcpStream::connect(pick.address))
                    .await;
            let Ok(Ok(target)) = target else {
                return respond(
                    &mut client,
                    502,
                    "Bad Gateway",
                    &[],
                    &page(502, "Bad Gateway"),
                )
                .await;
            };
            let request = forwarded_request(&text, peer, protocol, port);
            let cookies = pick
                .cookie
                .map(|(value, lasts)| {
                    let age = lasts.as_secs();
                    vec![
                        format!("AWSALB={value}; Max-Age={age}; Path=/"),
                        format!("AWSALBCORS={value}; Max-Age={age}; Path=/; SameSite=None; Secure"),
                    ]
                })
                .unwrap_or_default();
            relay(client, target, request, rest, cookies).await
        }
        Some(action) if action.r#type() == Some(&ActionTypeEnum::Redirect) => {
            let Some(config) = action.redirect_config() else {
                return unavailable(&mut client).await;
            };
            let location = redirect_location(config, &head, protocol, port);
            let (code, reason) = match config.status_code().map(|s| s.as_str()) {
                Some("HTTP_302") => (302, "Found"),
                _ => (301, "Moved Permanently"),
            };
            respond(
                &mut client,
                code,
                reason,
                &[("Location", &location)],
                &page(code, reason),
            )
            .await
        }
        Some(action) if action.r#type() == Some(&ActionTypeEnum::FixedResponse) => {
            let config = action.fixed_response_config();
            let code = config
                .and_then(|c| c.status_code())
                .and_then(|c| c.parse().ok())
                .unwrap_or(200);
            let content_type = config
                .and_then(|c| c.content_type())
                .unwrap_or("text/plain");
            let body = config.and_then(|c| c.message_body()).unwrap_or_default();
            respond(
                &mut client,
                code,
                "",
                &[("Content-Type", content_type)],
                body,
            )
            .await
        }
        _ => unavailable(&mut client).await,
    }
}

/// The group a forward action sends this request to (by weight, when it names several).
fn forward_group(action: &Action) -> Option<String> {
    static TURN: AtomicU64 = AtomicU64::new(0);
    rules::pick_weighted(
        &rules::weights(action),
        TURN.fetch_add(1, Ordering::Relaxed),
    )
}

/// The request head as the target gets it: one request per connection, and the
/// X-Forwarded headers an ALB adds.
fn forwarded_request(head: &str, peer: SocketAddr, protocol: &str, port: i32) -> String {
    let upgrade = head
        .lines()
        .any(|l| l.to_ascii_lowercase().starts_with("upgrade:"));
    let mut forwarded_for = peer.ip().to_string();
    let mut lines: Vec<String> = Vec::new();
    for line in head.trim_end_matches("\r\n").split("\r\n") {
        let name = line
            .split(':')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        match name.as_str() {
            "connection" | "keep-alive" | "proxy-connection" | "x-forwarded-proto"
            | "x-forwarded-port" => {}
            "x-forwarded-for" => {
                let earlier = line
                    .split_once(':')
                    .map(|(_, v)| v.trim())
                    .unwrap_or_default();
                forwarded_for = format!("{earlier}, {forwarded_for}");
            }
            _ => lines.push(line.to_owned()),
        }
    }
    lines.push(format!("X-Forwarded-For: {forwarded_for}"));
    lines.push(format!(
        "X-Forwarded-Proto: {}",
        protocol.to_ascii_lowercase()
    ));
    lines.push(format!("X-Forwarded-Port: {port}"));
    lines.push(format!(
        "X-Amzn-Trace-Id: Root=1-{:08x}-{:024x}",
        super::epoch_seconds() as u32,
        trace_id()
    ));
    lines.push(
        if upgrade {
            "Connection: Upgrade"
        } else {
            "Connection: close"
        }
        .into(),
    );
    format!("{}\r\n\r\n", lines.join("\r\n"))
}

fn trace_id() -> u128 {
    static N: AtomicU64 = AtomicU64::new(0);
    (u128::from(std::process::id()) << 64) | u128::from(N.fetch_add(1, Ordering::Relaxed))
}

/// Sends `request` (and what the client sent after its head) to the target, then the
/// target's answer back with `cookies` set, copying both ways until the target is done.
async fn relay<S: AsyncRead + AsyncWrite + Unpin>(
    client: S,
    target: TcpStream,
    request: String,
    rest: Vec<u8>,
    cookies: Vec<String>,
) -> std::io::Result<()> {
    let (mut from_client, mut to_client) = tokio::io::split(client);
    let (mut from_target, mut to_target) = target.into_split();
    to_target.write_all(request.as_bytes()).await?;
    to_target.write_all(&rest).await?;
    let upload = async {
        let _ = tokio::io::copy(&mut from_client, &mut to_target).await;
        std::future::pending::<()>().await
    };
    let download = async {
        let Some((head, body)) = crate::read_head(&mut from_target).await? else {
            let answer = page(502, "Bad Gateway");
            let head = format!(
                "HTTP/1.1 502 Bad Gateway\r\nServer: awselb/2.0\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                answer.len()
            );
            to_client.write_all(head.as_bytes()).await?;
            return to_client.write_all(answer.as_bytes()).await;
        };
        let switching = head.starts_with("HTTP/1.1 101");
        let mut lines: Vec<String> = head
            .trim_end_matches("\r\n")
            .split("\r\n")
            .filter(|l| {
                let name = l
                    .split(':')
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .to_ascii_lowercase();
                switching || !matches!(name.as_str(), "connection" | "keep-alive")
            })
            .map(str::to_owned)
            .collect();
        lines.extend(cookies.iter().map(|c| format!("Set-Cookie: {c}")));
        if !switching {
            lines.push("Connection: close".into());
        }
        to_client
            .write_all(format!("{}\r\n\r\n", lines.join("\r\n")).as_bytes())
            .await?;
        to_client.write_all(&body).await?;
        tokio::io::copy(&mut from_target, &mut to_client).await?;
        to_client.shutdown().await
    };
    tokio::select! {
        done = download => done,
        () = upload => Ok(()),
    }
}

/// Where a redirect action sends this request: each part the action's, with `#{...}`
/// standing for the request's own.
fn redirect_location(
    config: &aws_sdk_elasticloadbalancingv2::types::RedirectActionConfig,
    head: &Head,
    listener_protocol: &str,
    listener_port: i32,
) -> String {
    let host = head.header("host").unwrap_or("localhost");
    let host = host.rsplit_once(':').map_or(host, |(h, _)| h);
    let (path, query) = head.path_and_query();
    let fill = |part: Option<&str>, default: &str| {
        part.unwrap_or(default)
            .replace("#{protocol}", listener_protocol)
            .replace("#{host}", host)
            .replace("#{port}", &listener_port.to_string())
            .replace("#{path}", path.trim_start_matches('/'))
            .replace("#{query}", query)
    };
    let protocol = fill(config.protocol(), "#{protocol}").to_ascii_lowercase();
    let port = fill(config.port(), "#{port}");
    let path = fill(config.path(), "/#{path}");
    let query = fill(config.query(), "#{query}");
    let default_port = matches!(
        (protocol.as_str(), port.as_str()),
        ("http", "80") | ("https", "443")
    );
    format!(
        "{protocol}://{}{}{path}{}",
        fill(config.host(), "#{host}"),
        if default_port {
            String::new()
        } else {
            format!(":{port}")
        },
        if query.is_empty() {
            String::new()
        } else {
            format!("?{query}")
        }
    )
}

fn page(code: u16, reason: &str) -> String {
    format!("<html>\r\n<head><title>{code} {reason}</title></head>\r\n<body>\r\n<center><h1>{code} {reason}</h1></center>\r\n</body>\r\n</html>\r\n")
}

async fn unavailable<S: AsyncWrite + Unpin>(client: &mut S) -> std::io::Result<()> {
    let reason = "Service Temporarily Unavailable";
    respond(client, 503, reason, &[], &page(503, reason)).await
}

async fn respond<S: AsyncWrite + Unpin>(
    client: &mut S,
    code: u16,
    reason: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> std::io::Result<()> {
    let mut head = format!("HTTP/1.1 {code} {reason}\r\nServer: awselb/2.0\r\n");
    if !headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
    {
        head.push_str("Content-Type: text/html\r\n");
    }
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    ));
    client.write_all(head.as_bytes()).await?;
    client.write_all(body.as_bytes()).await?;
    client.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_elasticloadbalancingv2::types::{
        RedirectActionConfig, RedirectActionStatusCodeEnum,
    };

    #[test]
    fn http_redirects_to_https_keeping_host_path_and_query() {
        let config = RedirectActionConfig::builder()
            .protocol("HTTPS")
            .port("443")
            .status_code(RedirectActionStatusCodeEnum::Http301)
            .build();
        let head = Head::parse("GET /a/b?x=1 HTTP/1.1\r\nHost: app.example.com\r\n").unwrap();
        assert_eq!(
            redirect_location(&config, &head, "HTTP", 80),
            "https://app.example.com/a/b?x=1"
        );
        let head = Head::parse("GET / HTTP/1.1\r\nHost: lb.elb.amazonaws.com:8080\r\n").unwrap();
        let config = RedirectActionConfig::builder()
            .port("#{port}")
            .path("/new/#{path}")
            .status_code(RedirectActionStatusCodeEnum::Http302)
            .build();
        assert_eq!(
            redirect_location(&config, &head, "HTTP", 8080),
            "http://lb.elb.amazonaws.com:8080/new/"
        );
    }

    #[test]
    fn the_target_gets_one_request_with_the_forwarded_headers() {
        let head = "GET / HTTP/1.1\r\nHost: lb\r\nConnection: keep-alive\r\nX-Forwarded-For: 10.1.1.1\r\n\r\n";
        let out = forwarded_request(head, "127.0.0.1:5000".parse().unwrap(), "HTTP", 80);
        assert!(
            out.contains("X-Forwarded-For: 10.1.1.1, 127.0.0.1\r\n"),
            "{out}"
        );
        assert!(out.contains("X-Forwarded-Port: 80\r\n"));
        assert!(out.ends_with("Connection: close\r\n\r\n"), "{out}");
        assert!(!out.contains("keep-alive"));
    }

    #[test]
    fn the_stickiness_cookie_is_read_among_others() {
        let head =
            Head::parse("GET / HTTP/1.1\r\nCookie: a=1; AWSALB=abc; AWSALBCORS=abc\r\n").unwrap();
        assert_eq!(head.cookie("AWSALB"), Some("abc"));
    }
}
