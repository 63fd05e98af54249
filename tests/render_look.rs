//! The look on the wall, in pixels (lavapipe): low risk levels are muted
//! with the risk focus on and equal with it off; a wall facing the sun is
//! brighter than one facing away; a 重大 building has a halo at city
//! distance, and none with halos off.

mod common;

use std::sync::Arc;

use bevy::math::{UVec2, Vec3};
use citytwin::cockpit::app::default_view;
use citytwin::cockpit::camera::OrbitCamera;
use citytwin::cockpit::city::look::Look;
use citytwin::cockpit::headless::HeadlessCity;
use citytwin::cockpit::theme;
use citytwin::geo::demo::{DemoScene, generate};
use citytwin::geo::world_from_local;
use citytwin::model::{Building, BuildingId, City, RiskLevel};
use common::{above_tallest, output_path, patch_rgb};

fn demo() -> Arc<City> {
    let scene = DemoScene::embedded().expect("embedded scene");
    Arc::new(generate(&scene))
}

/// HSV saturation of an sRGB colour.
fn saturation(c: [u8; 3]) -> f32 {
    let max = f32::from(*c.iter().max().unwrap_or(&0));
    let min = f32::from(*c.iter().min().unwrap_or(&0));
    if max == 0.0 { 0.0 } else { (max - min) / max }
}

fn luminance(c: [u8; 3]) -> f32 {
    0.2126 * f32::from(c[0]) + 0.7152 * f32::from(c[1]) + 0.0722 * f32::from(c[2])
}

/// Every building at `level`.
fn all_at(headless: &mut HeadlessCity, city: &City, level: RiskLevel) {
    headless
        .state_mut()
        .set_levels((0..city.buildings.len() as u32).map(|i| (BuildingId(i), level)));
}

#[test]
fn risk_focus_mutes_low_levels_and_off_keeps_them_equal() {
    let city = demo();
    let (target, roof, view) = above_tallest(&city, 400.0);
    let mut headless = HeadlessCity::new(city.clone(), view, UVec2::new(240, 180), false);
    let px = headless.project(roof).expect("roof in view");
    let (x, y) = (px.x as u32, px.y as u32);
    let roof_colour = |headless: &mut HeadlessCity, level: RiskLevel, name: &str| {
        headless.state_mut().set_level(target.id, level);
        let image = headless.capture().expect("frame");
        image.save(output_path(name)).expect("save png");
        patch_rgb(&image, x, y)
    };

    // The default look: risk focus on.
    assert_eq!(
        headless.app_ref().world().resource::<Look>(),
        &Look::default()
    );
    let major = roof_colour(&mut headless, RiskLevel::Major, "look_focus_major.png");
    let low = roof_colour(&mut headless, RiskLevel::Low, "look_focus_low.png");
    let moderate = roof_colour(
        &mut headless,
        RiskLevel::Moderate,
        "look_focus_moderate.png",
    );
    let (s_major, s_low, s_moderate) = (saturation(major), saturation(low), saturation(moderate));
    assert!(
        s_low + 0.3 < s_major,
        "with focus on, 低 ({low:?}, S {s_low:.2}) is muted well below 重大 ({major:?}, S {s_major:.2})"
    );
    assert!(
        s_moderate > s_low + 0.15,
        "一般 stays visible: {moderate:?} S {s_moderate:.2} vs 低 S {s_low:.2}"
    );

    // Focus off: every level in its full colour.
    headless.set_look(Look::default().with_focus(0.0));
    let major = roof_colour(&mut headless, RiskLevel::Major, "look_nofocus_major.png");
    let low = roof_colour(&mut headless, RiskLevel::Low, "look_nofocus_low.png");
    let (s_major, s_low) = (saturation(major), saturation(low));
    assert!(
        (s_major - s_low).abs() < 0.1,
        "with focus off 低 and 重大 are equally saturated: {low:?} S {s_low:.2}, {major:?} S {s_major:.2}"
    );

    // Focus at the top: only 较大/重大 keep their colour.
    headless.set_look(Look::default().with_focus(1.0));
    let moderate = roof_colour(
        &mut headless,
        RiskLevel::Moderate,
        "look_fullfocus_moderate.png",
    );
    let high = roof_colour(&mut headless, RiskLevel::High, "look_fullfocus_high.png");
    assert!(
        saturation(moderate) + 0.3 < saturation(high),
        "at full focus 一般 ({moderate:?}) is muted, 较大 ({high:?}) is not"
    );
}

