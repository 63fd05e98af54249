//! `citytwin bench wall`: the frame time of a wall of 1, 2 and 3 city
//! windows at 1280×720 each (headless render targets, one process, one
//! state — on this CPU renderer the cost adds), and the time from a
//! presenter's key press to the first rendered frame of the next step.

use std::sync::Arc;
use std::time::Instant;

use bevy::input::ButtonState;
use bevy::input::keyboard::{Key, KeyboardInput};
use bevy::math::UVec2;
use bevy::prelude::{Entity, KeyCode};
use clap::Args;

use super::{Common, median_p95, time_frames};
use crate::cli::parse_size;
use crate::cockpit::app::default_view;
use crate::cockpit::camera::OrbitCamera;
use crate::cockpit::headless::HeadlessCity;
use crate::cockpit::presenter::export::HeadlessBriefing;
use crate::geo::demo::{DemoScene, generate};
use crate::model::Area;
use crate::model::briefing::Briefing;

#[derive(Args, Debug, Clone)]
pub struct WallBenchArgs {
    #[command(flatten)]
    pub common: Common,
    /// Size of each window.
    #[arg(long, default_value = "1280x720", value_parser = parse_size)]
    pub size: UVec2,
}

pub fn run(args: &WallBenchArgs) -> anyhow::Result<()> {
    let scene = DemoScene::embedded()?;
    let city = Arc::new(generate(&scene));
    println!(
        "citytwin bench wall — demo city ({} buildings), windows of {}x{}, {} frames each",
        city.buildings.len(),
        args.size.x,
        args.size.y,
        args.common.frames
    );
    let main = default_view(&city);
    let mut wall = HeadlessCity::new(city.clone(), main, args.size, false);
    // Window 2: the whole city from higher, with its own drill level;
    // window 3: the same centre from the east, following the drill.
    let whole = OrbitCamera {
        distance_m: main.distance_m * 2.5,
        pitch_deg: 62.0,
        heading_deg: 0.0,
        ..main
    };
    let east = OrbitCamera {
        heading_deg: 270.0,
        pitch_deg: 40.0,
        ..main
    };
    wall.add_view(whole, Some(Area::City));
    wall.add_view(east, None);
    let mut one = None;
    for n in 1..=3usize {
        for view in 1..3 {
            wall.set_view_active(view, view < n);
        }
        let (median, p95) = time_frames(&mut wall, args.common.frames);
        let base = *one.get_or_insert(median);
        println!(
            "{n} window{}: median {median:.1} ms, p95 {p95:.1} ms per frame → {:.2}× one window, {:.1} ms per window",
            if n == 1 { " " } else { "s" },
            median / base,
            median / n as f64
        );
    }
    drop(wall);

    // A key press to the next step's first frame (panels and presenter
    // on, 1280×720): the clicker's PageDown through the input path, then
    // frames until one is captured.
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/scenes/briefing_demo.ron");
    let briefing = Briefing::load(std::path::Path::new(path))?;
    let steps = briefing.steps.len();
    let mut show = HeadlessBriefing::start(city, briefing, args.size);
    let mut latencies = Vec::new();
    for _ in 1..steps {
        let from = show.presenter().index;
        let t = Instant::now();
        press(&mut show.headless, KeyCode::PageDown, ButtonState::Pressed);
        let frame = show.headless.capture();
        let ms = t.elapsed().as_secs_f64() * 1e3;
        press(&mut show.headless, KeyCode::PageDown, ButtonState::Released);
        frame?;
        if show.presenter().index != from + 1 {
            anyhow::bail!(
                "PageDown did not move from step {} (now {})",
                from + 1,
                show.presenter().index + 1
            );
        }
        latencies.push(ms);
        show.settle();
    }
    let worst = latencies.iter().copied().fold(0.0, f64::max);
    let (median, _) = median_p95(&mut latencies);
    println!(
        "key press → next step's first frame (rendered and read back): median {median:.0} ms, worst {worst:.0} ms over {} steps",
        steps - 1
    );
    Ok(())
}

/// A key event as winit would deliver it.
fn press(headless: &mut HeadlessCity, key: KeyCode, state: ButtonState) {
    headless.app().world_mut().write_message(KeyboardInput {
        key_code: key,
        logical_key: Key::PageDown,
        state,
        text: None,
        repeat: false,
        window: Entity::PLACEHOLDER,
    });
}
