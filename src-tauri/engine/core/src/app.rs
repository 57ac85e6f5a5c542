//! Facts about Slipway itself: its version, identifier and where it keeps its data. The
//! desktop and the CLI resolve the same data directory, so history written by one is read
//! by the other.

use std::path::PathBuf;

use serde::Serialize;

use crate::host::{HostEnv, Os};

/// Matches `identifier` in tauri.conf.json; Tauri's app_data_dir is `data_dir()/IDENTIFIER`.
pub const APP_IDENTIFIER: &str = "dev.slipway.desktop";
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct AppInfo {
    pub version: String,
    pub data_dir: String,
    pub os: Os,
    pub arch: String,
}

/// Where Slipway keeps its own data: `SLIPWAY_DATA_DIR` when set (tests, portable installs),
/// else the platform's data directory joined with the app identifier.
pub fn data_dir(host: &HostEnv) -> PathBuf {
    if let Some(dir) = host.var("SLIPWAY_DATA_DIR") {
        return PathBuf::from(dir);
    }
    platform_data_dir(host).join(APP_IDENTIFIER)
}

fn platform_data_dir(host: &HostEnv) -> PathBuf {
    let home = host.home.clone().unwrap_or_else(|| PathBuf::from("."));
    match host.os {
        Os::Linux => host
            .var("XDG_DATA_HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| home.join(".local/share")),
        Os::Macos => home.join("Library/Application Support"),
        Os::Windows => host
            .var("APPDATA")
            .map(PathBuf::from)
            .unwrap_or_else(|| home.join("AppData/Roaming")),
    }
}

pub fn app_info(host: &HostEnv) -> AppInfo {
    AppInfo {
        version: VERSION.to_owned(),
        data_dir: data_dir(host).display().to_string(),
        os: host.os,
        arch: std::env::consts::ARCH.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_dir_follows_each_platforms_convention() {
        let home = Some(PathBuf::from("/home/ana"));
        let linux = HostEnv::new(Os::Linux, home.clone(), []);
        assert_eq!(
            data_dir(&linux),
            PathBuf::from("/home/ana/.local/share/dev.slipway.desktop")
        );
        let mac = HostEnv::new(Os::Macos, home.clone(), []);
        assert_eq!(
            data_dir(&mac),
            PathBuf::from("/home/ana/Library/Application Support/dev.slipway.desktop")
        );
        let win = HostEnv::new(
            Os::Windows,
            home,
            [("APPDATA".into(), "C:/Users/ana/AppData/Roaming".into())],
        );
        assert_eq!(
            data_dir(&win),
            PathBuf::from("C:/Users/ana/AppData/Roaming/dev.slipway.desktop")
        );
    }

    #[test]
    fn slipway_data_dir_overrides_the_platform_default() {
        let host = HostEnv::new(
            Os::Linux,
            None,
            [("SLIPWAY_DATA_DIR".into(), "/tmp/x".into())],
        );
        assert_eq!(data_dir(&host), PathBuf::from("/tmp/x"));
    }
}