/// The wall of `b` whose outward normal is most (or least) towards the sun,
/// as (a point on it at three quarters of the height, its outward normal).
fn wall_facing(b: &Building, towards_sun: bool) -> (Vec3, Vec3) {
    let sun = theme::sun_direction();
    let ring = &b.footprint_m;
    let mut best: Option<(f32, Vec3, Vec3)> = None;
    // The ring's winding decides which side is out: use its signed area.
    let ccw = citytwin::geo::mesh::signed_area2(ring) > 0.0;
    for (i, a) in ring.iter().enumerate() {
        let c = ring[(i + 1) % ring.len()];
        let (dx, dy) = (c[0] - a[0], c[1] - a[1]);
        let len = dx.hypot(dy);
        if len < 15.0 {
            continue;
        }
        let out_local = if ccw {
            [dy / len, -dx / len]
        } else {
            [-dy / len, dx / len]
        };
        let normal = Vec3::from(world_from_local(out_local, 0.0));
        let score = normal.dot(sun) * if towards_sun { 1.0 } else { -1.0 };
        let mid = [(a[0] + c[0]) / 2.0, (a[1] + c[1]) / 2.0];
        let point = Vec3::from(world_from_local(
            mid,
            b.base_elevation_m + b.height_m * 0.75,
        )) + normal * 0.5;
        if best.is_none_or(|(s, _, _)| score > s) {
            best = Some((score, point, normal));
        }
    }
    let (_, point, normal) = best.expect("the building has long walls");
    (point, normal)
}

#[test]
fn a_wall_facing_the_sun_is_brighter_than_one_facing_away() {
    let city = demo();
    // The tallest building stands above its neighbours.
    let target = city
        .buildings
        .iter()
        .max_by(|a, b| a.top_elevation_m().total_cmp(&b.top_elevation_m()))
        .expect("buildings");
    let mut headless = HeadlessCity::new(
        city.clone(),
        default_view(&city),
        UVec2::new(240, 180),
        false,
    );
    all_at(&mut headless, &city, RiskLevel::Low);
    headless.set_look(Look::default().with_focus(0.0));
    let mut shade = |towards_sun: bool, name: &str| {
        let (point, normal) = wall_facing(target, towards_sun);
        // Look at the wall from in front of it, slightly from above.
        let heading = (-normal.x).atan2(normal.z).to_degrees();
        headless.set_view(OrbitCamera {
            focus: point,
            distance_m: 250.0,
            pitch_deg: 15.0,
            heading_deg: heading,
        });
        headless.update();
        let image = headless.capture().expect("frame");
        image.save(output_path(name)).expect("save png");
        let px = headless.project(point).expect("wall in view");
        assert_eq!(
            headless.pick(px),
            Some(target.id),
            "the wall of {} is what the camera sees at {px}",
            target.code
        );
        patch_rgb(&image, px.x as u32, px.y as u32)
    };
    let sunny = shade(true, "look_wall_sunny.png");
    let shadow = shade(false, "look_wall_shadow.png");
    assert!(
        luminance(sunny) > luminance(shadow) * 1.4 + 8.0,
        "sunlit wall {sunny:?} is clearly brighter than the one facing away {shadow:?}"
    );
    // Both are still the level's green, not grey.
    assert!(
        sunny[1] > sunny[0] && shadow[1] > shadow[0],
        "{sunny:?} {shadow:?}"
    );
}

/// Pixels near `centre` that have the 重大 halo's hue: red-dominant and
/// lighter than the building's own red (the halo is lifted toward white).
fn halo_pixels(image: &image::RgbaImage, centre: (u32, u32), radius: u32) -> usize {
    let halo = theme::halo_color(RiskLevel::Major);
    let mut n = 0;
    for y in centre.1.saturating_sub(radius)..(centre.1 + radius).min(image.height()) {
        for x in centre.0.saturating_sub(radius)..(centre.0 + radius).min(image.width()) {
            let p = image.get_pixel(x, y).0;
            let d = (i32::from(p[0]) - i32::from(halo.0)).abs()
                + (i32::from(p[1]) - i32::from(halo.1)).abs()
                + (i32::from(p[2]) - i32::from(halo.2)).abs();
            if d < 90 && p[1] > 70 {
                n += 1;
            }
        }
    }
    n
}

#[test]
fn a_major_building_has_a_halo_at_city_distance() {
    let city = demo();
    let view = default_view(&city);
    let mut headless = HeadlessCity::new(city.clone(), view, UVec2::new(640, 360), false);
    all_at(&mut headless, &city, RiskLevel::Low);
    // The tallest building well inside the picture.
    let mut by_height: Vec<&Building> = city.buildings.iter().collect();
    by_height.sort_by(|a, b| b.top_elevation_m().total_cmp(&a.top_elevation_m()));
    let target = by_height
        .into_iter()
        .find(|b| {
            headless
                .project(common::roof_point(b))
                .is_some_and(|p| (120.0..520.0).contains(&p.x) && (90.0..270.0).contains(&p.y))
        })
        .expect("a building in view");
    headless.state_mut().set_level(target.id, RiskLevel::Major);
    let image = headless.capture().expect("frame");
    image
        .save(output_path("look_halo_on.png"))
        .expect("save png");
    let roof = common::roof_point(target);
    let px = headless.project(roof).expect("in view");
    let at = (px.x as u32, px.y as u32);
    let with = halo_pixels(&image, at, 14);
    assert!(
        with >= 6,
        "a halo surrounds {} at city distance ({with} halo pixels near {px})",
        target.code
    );

    headless.set_look(Look {
        halos: false,
        ..Look::default()
    });
    let image = headless.capture().expect("frame");
    image
        .save(output_path("look_halo_off.png"))
        .expect("save png");
    let without = halo_pixels(&image, at, 14);
    assert!(
        without * 3 < with,
        "with halos off the ring goes ({with} → {without})"
    );
}
