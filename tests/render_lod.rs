//! Levels of detail, in pixels (lavapipe): far tiles draw simplified
//! footprints on shared corners, near tiles every face — and a far
//! building shows the same colour as at its near level, and changes colour
//! in the same frame as a near one (one state buffer for both).

mod common;

use std::sync::Arc;

use bevy::camera::visibility::VisibilityRange;
use bevy::math::{UVec2, Vec3};
use citytwin::cockpit::camera::OrbitCamera;
use citytwin::cockpit::city::buildings::{BuildingLod, CoversFar, TileLevel};
use citytwin::cockpit::headless::HeadlessCity;
use citytwin::cockpit::theme;
use citytwin::geo::demo::{DemoScene, generate};
use citytwin::geo::world_from_local;
use citytwin::model::{City, RiskLevel};
use common::{image_difference, output_path, patch_rgb, roof_point};

fn demo() -> Arc<City> {
    let scene = DemoScene::embedded().expect("embedded scene");
    Arc::new(generate(&scene))
}

fn distance(a: [u8; 3], b: [u8; 3]) -> f32 {
    (0..3)
        .map(|k| (f32::from(a[k]) - f32::from(b[k])).powi(2))
        .sum::<f32>()
        .sqrt()
}

/// The tallest building of 渝中 (the dense centre, district 0).
fn yuzhong_tallest(city: &City) -> &citytwin::model::Building {
    city.buildings
        .iter()
        .filter(|b| b.district.0 == 0)
        .max_by(|a, b| a.height_m.total_cmp(&b.height_m))
        .expect("渝中 has buildings")
}

/// A low view over 渝中 towards the north-east: near tiles at the focus,
/// far ones towards the horizon.
fn low_view(city: &City) -> OrbitCamera {
    let focus = yuzhong_tallest(city).centre_m();
    OrbitCamera {
        focus: Vec3::from(world_from_local(focus, 0.0)),
        distance_m: 1500.0,
        pitch_deg: 16.0,
        heading_deg: 40.0,
    }
    .clamped()
}

#[test]
fn a_far_building_changes_colour_in_the_same_frame_as_a_near_one() {
    let city = demo();
    let view = low_view(&city);
    let size = UVec2::new(960, 540);
    let mut headless = HeadlessCity::new(city.clone(), view, size, false);
    let lod = *headless.app_ref().world().resource::<BuildingLod>();
    let eye = view.transform().translation;
    // Everything 低 first, so a 重大 building stands out.
    let all: Vec<_> = city
        .buildings
        .iter()
        .map(|b| (b.id, RiskLevel::Low))
        .collect();
    headless.state_mut().set_levels(all.iter().copied());
    let before = headless.capture().expect("capture");
    // The near one: the tallest at the focus. The far one: the tallest on
    // screen farther than the switch plus a tile's diagonal (so its tile is
    // surely drawn at the far level), its roof not covered by nearer ones.
    let near = yuzhong_tallest(&city);
    let far_min =
        lod.switch_m + citytwin::cockpit::city::TILE_SIZE_M * std::f32::consts::FRAC_1_SQRT_2;
    let mut candidates: Vec<_> = city
        .buildings
        .iter()
        .filter(|b| (roof_point(b) - eye).length() > far_min && b.height_m > 40.0)
        .filter_map(|b| {
            let p = headless.project(roof_point(b))?;
            (p.x > 8.0 && p.y > 8.0 && p.x < size.x as f32 - 8.0 && p.y < size.y as f32 - 8.0)
                .then_some((b, p))
        })
        .collect();
    candidates.sort_by(|a, b| b.0.height_m.total_cmp(&a.0.height_m));
    assert!(
        !candidates.is_empty(),
        "a tall building beyond {far_min:.0} m on screen"
    );
    let targets: Vec<_> = candidates.iter().take(12).map(|(b, _)| b.id).collect();
    headless.state_mut().set_levels(
        targets
            .iter()
            .map(|id| (*id, RiskLevel::Major))
            .chain([(near.id, RiskLevel::Major)]),
    );
    // One frame later (the capture renders it) both show it.
    let after = headless.capture().expect("capture");
    after.save(output_path("lod_recolour.png")).expect("save");
    let red = theme::risk_color(RiskLevel::Major);
    let reddish = |c: [u8; 3]| {
        c[0] > 120 && c[0] as f32 > 1.6 * c[1] as f32 && c[0] as f32 > 1.6 * c[2] as f32
    };
    let p = headless.project(roof_point(near)).expect("near on screen");
    let seen = patch_rgb(&after, p.x as u32, p.y as u32);
    assert!(
        reddish(seen),
        "the near building shows 重大: {seen:?} (palette {red:?})"
    );
    // The far ones whose roofs are seen (a nearer building may cover some):
    // at least one changed from 低 to 重大 at its far level.
    let mut changed = 0;
    for (b, p) in candidates.iter().take(12) {
        let (x, y) = (p.x as u32, p.y as u32);
        let (was, now) = (patch_rgb(&before, x, y), patch_rgb(&after, x, y));
        eprintln!(
            "far {} at {:.0} m: {was:?} → {now:?}",
            b.code,
            (roof_point(b) - eye).length()
        );
        if reddish(now) && !reddish(was) {
            changed += 1;
        }
    }
    assert!(changed >= 1, "a far building turned 重大 in the same frame");
}

