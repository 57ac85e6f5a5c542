//! The one-time loopback address the browser comes back to after signing in:
//! `http://127.0.0.1:<port>/oauth/callback?code=…&state=…`. Only a request that carries
//! the state this sign-in sent is taken; the page the browser shows says where to go next.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use slipway_core::error::{EngineError, Result};

const PATH: &str = "/oauth/callback";
/// The redirect as registered with IAM Identity Center: loopback, any port.
pub(super) const REGISTERED_URI: &str = "http://127.0.0.1/oauth/callback";
/// A request line and headers larger than this are not a browser's redirect.
const HEAD_LIMIT: usize = 16 * 1024;

pub(super) struct Listener {
    listener: TcpListener,
    port: u16,
}

impl Listener {
    pub async fn bind() -> Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await.map_err(|e| {
            EngineError::SsoSignInFailed {
                reason: format!("Slipway could not listen for the browser's answer ({e}); sign in with a code instead"),
            }
        })?;
        let port = listener
            .local_addr()
            .map_err(|e| EngineError::Internal(format!("the sign-in listener: {e}")))?
            .port();
        Ok(Self { listener, port })
    }

    pub fn redirect_uri(&self) -> String {
        format!("http://127.0.0.1:{}{PATH}", self.port)
    }

    /// Waits for the browser's answer for `state`: the authorization code, or why there is
    /// none. Each connection is read on its own task, so one that sends nothing (a browser's
    /// speculative connection) holds up nothing; other requests (a favicon, a stale tab)
    /// get a 404 and the wait goes on.
    pub async fn code(&self, state: &str) -> Result<String> {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<String>>(1);
        let mut connections = tokio::task::JoinSet::new();
        loop {
            tokio::select! {
                accepted = self.listener.accept() => {
                    let Ok((stream, _)) = accepted else {
                        // Out of file descriptors, say: not a reason to spin.
                        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                        continue;
                    };
                    let (tx, state) = (tx.clone(), state.to_owned());
                    connections.spawn(async move {
                        if let Some(outcome) = serve(stream, &state).await {
                            let _ = tx.send(outcome).await;
                        }
                    });
                }
                Some(outcome) = rx.recv() => return outcome,
            }
        }
    }
}

/// Answers one connection; `Some` when it carried this sign-in's answer.
async fn serve(mut stream: TcpStream, state: &str) -> Option<Result<String>> {
    let target = read_target(&mut stream).await?;
    match answer(&target, state) {
        Answer::NotOurs => {
            respond(&mut stream, "404 Not Found", "Nothing here.").await;
            None
        }
        Answer::Code(code) => {
            respond(&mut stream, "200 OK", "Slipway has your sign-in and is finishing it. You can close this tab and go back to Slipway.").await;
            Some(Ok(code))
        }
        Answer::Refused(reason) => {
            respond(
                &mut stream,
                "200 OK",
                "The sign-in did not finish. Go back to Slipway to try again.",
            )
            .await;
            Some(Err(EngineError::SsoSignInFailed { reason }))
        }
    }
}

#[derive(Debug, PartialEq)]
enum Answer {
    NotOurs,
    Code(String),
    Refused(String),
}

/// What the request target `/oauth/callback?…` says for the sign-in that sent `state`.
fn answer(target: &str, state: &str) -> Answer {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    if path != PATH {
        return Answer::NotOurs;
    }
    let params: Vec<(String, String)> = query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect();
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    if get("state") != Some(state) {
        return Answer::NotOurs;
    }
    if let Some(error) = get("error") {
        let reason = match error {
            "access_denied" => "the sign-in was declined in the browser".to_owned(),
            other => {
                tracing::warn!(error = other, description = ?get("error_description"), "the SSO sign-in page answered an error");
                "the sign-in page ended with an error".to_owned()
            }
        };
        return Answer::Refused(reason);
    }
    match get("code") {
        Some(code) if !code.is_empty() => Answer::Code(code.to_owned()),
        _ => Answer::Refused("the browser came back without a sign-in code".into()),
    }
}

/// The request target of an HTTP/1.1 request (`GET /path?query HTTP/1.1`).
async fn read_target(stream: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut buffer = [0u8; 2048];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let read =
            tokio::time::timeout(std::time::Duration::from_secs(10), stream.read(&mut buffer))
                .await
                .ok()?
                .ok()?;
        if read == 0 || head.len() + read > HEAD_LIMIT {
            return None;
        }
        head.extend_from_slice(&buffer[..read]);
    }
    let line = String::from_utf8_lossy(&head);
    let mut parts = line.lines().next()?.split(' ');
    let (method, target) = (parts.next()?, parts.next()?);
    (method == "GET").then(|| target.to_owned())
}

async fn respond(stream: &mut TcpStream, status: &str, message: &str) {
    let body = format!(
        "<!doctype html><meta charset=utf-8><title>Slipway</title>\
         <body style=\"font:16px system-ui;margin:15vh auto;max-width:32em\"><h1>Slipway</h1><p>{message}</p>"
    );
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\nCache-Control: no-store\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// Percent-decoding of a query value (`+` is a space in a form-encoded query).
fn decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(high), Some(low)) => {
                    out.push(high << 4 | low);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_callback_with_this_sign_ins_state_is_taken() {
        assert_eq!(
            answer("/oauth/callback?code=abc%2Bd&state=s1", "s1"),
            Answer::Code("abc+d".into())
        );
        assert_eq!(
            answer("/oauth/callback?code=abc&state=other", "s1"),
            Answer::NotOurs
        );
        assert_eq!(answer("/favicon.ico", "s1"), Answer::NotOurs);
        assert_eq!(
            answer("/oauth/callback?error=access_denied&state=s1", "s1"),
            Answer::Refused("the sign-in was declined in the browser".into())
        );
        assert!(matches!(
            answer("/oauth/callback?state=s1", "s1"),
            Answer::Refused(_)
        ));
    }

    #[test]
    fn percent_escapes_decode_and_broken_ones_stay() {
        assert_eq!(decode("a%20b+c"), "a b c");
        assert_eq!(decode("100%"), "100%");
        assert_eq!(decode("%zz"), "%zz");
    }

    #[tokio::test]
    async fn a_browser_redirect_is_answered_with_a_page_and_gives_the_code() {
        let listener = Listener::bind().await.unwrap();
        let uri = listener.redirect_uri();
        assert!(uri.starts_with("http://127.0.0.1:") && uri.ends_with("/oauth/callback"));
        let browser = tokio::spawn(async move {
            let stray = reqwest::get(uri.replace("/oauth/callback", "/favicon.ico"))
                .await
                .unwrap();
            assert_eq!(stray.status(), 404);
            let page = reqwest::get(format!("{uri}?code=the-code&state=st"))
                .await
                .unwrap();
            assert_eq!(page.status(), 200);
            page.text().await.unwrap()
        });
        assert_eq!(listener.code("st").await.unwrap(), "the-code");
        assert!(browser.await.unwrap().contains("Slipway has your sign-in"));
    }
}
