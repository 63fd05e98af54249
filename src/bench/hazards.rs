//! `citytwin bench hazards`: 1,000 bodies × 10 points at one reading a
//! minute each — the landslide rules and the forecast per reading (goal
//! ≤ 50 µs), and the frame cost of drawing 1,000 bodies with their zones
//! and pins on the demo city (goal ≤ 3 ms added), printed side by side.

use std::sync::Arc;
use std::time::Instant;

use bevy::math::UVec2;
use clap::Args;

use super::{Common, median_p95};
use crate::backend::rules::{Rules, RulesConfig};
use crate::cockpit::camera::OrbitCamera;
use crate::cockpit::headless::HeadlessCity;
use crate::geo::demo::{DemoScene, generate};
use crate::model::{
    City, HAZARD_SENSOR_BASE, Hazard, HazardId, Measurement, SensorId, SensorReading,
};

#[derive(Args, Debug, Clone)]
pub struct HazardBenchArgs {
    #[command(flatten)]
    pub common: Common,
    /// Bodies (each with `points` GNSS points).
    #[arg(long, default_value_t = 1_000)]
    pub bodies: usize,
    #[arg(long, default_value_t = 10)]
    pub points: usize,
    /// Simulated minutes of readings (one per point per minute).
    #[arg(long, default_value_t = 120)]
    pub minutes: usize,
    /// Frame size of the drawing cost.
    #[arg(long, default_value = "1280x720", value_parser = crate::cli::parse_size)]
    pub size: UVec2,
}

/// The demo city with `bodies` copies of its own bodies spread over it,
/// each with `points` GNSS points.
fn city_with(bodies: usize, points: usize) -> anyhow::Result<City> {
    let mut city = generate(&DemoScene::embedded()?);
    let templates: Vec<Hazard> = city.hazards.clone();
    if templates.is_empty() {
        return Ok(city);
    }
    let b = city.bounds;
    let cols = (bodies as f32).sqrt().ceil() as usize;
    let mut sensor = HAZARD_SENSOR_BASE;
    city.hazards = (0..bodies)
        .map(|i| {
            let mut h = templates[i % templates.len()].clone();
            let (cx, cy) = (i % cols, i / cols);
            let at = [
                b.min_m[0] + (b.max_m[0] - b.min_m[0]) * (cx as f32 + 0.5) / cols as f32,
                b.min_m[1] + (b.max_m[1] - b.min_m[1]) * (cy as f32 + 0.5) / cols as f32,
            ];
            let c = h.centre_m();
            let shift = |p: &mut [f32; 2]| {
                p[0] += at[0] - c[0];
                p[1] += at[1] - c[1];
            };
            h.body_m.iter_mut().for_each(shift);
            h.threat_zone_m.iter_mut().for_each(shift);
            h.threatened.clear();
            let template = h.points[0].clone();
            h.points = (0..points)
                .map(|k| {
                    sensor += 1;
                    let mut p = template.clone();
                    p.sensor = SensorId(sensor);
                    p.code = format!("GNSS-{:02}", k + 1);
                    p.kind = crate::model::PointKind::Displacement;
                    p.position_m = [at[0], at[1] + (k as f32 - points as f32 / 2.0) * 20.0];
                    p
                })
                .collect();
            h.id = HazardId(i as u32);
            h
        })
        .collect();
    Ok(city)
}

pub fn run(args: &HazardBenchArgs) -> anyhow::Result<()> {
    println!(
        "citytwin bench hazards — {} bodies × {} points, one reading a minute each, {} minutes",
        args.bodies, args.points, args.minutes
    );
    let city = Arc::new(city_with(args.bodies, args.points)?);
    // Rules: most bodies creep, every tenth accelerates (forecasts refit).
    let mut rules = Rules::new(&city, Default::default(), RulesConfig::default());
    let t0 = 1_795_478_400_000_i64;
    let mut per_minute = Vec::with_capacity(args.minutes);
    let mut total = 0usize;
    let mut changes = 0usize;
    let started = Instant::now();
    for m in 0..args.minutes {
        let t = t0 + m as i64 * 60_000;
        let tick = Instant::now();
        for h in &city.hazards {
            let days = m as f64 / 1_440.0;
            let s = if h.id.0 % 10 == 0 {
                // Voight towards a failure at 3 h.
                let tf = 3.0 / 24.0;
                -4.0 * (1.0 - days / tf).max(1e-4).ln() + 2.0 * days
            } else {
                2.0 * days
            };
            for (k, p) in h.points.iter().enumerate() {
                let reading = SensorReading {
                    sensor: p.sensor,
                    value: Measurement::CumulativeMm((s * (1.0 + k as f64 * 0.01)) as f32),
                    time_ms: t,
                };
                changes += rules.on_reading(&city, reading).changes.len();
                total += 1;
            }
        }
        per_minute.push(tick.elapsed().as_secs_f64() * 1e3);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let (median, p95) = median_p95(&mut per_minute);
    println!(
        "rules + forecast: {:.2} µs per reading (goal ≤ 50 µs) over {total} readings, {changes} changes; \
         a minute's {} readings: median {median:.1} ms, p95 {p95:.1} ms",
        elapsed * 1e6 / total.max(1) as f64,
        args.bodies * args.points
    );

    // Drawing: the demo city with and without the bodies, same view.
    let mut bare = (*city).clone();
    bare.hazards.clear();
    let b = city.bounds;
    let mut view = OrbitCamera::overview(b.min_m, b.max_m, city.terrain.height_at([0.0, 0.0]));
    view.pitch_deg = 60.0;
    let frame = |c: City| -> (f64, f64) {
        let mut headless = HeadlessCity::new(Arc::new(c), view, args.size, false);
        super::time_frames(&mut headless, args.common.frames)
    };
    let (without, without95) = frame(bare);
    let (with, with95) = frame((*city).clone());
    let mesh = crate::geo::hazard_mesh::build(&city);
    println!(
        "frame without bodies: median {without:.1} ms (p95 {without95:.1}); with {} bodies, zones and {} pins: \
         median {with:.1} ms (p95 {with95:.1}) → {:+.1} ms added (goal ≤ 3 ms; {} + {} vertices)",
        city.hazards.len(),
        city.hazards.len() * args.points,
        with - without,
        mesh.translucent.len(),
        mesh.opaque.len()
    );
    Ok(())
}