#[test]
fn switching_levels_does_not_change_the_colours() {
    // The demo's boxes stay boxes at the far level, so their tiles keep
    // none (the near level is drawn there); real footprints with many
    // corners do: Moscow's, high over its centre.
    let moscow = Arc::new(
        citytwin::cli::load_city(&citytwin::cli::DataArgs {
            buildings: Some(common::shared_data("buildings/moscow_41k.geojson")),
            default_height: citytwin::geo::geojson::DEFAULT_HEIGHT_M,
            ..Default::default()
        })
        .expect("moscow loads"),
    );
    let b = &moscow.bounds;
    let centre = [
        (b.min_m[0] + b.max_m[0]) / 2.0,
        (b.min_m[1] + b.max_m[1]) / 2.0,
    ];
    let high = OrbitCamera {
        focus: Vec3::from(world_from_local(centre, 0.0)),
        distance_m: 9000.0,
        pitch_deg: 45.0,
        heading_deg: 0.0,
    };
    compare_levels(&moscow, "far", high, TileLevel::Far);
    // The whole demo in view (as `bench render` measures it): the roofs
    // level.
    let city = demo();
    let overview = citytwin::bench::whole_city_view(&city);
    compare_levels(&city, "roofs", overview, TileLevel::Roofs);
}

#[test]
fn box_tiles_keep_no_far_level_and_draw_their_near_one_there() {
    let city = demo();
    let high = OrbitCamera {
        distance_m: 9000.0,
        pitch_deg: 45.0,
        ..low_view(&city)
    };
    let mut headless = HeadlessCity::new(city.clone(), high, UVec2::new(320, 180), false);
    let lod = *headless.app_ref().world().resource::<BuildingLod>();
    let world = headless.app().world_mut();
    let mut q = world.query::<(
        &TileLevel,
        &VisibilityRange,
        bevy::ecs::query::Has<CoversFar>,
    )>();
    let (mut near, mut covering, mut far) = (0, 0, 0);
    for (level, range, covers) in q.iter(world) {
        match level {
            // Each tile is drawn at some level at every distance: the near
            // level's range reaches the roofs level's where there is no
            // far level.
            TileLevel::Near => {
                near += 1;
                covering += usize::from(covers);
                let end = if covers { lod.roofs_m } else { lod.switch_m };
                assert_eq!(range.end_margin.end, end, "near, covering far: {covers}");
            }
            TileLevel::Far => {
                far += 1;
                assert_eq!(range.start_margin.start, lod.switch_m);
            }
            TileLevel::Roofs => assert_eq!(range.start_margin.start, lod.roofs_m),
        }
    }
    assert!(near > 10, "{near} near tiles");
    assert_eq!(
        far + covering,
        near,
        "a far level or a near one covering it, per tile"
    );
    assert!(
        far * 10 < near,
        "{far} of {near} box tiles keep a far level"
    );
}

