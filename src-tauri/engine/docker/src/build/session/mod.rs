//! A BuildKit build whose context travels through a session, as the Docker CLI builds:
//! Slipway opens `POST /session` on the engine's socket, serves fsutil's file sync on it
//! (see `filesync`), and asks for the build with `remote=client-session`. The engine keeps
//! each folder's last transfer under a key made from the folder, so a rebuild sends only
//! what changed; a tar is sent (and unpacked) whole every time.
//!
//! Only over a local Unix socket (Docker Engine on Linux, Docker Desktop on macOS); an
//! engine reached over TCP or a Windows pipe, or one that will not open a session, gets
//! the tar, which builds the same image.

use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use bollard::models::{BuildInfo, ErrorDetail};
use bollard::query_parameters::BuildImageOptions;
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::service::TowerToHyperService;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;
use tokio::task::JoinHandle;

use crate::context::Context;
use slipway_core::error::EngineError;
use slipway_core::host::HostEnv;

mod auth;
mod filesync;

use filesync::{ContextSync, Failure, Healthy, Sent};

pub type Messages = Pin<Box<dyn Stream<Item = Result<BuildInfo, bollard::errors::Error>> + Send>>;

/// The gRPC methods the session offers the engine (its health checks need no mention).
const METHODS: [&str; 3] = [
    "/moby.filesync.v1.FileSync/DiffCopy",
    "/moby.filesync.v1.Auth/Credentials",
    "/moby.filesync.v1.Auth/FetchToken",
];

/// A response head longer than this is not the engine's.
const HEAD_LIMIT: usize = 16 * 1024;

/// An engine that has not opened the session by then gets the tar instead.
const OPEN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// The socket a session can be opened on: a local Unix socket's path.
pub fn socket_of(uri: &str) -> Option<PathBuf> {
    uri.strip_prefix("unix://").map(PathBuf::from)
}

/// A running session: its connection closes when this is dropped.
pub struct Session {
    pub id: String,
    _server: Abort,
    failure: Failure,
    sent: Arc<Sent>,
}

impl Session {
    /// Opens a session that serves `context`, and the sign-ins Docker keeps on `host`, to
    /// the engine at `socket`; `None` when the engine will not (it then gets the tar).
    pub async fn open(
        socket: &Path,
        context: &Arc<Context>,
        host: &HostEnv,
        id: String,
    ) -> Option<Self> {
        if !context.names_are_text() {
            return None;
        }
        let opened = tokio::time::timeout(OPEN_TIMEOUT, hijack(socket, &id, context)).await;
        let stream = match opened.unwrap_or_else(|_| Err(std::io::Error::other("timed out"))) {
            Ok(stream) => stream,
            Err(e) => {
                tracing::info!("no BuildKit session on {}: {e}", socket.display());
                return None;
            }
        };
        let failure: Failure = Arc::new(Mutex::new(None));
        let sent = Arc::new(Sent::default());
        let sync = ContextSync {
            context: Arc::clone(context),
            failure: Arc::clone(&failure),
            sent: Arc::clone(&sent),
        };
        let routes =
            tonic::service::Routes::new(bollard::health::health_server::HealthServer::new(Healthy))
                .add_service(
                    bollard::moby::filesync::packet::file_sync_server::FileSyncServer::new(sync),
                )
                .add_service(bollard::moby::filesync::v1::auth_server::AuthServer::new(
                    auth::RegistryAuth { host: host.clone() },
                ));
        // The one connection is served here, in a task this session owns: dropping the
        // session closes it, and the engine ends the session as it does when the Docker
        // CLI closes its own after a build.
        let connection = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
            .serve_connection(TokioIo::new(stream), TowerToHyperService::new(routes));
        let server = tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::info!("the BuildKit session ended: {e}");
            }
        });
        Some(Self {
            id,
            _server: Abort(server),
            failure,
            sent,
        })
    }

    /// The files the engine asked for, and their bytes.
    pub fn sent(&self) -> (u32, u64) {
        self.sent.total()
    }

    /// The failure on Slipway's side, if the session had one (taken once).
    pub fn failure(&self) -> Option<EngineError> {
        self.failure.lock().ok()?.take()
    }
}

/// `POST /session`, upgraded to HTTP/2 with the engine as the gRPC client.
async fn hijack(socket: &Path, id: &str, context: &Context) -> std::io::Result<UnixStream> {
    let mut stream = UnixStream::connect(socket).await?;
    let mut head = format!(
        "POST /session HTTP/1.1\r\nHost: docker\r\nConnection: Upgrade\r\nUpgrade: h2c\r\nContent-Length: 0\r\nX-Docker-Expose-Session-Uuid: {id}\r\nX-Docker-Expose-Session-Name: {}\r\nX-Docker-Expose-Session-Sharedkey: {}\r\n",
        header_safe(&context.root_name()),
        shared_key(context.root()),
    );
    for method in METHODS {
        head.push_str(&format!(
            "X-Docker-Expose-Session-Grpc-Method: {method}\r\n"
        ));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await?;
    // Byte by byte up to the blank line: what follows is the engine's HTTP/2, and must be
    // left in the socket for the server.
    let mut answer = Vec::with_capacity(256);
    let mut byte = [0u8; 1];
    while !answer.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).await? == 0 || answer.len() > HEAD_LIMIT {
            return Err(std::io::Error::other(
                "the engine closed the session request",
            ));
        }
        answer.push(byte[0]);
    }
    let status_line = String::from_utf8_lossy(&answer);
    let status_line = status_line.lines().next().unwrap_or_default();
    if status_line.split_whitespace().nth(1) != Some("101") {
        return Err(std::io::Error::other(format!(
            "the engine answered {status_line:?}"
        )));
    }
    Ok(stream)
}

