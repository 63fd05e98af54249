//! The demo generator: deterministic, realistic counts and mix, districts in
//! the right places, no building in a river.

use citytwin::geo::demo::{DemoScene, city_hash, generate};
use citytwin::geo::{LocalFrame, frame::distance_m};
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
