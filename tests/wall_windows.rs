//! The wall's real windows, on a real X server (Xvfb, started here) and
//! lavapipe: the wall opens every window of its file, and a window that is
//! hidden does not stall the others (bevy's non-visible windows could drop
//! an app below 1 frame a second); a bad wall file is refused by the
//! command line naming the file, the entry and the reason.

mod common;

use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bevy::prelude::*;
use citytwin::cockpit::app::{RunOptions, window_app};
use citytwin::cockpit::wall::{WallLayout, WallSetup};
use citytwin::geo::demo::{DemoScene, generate};
use citytwin::model::wall::Wall;

const WALL: &str = r#"(
    title: "test wall",
    windows: [
        (title: "operator", place: Rect(x: 0, y: 0, width: 320, height: 240), content: City()),
        (title: "hidden", place: Rect(x: 320, y: 0, width: 320, height: 240), content: KpiBoard()),
        (title: "city", place: Rect(x: 640, y: 0, width: 320, height: 240), content: City(area: Some(City))),
    ],
)"#;

/// How long the test watches the other windows after hiding one.
const WATCH: Duration = Duration::from_secs(12);

#[test]
fn a_hidden_wall_window_does_not_stall_the_others() {
    let x = common::xvfb::Xvfb::start();
    // This test binary's other test runs citytwin as a child with its own
    // DISPLAY: nothing else reads the environment while it is set.
    x.use_for_this_process();
    let mut scene = DemoScene::embedded().expect("embedded scene");
    scene.buildings = 4_000;
    let city = Arc::new(generate(&scene));
    let wall = Wall::parse(WALL, "test.ron").expect("the test wall");
    let options = RunOptions {
        wall: Some(WallSetup {
            path: "test.ron".into(),
            wall,
            operator_view: None,
        }),
        ..RunOptions::sized((320, 240))
    };
    let mut app = window_app(city, options, true);
    let after_hiding = Arc::new(AtomicU32::new(0));
    let opened = Arc::new(Mutex::new(Vec::<String>::new()));
    let (counter, titles) = (after_hiding.clone(), opened.clone());
    let mut frame = 0u32;
    let mut hidden_at: Option<Instant> = None;
    let started = Instant::now();
    app.add_systems(
        Last,
        move |layout: Res<WallLayout>,
              mut windows: Query<&mut Window>,
              mut exit: MessageWriter<AppExit>| {
            frame += 1;
            // Bounded whatever happens.
            if started.elapsed() > Duration::from_secs(240) {
                exit.write(AppExit::error());
                return;
            }
            if frame == 30 && hidden_at.is_none() {
                if let Ok(mut titles) = titles.lock() {
                    *titles = layout
                        .windows
                        .iter()
                        .filter_map(|w| windows.get(w.window).ok().map(|w| w.title.clone()))
                        .collect();
                }
                if let Some(w) = layout.windows.iter().find(|w| w.entry == 1)
                    && let Ok(mut window) = windows.get_mut(w.window)
                {
                    window.visible = false;
                    hidden_at = Some(Instant::now());
                }
            }
            if let Some(at) = hidden_at {
                counter.fetch_add(1, Ordering::Relaxed);
                if at.elapsed() >= WATCH {
                    exit.write(AppExit::Success);
                }
            }
        },
    );
    let exit = app.run();
    let titles = opened.lock().map(|t| t.clone()).unwrap_or_default();
    assert_eq!(
        titles,
        vec![
            "citytwin · operator",
            "citytwin · hidden",
            "citytwin · city"
        ],
        "every window of the file opened"
    );
    assert_eq!(exit, AppExit::Success, "the watch ended in time");
    let frames = after_hiding.load(Ordering::Relaxed);
    let fps = f64::from(frames) / WATCH.as_secs_f64();
    println!("with one window hidden: {frames} frames in {WATCH:?} ({fps:.1} fps)");
    assert!(
        fps >= 1.0,
        "a hidden window stalled the wall: {fps:.2} frames a second"
    );
}

#[test]
fn the_command_line_refuses_a_bad_wall_file_naming_entry_and_reason() {
    let dir = std::env::temp_dir().join(format!("citytwin-wall-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("bad.ron");
    std::fs::write(&path, WALL.replace("KpiBoard()", "Weather()")).expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_citytwin"))
        .args(["run", "--offline", "--wall"])
        .arg(&path)
        .env("DISPLAY", ":nowhere")
        .output()
        .expect("run citytwin");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "refused: {stderr}");
    assert!(
        stderr.contains("bad.ron:") && stderr.contains("window 1") && stderr.contains("Weather"),
        "names the file, the entry and the reason: {stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
