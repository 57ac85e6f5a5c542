//! The files side of a BuildKit session: fsutil's sender, as the Docker CLI runs it. The
//! engine calls `DiffCopy` once per synced folder ("context", "dockerfile"); Slipway
//! sends every entry's stat, the engine compares them with what it kept from the last
//! build of this folder and asks only for the files that changed, and Slipway sends those,
//! read from disk in chunks. So a rebuild after a one-file edit moves one file, where a
//! tar moves (and the engine unpacks) the whole context.
//!
//! The packets: STAT per entry in walk order (an entry's id is its place in that order),
//! an empty STAT at the end; the engine answers REQ(id) for each file it wants and Slipway
//! sends DATA(id) chunks closed by an empty DATA; FIN from the engine is answered with FIN.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use bollard::fsutil::types::packet::PacketType;
use bollard::fsutil::types::{Packet, Stat};
use bollard::health::health_check_response::ServingStatus;
use bollard::health::health_server::Health;
use bollard::health::{
    HealthCheckRequest, HealthCheckResponse, HealthListRequest, HealthListResponse,
};
use bollard::moby::filesync::packet::file_sync_server::FileSync;
use futures_util::Stream;
use tokio::sync::mpsc;
use tonic::metadata::MetadataMap;
use tonic::{Request, Response, Status, Streaming};

use crate::context::{open_regular, Context, Filter, Listed};
use slipway_core::error::EngineError;

/// A DATA packet's size at most.
const CHUNK: usize = 256 * 1024;
/// Packets queued ahead of the engine.
const PACKETS_AHEAD: usize = 16;

type Packets = Pin<Box<dyn Stream<Item = Result<Packet, Status>> + Send>>;

/// The first failure on Slipway's side of the session (a file that vanished or became
/// unreadable): the error to show, where the engine would only say the session failed.
pub type Failure = Arc<Mutex<Option<EngineError>>>;

/// The files the engine asked for, each with its bytes: what moved. BuildKit may read the
/// same folder twice in one build; a file counts once.
#[derive(Debug, Default)]
pub struct Sent(Mutex<HashMap<PathBuf, u64>>);

impl Sent {
    /// Files, and their bytes.
    pub fn total(&self) -> (u32, u64) {
        self.0
            .lock()
            .map(|sent| (sent.len() as u32, sent.values().sum()))
            .unwrap_or_default()
    }

    fn add(&self, file: &Path, bytes: u64) {
        if let Ok(mut sent) = self.0.lock() {
            sent.insert(file.to_owned(), bytes);
        }
    }
}

pub struct ContextSync {
    pub context: Arc<Context>,
    pub failure: Failure,
    pub sent: Arc<Sent>,
}

#[tonic::async_trait]
impl FileSync for ContextSync {
    type DiffCopyStream = Packets;
    type TarStreamStream = Packets;

    async fn diff_copy(
        &self,
        request: Request<Streaming<Packet>>,
    ) -> Result<Response<Packets>, Status> {
        let folder = first(request.metadata(), "dir-name").unwrap_or_default();
        let filter = filter(request.metadata());
        let context = Arc::clone(&self.context);
        // Listing reads the folder (links, stats): off the async threads.
        let listing = tokio::task::spawn_blocking(move || match folder.as_str() {
            "context" => Ok(context.listing(&filter)),
            "dockerfile" => Ok(context.dockerfile_listing()),
            other => Err(Status::not_found(format!("no synced folder {other:?}"))),
        })
        .await
        .map_err(|e| Status::internal(e.to_string()))??
        .ok_or_else(|| Status::invalid_argument("the folder cannot be listed for a session"))?;
        let (tx, rx) = mpsc::channel(PACKETS_AHEAD);
        tokio::spawn(send(
            Arc::new(listing),
            request.into_inner(),
            tx,
            (Arc::clone(&self.failure), Arc::clone(&self.sent)),
        ));
        let packets = futures_util::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|packet| (packet, rx))
        });
        Ok(Response::new(Box::pin(packets)))
    }

    async fn tar_stream(
        &self,
        _request: Request<Streaming<Packet>>,
    ) -> Result<Response<Packets>, Status> {
        Err(Status::unimplemented(
            "Slipway's session sends folders with DiffCopy",
        ))
    }
}