fn compare_levels(city: &Arc<City>, name: &str, view: OrbitCamera, level: TileLevel) {
    let size = UVec2::new(960, 540);
    let mut headless = HeadlessCity::new(city.clone(), view, size, false);
    let with_lod = headless.capture().expect("capture");
    let drawn = |headless: &mut HeadlessCity, level: TileLevel| {
        let world = headless.app().world_mut();
        let mut q = world.query::<(&TileLevel, &bevy::camera::visibility::ViewVisibility)>();
        q.iter(world)
            .filter(|(l, v)| **l == level && v.get())
            .count()
    };
    let tiles = drawn(&mut headless, level);
    assert!(
        tiles > 5,
        "{name}: {tiles} tiles drawn at the {level:?} level"
    );
    headless
        .app()
        .world_mut()
        .insert_resource(BuildingLod::near_only());
    let full = headless.capture().expect("capture");
    assert_eq!(
        drawn(&mut headless, level),
        0,
        "near_only draws no {level:?} tile"
    );
    with_lod
        .save(output_path(&format!("lod_{name}_on.png")))
        .expect("save");
    full.save(output_path(&format!("lod_{name}_off.png")))
        .expect("save");
    // Every far building's roof: the same colour at both levels (small
    // differences where a simplified footprint moved an edge by a pixel).
    let lod = BuildingLod::default();
    let eye = view.transform().translation;
    let mut compared = 0;
    let mut differing = 0;
    for b in city.buildings.iter() {
        let roof = roof_point(b);
        if (roof - eye).length()
            < lod.switch_m + citytwin::cockpit::city::TILE_SIZE_M * std::f32::consts::FRAC_1_SQRT_2
        {
            continue;
        }
        let Some(p) = headless.project(roof) else {
            continue;
        };
        if p.x < 2.0 || p.y < 2.0 || p.x > size.x as f32 - 3.0 || p.y > size.y as f32 - 3.0 {
            continue;
        }
        let (x, y) = (p.x as u32, p.y as u32);
        let (a, c) = (with_lod.get_pixel(x, y).0, full.get_pixel(x, y).0);
        compared += 1;
        if distance([a[0], a[1], a[2]], [c[0], c[1], c[2]]) > 24.0 {
            differing += 1;
        }
    }
    eprintln!("{name}: {differing} of {compared} far roofs differ");
    assert!(compared > 500, "{name}: {compared} far roofs on screen");
    assert!(
        differing * 100 <= compared * 3,
        "{name}: {differing} of {compared} far roofs change colour between levels"
    );
    // And the frame as a whole looks the same.
    let (mean, _) = image_difference(&with_lod, &full, u32::MAX);
    assert!(mean < 1.5, "{name}: mean difference {mean:.2} per channel");
}

