//! Event markers and the drill-down highlight, rendered headless on
//! lavapipe: an open case puts a marker in its severity colour above its
//! building, the head pulses, a filter or a closed case removes it, a click
//! on it picks the case; drilling into a district dims the buildings outside.

mod common;

use std::sync::Arc;
use std::time::Duration;

use bevy::math::{UVec2, Vec3};
use bevy::time::TimeUpdateStrategy;
use citytwin::cockpit::camera::OrbitCamera;
use citytwin::cockpit::city::look::Look;
use citytwin::cockpit::city::markers::{HEAD_Y_M, SIZE_DISTANCE_M};
use citytwin::cockpit::drill::{AreaIndex, Drill};
use citytwin::cockpit::headless::HeadlessCity;
use citytwin::cockpit::hub_view::HubView;
use citytwin::geo::demo::{DemoScene, generate};
use citytwin::model::{
    Area, Building, Case, CaseId, City, Event, EventId, EventKind, EventStatus, RiskLevel,
};
use common::{is_green, is_red, output_path, patch_rgb, roof_point};

/// The boundary colour (theme::ACCENT, a light blue), possibly dimmed.
fn is_accent(c: [u8; 3]) -> bool {
    c[2] > 110 && c[1] > 70 && c[0] < c[2] / 2 + 20 && c[2] > c[1]
}

fn city() -> Arc<City> {
    let mut scene = DemoScene::embedded().expect("embedded scene");
    scene.buildings = 3_000;
    Arc::new(generate(&scene))
}

fn open_case(city: &City, building: usize, severity: RiskLevel, time_ms: i64) -> Case {
    let b = &city.buildings[building];
    let event = Event {
        id: EventId(1),
        kind: EventKind::LandslideWarning,
        building: Some(b.id),
        hazard: None,
        camera: None,
        severity,
        status: EventStatus::Open,
        time_ms,
        message: String::new(),
    };
    Case::register(CaseId(1), &event, b.district, b.street, time_ms + 3_600_000)
}

/// Red pixels in a square around `centre`.
fn red_pixels(image: &image::RgbaImage, centre: (u32, u32), half: u32) -> usize {
    let mut n = 0;
    for y in centre.1.saturating_sub(half)..(centre.1 + half).min(image.height()) {
        for x in centre.0.saturating_sub(half)..(centre.0 + half).min(image.width()) {
            let p = image.get_pixel(x, y).0;
            n += usize::from(is_red([p[0], p[1], p[2]]));
        }
    }
    n
}

#[test]
fn an_open_case_has_a_pulsing_marker_in_its_severity_colour_that_picks_the_case() {
    let city = city();
    let target = city
        .buildings
        .iter()
        .max_by(|a, b| a.top_elevation_m().total_cmp(&b.top_elevation_m()))
        .expect("buildings");
    let roof = roof_point(target);
    // From the side and above, 2.5 km out: the beam and head stand clear.
    let view = OrbitCamera {
        focus: roof,
        distance_m: 2_500.0,
        pitch_deg: 35.0,
        heading_deg: 0.0,
    };
    let mut headless = HeadlessCity::new(city.clone(), view, UVec2::new(240, 180), false);
    headless
        .app()
        .insert_resource(TimeUpdateStrategy::ManualDuration(Duration::from_millis(
            90,
        )));
    // The target's own colour must not be red: it is green (低) here.
    headless.state_mut().set_level(target.id, RiskLevel::Low);
    let before = headless.capture().expect("frame");

    let t0 = 1_795_478_400_000;
    let mut snapshot = headless.state().to_snapshot(t0);
    snapshot.open_cases = vec![open_case(&city, target.id.index(), RiskLevel::Major, t0)];
    headless
        .state_mut()
        .apply_snapshot(&snapshot)
        .expect("snapshot");
    let frames: Vec<image::RgbaImage> =
        (0..8).map(|_| headless.capture().expect("frame")).collect();
    let eye = view.transform().translation;
    let grow = (roof.distance(eye) / SIZE_DISTANCE_M).clamp(0.4, 6.0);
    let head = headless
        .project(roof + Vec3::Y * HEAD_Y_M * grow)
        .expect("head in view");
    let at = (head.x as u32, head.y as u32);
    assert!(
        !is_red(patch_rgb(&before, at.0, at.1)),
        "no marker before the case"
    );
    let counts: Vec<usize> = frames.iter().map(|f| red_pixels(f, at, 24)).collect();
    for (i, f) in frames.iter().enumerate() {
        assert!(
            is_red(patch_rgb(f, at.0, at.1)),
            "frame {i}: head is 重大 red: {:?}",
            patch_rgb(f, at.0, at.1)
        );
    }
    let (lo, hi) = (
        counts.iter().min().copied().unwrap_or(0),
        counts.iter().max().copied().unwrap_or(0),
    );
    assert!(hi >= lo + lo / 5 + 4, "the head pulses: {counts:?}");
    frames[0].save(output_path("marker.png")).expect("save");
    assert_eq!(headless.pick_marker(head, 16.0), Some(CaseId(1)));

    // Filtered out by severity: the marker goes.
    headless
        .app()
        .world_mut()
        .resource_mut::<HubView>()
        .filter
        .severities[RiskLevel::Major.index()] = false;
    let filtered = headless.capture().expect("frame");
    assert_eq!(red_pixels(&filtered, at, 24), 0, "hidden by the filter");
    assert_eq!(headless.pick_marker(head, 16.0), None);

    // Shown again, then the case closes (a snapshot without it): gone.
    headless
        .app()
        .world_mut()
        .resource_mut::<HubView>()
        .filter
        .severities[RiskLevel::Major.index()] = true;
    assert!(red_pixels(&headless.capture().expect("frame"), at, 24) > 0);
    let mut closed = headless.state().to_snapshot(t0 + 60_000);
    closed.open_cases.clear();
    headless
        .state_mut()
        .apply_snapshot(&closed)
        .expect("snapshot");
    assert_eq!(red_pixels(&headless.capture().expect("frame"), at, 24), 0);
}

