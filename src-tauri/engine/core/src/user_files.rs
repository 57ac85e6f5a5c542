//! Reading the small text files a user's folder holds (`slipway.toml`, the Dockerfile,
//! `.dockerignore`): only regular files, never more than a cap, and only by a path that
//! stays inside the folder. A symlink to `/dev/zero`, a FIFO or a 2 GB "Dockerfile" is a
//! clear message, not a frozen window or an exhausted machine.

use std::io::Read;
use std::path::{Component, Path, PathBuf};

use crate::error::{EngineError, Result};

/// What any of these files may weigh; real ones are a few kilobytes.
pub const TEXT_FILE_LIMIT: u64 = 1024 * 1024;

/// The text of `path` (a symlink is followed to what it names), or `None` when nothing is
/// there. Anything but a regular file, a file over `limit` bytes or text that is not
/// UTF-8 is an error naming the file and what is wrong with it.
pub fn read_text(path: &Path, limit: u64) -> Result<Option<String>> {
    let metadata = match std::fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(EngineError::io(path, e)),
    };
    if !metadata.is_file() {
        return Err(EngineError::NotARegularFile {
            file: path.to_owned(),
            kind: kind_of(&metadata).to_owned(),
        });
    }
    if metadata.len() > limit {
        return Err(EngineError::FileTooLarge {
            file: path.to_owned(),
            bytes: metadata.len(),
            limit,
        });
    }
    // The file may grow between the check and the read: never take more than the cap.
    let file = std::fs::File::open(path).map_err(|e| EngineError::io(path, e))?;
    let mut bytes = Vec::with_capacity(metadata.len() as usize);
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| EngineError::io(path, e))?;
    if bytes.len() as u64 > limit {
        return Err(EngineError::FileTooLarge {
            file: path.to_owned(),
            bytes: bytes.len() as u64,
            limit,
        });
    }
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|_| EngineError::FileSystem {
            path: path.to_owned(),
            reason: "it is not UTF-8 text; save it as UTF-8".into(),
        })
}

/// `relative` joined to `root`, refused when it is absolute or climbs out with `..`, so
/// a setting read from a file can never point Slipway outside the project folder.
pub fn inside(root: &Path, relative: &str, what: &str) -> Result<PathBuf> {
    let path = Path::new(relative);
    let escapes = path.components().any(|c| {
        matches!(
            c,
            Component::ParentDir | Component::RootDir | Component::Prefix(_)
        )
    });
    if escapes {
        return Err(EngineError::InvalidInput {
            what: what.to_owned(),
            reason: format!(
                "\"{relative}\" points outside the project folder; use a path inside it, such as \"Dockerfile\" or \"app/Dockerfile\""
            ),
        });
    }
    Ok(root.join(path))
}

/// What a file that is not a regular file is, in the words a person knows.
pub fn kind_of(metadata: &std::fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = metadata.file_type();
        if t.is_fifo() {
            return "a named pipe (FIFO)";
        }
        if t.is_socket() {
            return "a socket";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
    }
    if metadata.is_dir() {
        "a folder"
    } else if metadata.file_type().is_symlink() {
        "a link"
    } else {
        "a special file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_to_an_endless_device_is_refused_without_reading_it() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("Dockerfile");
        std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
        let err = read_text(&link, TEXT_FILE_LIMIT).unwrap_err();
        assert!(
            matches!(err, EngineError::NotARegularFile { .. }),
            "reading /dev/zero would never end: {err:?}"
        );
        assert!(err.to_string().contains("a device"), "{err}");
    }

    #[test]
    fn a_file_over_the_cap_is_refused_and_a_missing_one_is_none() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("Dockerfile");
        std::fs::write(&big, vec![b'#'; 2048]).unwrap();
        let err = read_text(&big, 1024).unwrap_err();
        assert!(matches!(err, EngineError::FileTooLarge { .. }), "{err:?}");
        assert_eq!(read_text(&big, 4096).unwrap().unwrap().len(), 2048);
        assert_eq!(read_text(&dir.path().join("nope"), 1024).unwrap(), None);
    }

    #[test]
    fn paths_that_leave_the_folder_are_refused() {
        let root = Path::new("/p");
        assert_eq!(
            inside(root, "app/Dockerfile", "Dockerfile").unwrap(),
            root.join("app/Dockerfile")
        );
        for bad in ["../Dockerfile", "/etc/passwd", "app/../../x"] {
            assert!(inside(root, bad, "Dockerfile").is_err(), "{bad}");
        }
    }
}