/// The terrain's coarser levels far away look like its full resolution:
/// on real relief (Hakone's DEM, framed whole, as it opens) and on the demo.
#[test]
fn coarse_terrain_far_away_looks_like_full_resolution_without_cracks() {
    use citytwin::cockpit::city::terrain::{TerrainLevel, TerrainLod};
    let hakone = Arc::new(
        citytwin::cli::load_city(&citytwin::cli::DataArgs {
            dem: Some(common::shared_data("dem/hakone_aster_30m.tif")),
            ..Default::default()
        })
        .expect("hakone loads"),
    );
    for (name, city) in [("hakone", hakone), ("demo", demo())] {
        let view = citytwin::cockpit::app::default_view(&city);
        let size = UVec2::new(640, 360);
        let mut headless = HeadlessCity::new(city.clone(), view, size, false);
        let with_lod = headless.capture().expect("capture");
        let coarse_drawn = |headless: &mut HeadlessCity| {
            let world = headless.app().world_mut();
            let mut q = world.query::<(&TerrainLevel, &bevy::camera::visibility::ViewVisibility)>();
            q.iter(world)
                .filter(|(l, v)| l.level > 0 && v.get())
                .count()
        };
        let coarse = coarse_drawn(&mut headless);
        assert!(coarse > 0, "{name}: no coarse terrain chunk drawn");
        headless
            .app()
            .world_mut()
            .insert_resource(TerrainLod { full_detail: true });
        let full = headless.capture().expect("capture");
        assert_eq!(coarse_drawn(&mut headless), 0, "{name}: full detail");
        with_lod
            .save(output_path(&format!("terrain_lod_{name}_on.png")))
            .expect("save");
        full.save(output_path(&format!("terrain_lod_{name}_off.png")))
            .expect("save");
        // A crack would show the background: a pixel far from both.
        let (mean, far_off) = image_difference(&with_lod, &full, 90);
        eprintln!(
            "{name}: {coarse} coarse chunks, mean difference {mean:.2}, {far_off} pixels far off"
        );
        assert!(mean < 2.0, "{name}: mean difference {mean:.2} per channel");
        assert!(
            far_off * 1000 < size.x * size.y,
            "{name}: {far_off} pixels change a lot (cracks?)"
        );
    }
}

/// Blocks of 300 × 300 m on a 600 m grid, low (20 m) but for every
/// seventh (80 m), through the importer as a file's would go.
fn blocks_city() -> Arc<City> {
    use citytwin::geo::geojson::{ImportReport, ImportedBuilding};
    let frame = citytwin::geo::LocalFrame::new(106.55, 29.56);
    let buildings = (0..144)
        .map(|i| {
            let (x, y) = ((i % 12) as f32 * 600.0, (i / 12) as f32 * 600.0);
            let ring: Vec<(f64, f64)> = [
                [x, y],
                [x + 300.0, y],
                [x + 300.0, y + 300.0],
                [x, y + 300.0],
                [x, y],
            ]
            .iter()
            .map(|p| {
                let [lon, lat] = frame.to_lon_lat(*p);
                (lon, lat)
            })
            .collect();
            ImportedBuilding::measured(
                i,
                geo_types::Polygon::new(geo_types::LineString::from(ring), Vec::new()),
                if i % 7 == 0 { 80.0 } else { 20.0 },
            )
        })
        .collect();
    let report = ImportReport {
        buildings,
        skipped: Vec::new(),
        features: 144,
        height_notes: Default::default(),
    };
    Arc::new(citytwin::geo::assemble::city_from_import(
        &report, None, "blocks",
    ))
}

