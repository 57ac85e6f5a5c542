//! A snapshot of the host the engine runs on: environment variables, home directory and OS.
//! Everything that would read the process environment reads this instead, so tests build
//! their own host and never touch the real `~/.aws` or mutate the process environment.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "lowercase")]
pub enum Os {
    Linux,
    Macos,
    Windows,
}

impl Os {
    pub fn current() -> Self {
        if cfg!(target_os = "macos") {
            Os::Macos
        } else if cfg!(windows) {
            Os::Windows
        } else {
            Os::Linux
        }
    }
}

#[derive(Clone)]
pub struct HostEnv {
    pub os: Os,
    pub home: Option<PathBuf>,
    vars: BTreeMap<String, String>,
}

/// Variable names whose values never go into a debug print (and so never into a log).
fn is_secret(name: &str) -> bool {
    ["SECRET", "TOKEN", "PASSWORD", "CREDENTIAL"]
        .iter()
        .any(|word| name.to_ascii_uppercase().contains(word))
}

impl std::fmt::Debug for HostEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let vars: BTreeMap<&str, &str> = self
            .vars
            .iter()
            .map(|(k, v)| (k.as_str(), if is_secret(k) { "***" } else { v.as_str() }))
            .collect();
        f.debug_struct("HostEnv")
            .field("os", &self.os)
            .field("home", &self.home)
            .field("vars", &vars)
            .finish()
    }
}

impl HostEnv {
    /// The real host: this process's environment and the user's home directory.
    pub fn from_process() -> Self {
        Self {
            os: Os::current(),
            home: dirs::home_dir(),
            vars: std::env::vars().collect(),
        }
    }

    /// A host made up by a caller (tests, or a CLI that pins values).
    pub fn new(
        os: Os,
        home: Option<PathBuf>,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Self {
        Self {
            os,
            home,
            vars: vars.into_iter().collect(),
        }
    }

    pub fn with_var(mut self, key: &str, value: impl Into<String>) -> Self {
        self.vars.insert(key.to_owned(), value.into());
        self
    }

    /// A variable's value; an empty value counts as unset, as the AWS CLI and Docker treat it.
    pub fn var(&self, key: &str) -> Option<&str> {
        self.vars
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
}