/// One folder's transfer: the stats from one blocking thread, the files the engine asks
/// for from another, while this task reads the engine's requests.
async fn send(
    listing: Arc<Vec<Listed>>,
    mut incoming: Streaming<Packet>,
    tx: mpsc::Sender<Result<Packet, Status>>,
    (failure, sent): (Failure, Arc<Sent>),
) {
    {
        let (listing, tx, failure) = (Arc::clone(&listing), tx.clone(), Arc::clone(&failure));
        tokio::task::spawn_blocking(move || send_stats(&listing, &tx, &failure));
    }
    let (wanted_tx, wanted) = std::sync::mpsc::channel::<u32>();
    let files = {
        let (listing, tx, failure) = (Arc::clone(&listing), tx.clone(), Arc::clone(&failure));
        tokio::task::spawn_blocking(move || {
            while let Ok(id) = wanted.recv() {
                if !send_file(&listing, id, &tx, &failure, &sent) {
                    break;
                }
            }
        })
    };
    while let Ok(Some(packet)) = incoming.message().await {
        match packet.r#type() {
            PacketType::PacketReq if wanted_tx.send(packet.id).is_err() => break,
            PacketType::PacketFin => {
                drop(wanted_tx);
                let _ = files.await;
                let _ = tx.send(Ok(packet_of(PacketType::PacketFin))).await;
                return;
            }
            PacketType::PacketErr => {
                tracing::warn!(
                    "the engine ended the context transfer: {}",
                    String::from_utf8_lossy(&packet.data)
                );
                break;
            }
            _ => {}
        }
    }
}

fn packet_of(kind: PacketType) -> Packet {
    Packet {
        r#type: kind as i32,
        ..Default::default()
    }
}

fn send_stats(listing: &[Listed], tx: &mpsc::Sender<Result<Packet, Status>>, failure: &Failure) {
    for entry in listing {
        let stat = match stat(entry) {
            Ok(stat) => stat,
            Err(e) => return fail(tx, failure, e),
        };
        let packet = Packet {
            stat: Some(stat),
            ..packet_of(PacketType::PacketStat)
        };
        if tx.blocking_send(Ok(packet)).is_err() {
            return;
        }
    }
    let _ = tx.blocking_send(Ok(packet_of(PacketType::PacketStat)));
}

/// Sends file `id`; false when the transfer cannot go on.
fn send_file(
    listing: &[Listed],
    id: u32,
    tx: &mpsc::Sender<Result<Packet, Status>>,
    failure: &Failure,
    sent: &Sent,
) -> bool {
    let Some(entry) = listing.get(id as usize).filter(|e| !e.is_dir) else {
        let _ = tx.blocking_send(Err(Status::invalid_argument(format!(
            "the engine asked for entry {id}, which is not a file"
        ))));
        return false;
    };
    let data = |bytes: Vec<u8>| Packet {
        id,
        data: bytes,
        ..packet_of(PacketType::PacketData)
    };
    // Opened only as a regular file: one swapped for a pipe since the scan is refused.
    let mut file = match open_regular(&entry.absolute) {
        Ok(file) => file,
        Err(e) => {
            fail(tx, failure, e);
            return false;
        }
    };
    let mut length = 0u64;
    loop {
        let mut block = vec![0u8; CHUNK];
        match file.read(&mut block) {
            Ok(0) => break,
            Ok(read) => {
                block.truncate(read);
                length += read as u64;
                if tx.blocking_send(Ok(data(block))).is_err() {
                    return false;
                }
            }
            Err(e) => {
                fail(tx, failure, EngineError::io(&entry.absolute, e));
                return false;
            }
        }
    }
    sent.add(&entry.absolute, length);
    tx.blocking_send(Ok(data(Vec::new()))).is_ok()
}

fn fail(tx: &mpsc::Sender<Result<Packet, Status>>, failure: &Failure, error: EngineError) {
    let message = error.to_string();
    if let Ok(mut first) = failure.lock() {
        first.get_or_insert(error);
    }
    let _ = tx.blocking_send(Err(Status::internal(message)));
}

/// An entry's stat as fsutil writes it: Go's `os.FileMode` bits, the modification time in
/// nanoseconds, owner 0:0 (as the Docker CLI resets it), the target of a link. A listed
/// entry marked `follow` (the Dockerfile) is read through its link.
fn stat(entry: &Listed) -> Result<Stat, EngineError> {
    use std::os::unix::fs::MetadataExt;
    let metadata = if entry.follow {
        entry.absolute.metadata()
    } else {
        entry.absolute.symlink_metadata()
    }
    .map_err(|e| EngineError::io(&entry.absolute, e))?;
    let kind = metadata.file_type();
    let mut linkname = String::new();
    if kind.is_symlink() {
        linkname = std::fs::read_link(&entry.absolute)
            .map_err(|e| EngineError::io(&entry.absolute, e))?
            .to_string_lossy()
            .into_owned();
    }
    Ok(Stat {
        path: entry.path.clone(),
        mode: go_mode(metadata.mode(), kind.is_dir(), kind.is_symlink()),
        uid: 0,
        gid: 0,
        size: if kind.is_file() {
            metadata.len() as i64
        } else {
            0
        },
        mod_time: metadata.mtime() * 1_000_000_000 + metadata.mtime_nsec(),
        linkname,
        ..Default::default()
    })
}

