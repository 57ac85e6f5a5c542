//! `slipway support-bundle` as a user runs it: a fresh process with its own HOME and data
//! folder, after another verb left lines in the log file.

mod common;

use std::io::Read;

use common::{json, slipway};

#[test]
fn support_bundle_packs_the_log_of_earlier_verbs_where_output_says() {
    let home = tempfile::tempdir().unwrap();
    let (code, _, err) = slipway(home.path(), &["aws", "profiles"], "");
    assert_eq!(code, 0, "{err}");

    let archive = home.path().join("bundle.tar.gz");
    let (code, out, err) = slipway(
        home.path(),
        &[
            "support-bundle",
            "--output",
            &archive.display().to_string(),
            "--json",
        ],
        "",
    );
    assert_eq!(code, 0, "{err}");
    let answer = json(&out);
    assert_eq!(answer["path"], archive.display().to_string());

    let mut names = Vec::new();
    let mut log = String::new();
    let gz = flate2::read::GzDecoder::new(std::fs::File::open(&archive).unwrap());
    for entry in tar::Archive::new(gz).entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = entry.path().unwrap().display().to_string();
        if name.ends_with("logs/slipway.log") {
            entry.read_to_string(&mut log).unwrap();
        }
        names.push(name);
    }
    assert!(
        names.contains(&"slipway-support/about.json".to_owned())
            && names.contains(&"slipway-support/journal.json".to_owned()),
        "{names:?}"
    );
    assert!(
        log.contains("Slipway started"),
        "the earlier verb's lines are in the bundle: {log}"
    );
    assert!(
        !log.contains(&home.path().display().to_string()),
        "the home folder is written ~: {log}"
    );
}
