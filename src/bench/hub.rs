//! The cockpit's cost with many open events: the hub view's rebuild (filter,
//! order, counts), the panels' egui pass (virtualised rows), packing the
//! marker buffer, and the rendered frame with every marker in view.

use std::sync::Arc;
use std::time::Instant;

use bevy::math::{UVec2, Vec3};
use bevy_egui::egui;

use super::kpi::synthetic_case;
use super::median_p95;
use crate::cockpit::camera::OrbitCamera;
use crate::cockpit::city::markers::pack_markers;
use crate::cockpit::headless::HeadlessCity;
use crate::cockpit::hub_view::HubView;
use crate::cockpit::state::CityState;
use crate::cockpit::ui::{Lang, PanelContext, Panels, theme};
use crate::geo::rng::Rng;
use crate::model::{Area, City};
use crate::protocol::Snapshot;

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

/// A snapshot of `city` with `open` open cases opened over the last 6 h.
fn with_open_cases(city: &City, open: usize, now_ms: i64) -> Snapshot {
    let mut rng = Rng::new(10_000);
    let mut snapshot = CityState::new(city).to_snapshot(now_ms);
    snapshot.open_cases = (1..=open as u64)
        .map(|id| {
            let opened = now_ms - rng.below(6 * 60) as i64 * 60_000;
            synthetic_case(&mut rng, city, id, opened)
        })
        .collect();
    snapshot
}

pub fn open_events_cost(city: &Arc<City>, open: usize, frames: usize) -> anyhow::Result<()> {
    println!("\n== cockpit with {open} open events");
    let now_ms = 1_795_514_400_000;
    let snapshot = with_open_cases(city, open, now_ms);
    let mut state = CityState::new(city);
    state.apply_snapshot(&snapshot)?;

    // Hub view: filter + order + counts (only when cases change, at most
    // once per delta; a frame without changes reuses it).
    let mut view = HubView::default();
    let mut samples = Vec::new();
    for i in 0..frames.max(1) {
        view.filter.overdue_only = i % 2 == 1; // force a rebuild each time
        let t = Instant::now();
        view.refresh(&state, Area::City, state.last_time_ms().unwrap_or(0));
        samples.push(ms(t));
    }
    view.filter.overdue_only = false;
    view.refresh(&state, Area::City, state.last_time_ms().unwrap_or(0));
    let (m, p) = median_p95(&mut samples);
    println!(
        "hub view rebuild ({} rows, {} overdue): median {m:.2} ms, p95 {p:.2} ms",
        view.rows.len(),
        view.counts.overdue
    );

    // The panels' egui pass at 1920×1080 (rows virtualised).
    let ctx = egui::Context::default();
    theme::apply(&ctx, 1.0);
    let mut panels = Panels::default();
    let cx = PanelContext::new(city, &state, Lang::Zh, &view, None);
    let mut samples = Vec::new();
    for i in 0..frames.max(1) + 2 {
        let input = egui::RawInput {
            screen_rect: Some(egui::Rect::from_min_size(
                egui::Pos2::ZERO,
                egui::vec2(1920.0, 1080.0),
            )),
            ..Default::default()
        };
        let t = Instant::now();
        let mut output = ctx.run_ui(input, |ui| {
            panels.ui(ui, &cx);
        });
        let shapes = ctx.tessellate(std::mem::take(&mut output.shapes), 1.0);
        if i >= 2 {
            samples.push(ms(t));
        }
        drop(shapes);
        output.textures_delta.clear();
    }
    let (m, p) = median_p95(&mut samples);
    println!("panels egui pass + tessellation: median {m:.2} ms, p95 {p:.2} ms");

    // Packing the marker storage buffer for every row.
    let slots: Vec<_> = view
        .cases(&state)
        .filter_map(|c| {
            let b = city.building(c.building?)?;
            Some((
                c.id,
                b.id,
                Vec3::new(b.centre_m()[0], b.height_m, -b.centre_m()[1]),
            ))
        })
        .collect();
    let mut bytes = Vec::new();
    let mut samples = Vec::new();
    for _ in 0..frames.max(1) {
        let t = Instant::now();
        pack_markers(
            &slots,
            |id| {
                let c = state.open_case(id)?;
                Some((theme::risk_color(c.severity).linear(), 0))
            },
            slots.len().next_power_of_two(),
            &mut bytes,
        );
        samples.push(ms(t));
    }
    let (m, p) = median_p95(&mut samples);
    println!(
        "marker buffer for {} markers ({} KiB): median {m:.2} ms, p95 {p:.2} ms",
        slots.len(),
        bytes.len() / 1024
    );

    // Rendered frame, whole city in view, without and with the markers.
    let b = &city.bounds;
    let mut overview = OrbitCamera::overview(b.min_m, b.max_m, city.terrain.height_at([0.0, 0.0]));
    overview.pitch_deg = 60.0;
    let mut headless = HeadlessCity::new(city.clone(), overview, UVec2::new(1280, 720), false);
    let frame_ms = |headless: &mut HeadlessCity| {
        for _ in 0..3 {
            headless.update();
        }
        let mut samples = Vec::new();
        for _ in 0..frames.max(1) {
            let t = Instant::now();
            headless.update();
            headless.wait_for_gpu();
            samples.push(ms(t));
        }
        median_p95(&mut samples)
    };
    let (m0, p0) = frame_ms(&mut headless);
    headless.state_mut().apply_snapshot(&snapshot)?;
    let (m1, p1) = frame_ms(&mut headless);
    println!(
        "frame (1280×720, whole city): no events median {m0:.1} ms (p95 {p0:.1}); \
         {open} markers median {m1:.1} ms (p95 {p1:.1}) → {:+.1} ms",
        m1 - m0
    );
    Ok(())
}
