//! Files only the user may read: AWS keys, sign-in tokens. Each is written whole to a
//! temporary file that is owner-only from the moment it exists (mode 0600 on Unix; on
//! Windows a protected access list naming only the user, so nothing is inherited from the
//! folder), then renamed into place, so a failure leaves the old file untouched. A missing
//! folder is created owner-only too (0700, or the same access list).

use std::io::Write;
use std::path::Path;

use crate::error::{EngineError, Result};

/// Replaces `path` with `content`, owner-only. A symlinked file (a dotfiles setup) is
/// written where the link points, so the link stays.
pub fn write(path: &Path, content: &str) -> Result<()> {
    let resolved = match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => {
            std::fs::canonicalize(path).map_err(|e| EngineError::io(path, e))?
        }
        _ => path.to_owned(),
    };
    let path = resolved.as_path();
    let dir = path.parent().unwrap_or(Path::new("."));
    create_dir(dir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // Named for this write alone: two writers at once (the app and the CLI) never write
    // into, or rename, each other's file.
    static WRITES: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = WRITES.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let temp = path.with_file_name(format!(".{name}.{}-{n}.slipway.tmp", std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options.open(&temp).and_then(|mut file| {
        // Before the first byte: the file is empty while it still has the folder's access.
        #[cfg(windows)]
        windows::restrict_to_owner(&temp)?;
        file.write_all(content.as_bytes())?;
        file.sync_all()
    });
    if let Err(e) = written.and_then(|()| std::fs::rename(&temp, path)) {
        let _ = std::fs::remove_file(&temp);
        return Err(EngineError::io(path, e));
    }
    Ok(())
}

/// Creates `dir` (and its missing parents) owner-only; an existing folder is left as it is.
pub fn create_dir(dir: &Path) -> Result<()> {
    if dir.exists() {
        return Ok(());
    }
    // The outermost folder this creates: on Windows its access list is inherited by the
    // folders made inside it.
    #[cfg(windows)]
    let top = dir
        .ancestors()
        .take_while(|a| !a.as_os_str().is_empty() && !a.exists())
        .last()
        .map(Path::to_owned);
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(|e| EngineError::io(dir, e))?;
    #[cfg(windows)]
    if let Some(top) = top {
        windows::restrict_to_owner(&top).map_err(|e| EngineError::io(&top, e))?;
    }
    Ok(())
}

/// The security descriptor (SDDL) of an owner-only file or folder: a protected access
/// list (`P`: nothing inherited) with one entry allowing full access (`FA`) to `sid`,
/// inherited by what a folder holds (`OICI`).
#[cfg_attr(not(windows), allow(dead_code))]
fn owner_only_sddl(sid: &str) -> String {
    format!("D:P(A;OICI;FA;;;{sid})")
}

#[cfg(windows)]
mod windows {
    //! Only compiled on Windows (the release workflow's Windows job runs these paths).
    use std::os::windows::ffi::OsStrExt;
    use std::path::Path;
    use std::ptr::{null, null_mut};

    use windows_sys::Win32::Foundation::{CloseHandle, LocalFree, HANDLE};
    use windows_sys::Win32::Security::Authorization::{
        ConvertSidToStringSidW, ConvertStringSecurityDescriptorToSecurityDescriptorW,
        SetNamedSecurityInfoW, SDDL_REVISION_1, SE_FILE_OBJECT,
    };
    use windows_sys::Win32::Security::{
        GetSecurityDescriptorDacl, GetTokenInformation, TokenUser, ACL, DACL_SECURITY_INFORMATION,
        PROTECTED_DACL_SECURITY_INFORMATION, TOKEN_QUERY, TOKEN_USER,
    };
    use windows_sys::Win32::System::Threading::{GetCurrentProcess, OpenProcessToken};

    fn wide(text: &std::ffi::OsStr) -> Vec<u16> {
        text.encode_wide().chain(std::iter::once(0)).collect()
    }

    /// The current user's SID as text (`S-1-5-21-…`).
    fn user_sid() -> std::io::Result<String> {
        // SAFETY: every pointer handed to the API is valid for the call; the token handle
        // is closed and the string the API allocated is freed with LocalFree.
        unsafe {
            let mut token: HANDLE = null_mut();
            if OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &mut token) == 0 {
                return Err(std::io::Error::last_os_error());
            }
            let mut needed = 0u32;
            GetTokenInformation(token, TokenUser, null_mut(), 0, &mut needed);
            // u64 words keep TOKEN_USER's pointer aligned.
            let mut buffer = vec![0u64; (needed as usize).div_ceil(8).max(1)];
            let ok = GetTokenInformation(
                token,
                TokenUser,
                buffer.as_mut_ptr().cast(),
                (buffer.len() * 8) as u32,
                &mut needed,
            );
            // Read before CloseHandle, which may change the thread's last error.
            let error = std::io::Error::last_os_error();
            CloseHandle(token);
            if ok == 0 {
                return Err(error);
            }
            let user = &*(buffer.as_ptr() as *const TOKEN_USER);
            let mut text: *mut u16 = null_mut();
            if ConvertSidToStringSidW(user.User.Sid, &mut text) == 0 {
                return Err(std::io::Error::last_os_error());
            }
            let mut length = 0;
            while *text.add(length) != 0 {
                length += 1;
            }
            let sid = String::from_utf16_lossy(std::slice::from_raw_parts(text, length));
            LocalFree(text.cast());
            Ok(sid)
        }
    }

    /// Gives `path` a protected access list that names only the current user.
    pub fn restrict_to_owner(path: &Path) -> std::io::Result<()> {
        let sddl = wide(std::ffi::OsStr::new(&super::owner_only_sddl(&user_sid()?)));
        let target = wide(path.as_os_str());
        // SAFETY: both strings are NUL-terminated and outlive the calls; the descriptor the
        // API allocated (which owns the DACL) is freed with LocalFree after it is applied.
        unsafe {
            let mut descriptor = null_mut();
            if ConvertStringSecurityDescriptorToSecurityDescriptorW(
                sddl.as_ptr(),
                SDDL_REVISION_1,
                &mut descriptor,
                null_mut(),
            ) == 0
            {
                return Err(std::io::Error::last_os_error());
            }
            let (mut present, mut defaulted) = (0, 0);
            let mut dacl: *mut ACL = null_mut();
            let read =
                GetSecurityDescriptorDacl(descriptor, &mut present, &mut dacl, &mut defaulted);
            let error = std::io::Error::last_os_error();
            // A missing list would be applied as "no list": everyone could open the file.
            let status = if read == 0 || present == 0 || dacl.is_null() {
                None
            } else {
                Some(SetNamedSecurityInfoW(
                    target.as_ptr(),
                    SE_FILE_OBJECT,
                    DACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION,
                    null_mut(),
                    null_mut(),
                    dacl,
                    null(),
                ))
            };
            LocalFree(descriptor);
            match status {
                None => Err(error),
                Some(0) => Ok(()),
                Some(code) => Err(std::io::Error::from_raw_os_error(code as i32)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_windows_access_list_names_only_the_user_and_inherits_nothing() {
        let sddl = owner_only_sddl("S-1-5-21-1004336348-1177238915-682003330-512");
        assert_eq!(
            sddl,
            "D:P(A;OICI;FA;;;S-1-5-21-1004336348-1177238915-682003330-512)"
        );
        assert_eq!(sddl.matches("(A;").count(), 1, "one entry: the user's");
    }

    #[test]
    fn a_private_file_replaces_the_old_one_whole_and_leaves_no_temporary_file() {
        let home = tempfile::tempdir().unwrap();
        let path = home.path().join("nested/dir/token.json");
        write(&path, "first").unwrap();
        write(&path, "second").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "second");
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec!["token.json"]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&path), 0o600);
            assert_eq!(mode(&home.path().join("nested")), 0o700);
            assert_eq!(mode(&home.path().join("nested/dir")), 0o700);
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_symlinked_file_is_written_where_it_points() {
        let home = tempfile::tempdir().unwrap();
        let real = home.path().join("dotfiles/config");
        write(&real, "old").unwrap();
        let link = home.path().join("config");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        write(&link, "new").unwrap();
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(std::fs::read_to_string(&real).unwrap(), "new");
    }
}
