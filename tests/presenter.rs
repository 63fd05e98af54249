//! Presenter mode, headless: a two-step briefing moves the camera, drill
//! level, highlights and caption to each step's (state) and the picture
//! follows (pixels); "previous" returns exactly; a live alarm raises the
//! banner and "return" restores the step; export writes one PNG per step;
//! adding the current view appends a step that round-trips the file.

mod common;

use std::sync::Arc;

use bevy::math::{UVec2, Vec3};
use citytwin::cockpit::app::default_view;
use citytwin::cockpit::camera::OrbitCamera;
use citytwin::cockpit::drill::Drill;
use citytwin::cockpit::presenter::PresenterCommand;
use citytwin::cockpit::presenter::export::{HeadlessBriefing, export_deck};
use citytwin::geo::demo::{DemoScene, generate};
use citytwin::model::briefing::{AreaRef, Briefing, Highlight, Step, StepPanels, StepView};
use citytwin::model::{
    Area, Building, Case, CaseId, City, Event, EventId, EventKind, EventStatus, RiskLevel,
};
use common::{output_path, patch_rgb, roof_point};

fn city() -> Arc<City> {
    let mut scene = DemoScene::embedded().expect("embedded scene");
    scene.buildings = 3_000;
    Arc::new(generate(&scene))
}

/// The tallest building with a neighbour of its own district within
/// 150 m (the second step's view must show one).
fn tallest(city: &City) -> &Building {
    city.buildings
        .iter()
        .filter(|a| {
            city.buildings.iter().any(|b| {
                let (p, q) = (a.centre_m(), b.centre_m());
                b.id != a.id && b.district == a.district && (p[0] - q[0]).hypot(p[1] - q[1]) < 150.0
            })
        })
        .max_by(|a, b| a.top_elevation_m().total_cmp(&b.top_elevation_m()))
        .expect("buildings")
}

/// Step 1: the city overview. Step 2: straight down onto the tallest
/// building, drilled into its district, that building highlighted.
fn two_steps(city: &City) -> Briefing {
    let target = tallest(city);
    let frame = citytwin::geo::LocalFrame::new(
        city.bounds.origin_lon_lat[0],
        city.bounds.origin_lon_lat[1],
    );
    let [lon, lat] = frame.to_lon_lat(target.centre_m());
    let district = &city.districts[usize::from(target.district.0)];
    Briefing {
        title: "测试汇报".into(),
        alarms: Default::default(),
        steps: vec![
            Step {
                title: "全市".into(),
                caption: "第一步字幕".into(),
                view: StepView::Overview,
                panels: StepPanels::default(),
                transition_s: 1.0,
                ..Step::default()
            },
            Step {
                title: "重点楼栋".into(),
                caption: "第二步字幕".into(),
                notes: "讲稿".into(),
                view: StepView::Pose {
                    lon,
                    lat,
                    distance_m: 700.0,
                    pitch_deg: 90.0,
                    heading_deg: 0.0,
                },
                area: AreaRef::District(district.code.clone()),
                highlight: Highlight {
                    buildings: vec![target.code.clone()],
                    levels: vec![],
                },
                risk_focus: Some(0.0),
                transition_s: 1.0,
                ..Step::default()
            },
        ],
    }
}

fn pose(run: &HeadlessBriefing) -> OrbitCamera {
    let world = run.headless.app_ref().world();
    let mut q = world
        .try_query_filtered::<&OrbitCamera, bevy::prelude::Without<citytwin::cockpit::camera::WallView>>()
        .expect("query");
    *q.single(world).expect("one main camera")
}

fn close(a: OrbitCamera, b: OrbitCamera) -> bool {
    a.focus.distance(b.focus) < 1.0
        && (a.distance_m - b.distance_m).abs() < 1.0
        && (a.pitch_deg - b.pitch_deg).abs() < 0.1
        && ((a.heading_deg - b.heading_deg + 540.0).rem_euclid(360.0) - 180.0).abs() < 0.1
}

fn drill(run: &HeadlessBriefing) -> Area {
    run.headless.app_ref().world().resource::<Drill>().at
}