/// Far away, the low blocks are drawn flat from each tile's raster of ids:
/// the same colours as their full geometry, recoloured in the same frame,
/// and gone when the raster is hidden (it is what draws them).
#[test]
fn the_roofs_level_draws_low_buildings_from_a_raster_in_their_colours() {
    use citytwin::cockpit::city::buildings::RasterMaterial;
    use citytwin::geo::mesh::ROOFS_MIN_WALL_M;
    let city = blocks_city();
    let b = &city.bounds;
    let centre = [
        (b.min_m[0] + b.max_m[0]) / 2.0,
        (b.min_m[1] + b.max_m[1]) / 2.0,
    ];
    let lod = BuildingLod::default();
    let view = OrbitCamera {
        focus: Vec3::from(world_from_local(centre, city.terrain.height_at(centre))),
        distance_m: lod.roofs_m + 9000.0,
        pitch_deg: 60.0,
        heading_deg: 0.0,
    };
    let size = UVec2::new(960, 540);
    let mut headless = HeadlessCity::new(city.clone(), view, size, false);
    let all_low: Vec<_> = city
        .buildings
        .iter()
        .map(|b| (b.id, RiskLevel::Low))
        .collect();
    headless.state_mut().set_levels(all_low.iter().copied());
    let with_lod = headless.capture().expect("capture");
    let rasters_drawn = {
        let world = headless.app().world_mut();
        let mut q = world.query_filtered::<&bevy::camera::visibility::ViewVisibility, bevy::ecs::query::With<bevy::pbr::MeshMaterial3d<RasterMaterial>>>();
        q.iter(world).filter(|v| v.get()).count()
    };
    assert!(rasters_drawn >= 4, "{rasters_drawn} raster tiles drawn");
    with_lod
        .save(output_path("lod_raster_on.png"))
        .expect("save");
    headless
        .app()
        .world_mut()
        .insert_resource(BuildingLod::near_only());
    let full = headless.capture().expect("capture");
    full.save(output_path("lod_raster_off.png")).expect("save");
    let on_screen: Vec<_> = city
        .buildings
        .iter()
        .filter_map(|b| {
            let p = headless.project(roof_point(b))?;
            (p.x > 4.0 && p.y > 4.0 && p.x < size.x as f32 - 5.0 && p.y < size.y as f32 - 5.0)
                .then_some((b, (p.x as u32, p.y as u32)))
        })
        .collect();
    let low: Vec<_> = on_screen
        .iter()
        .filter(|(b, _)| b.height_m < ROOFS_MIN_WALL_M)
        .collect();
    assert!(low.len() > 60, "{} low blocks on screen", low.len());
    let same = low
        .iter()
        .filter(|(_, (x, y))| {
            distance(patch_rgb(&with_lod, *x, *y), patch_rgb(&full, *x, *y)) < 24.0
        })
        .count();
    assert!(
        same * 10 >= low.len() * 9,
        "{same} of {} low blocks look as at full detail",
        low.len()
    );
    // Recoloured: the raster reads the one state buffer.
    headless.app().world_mut().insert_resource(lod);
    let targets: Vec<_> = low.iter().step_by(5).map(|(b, p)| (b.id, *p)).collect();
    headless
        .state_mut()
        .set_levels(targets.iter().map(|(id, _)| (*id, RiskLevel::Major)));
    let after = headless.capture().expect("capture");
    after
        .save(output_path("lod_raster_recolour.png"))
        .expect("save");
    let reddish = |c: [u8; 3]| {
        c[0] > 110 && c[0] as f32 > 1.5 * c[1] as f32 && c[0] as f32 > 1.5 * c[2] as f32
    };
    for (id, (x, y)) in &targets {
        let (was, now) = (patch_rgb(&with_lod, *x, *y), patch_rgb(&after, *x, *y));
        assert!(
            reddish(now) && !reddish(was),
            "block {id:?} at ({x}, {y}): {was:?} → {now:?}"
        );
    }
    // Without the raster the low blocks are gone (the ground shows), the
    // tall ones stay (their own geometry).
    headless.state_mut().set_levels(all_low.iter().copied());
    {
        let world = headless.app().world_mut();
        let mut q = world.query_filtered::<&mut bevy::prelude::Visibility, bevy::ecs::query::With<bevy::pbr::MeshMaterial3d<RasterMaterial>>>();
        for mut v in q.iter_mut(world) {
            *v = bevy::prelude::Visibility::Hidden;
        }
    }
    let hidden = headless.capture().expect("capture");
    let gone = low
        .iter()
        .filter(|(_, (x, y))| {
            distance(patch_rgb(&with_lod, *x, *y), patch_rgb(&hidden, *x, *y)) > 24.0
        })
        .count();
    assert!(
        gone * 10 >= low.len() * 9,
        "{gone} of {} low blocks vanish with the raster",
        low.len()
    );
    let tall_kept = on_screen
        .iter()
        .filter(|(b, _)| b.height_m >= ROOFS_MIN_WALL_M)
        .filter(|(_, (x, y))| {
            distance(patch_rgb(&with_lod, *x, *y), patch_rgb(&hidden, *x, *y)) < 24.0
        })
        .count();
    assert!(
        tall_kept >= 5,
        "{tall_kept} tall blocks drawn without the raster"
    );
}
