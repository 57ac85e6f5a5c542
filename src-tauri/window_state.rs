//! The window opens where and as large as it was left: its bounds are kept while it moves
//! and resizes (not while maximized, so un-maximizing returns to them), written to the data
//! folder when it closes, and restored on start when they still fall on a screen (a monitor
//! unplugged since would otherwise leave it out of sight).

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use tauri::{Manager, PhysicalPosition, PhysicalSize, Runtime, WebviewWindow, Window, WindowEvent};

const FILE: &str = "window.json";

/// Where the window was, in physical pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bounds {
    pub x: i32,
    pub y: i32,
    pub width: u32,
    pub height: u32,
    pub maximized: bool,
}

/// A screen's area, in physical pixels.
#[derive(Debug, Clone, Copy)]
pub struct Screen {
    pub x: i32,
    pub y: i32,
    pub width: u32,
    pub height: u32,
}

impl Bounds {
    /// True when enough of the window's title bar lies on one of `screens` to grab it.
    pub fn on_a_screen(&self, screens: &[Screen]) -> bool {
        let (left, top) = (i64::from(self.x), i64::from(self.y));
        let right = left + i64::from(self.width);
        screens.iter().any(|s| {
            let (s_left, s_top) = (i64::from(s.x), i64::from(s.y));
            let (s_right, s_bottom) = (s_left + i64::from(s.width), s_top + i64::from(s.height));
            let visible = right.min(s_right) - left.max(s_left);
            visible >= 100 && top >= s_top && top + 40 <= s_bottom
        })
    }
}

/// The bounds of the open window, kept up to date by its events, and where they are written.
pub struct Kept {
    dir: PathBuf,
    bounds: Mutex<Option<Bounds>>,
}

impl Kept {
    pub fn new(data_dir: &Path) -> Self {
        Self {
            dir: data_dir.to_owned(),
            bounds: Mutex::new(None),
        }
    }
}

/// Writes the window's last bounds: on closing it, and on every way out of the app that
/// closes no window (Quit, a SIGTERM, the restart after an update).
pub fn save<R: Runtime, M: Manager<R>>(app: &M) {
    let kept = app.state::<Kept>();
    let Some(bounds) = *kept.bounds.lock().expect("window bounds") else {
        return;
    };
    let maximized = app
        .get_webview_window("main")
        .and_then(|w| w.is_maximized().ok())
        .unwrap_or(false);
    if let Err(e) = write(
        &kept.dir,
        &Bounds {
            maximized,
            ..bounds
        },
    ) {
        tracing::warn!("could not keep the window's place: {e}");
    }
}

fn path(data_dir: &Path) -> PathBuf {
    data_dir.join(FILE)
}

pub fn read(data_dir: &Path) -> Option<Bounds> {
    serde_json::from_slice(&std::fs::read(path(data_dir)).ok()?).ok()
}

pub fn write(data_dir: &Path, bounds: &Bounds) -> std::io::Result<()> {
    let partial = data_dir.join(format!("{FILE}.partial"));
    std::fs::create_dir_all(data_dir)?;
    std::fs::write(&partial, serde_json::to_vec(bounds)?)?;
    std::fs::rename(partial, path(data_dir))
}

/// Puts `window` where it was left, when that is still on a screen.
pub fn restore<R: Runtime>(window: &WebviewWindow<R>, data_dir: &Path) {
    let Some(bounds) = read(data_dir) else { return };
    let screens: Vec<Screen> = window
        .available_monitors()
        .unwrap_or_default()
        .iter()
        .map(|m| Screen {
            x: m.position().x,
            y: m.position().y,
            width: m.size().width,
            height: m.size().height,
        })
        .collect();
    if !bounds.on_a_screen(&screens) {
        tracing::info!(
            ?bounds,
            "the window's last place is off every screen: opening it at the default"
        );
        return;
    }
    // Moved first: on a screen with another scale the size would otherwise be rescaled.
    let _ = window.set_position(PhysicalPosition::new(bounds.x, bounds.y));
    let _ = window.set_size(PhysicalSize::new(bounds.width, bounds.height));
    if bounds.maximized {
        let _ = window.maximize();
    }
}

/// Keeps the bounds while the window moves and resizes; writes them when it closes.
pub fn on_window_event<R: Runtime>(window: &Window<R>, event: &WindowEvent) {
    let kept = window.state::<Kept>();
    match event {
        WindowEvent::Moved(_) | WindowEvent::Resized(_)
            if !window.is_maximized().unwrap_or(false) =>
        {
            let (Ok(position), Ok(size)) = (window.outer_position(), window.inner_size()) else {
                return;
            };
            if size.width == 0 || size.height == 0 {
                return; // minimized
            }
            *kept.bounds.lock().expect("window bounds") = Some(Bounds {
                x: position.x,
                y: position.y,
                width: size.width,
                height: size.height,
                maximized: false,
            });
        }
        WindowEvent::CloseRequested { .. } => save(window),
        _ => {}
    }
}

#[cfg(test)]
mod window_state_tests {
    use super::*;

    const LAPTOP: Screen = Screen {
        x: 0,
        y: 0,
        width: 1920,
        height: 1080,
    };
    const RIGHT: Screen = Screen {
        x: 1920,
        y: 0,
        width: 2560,
        height: 1440,
    };

    fn at(x: i32, y: i32) -> Bounds {
        Bounds {
            x,
            y,
            width: 1180,
            height: 780,
            maximized: false,
        }
    }

    #[test]
    fn a_place_on_any_screen_is_kept_and_one_off_every_screen_is_not() {
        assert!(at(100, 80).on_a_screen(&[LAPTOP]));
        assert!(
            at(2500, 200).on_a_screen(&[LAPTOP, RIGHT]),
            "on the second screen"
        );
        assert!(
            !at(2500, 200).on_a_screen(&[LAPTOP]),
            "that screen was unplugged"
        );
        assert!(
            !at(100, -300).on_a_screen(&[LAPTOP]),
            "title bar above the screen"
        );
        assert!(
            !at(1900, 80).on_a_screen(&[LAPTOP]),
            "only a sliver is left to grab"
        );
        assert!(!at(100, 80).on_a_screen(&[]));
    }

    #[test]
    fn bounds_are_written_whole_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read(dir.path()), None);
        let bounds = Bounds {
            maximized: true,
            ..at(40, 30)
        };
        write(dir.path(), &bounds).unwrap();
        assert_eq!(read(dir.path()), Some(bounds));
        std::fs::write(dir.path().join(FILE), "{ half").unwrap();
        assert_eq!(
            read(dir.path()),
            None,
            "a damaged file opens at the default"
        );
    }
}
