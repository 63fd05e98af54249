//! The window opens before the city is loaded and shows how far the load
//! is; when the city-load thread hands the city over, the scene is built
//! with the first view the command line would give. On a real X server
//! (Xvfb, started here) and lavapipe, with the production app and loader.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bevy::prelude::*;
use bevy::render::view::screenshot::{Screenshot, ScreenshotCaptured};
use citytwin::cockpit::app::{CityStart, RunOptions, default_view, window_app_for};
use citytwin::cockpit::camera::OrbitCamera;
use citytwin::cockpit::city::CityTiles;
use citytwin::cockpit::headless::screenshot_rgba;
use citytwin::cockpit::load::{CityLoad, LOADING_BAR_WIDTH, Loaded};
use citytwin::cockpit::state::CityState;
use citytwin::cockpit::theme;
use citytwin::geo::demo::{DemoScene, generate};
use crossbeam_channel::bounded;
use image::RgbaImage;

const SIZE: (u32, u32) = (800, 600);

/// What the test saw, for the checks after the app ended.
#[derive(Default)]
struct Seen {
    loading: Option<RgbaImage>,
    arrived: Option<RgbaImage>,
    camera: Option<OrbitCamera>,
    tiles: usize,
}

fn near(a: [u8; 4], b: theme::Rgb, tolerance: u8) -> bool {
    let b = [b.0, b.1, b.2];
    (0..3).all(|i| a[i].abs_diff(b[i]) <= tolerance)
}

/// Where the progress bar is: its row, and on it the first and last
/// pixel of the fill and of the whole bar.
struct Bar {
    row: u32,
    filled: (u32, u32),
    whole: (u32, u32),
}

fn measure_bar(img: &RgbaImage) -> Option<Bar> {
    // The fill is the selection colour; nothing else shows it before the
    // city is there.
    let fill = theme::PANEL_STROKE;
    let mut ys: Vec<u32> = img
        .enumerate_pixels()
        .filter(|(_, _, p)| near(p.0, fill, 2))
        .map(|(_, y, _)| y)
        .collect();
    if ys.is_empty() {
        return None;
    }
    ys.sort_unstable();
    let y = ys[ys.len() / 2];
    let on_row = |want: &dyn Fn([u8; 4]) -> bool| -> Option<(u32, u32)> {
        let xs: Vec<u32> = (0..img.width())
            .filter(|&x| want(img.get_pixel(x, y).0))
            .collect();
        Some((*xs.first()?, *xs.last()?))
    };
    let filled = on_row(&|p| near(p, fill, 2))?;
    // egui's bar background (extreme_bg_color, grey 10) after the fill.
    let empty = on_row(&|p| near(p, theme::Rgb(10, 10, 10), 2))?;
    Some(Bar {
        row: y,
        filled,
        whole: (filled.0, empty.1),
    })
}

