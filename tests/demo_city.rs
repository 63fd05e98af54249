//! The demo generator: deterministic, realistic counts and mix, districts in
//! the right places, no building in a river.

use citytwin::geo::demo::{DemoScene, city_hash, generate};
use citytwin::geo::{LocalFrame, frame::distance_m};
use citytwin::model::outline_contains;
use citytwin::model::{LevelCounts, RiskLevel};

#[test]
fn same_seed_same_city_other_seed_other_city() {
    let scene = DemoScene::embedded().expect("embedded scene");
    let a = generate(&scene);
    let b = generate(&scene);
    assert_eq!(city_hash(&a), city_hash(&b));
    assert_eq!(a, b);
    let mut other = scene.clone();
    other.seed += 1;
    assert_ne!(city_hash(&generate(&other)), city_hash(&a));
}

#[test]
fn demo_city_has_40k_buildings_200_streets_and_a_realistic_mix() {
    let city = generate(&DemoScene::embedded().expect("embedded scene"));
    assert_eq!(city.buildings.len(), 40_000);
    assert!(
        (190..=215).contains(&city.streets.len()),
        "{}",
        city.streets.len()
    );
    assert_eq!(city.districts.len(), 9);
    let counts = LevelCounts::from_levels(city.base_levels());
    // Most green/blue, a few hundred orange, tens red.
    assert!(counts.get(RiskLevel::Low) + counts.get(RiskLevel::Lower) > 30_000);
    assert!(
        (200..=800).contains(&counts.get(RiskLevel::High)),
        "{counts:?}"
    );
    assert!(
        (10..=100).contains(&counts.get(RiskLevel::Major)),
        "{counts:?}"
    );
    for b in &city.buildings {
        assert!((4..=12).contains(&b.footprint_m.len()), "{}", b.code);
        assert!(
            (10.0..=250.0).contains(&b.height_m),
            "{} {}",
            b.code,
            b.height_m
        );
    }
    // Codes are unique and shaped like 500103-0001234.
    let mut codes: Vec<&str> = city.buildings.iter().map(|b| b.code.as_str()).collect();
    codes.sort_unstable();
    codes.dedup();
    assert_eq!(codes.len(), city.buildings.len());
    let code = &city.buildings[0].code;
    assert!(code.len() == 14 && code.as_bytes()[6] == b'-', "{code}");
}

#[test]
fn no_building_stands_in_a_river() {
    let city = generate(&DemoScene::embedded().expect("embedded scene"));
    let water = city.terrain.water_level_m.expect("the demo has rivers");
    for b in &city.buildings {
        for p in b.footprint_m.iter().chain(std::iter::once(&b.centre_m())) {
            assert!(
                !city.terrain.is_water(*p),
                "{} has a corner in the river",
                b.code
            );
        }
        assert!(b.base_elevation_m > water);
    }
    // And the rivers are really there: 朝天门 itself is water.
    assert!(city.terrain.is_water([0.0, 0.0]));
}

#[test]
fn districts_sit_where_they_really_are() {
    let city = generate(&DemoScene::embedded().expect("embedded scene"));
    let [olon, olat] = city.bounds.origin_lon_lat;
    assert_eq!([olon, olat], [106.5858, 29.5647]);
    let frame = LocalFrame::new(olon, olat);
    let centre = |name: &str| {
        let d = city
            .districts
            .iter()
            .find(|d| d.name_zh == name)
            .expect(name);
        frame.to_lon_lat(d.centre_m)
    };
    // 渝中 is a couple of km from 朝天门; 北碚 is far to the north.
    assert!(distance_m(centre("渝中区"), [olon, olat]) < 3_000.0);
    assert!(centre("北碚区")[1] > 29.75);
    assert!(centre("沙坪坝区")[0] < 106.5);
    assert!(centre("南岸区")[1] < olat);
    // Buildings carry their district's code.
    for b in &city.buildings {
        let d = &city.districts[usize::from(b.district.0)];
        assert!(b.code.starts_with(&d.code));
        assert_eq!(city.streets[usize::from(b.street.0)].district, b.district);
    }
}

#[test]
fn districts_are_areas_of_ground_that_meet_in_the_rivers() {
    let city = generate(&DemoScene::embedded().expect("embedded scene"));
    let [olon, olat] = city.bounds.origin_lon_lat;
    let frame = LocalFrame::new(olon, olat);
    let district = |name: &str| {
        city.districts
            .iter()
            .find(|d| d.name_zh == name)
            .expect(name)
    };
    // Every building stands in its own district's and street's outline.
    let outside: Vec<&str> = city
        .buildings
        .iter()
        .filter(|b| {
            let d = &city.districts[usize::from(b.district.0)];
            let s = &city.streets[usize::from(b.street.0)];
            !outline_contains(&d.outline_m, b.centre_m())
                || !outline_contains(&s.outline_m, b.centre_m())
        })
        .map(|b| b.code.as_str())
        .collect();
    assert!(outside.is_empty(), "outside their outlines: {outside:?}");
    // 渝中 is the peninsula between the Jialing and the Yangtze: 解放碑 in
    // it, 观音桥 (across the Jialing) and 南坪 (across the Yangtze) not.
    let yuzhong = &district("渝中区").outline_m;
    let at = |lon: f64, lat: f64| frame.to_local(lon, lat);
    assert!(outline_contains(yuzhong, at(106.577, 29.558)));
    assert!(outline_contains(
        &district("江北区").outline_m,
        at(106.535, 29.585)
    ));
    assert!(!outline_contains(yuzhong, at(106.535, 29.585)));
    assert!(outline_contains(
        &district("南岸区").outline_m,
        at(106.57, 29.53)
    ));
    assert!(!outline_contains(yuzhong, at(106.57, 29.53)));
    // Near 朝天门 its outline runs in the water (mid-river), never on the
    // far bank's land.
    let near_tip: Vec<&[f32; 2]> = yuzhong
        .iter()
        .flat_map(|p| p.exterior.iter())
        .filter(|p| p[0].hypot(p[1]) < 1_500.0)
        .collect();
    assert!(!near_tip.is_empty());
    let wet = near_tip
        .iter()
        .filter(|p| city.terrain.is_water(***p))
        .count();
    assert!(
        wet * 10 >= near_tip.len() * 9,
        "{wet} of {} outline points near the tip in the water",
        near_tip.len()
    );
    // The districts tile the ground: one outline holds each place.
    for (x, y) in [
        (-20_000.0, -18_000.0),
        (0.0, 0.0),
        (10_000.0, 25_000.0),
        (-5_000.0, 3_000.0),
    ] {
        let holders = city
            .districts
            .iter()
            .filter(|d| outline_contains(&d.outline_m, [x, y]))
            .count();
        assert_eq!(holders, 1, "({x}, {y}) lies in {holders} districts");
    }
}