#[test]
fn next_and_previous_follow_the_steps_and_an_alarm_interrupts_and_returns() {
    let city = city();
    let target = tallest(&city);
    let briefing = two_steps(&city);
    let mut run = HeadlessBriefing::start(city.clone(), briefing, UVec2::new(320, 240));
    let overview = default_view(&city);

    // Step 1.
    assert_eq!(run.presenter().index, 0);
    assert!(
        close(pose(&run), overview),
        "{:?} vs {overview:?}",
        pose(&run)
    );
    assert_eq!(drill(&run), Area::City);
    assert_eq!(run.headless.state().is_highlighted(target.id), None);
    let first = run.headless.capture().expect("frame");
    first
        .save(output_path("presenter_step1.png"))
        .expect("save");

    // Step 2: pose, drill level, highlight, caption.
    run.command(PresenterCommand::Next);
    assert_eq!(run.presenter().index, 1);
    assert_eq!(
        run.presenter().step().map(|s| s.caption.as_str()),
        Some("第二步字幕")
    );
    let p = pose(&run);
    assert!(
        (p.distance_m - 700.0).abs() < 1.0 && (p.pitch_deg - 90.0).abs() < 0.1,
        "{p:?}"
    );
    let ground = Vec3::from(citytwin::geo::world_from_local(
        target.centre_m(),
        city.terrain.height_at(target.centre_m()),
    ));
    assert!(
        p.focus.distance(ground) < 1.0,
        "{p:?} looks at the building"
    );
    assert_eq!(drill(&run), Area::District(target.district));
    assert_eq!(run.headless.state().is_highlighted(target.id), Some(true));
    let other = city
        .buildings
        .iter()
        .filter(|b| b.district == target.district && b.id != target.id)
        .find(|b| {
            run.headless
                .project(roof_point(b))
                .is_some_and(|px| px.x > 20.0 && px.x < 300.0 && px.y > 20.0 && px.y < 220.0)
                && run
                    .headless
                    .pick(run.headless.project(roof_point(b)).expect("px"))
                    == Some(b.id)
        })
        .expect("a neighbour in view");
    assert_eq!(run.headless.state().is_highlighted(other.id), Some(false));

    // Pixels: the highlighted building keeps its colour, the other dims.
    let second = run.headless.capture().expect("frame");
    second
        .save(output_path("presenter_step2.png"))
        .expect("save");
    let at = |b: &Building| {
        let px = run.headless.project(roof_point(b)).expect("in view");
        (px.x as u32, px.y as u32)
    };
    let (tx, ty) = at(target);
    let (ox, oy) = at(other);
    // Relative luminance (×1000, sRGB weights).
    let lum = |c: [u8; 3]| 2126 * u32::from(c[0]) + 7152 * u32::from(c[1]) + 722 * u32::from(c[2]);
    let t = patch_rgb(&second, tx, ty);
    let o = patch_rgb(&second, ox, oy);
    let level = run.headless.state().level(target.id).expect("level");
    let expected = citytwin::cockpit::theme::risk_color(level);
    assert!(
        (i32::from(t[0]) - i32::from(expected.0)).abs() < 70
            && (i32::from(t[1]) - i32::from(expected.1)).abs() < 70
            && (i32::from(t[2]) - i32::from(expected.2)).abs() < 70,
        "the highlighted building keeps its level colour {expected:?}: {t:?}"
    );
    // The same frame without the highlight: the other building is lit.
    let ids: Vec<_> = vec![target.id];
    run.headless.state_mut().set_highlight(None);
    let plain = run.headless.capture().expect("frame");
    let lit = patch_rgb(&plain, ox, oy);
    assert!(
        lum(o) * 2 < lum(lit),
        "the other building is dimmed: {o:?}, {lit:?} without the highlight"
    );
    assert_eq!(
        patch_rgb(&plain, tx, ty),
        t,
        "the highlighted one is unchanged"
    );
    run.headless.state_mut().set_highlight(Some(&ids));

    // Previous: exactly step 1 again.
    run.command(PresenterCommand::Previous);
    assert_eq!(run.presenter().index, 0);
    assert!(close(pose(&run), overview), "{:?}", pose(&run));
    assert_eq!(drill(&run), Area::City);
    assert_eq!(run.headless.state().is_highlighted(target.id), None);

    // An alarm during step 2 raises the banner; A flies there; R returns.
    run.command(PresenterCommand::Next);
    let step2 = pose(&run);
    let t0 = 1_795_478_400_000;
    let b = &city.buildings[10];
    let event = Event {
        id: EventId(77),
        kind: EventKind::FireMainPressureLost,
        building: Some(b.id),
        hazard: None,
        camera: None,
        severity: RiskLevel::High,
        status: EventStatus::Open,
        time_ms: t0,
        message: String::new(),
    };
    let case = Case::register(CaseId(77), &event, b.district, b.street, t0 + 3_600_000);
    let mut snapshot = run.headless.state().to_snapshot(t0);
    snapshot.open_events = vec![event];
    snapshot.open_cases = vec![case];
    run.headless
        .state_mut()
        .apply_snapshot(&snapshot)
        .expect("snapshot");
    run.headless.update();
    let alarm = run.presenter().alarm.clone().expect("banner raised");
    assert_eq!(alarm.case, CaseId(77));
    assert!(alarm.text.contains("较大"), "{}", alarm.text);
    run.command(PresenterCommand::FlyToAlarm);
    assert!(run.presenter().alarm.is_none());
    assert!(!close(pose(&run), step2), "the camera went to the alarm");
    run.command(PresenterCommand::Return);
    assert_eq!(run.presenter().index, 1);
    assert!(close(pose(&run), step2), "{:?} vs {step2:?}", pose(&run));
    assert_eq!(drill(&run), Area::District(target.district));
    assert_eq!(run.headless.state().is_highlighted(target.id), Some(true));
}

