//! The stand-in's lines in /etc/hosts, so a load balancer's DNS name leads every process on
//! the machine (the engine under test, curl, a WebView) to its listener on its own
//! loopback address. Each line is marked with the process that wrote it; a line for the
//! same name is replaced, and lines of processes that are gone are removed. The file is
//! edited in place under a lock (it may be a mount that a rename would not replace).

use std::collections::BTreeSet;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::PathBuf;

const MARK: &str = "# slipway-standin";

pub(super) struct HostsFile {
    path: PathBuf,
    /// The names this stand-in wrote.
    mine: BTreeSet<String>,
}

impl HostsFile {
    pub fn system() -> Self {
        Self {
            path: PathBuf::from("/etc/hosts"),
            mine: BTreeSet::new(),
        }
    }

    /// Sends `name` to `ip`.
    pub fn set(&mut self, ip: &str, name: &str) {
        let line = format!("{ip} {name} {MARK} {}", std::process::id());
        if self.edit(|text| with_line(text, name, Some(&line))).is_ok() {
            self.mine.insert(name.to_owned());
        } else {
            tracing::warn!("the stand-in could not write {name} into /etc/hosts");
        }
    }

    /// Writes the line for `name` again if no line names it any more (another process
    /// removed it); a line another process wrote for it stays.
    pub fn keep(&mut self, ip: &str, name: &str) {
        let named = std::fs::read_to_string(&self.path)
            .is_ok_and(|text| text.lines().any(|l| names(l).any(|n| n == name)));
        if !named {
            self.set(ip, name);
        }
    }

    pub fn remove(&mut self, name: &str) {
        if self.mine.remove(name) {
            let _ = self.edit(|text| with_line(text, name, None));
        }
    }

    pub fn remove_all(&mut self) {
        for name in std::mem::take(&mut self.mine) {
            let _ = self.edit(|text| with_line(text, &name, None));
        }
    }

    fn edit(&self, change: impl Fn(&str) -> String) -> std::io::Result<()> {
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&self.path)?;
        file.lock()?;
        let mut text = String::new();
        file.read_to_string(&mut text)?;
        let changed = change(&without_the_departed(&text));
        if changed != text {
            // Written over the old text, then cut: a reader never finds the file empty.
            file.seek(SeekFrom::Start(0))?;
            file.write_all(changed.as_bytes())?;
            file.set_len(changed.len() as u64)?;
        }
        file.unlock()
    }
}

impl Drop for HostsFile {
    fn drop(&mut self) {
        self.remove_all();
    }
}

/// `text` without any line for `name`, and with `line` at the end when given.
fn with_line(text: &str, name: &str, line: Option<&str>) -> String {
    let mut out: String = text
        .lines()
        .filter(|l| !names(l).any(|n| n == name))
        .map(|l| format!("{l}\n"))
        .collect();
    if let Some(line) = line {
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// The host names of a hosts line.
fn names(line: &str) -> impl Iterator<Item = &str> {
    line.split('#')
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
}

/// `text` without the marked lines of processes that no longer run.
fn without_the_departed(text: &str) -> String {
    text.lines()
        .filter(|l| {
            l.split_once(MARK)
                .and_then(|(_, pid)| pid.trim().parse::<u32>().ok())
                .is_none_or(|pid| std::path::Path::new(&format!("/proc/{pid}")).exists())
        })
        .map(|l| format!("{l}\n"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_gets_one_line_and_loses_it_again() {
        let text = "127.0.0.1 localhost\n127.0.0.1 old.elb.amazonaws.com # slipway-standin 1\n";
        let set = with_line(
            text,
            "old.elb.amazonaws.com",
            Some("127.20.0.2 old.elb.amazonaws.com"),
        );
        assert_eq!(
            set, "127.0.0.1 localhost\n127.20.0.2 old.elb.amazonaws.com\n",
            "a stale line for the same name is replaced"
        );
        assert_eq!(
            with_line(&set, "old.elb.amazonaws.com", None),
            "127.0.0.1 localhost\n"
        );
    }

    #[test]
    fn lines_of_processes_that_are_gone_are_removed() {
        let alive = std::process::id();
        let text = format!(
            "127.0.0.1 localhost\n127.20.0.2 a {MARK} {alive}\n127.20.0.3 b {MARK} 4294967\n"
        );
        assert_eq!(
            without_the_departed(&text),
            format!("127.0.0.1 localhost\n127.20.0.2 a {MARK} {alive}\n")
        );
    }
}
