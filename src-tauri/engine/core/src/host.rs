//! A snapshot of the host the engine runs on: environment variables, home directory and OS.
//! Everything that would read the process environment reads this instead, so tests build
//! their own host and never touch the real `~/.aws` or mutate the process environment.

use std::collections::BTreeMap;
use std::ffi::OsString;
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
    /// Names (lossily decoded) of the process's variables that were not valid UTF-8 and so
    /// were left out; the log and `slipway doctor` mention them.
    unreadable_vars: Vec<String>,
}

/// A child process as Slipway starts them (git, Docker credential helpers): on Windows
/// with no console window flashing up, which a windowed app's child would otherwise open.
pub fn command(program: impl AsRef<std::ffi::OsStr>) -> std::process::Command {
    #[allow(unused_mut)]
    let mut command = std::process::Command::new(program);
    #[cfg(windows)]
    {
        use std::os::windows::process::CommandExt;
        const CREATE_NO_WINDOW: u32 = 0x0800_0000;
        command.creation_flags(CREATE_NO_WINDOW);
    }
    command
}

/// The environment as the engine keeps it: every variable whose name and value are valid
/// UTF-8, and the lossily decoded names of those that are not. (`std::env::vars()` would
/// panic on the first such variable and kill the app at start.)
pub fn readable_vars(
    vars: impl IntoIterator<Item = (OsString, OsString)>,
) -> (BTreeMap<String, String>, Vec<String>) {
    let mut readable = BTreeMap::new();
    let mut unreadable = Vec::new();
    for (name, value) in vars {
        match (name.into_string(), value.into_string()) {
            (Ok(name), Ok(value)) => {
                readable.insert(name, value);
            }
            (Ok(name), Err(_)) => unreadable.push(name),
            (Err(name), _) => unreadable.push(name.to_string_lossy().into_owned()),
        }
    }
    (readable, unreadable)
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
            .field("unreadable_vars", &self.unreadable_vars)
            .finish()
    }
}

impl HostEnv {
    /// The real host: this process's environment and the user's home directory.
    pub fn from_process() -> Self {
        let (vars, unreadable_vars) = readable_vars(std::env::vars_os());
        Self {
            os: Os::current(),
            home: dirs::home_dir(),
            vars,
            unreadable_vars,
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
            unreadable_vars: Vec::new(),
        }
    }

    /// The names of the process's variables that were left out for not being UTF-8.
    pub fn unreadable_vars(&self) -> &[String] {
        &self.unreadable_vars
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

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn a_variable_that_is_not_utf8_is_left_out_and_named_instead_of_panicking() {
        use std::os::unix::ffi::OsStringExt;
        let bad = || OsString::from_vec(vec![b'c', b'a', b'f', 0xe9]);
        let (vars, unreadable) = readable_vars([
            (OsString::from("HOME"), OsString::from("/home/ana")),
            (OsString::from("LATIN1_VALUE"), bad()),
            (bad(), OsString::from("x")),
            (OsString::from("AWS_PROFILE"), OsString::from("work")),
        ]);
        assert_eq!(
            vars.keys().map(String::as_str).collect::<Vec<_>>(),
            ["AWS_PROFILE", "HOME"],
            "every readable variable is kept"
        );
        assert_eq!(
            unreadable,
            ["LATIN1_VALUE".to_owned(), "caf\u{fffd}".to_owned()],
            "the others are named, so the log can say which were ignored"
        );
    }
}