#[test]
fn drilling_into_a_district_outlines_it_and_dims_the_buildings_outside() {
    let city = city();
    // Two tall neighbours on either side of a district boundary, each
    // inside its own district's outline.
    let own = |b: &&Building| {
        citytwin::model::outline_contains(
            &city.districts[usize::from(b.district.0)].outline_m,
            b.centre_m(),
        )
    };
    let (a, b) = city
        .buildings
        .iter()
        .filter(|b| b.height_m > 40.0)
        .filter(own)
        .flat_map(|a| {
            city.buildings
                .iter()
                .filter(move |b| b.district != a.district && b.height_m > 40.0)
                .filter(own)
                .map(move |b| {
                    let (ca, cb) = (a.centre_m(), b.centre_m());
                    (a, b, (ca[0] - cb[0]).hypot(ca[1] - cb[1]))
                })
        })
        .min_by(|x, y| x.2.total_cmp(&y.2))
        .map(|(a, b, _)| (a, b))
        .expect("two districts");
    let (ra, rb) = (roof_point(a), roof_point(b));
    let view = OrbitCamera {
        focus: (ra + rb) / 2.0,
        distance_m: ra.distance(rb).max(300.0) * 3.0,
        pitch_deg: 90.0,
        heading_deg: 0.0,
    };
    let mut headless = HeadlessCity::new(city.clone(), view, UVec2::new(200, 150), false);
    // The level's own colour: risk focus off (it mutes 低 toward the ground).
    headless.set_look(Look::default().with_focus(0.0));
    // All green: no 较低-blue building can pass for a boundary line.
    headless
        .state_mut()
        .set_levels(city.buildings.iter().map(|b| (b.id, RiskLevel::Low)));
    let sample = |headless: &mut HeadlessCity| {
        let image = headless.capture().expect("frame");
        let [pa, pb] = [ra, rb].map(|p| headless.project(p).expect("in view"));
        (
            patch_rgb(&image, pa.x as u32, pa.y as u32),
            patch_rgb(&image, pb.x as u32, pb.y as u32),
            image,
        )
    };
    // Boundary-coloured pixels in the view (a district border runs
    // between the two, and the drilled-into district's outline).
    let accent_pixels = |image: &image::RgbaImage| {
        image
            .pixels()
            .filter(|p| is_accent([p.0[0], p.0[1], p.0[2]]))
            .count()
    };
    let (a0, b0, image) = sample(&mut headless);
    image.save(output_path("drill_city.png")).expect("save");
    assert!(is_green(a0) && is_green(b0), "{a0:?} {b0:?}");
    assert!(
        accent_pixels(&image) > 0,
        "district boundaries at city level"
    );
    headless.app().world_mut().resource_mut::<Drill>().at = Area::District(a.district);
    let (a1, b1, image) = sample(&mut headless);
    image.save(output_path("drill.png")).expect("save");
    let sum = |c: [u8; 3]| c.iter().map(|v| u32::from(*v)).sum::<u32>();
    // Inside: its own colour, not dimmed (the patch's ground edge may take
    // the area's tint).
    assert!(
        is_green(a1) && sum(a1) + 20 >= sum(a0),
        "inside the district: still its own colour: {a0:?} → {a1:?}"
    );
    assert!(
        sum(b1) * 2 < sum(b0),
        "outside: dimmed to under half: {b0:?} → {b1:?}"
    );
    assert!(
        accent_pixels(&image) > 0,
        "the drilled-into district is outlined"
    );
    // Drilled into the district farthest away: no outline in this view.
    let index = AreaIndex::new(&city);
    let here = a.centre_m();
    let other = city
        .districts
        .iter()
        .map(|d| d.id)
        .max_by(|x, y| {
            let d = |id| {
                let e = index.extent(Area::District(id)).expect("extent");
                (e.centre_m[0] - here[0]).hypot(e.centre_m[1] - here[1])
            };
            d(*x).total_cmp(&d(*y))
        })
        .expect("a third district");
    headless.app().world_mut().resource_mut::<Drill>().at = Area::District(other);
    let (_, _, image) = sample(&mut headless);
    assert_eq!(accent_pixels(&image), 0);
    headless.app().world_mut().resource_mut::<Drill>().at = Area::City;
    let (a2, b2, _) = sample(&mut headless);
    assert_eq!((a2, b2), (a0, b0), "back at city level");
}
