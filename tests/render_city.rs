//! Headless rendering on lavapipe: a building's pixels follow its risk level
//! through the GPU state buffer, without any mesh change; picking at the
//! building's pixel returns its id.

mod common;

use std::sync::Arc;

use bevy::math::{UVec2, Vec2};
use citytwin::cockpit::city::look::Look;
use citytwin::cockpit::headless::HeadlessCity;
use citytwin::geo::demo::{DemoScene, generate};
use citytwin::model::RiskLevel;
use common::{above_tallest, is_green, is_red, output_path, patch_rgb};

#[test]
fn recolouring_a_building_changes_its_pixels_and_no_mesh() {
    let scene = DemoScene::embedded().expect("embedded scene");
    let city = Arc::new(generate(&scene));
    // The tallest building: nothing can hide its roof from straight above.
    let (target, roof, view) = above_tallest(&city, 400.0);
    let mut headless = HeadlessCity::new(city.clone(), view, UVec2::new(320, 240), false);
    // The level's own colour: risk focus off (it mutes 低 toward the ground).
    headless.set_look(Look::default().with_focus(0.0));

    headless.state_mut().set_level(target.id, RiskLevel::Major);
    let red = headless.capture().expect("frame");
    red.save(output_path("recolour_red.png")).expect("save png");
    let px = headless.project(roof).expect("roof is in view");
    assert!(
        px.distance(Vec2::new(160.0, 120.0)) < 2.0,
        "roof projects to the centre, got {px}"
    );
    let (x, y) = (px.x as u32, px.y as u32);
    let c = patch_rgb(&red, x, y);
    assert!(
        is_red(c),
        "building {} should be red at {px}, got {c:?}",
        target.code
    );

    let meshes_before = headless.mesh_modifications();
    headless.state_mut().set_level(target.id, RiskLevel::Low);
    let green = headless.capture().expect("frame");
    green
        .save(output_path("recolour_green.png"))
        .expect("save png");
    let c = patch_rgb(&green, x, y);
    assert!(
        is_green(c),
        "building {} should be green at {px}, got {c:?}",
        target.code
    );
    assert_eq!(
        headless.mesh_modifications(),
        meshes_before,
        "recolouring must not touch meshes"
    );

    // Away from the building nothing changed colour.
    let corner_before = patch_rgb(&red, 5, 5);
    let corner_after = patch_rgb(&green, 5, 5);
    assert_eq!(corner_before, corner_after);

    // A click at the roof's pixel selects exactly that building; the selected
    // building is drawn highlighted (lighter than plain green).
    assert_eq!(headless.pick(px), Some(target.id));
    headless.state_mut().select(Some(target.id));
    let selected = headless.capture().expect("frame");
    let s = patch_rgb(&selected, x, y);
    assert!(
        s[0] > c[0] + 60 && s[2] > c[2] + 60,
        "selection highlights: {c:?} → {s:?}"
    );
}

#[test]
fn a_city_loaded_while_the_app_starts_is_drawn_in_the_frame_it_arrives() {
    use citytwin::cockpit::headless::HeadlessError;
    use citytwin::cockpit::load::{CityLoad, Loaded};
    use std::time::Duration;

    let mut city = generate(&DemoScene::embedded().expect("embedded scene"));
    let (target, roof, view) = above_tallest(&city, 400.0);
    let (id, code) = (target.id, target.code.clone());
    city.buildings[id.0 as usize].base_level = RiskLevel::Major;
    let city = Arc::new(city);
    let (release, released) = crossbeam_channel::bounded::<()>(1);
    let given = city.clone();
    let load = CityLoad::spawn(move |_| {
        released.recv()?;
        Ok(Loaded {
            city: given,
            tiles: None,
            install: Box::new(|_| {}),
        })
    })
    .expect("the city-load thread");
    let mut headless = HeadlessCity::loading(load, view, UVec2::new(320, 240), false);
    headless.set_look(Look::default().with_focus(0.0));
    // Nothing yet: the frame is the background where the roof will be.
    let before = headless.capture().expect("frame before the city");
    let centre = patch_rgb(&before, 160, 120);
    assert!(!is_red(centre), "red before the city arrived: {centre:?}");
    release.send(()).expect("release the load");
    headless
        .wait_for_city(Duration::from_secs(120))
        .expect("the city arrives");
    let after = headless.capture().expect("frame");
    after
        .save(output_path("loading_arrived.png"))
        .expect("save png");
    let px = headless.project(roof).expect("roof in view");
    let c = patch_rgb(&after, px.x as u32, px.y as u32);
    assert!(is_red(c), "building {code} (重大) red at {px}, got {c:?}");

    // A load that fails says why.
    let failing = CityLoad::spawn(|_| Err(anyhow::anyhow!("no such file: x.geojson")))
        .expect("the city-load thread");
    let mut headless = HeadlessCity::loading(failing, view, UVec2::new(64, 64), false);
    match headless.wait_for_city(Duration::from_secs(60)) {
        Err(HeadlessError::Load(reason)) => assert!(reason.contains("x.geojson"), "{reason}"),
        other => panic!("expected the load's failure, got {other:?}"),
    }
}