#[test]
fn export_writes_one_picture_per_step_and_an_index() {
    let city = city();
    let target = tallest(&city);
    let out = output_path("deck");
    let _ = std::fs::remove_dir_all(&out);
    let written =
        export_deck(city.clone(), two_steps(&city), &out, UVec2::new(320, 240)).expect("export");
    assert_eq!(written.len(), 3);
    for name in ["step_01.png", "step_02.png", "index.png"] {
        assert!(out.join(name).exists(), "{name}");
    }
    // Step 2 looks straight down at the tallest building: its roof is the
    // picture's centre, in its own (undimmed) colour.
    let step2 = image::open(out.join("step_02.png"))
        .expect("png")
        .to_rgba8();
    assert_eq!(step2.dimensions(), (320, 240));
    let c = patch_rgb(&step2, 160, 120);
    let level = citytwin::cockpit::state::CityState::new(&city)
        .level(target.id)
        .expect("level");
    let e = citytwin::cockpit::theme::risk_color(level);
    assert!(
        [c[0], c[1], c[2]]
            .iter()
            .zip([e.0, e.1, e.2])
            .all(|(a, b)| (i32::from(*a) - i32::from(b)).abs() < 70),
        "step 2's centre is the highlighted building in {e:?}: {c:?}"
    );
    let step1 = image::open(out.join("step_01.png"))
        .expect("png")
        .to_rgba8();
    assert_ne!(patch_rgb(&step1, 160, 120), c, "the two steps differ");
    let index = image::open(out.join("index.png")).expect("png").to_rgba8();
    assert!(
        index.width() > 2 * 400 && index.height() > 200,
        "{:?}",
        index.dimensions()
    );
}

#[test]
fn adding_the_current_view_appends_a_step_that_round_trips_the_file() {
    let city = city();
    let dir = output_path("authoring");
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("briefing_test.ron");
    two_steps(&city).save(&path).expect("save");
    let mut run = HeadlessBriefing::start(
        city.clone(),
        Briefing::load(&path).expect("load"),
        UVec2::new(160, 120),
    );
    // Open the file (so new steps are saved there), leave, look elsewhere.
    run.command(PresenterCommand::Open(path.clone()));
    run.command(PresenterCommand::Leave);
    let view = OrbitCamera {
        focus: Vec3::new(1200.0, city.terrain.height_at([1200.0, 300.0]), -300.0),
        distance_m: 2345.0,
        pitch_deg: 41.0,
        heading_deg: 123.0,
    };
    run.headless.set_view(view);
    run.command(PresenterCommand::AddCurrentView);
    assert!(
        run.presenter().problem.is_none(),
        "{:?}",
        run.presenter().problem
    );
    let text = std::fs::read_to_string(&path).expect("read");
    assert!(text.contains("Pose("), "readable RON:\n{text}");
    let saved = Briefing::load(&path).expect("the saved file parses");
    assert_eq!(saved.steps.len(), 3);
    let step = &saved.steps[2];
    assert_eq!(step.title, "第 3 步");
    // Presenting the new step puts the camera back where it was.
    run.command(PresenterCommand::Open(path.clone()));
    run.command(PresenterCommand::Goto(2));
    let p = pose(&run);
    assert!(
        (p.distance_m - view.distance_m).abs() < 1.0
            && (p.pitch_deg - view.pitch_deg).abs() < 0.1
            && (p.heading_deg - view.heading_deg).abs() < 0.1
            && (p.focus.x - view.focus.x).abs() < 1.0
            && (p.focus.z - view.focus.z).abs() < 1.0,
        "{p:?} vs {view:?}"
    );
    // Reordering and a caption edit are saved too.
    run.command(PresenterCommand::MoveStep {
        index: 2,
        earlier: true,
    });
    run.command(PresenterCommand::SetCaption(1, "新字幕".into()));
    let saved = Briefing::load(&path).expect("parses");
    assert_eq!(saved.steps[1].title, "第 3 步");
    assert_eq!(saved.steps[1].caption, "新字幕");
}