/// The key the engine files this folder's transfers under, so the next build of the same
/// folder sends only what changed (the CLI's is a hash of its node id and the folder).
fn shared_key(root: &Path) -> String {
    let digest = Sha256::digest(format!("slipway:{}", root.display()).as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// A header value: printable ASCII only.
fn header_safe(value: &str) -> String {
    value
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Asks the engine at `socket` for the build `options` describe (with the session's id and
/// `remote=client-session` set), and reads its answer as bollard would: one `BuildInfo`
/// per message, a message with an error as `DockerStreamError`, a refused request as
/// `DockerResponseServerError`.
pub async fn build(
    socket: &Path,
    session: &Arc<Session>,
    mut options: BuildImageOptions,
) -> Result<Messages, bollard::errors::Error> {
    options.session = Some(session.id.clone());
    options.remote = Some("client-session".to_owned());
    options.version = bollard::query_parameters::BuilderVersion::BuilderBuildKit;
    let query =
        serde_urlencoded::to_string(&options).map_err(|e| bollard::errors::Error::IOError {
            err: std::io::Error::other(e),
        })?;
    let stream = UnixStream::connect(socket).await?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(io_error)?;
    let connection = Abort(tokio::spawn(async move {
        let _ = connection.await;
    }));
    let request = hyper::Request::post(format!("/build?{query}"))
        .header(hyper::header::HOST, "docker")
        .header(hyper::header::CONTENT_TYPE, "application/x-tar")
        .body(Empty::<Bytes>::new())
        .map_err(|e| bollard::errors::Error::IOError {
            err: std::io::Error::other(e),
        })?;
    let response = sender.send_request(request).await.map_err(io_error)?;
    let status = response.status();
    let body = response.into_body();
    if !status.is_success() {
        let bytes = body.collect().await.map_err(io_error)?.to_bytes();
        let message = serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .and_then(|v| v.get("message")?.as_str().map(str::to_owned))
            .unwrap_or_else(|| String::from_utf8_lossy(&bytes).into_owned());
        return Err(bollard::errors::Error::DockerResponseServerError {
            status_code: status.as_u16(),
            message,
        });
    }
    let state = Reading {
        buffer: Vec::new(),
        done: false,
        _connection: connection,
        _session: Arc::clone(session),
    };
    let messages =
        futures_util::stream::unfold((body, state), |(mut body, mut state)| async move {
            loop {
                if let Some(message) = state.next_message() {
                    return Some((message, (body, state)));
                }
                if state.done {
                    return None;
                }
                match body.frame().await {
                    Some(Ok(frame)) => {
                        if let Ok(data) = frame.into_data() {
                            state.buffer.extend_from_slice(&data);
                        }
                    }
                    Some(Err(e)) => {
                        state.done = true;
                        return Some((Err(io_error(e)), (body, state)));
                    }
                    None => state.done = true,
                }
            }
        });
    Ok(messages.boxed())
}

/// The answer being read: bytes not yet a whole message, and what must live as long.
struct Reading {
    buffer: Vec<u8>,
    done: bool,
    _connection: Abort,
    _session: Arc<Session>,
}

impl Reading {
    /// The next whole message in the buffer; at the end, what is left as an error.
    fn next_message(&mut self) -> Option<Result<BuildInfo, bollard::errors::Error>> {
        let start = self
            .buffer
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .unwrap_or(self.buffer.len());
        self.buffer.drain(..start);
        if self.buffer.is_empty() {
            return None;
        }
        let mut messages =
            serde_json::Deserializer::from_slice(&self.buffer).into_iter::<BuildInfo>();
        match messages.next()? {
            Ok(info) => {
                let used = messages.byte_offset();
                self.buffer.drain(..used);
                Some(match &info.error_detail {
                    Some(ErrorDetail {
                        message: Some(error),
                        ..
                    }) => Err(bollard::errors::Error::DockerStreamError {
                        error: error.clone(),
                    }),
                    _ => Ok(info),
                })
            }
            Err(e) if e.is_eof() && !self.done => None,
            Err(e) => {
                self.buffer.clear();
                Some(Err(bollard::errors::Error::JsonSerdeError { err: e }))
            }
        }
    }
}

fn io_error(e: impl std::error::Error + Send + Sync + 'static) -> bollard::errors::Error {
    bollard::errors::Error::IOError {
        err: std::io::Error::other(e),
    }
}

/// A task stopped when this is dropped.
struct Abort(JoinHandle<()>);

impl Drop for Abort {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_unix_socket_carries_a_session() {
        assert_eq!(
            socket_of("unix:///var/run/docker.sock"),
            Some(PathBuf::from("/var/run/docker.sock"))
        );
        assert_eq!(socket_of("tcp://127.0.0.1:2375"), None);
        assert_eq!(socket_of("npipe:////./pipe/docker_engine"), None);
    }

    #[test]
    fn the_shared_key_is_the_folder_s() {
        assert_eq!(shared_key(Path::new("/a")), shared_key(Path::new("/a")));
        assert_ne!(shared_key(Path::new("/a")), shared_key(Path::new("/b")));
        assert_eq!(header_safe("my app\u{e9}"), "my app_");
    }
}
