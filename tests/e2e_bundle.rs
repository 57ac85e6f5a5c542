//! The Linux installer as a user gets it: the .deb that `make bundle` builds is unpacked
//! into a fresh root (what dpkg would install), checked for what a desktop needs (its
//! webview dependency, the menu entry, the icons), and the installed binary is launched
//! under Xvfb to its first screen.

mod e2e;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use slipway_core::test_support::skip_or_fail;

fn built_deb() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/debug/bundle/deb");
    std::fs::read_dir(&dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "deb"))
}

fn dpkg_deb(args: &[&str]) -> String {
    let out = Command::new("dpkg-deb")
        .args(args)
        .output()
        .expect("dpkg-deb runs");
    assert!(
        out.status.success(),
        "dpkg-deb {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test]
async fn the_deb_installs_a_menu_entry_icons_and_a_binary_that_opens_its_first_screen() {
    let Some(deb) = built_deb() else {
        skip_or_fail("no .deb in target/debug/bundle/deb: run `make bundle` first");
        return;
    };
    let deb_path = deb.to_str().unwrap();
    let depends = dpkg_deb(&["-f", deb_path, "Depends"]);
    assert!(depends.contains("libwebkit2gtk-4.1-0"), "{depends}");
    assert_eq!(dpkg_deb(&["-f", deb_path, "Package"]).trim(), "slipway");

    let root = tempfile::tempdir().unwrap();
    dpkg_deb(&["-x", deb_path, root.path().to_str().unwrap()]);
    let binary = root.path().join("usr/bin/slipway-desktop");
    assert!(binary.is_file(), "the binary is installed in /usr/bin");
    let entry = std::fs::read_to_string(root.path().join("usr/share/applications/Slipway.desktop"))
        .expect("a menu entry");
    assert!(entry.contains("Exec=slipway-desktop"), "{entry}");
    assert!(entry.contains("Icon=slipway-desktop"), "{entry}");
    for size in ["32x32", "128x128", "512x512"] {
        let icon = root.path().join(format!(
            "usr/share/icons/hicolor/{size}/apps/slipway-desktop.png"
        ));
        assert!(icon.is_file(), "{} is missing", icon.display());
    }

    let Some(session) = e2e::Session::start_app("bundle", &binary).await else {
        return;
    };
    session
        .text("[data-testid=open-sample]", Duration::from_secs(30))
        .await;
    session.screenshot("installed-deb-first-screen").await;
    session.finish().await;
}
