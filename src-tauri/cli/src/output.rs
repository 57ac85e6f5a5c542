//! Printing for people and for machines, shared by every verb.

use serde::Serialize;

pub fn json<T: Serialize>(value: &T) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).expect("engine types always serialize")
    );
}

/// A line with a status mark: ✔ ready, ✘ a problem, · neutral information.
pub fn line(mark: Mark, text: impl AsRef<str>) {
    let sign = match mark {
        Mark::Ok => "✔",
        Mark::Problem => "✘",
        Mark::Info => "·",
    };
    println!("  {sign} {}", text.as_ref());
}

pub fn heading(text: &str) {
    println!("\n{text}");
}

#[derive(Clone, Copy)]
pub enum Mark {
    Ok,
    Problem,
    Info,
}