/// A Unix mode as Go's `os.FileMode`: permission bits, then its own bits for the type and
/// for setuid, setgid and sticky.
fn go_mode(unix: u32, dir: bool, symlink: bool) -> u32 {
    let mut mode = unix & 0o777;
    if unix & 0o4000 != 0 {
        mode |= 1 << 23;
    }
    if unix & 0o2000 != 0 {
        mode |= 1 << 22;
    }
    if unix & 0o1000 != 0 {
        mode |= 1 << 20;
    }
    if dir {
        mode |= 1 << 31;
    }
    if symlink {
        mode |= 1 << 27;
    }
    mode
}

/// What the engine asked of the context folder, from the call's metadata: each pattern one
/// value, percent-encoded when `<key>-encoded` is true (BuildKit escapes them all when one
/// is not ASCII). `followpaths` are the paths COPY and ADD name (and .dockerignore).
fn filter(metadata: &MetadataMap) -> Filter {
    Filter {
        include: all(metadata, "include-patterns"),
        follow: all(metadata, "followpaths"),
        exclude: all(metadata, "exclude-patterns"),
    }
}

fn all(metadata: &MetadataMap, key: &str) -> Vec<String> {
    // Go's strconv.ParseBool, which BuildKit reads the flag with.
    let encoded = matches!(
        first(metadata, &format!("{key}-encoded")).as_deref(),
        Some("1" | "t" | "T" | "true" | "TRUE" | "True")
    );
    metadata
        .get_all(key)
        .iter()
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .map(|v| if encoded { percent_decoded(&v) } else { v })
        .collect()
}

fn first(metadata: &MetadataMap, key: &str) -> Option<String> {
    Some(String::from_utf8_lossy(metadata.get(key)?.as_bytes()).into_owned())
}

/// `url.QueryUnescape`, which BuildKit's `url.QueryEscape` undoes (`%XX`, `+` for a
/// space; `&` and `=` always arrive escaped).
fn percent_decoded(value: &str) -> String {
    form_urlencoded::parse(value.as_bytes())
        .map(|(decoded, _)| decoded.into_owned())
        .next()
        .unwrap_or_default()
}

/// The session's health service: BuildKit checks it to know the session is alive.
pub struct Healthy;

#[tonic::async_trait]
impl Health for Healthy {
    type WatchStream = Pin<Box<dyn Stream<Item = Result<HealthCheckResponse, Status>> + Send>>;

    async fn check(
        &self,
        _request: Request<HealthCheckRequest>,
    ) -> Result<Response<HealthCheckResponse>, Status> {
        Ok(Response::new(HealthCheckResponse {
            status: ServingStatus::Serving as i32,
        }))
    }

    async fn list(
        &self,
        _request: Request<HealthListRequest>,
    ) -> Result<Response<HealthListResponse>, Status> {
        Err(Status::unimplemented("list"))
    }

    async fn watch(
        &self,
        _request: Request<HealthCheckRequest>,
    ) -> Result<Response<Self::WatchStream>, Status> {
        Err(Status::unimplemented("watch"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_modes_become_go_file_modes() {
        assert_eq!(go_mode(0o100644, false, false), 0o644);
        assert_eq!(go_mode(0o40755, true, false), (1 << 31) | 0o755);
        assert_eq!(go_mode(0o120777, false, true), (1 << 27) | 0o777);
        assert_eq!(go_mode(0o104755, false, false), (1 << 23) | 0o755);
        assert_eq!(go_mode(0o41777, true, false), (1 << 31) | (1 << 20) | 0o777);
    }

    #[test]
    fn the_engine_s_request_is_read_from_the_call_s_metadata() {
        let mut metadata = MetadataMap::new();
        metadata.append("followpaths", "site%2Fa+b".parse().unwrap());
        metadata.append("followpaths", "src".parse().unwrap());
        metadata.append("followpaths-encoded", "1".parse().unwrap());
        metadata.append("exclude-patterns", "*.md".parse().unwrap());
        let filter = filter(&metadata);
        assert_eq!(filter.follow, vec!["site/a b", "src"]);
        assert_eq!(filter.exclude, vec!["*.md"]);
        assert!(filter.include.is_empty());
    }

    #[test]
    fn encoded_patterns_are_unescaped() {
        assert_eq!(percent_decoded("a%2Fb+c"), "a/b c");
        assert_eq!(percent_decoded("100%"), "100%");
        assert_eq!(percent_decoded("*.log"), "*.log");
    }
}
