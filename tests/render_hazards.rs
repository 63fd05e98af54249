//! Hazard bodies on the GPU: a body's volume takes its warning level's
//! colour from the state buffer (blue at 注意, red at 警报, no mesh touched),
//! its threat zone tints the ground, and a click on a pin picks its point.

mod common;

use std::sync::Arc;

use bevy::prelude::*;
use citytwin::cockpit::camera::OrbitCamera;
use citytwin::cockpit::headless::HeadlessCity;
use citytwin::geo::world_from_local;
use citytwin::model::{HazardId, WarningLevel, ring_contains};
use common::live::small_city;
use common::{output_path, patch_rgb};

fn set_level(headless: &mut HeadlessCity, hazard: HazardId, level: WarningLevel) {
    // Through the stream's own path: a snapshot that says so.
    let mut snapshot = headless.state().live.to_snapshot(0);
    snapshot.hazards[hazard.index()].status.level = level;
    headless
        .state_mut()
        .apply_snapshot(&snapshot)
        .expect("snapshot applies");
}

#[test]
fn a_body_is_coloured_by_its_level_and_its_zone_tints_the_ground() {
    let city: Arc<_> = small_city();
    // A body with a threat zone: its centre and a zone point off the body.
    let h = city
        .hazards
        .iter()
        .find(|h| !h.threat_zone_m.is_empty())
        .expect("the demo has bodies");
    let centre = h.centre_m();
    let zone_point = {
        let n = h.threat_zone_m.len() as f32;
        let c = h
            .threat_zone_m
            .iter()
            .fold([0.0, 0.0], |a, p| [a[0] + p[0] / n, a[1] + p[1] / n]);
        assert!(ring_contains(&h.threat_zone_m, c) && !ring_contains(&h.body_m, c));
        c
    };
    let ground =
        |p: [f32; 2], lift: f32| Vec3::from(world_from_local(p, city.terrain.height_at(p) + lift));
    let (length, _) = h.size_m();
    let view = OrbitCamera {
        focus: ground(centre, h.thickness_m),
        distance_m: length * 4.0 + 800.0,
        pitch_deg: 89.0,
        heading_deg: 0.0,
    };
    let mut headless = HeadlessCity::new(city.clone(), view, UVec2::new(320, 240), false);
    set_level(&mut headless, h.id, WarningLevel::Attention);
    let blue = headless.capture().expect("frame");
    blue.save(output_path("hazard_attention.png")).expect("png");
    let body_px = headless
        .project(ground(centre, h.thickness_m))
        .expect("body in view");
    let zone_px = headless
        .project(ground(zone_point, 2.0))
        .expect("zone in view");
    let b = patch_rgb(&blue, body_px.x as u32, body_px.y as u32);
    assert!(
        b[2] > b[0] + 40 && b[2] > b[1],
        "注意级 body {} is blue at {body_px}: {b:?}",
        h.code
    );
    let zb = patch_rgb(&blue, zone_px.x as u32, zone_px.y as u32);

    let meshes = headless.mesh_modifications();
    set_level(&mut headless, h.id, WarningLevel::Alarm);
    let red = headless.capture().expect("frame");
    red.save(output_path("hazard_alarm.png")).expect("png");
    let r = patch_rgb(&red, body_px.x as u32, body_px.y as u32);
    assert!(
        r[0] > r[2] + 60 && r[0] > r[1] + 30,
        "警报级 body is red: {r:?}"
    );
    assert_eq!(
        headless.mesh_modifications(),
        meshes,
        "a level is state, not a mesh"
    );
    // The zone below takes the level's tint too: bluer at 注意, redder at 警报.
    let zr = patch_rgb(&red, zone_px.x as u32, zone_px.y as u32);
    assert!(
        i32::from(zr[0]) - i32::from(zr[2]) > i32::from(zb[0]) - i32::from(zb[2]) + 30,
        "the threat zone tints the ground: {zb:?} → {zr:?}"
    );

    // Quiet: grey, neither blue nor red.
    set_level(&mut headless, h.id, WarningLevel::Quiet);
    let grey = headless.capture().expect("frame");
    let g = patch_rgb(&grey, body_px.x as u32, body_px.y as u32);
    assert!(
        (i32::from(g[0]) - i32::from(g[2])).abs() < 40,
        "a quiet body is grey: {g:?}"
    );

    // A pin's head picks its point.
    let pin = &h.points[0];
    let eye_distance = view.distance_m;
    let grow = (eye_distance / citytwin::cockpit::hazards::SIZE_DISTANCE_M).clamp(0.4, 8.0);
    let head =
        ground(pin.position_m, 0.0) + Vec3::Y * citytwin::geo::hazard_mesh::PIN_HEIGHT_M * grow;
    let px = headless.project(head).expect("pin in view");
    assert_eq!(headless.pick_pin(px, 12.0), Some((h.id, 0)));
    assert_eq!(headless.pick_pin(Vec2::new(2.0, 2.0), 12.0), None);

    // From the side at 警戒 with a reading: the volume's skirt, the pins and
    // the displacement arrows (looked at, not asserted).
    let mut snapshot = headless.state().live.to_snapshot(0);
    let live = &mut snapshot.hazards[h.id.index()];
    live.status.level = WarningLevel::Alert;
    for series in live.series.iter_mut() {
        series.push_back(citytwin::model::Sample::Motion {
            time_ms: 0,
            displacement_mm: 80.0,
            vector_mm: [h.downslope[0] * 80.0, h.downslope[1] * 80.0, -20.0],
            velocity_mm_d: 20.0,
            angle_deg: 82.0,
        });
    }
    headless
        .state_mut()
        .apply_snapshot(&snapshot)
        .expect("applies");
    headless.set_view(OrbitCamera {
        pitch_deg: 35.0,
        distance_m: length * 3.0 + 600.0,
        ..view
    });
    let side = headless.capture().expect("frame");
    side.save(output_path("hazard_side.png")).expect("png");
}