#[test]
fn the_window_shows_the_load_then_the_city_arrives_in_its_first_view() {
    let x = common::xvfb::Xvfb::start();
    // This test binary holds this one test.
    x.use_for_this_process();
    let mut scene = DemoScene::embedded().expect("embedded scene");
    scene.buildings = 2_000;
    let city = Arc::new(generate(&scene));
    let (release, released) = bounded::<()>(1);
    let given = city.clone();
    let load = CityLoad::spawn(move |report| {
        report.report("测试阶段", "test stage", 3, 10, "3 / 10 parts".into());
        released.recv()?;
        Ok(Loaded {
            city: given,
            tiles: None,
            install: Box::new(|world| CityStart::default().install(world)),
        })
    })
    .expect("the city-load thread");
    let options = RunOptions::sized(SIZE);
    let mut app = window_app_for(None, options, true);
    app.insert_resource(load);
    let seen = Arc::new(Mutex::new(Seen::default()));
    let shot: Arc<Mutex<Option<Image>>> = Arc::default();
    let (seen_in, shot_in) = (seen.clone(), shot.clone());
    let started = Instant::now();
    let mut frame = 0u32;
    let mut arrived_at: Option<u32> = None;
    let mut asked = false;
    app.add_systems(
        Last,
        move |mut commands: Commands,
              state: Option<Res<CityState>>,
              tiles: Option<Res<CityTiles>>,
              cameras: Query<&OrbitCamera>,
              mut exit: MessageWriter<AppExit>| {
            frame += 1;
            // Bounded whatever happens.
            if started.elapsed() > Duration::from_secs(240) {
                exit.write(AppExit::error());
                return;
            }
            let Ok(mut seen) = seen_in.lock() else { return };
            let got = shot_in.lock().ok().and_then(|mut s| s.take());
            if let Some(image) = got {
                asked = false;
                let rgba = screenshot_rgba(image).expect("a window screenshot");
                if seen.loading.is_none() {
                    seen.loading = Some(rgba);
                    // Now let the city come.
                    let _ = release.try_send(());
                } else {
                    seen.arrived = Some(rgba);
                    exit.write(AppExit::Success);
                    return;
                }
            }
            let ask = |commands: &mut Commands| {
                let sink = shot_in.clone();
                commands.spawn(Screenshot::primary_window()).observe(
                    move |captured: On<ScreenshotCaptured>| {
                        if let Ok(mut slot) = sink.lock() {
                            *slot = Some(captured.image.clone());
                        }
                    },
                );
            };
            if state.is_none() {
                // A few frames of the loading line first.
                if frame == 20 && !asked {
                    ask(&mut commands);
                    asked = true;
                }
                return;
            }
            let at = *arrived_at.get_or_insert(frame);
            if frame == at + 1 {
                seen.camera = cameras.iter().next().copied();
                seen.tiles = tiles.map(|t| t.0.len()).unwrap_or(0);
            }
            if frame == at + 30 && !asked {
                ask(&mut commands);
                asked = true;
            }
        },
    );
    let exit = app.run();
    let seen = seen.lock().expect("what the test saw");
    assert_eq!(
        exit,
        AppExit::Success,
        "the city arrived and was seen in time"
    );

    let loading = seen.loading.as_ref().expect("the loading screenshot");
    loading
        .save(common::output_path("window_loading.png"))
        .expect("save");
    let Bar {
        row: y,
        filled,
        whole,
    } = measure_bar(loading).expect("a progress bar in the window");
    let whole_w = (whole.1 - whole.0 + 1) as f32;
    let fraction = (filled.1 - filled.0 + 1) as f32 / whole_w;
    assert!(
        (whole_w - LOADING_BAR_WIDTH).abs() <= 3.0,
        "the bar is {whole_w} px wide"
    );
    assert!(
        (fraction - 0.3).abs() <= 0.02,
        "3 of 10 fills {fraction:.3} of the bar"
    );
    let centre = (whole.0 + whole.1) as f32 / 2.0;
    assert!(
        (centre - SIZE.0 as f32 / 2.0).abs() <= 3.0
            && (y as f32 - SIZE.1 as f32 / 2.0).abs() < 60.0,
        "the bar in the middle of the window: centre x {centre}, row {y}"
    );
    // The heading and the stage above it, the counts below: text pixels.
    let bright = |rows: std::ops::Range<u32>| {
        rows.flat_map(|ry| (whole.0..=whole.1).map(move |rx| (rx, ry)))
            .filter(|&(rx, ry)| {
                let p = loading.get_pixel(rx, ry).0;
                u32::from(p[0]) + u32::from(p[1]) + u32::from(p[2]) > 400
            })
            .count()
    };
    assert!(
        bright(y.saturating_sub(70)..y - 12) > 40,
        "heading and stage above the bar"
    );
    assert!(bright(y + 12..y + 40) > 20, "the counts below the bar");

    // The city arrived: tiles built, the first view the whole city's.
    assert!(seen.tiles > 0, "no building tiles after the city arrived");
    assert_eq!(seen.camera, Some(default_view(&city)), "the first view");
    let arrived = seen.arrived.as_ref().expect("the arrived screenshot");
    arrived
        .save(common::output_path("window_loading_arrived.png"))
        .expect("save");
    let bar_left = (whole.0..=whole.1)
        .filter(|&rx| near(arrived.get_pixel(rx, y).0, theme::Rgb(10, 10, 10), 2))
        .count();
    assert!(
        bar_left < 20,
        "the loading bar is gone ({bar_left} px of it left)"
    );
    let drawn = arrived
        .pixels()
        .filter(|p| !near(p.0, theme::BACKGROUND, 6))
        .count();
    let share = drawn as f32 / (SIZE.0 * SIZE.1) as f32;
    assert!(share > 0.3, "the city covers {share:.2} of the window");
}
