//! A headless wall (lavapipe): two render targets with different cameras
//! draw two different pictures of one state; a view with its own drill
//! level dims only in its own picture; a level change shows in both in the
//! same next frame.

mod common;

use std::sync::Arc;

use bevy::math::UVec2;
use citytwin::cockpit::camera::OrbitCamera;
use citytwin::cockpit::city::look::Look;
use citytwin::cockpit::drill::Drill;
use citytwin::cockpit::headless::HeadlessCity;
use citytwin::geo::demo::{DemoScene, generate};
use citytwin::model::{Area, City, RiskLevel};
use common::{above_tallest, output_path, patch_rgb};

fn luminance(c: [u8; 3]) -> f32 {
    0.2126 * f32::from(c[0]) + 0.7152 * f32::from(c[1]) + 0.0722 * f32::from(c[2])
}

fn red_dominant(c: [u8; 3]) -> bool {
    f32::from(c[0]) > 1.6 * f32::from(c[1]) && f32::from(c[0]) > 1.6 * f32::from(c[2]) && c[0] > 60
}

/// The share of pixels whose colours differ by more than 24 (summed over
/// the channels).
fn share_different(a: &image::RgbaImage, b: &image::RgbaImage) -> f64 {
    let n = a
        .pixels()
        .zip(b.pixels())
        .filter(|(p, q)| {
            (0..3)
                .map(|k| u32::from(p.0[k].abs_diff(q.0[k])))
                .sum::<u32>()
                > 24
        })
        .count();
    n as f64 / f64::from(a.width() * a.height())
}

#[test]
fn two_views_of_one_state_differ_dim_by_their_own_drill_and_recolour_together() {
    let scene = DemoScene::embedded().expect("embedded scene");
    let city: Arc<City> = Arc::new(generate(&scene));
    let (target, roof, view) = above_tallest(&city, 400.0);
    let size = UVec2::new(320, 240);
    let mut wall = HeadlessCity::new(city.clone(), view, size, false);
    // The second window: the same roof, tilted and from another heading
    // (the sky shows), showing the
    // whole city whatever the operator drills into.
    let turned = OrbitCamera {
        heading_deg: 120.0,
        pitch_deg: 40.0,
        distance_m: 900.0,
        ..view
    };
    let second = wall.add_view(turned, Some(Area::City));
    assert_eq!(second, 1);
    // The operator drills into another district than the target's.
    let elsewhere = city
        .districts
        .iter()
        .find(|d| d.id != target.district)
        .expect("two districts");
    wall.app().world_mut().resource_mut::<Drill>().at = Area::District(elsewhere.id);
    wall.set_look(Look::default().with_focus(0.0));
    wall.state_mut().set_level(target.id, RiskLevel::Low);
    wall.update();

    let before = wall.capture_all().expect("both frames");
    assert_eq!(before.len(), 2);
    before[0]
        .save(output_path("wall_main_low.png"))
        .expect("save");
    before[1]
        .save(output_path("wall_second_low.png"))
        .expect("save");
    let px: Vec<_> = (0..2)
        .map(|i| wall.project_in(i, roof).expect("the roof is in both views"))
        .collect();
    let diff = share_different(&before[0], &before[1]);
    assert!(
        diff > 0.15,
        "two cameras, two pictures ({:.0} % of pixels differ)",
        diff * 100.0
    );
    let main_low = patch_rgb(&before[0], px[0].x as u32, px[0].y as u32);
    let second_low = patch_rgb(&before[1], px[1].x as u32, px[1].y as u32);
    assert!(
        luminance(main_low) < luminance(second_low) * 0.75,
        "outside the operator's district the building dims in the operator's view \
         ({main_low:?}) but not in the window with its own drill level ({second_low:?})"
    );

    // One level change: the next frame shows it in both windows.
    wall.state_mut().set_level(target.id, RiskLevel::Major);
    let after = wall.capture_all().expect("both frames");
    after[0]
        .save(output_path("wall_main_major.png"))
        .expect("save");
    after[1]
        .save(output_path("wall_second_major.png"))
        .expect("save");
    let main_major = patch_rgb(&after[0], px[0].x as u32, px[0].y as u32);
    let second_major = patch_rgb(&after[1], px[1].x as u32, px[1].y as u32);
    let redness = |c: [u8; 3]| i32::from(c[0]) - i32::from(c[1]).max(i32::from(c[2]));
    assert!(
        red_dominant(second_major),
        "重大 red in the second window: {second_major:?}"
    );
    assert!(
        redness(main_major) >= 10 && redness(main_major) > redness(main_low) + 10,
        "and red, though dimmed, in the operator's: {main_major:?} (was {main_low:?})"
    );
    assert!(luminance(main_major) < luminance(second_major));

    // Back to the whole city: the operator's view is no longer dimmed there.
    wall.app().world_mut().resource_mut::<Drill>().at = Area::City;
    let whole = wall.capture_all().expect("both frames");
    let main_whole = patch_rgb(&whole[0], px[0].x as u32, px[0].y as u32);
    assert!(
        luminance(main_whole) > luminance(main_major) * 1.3,
        "undimmed once the drill includes it: {main_whole:?} vs {main_major:?}"
    );
}
