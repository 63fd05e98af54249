//! The timeline bar and what a command acts on, through a bare egui
//! context: dragging the bar sets the clock and shift-dragging selects a
//! range; the case ticks sit at their times; a step button whose meaning
//! just changed ignores the click; the hub list holds still under the
//! pointer; the History tab finds closed cases and replays one; every new
//! label has its glyph in both languages.

mod common;

use bevy_egui::egui;
use citytwin::backend::engine::Engine;
use citytwin::cockpit::time::{TimeControl, TimeControlCommand};
use citytwin::cockpit::ui::timeline::{time_at, x_of};
use citytwin::cockpit::ui::{Lang, PanelContext, PanelExtras, UiAction, theme};
use citytwin::model::{Building, CaseAction, City, EventKind, RiskLevel};
use citytwin::protocol::{Message, Refusal};
use citytwin::recording::MarkKind;
use common::panels::{Cockpit, Harness, city_dispatcher, incident, small_city, two_districts};

const T0: i64 = 1_795_478_400_000;

/// The panels' context with the cockpit's state and `extras`' clock.
fn cx<'a>(
    cockpit: &'a Cockpit,
    city: &'a City,
    extras: &'a PanelExtras,
    lang: Lang,
) -> PanelContext<'a> {
    PanelContext {
        drill: cockpit.drill,
        ..PanelContext::new(city, &cockpit.state, lang, &cockpit.view, Some(extras))
    }
}

/// Cases opened at T0, T0+1 h and T0+3 h (of three severities), the marks
/// collected from the same deltas, and a replay clock over six hours.
fn timeline_day(city: &City, engine: &mut Engine, cockpit: &mut Cockpit) -> PanelExtras {
    let (a, b) = two_districts(city);
    let mut extras = PanelExtras {
        time: TimeControl::replay((T0, T0 + 6 * 3_600_000)),
        ..PanelExtras::default()
    };
    let raises: [(i64, EventKind, &Building, RiskLevel); 3] = [
        (T0, EventKind::MuckTruck, a, RiskLevel::Moderate),
        (
            T0 + 3_600_000,
            EventKind::LandslideWarning,
            b,
            RiskLevel::Major,
        ),
        (
            T0 + 3 * 3_600_000,
            EventKind::GridReport,
            a,
            RiskLevel::Lower,
        ),
    ];
    for (t, kind, building, severity) in raises {
        let delta = engine
            .raise(&[incident(kind, building, severity)], t)
            .expect("raise")
            .expect("a delta");
        extras.marks.push(&Message::Delta(delta.clone()));
        cockpit.follow(Some(delta));
    }
    extras.time.apply(TimeControlCommand::Pause);
    extras
        .time
        .apply(TimeControlCommand::Seek(T0 + 2 * 3_600_000));
    extras
}

fn segments(output: &egui::FullOutput) -> Vec<([egui::Pos2; 2], egui::Color32)> {
    fn walk(shape: &egui::Shape, out: &mut Vec<([egui::Pos2; 2], egui::Color32)>) {
        match shape {
            egui::Shape::LineSegment { points, stroke } => out.push((*points, stroke.color)),
            egui::Shape::Vec(v) => v.iter().for_each(|s| walk(s, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    for clipped in &output.shapes {
        walk(&clipped.shape, &mut out);
    }
    out
}

fn seeks(actions: &[UiAction]) -> Vec<i64> {
    actions
        .iter()
        .filter_map(|a| match a {
            UiAction::Time(TimeControlCommand::Seek(t)) => Some(*t),
            _ => None,
        })
        .collect()
}

#[test]
fn dragging_the_bar_sets_the_clock_and_the_case_ticks_sit_at_their_times() {
    let city = small_city();
    let mut engine =
        Engine::open(std::sync::Arc::new(city.clone()), ":memory:", None).expect("engine");
    let mut cockpit = Cockpit::new(&city, &engine);
    let extras = timeline_day(&city, &mut engine, &mut cockpit);
    let span = extras.time.span().expect("span");
    let mut harness = Harness::new();
    let cx = cx(&cockpit, &city, &extras, Lang::Zh);
    harness.frame(&cx, vec![]);
    let (_, output) = harness.frame_output(&cx, vec![]);
    let track = harness.panels.timeline.track.expect("the bar is shown");
    let lines = segments(&output);
    let openings: Vec<_> = extras
        .marks
        .marks()
        .iter()
        .filter(|m| m.kind == MarkKind::Opened)
        .collect();
    assert_eq!(openings.len(), 3);
    for m in openings {
        let x = x_of(m.time_ms, track, span);
        let color = theme::risk_color(m.severity).egui();
        assert!(
            lines.iter().any(|(p, c)| *c == color
                && (p[0].x - x).abs() < 0.5
                && (p[0].y - track.top()).abs() < 0.5),
            "a tick at {} (x {x}) in its severity's colour",
            m.time_ms
        );
    }
    // The clock's cursor stands at T0 + 2 h.
    let now_x = x_of(T0 + 2 * 3_600_000, track, span);
    assert!(
        lines
            .iter()
            .any(|(p, c)| *c == theme::ACCENT.egui() && (p[0].x - now_x).abs() < 0.5)
    );

    // Drag from a quarter to three quarters: the clock follows the pointer.
    let y = track.center().y;
    let (p1, p2) = (
        egui::pos2(track.left() + track.width() * 0.25, y),
        egui::pos2(track.left() + track.width() * 0.75, y),
    );
    let button = |pos, pressed| egui::Event::PointerButton {
        pos,
        button: egui::PointerButton::Primary,
        pressed,
        modifiers: egui::Modifiers::NONE,
    };
    let mut actions = harness
        .frame(&cx, vec![egui::Event::PointerMoved(p1), button(p1, true)])
        .0;
    actions.extend(harness.frame(&cx, vec![egui::Event::PointerMoved(p2)]).0);
    actions.extend(harness.frame(&cx, vec![egui::Event::PointerMoved(p2)]).0);
    actions.extend(harness.frame(&cx, vec![button(p2, false)]).0);
    let sought = seeks(&actions);
    assert!(!sought.is_empty(), "{actions:?}");
    assert_eq!(sought.last().copied(), Some(time_at(p2.x, track, span)));
    assert!((time_at(p2.x, track, span) - (span.0 + (span.1 - span.0) * 3 / 4)).abs() < 60_000);

    // Shift-drag selects the range instead of seeking.
    harness.modifiers = egui::Modifiers::SHIFT;
    let shift = |pos, pressed| egui::Event::PointerButton {
        pos,
        button: egui::PointerButton::Primary,
        pressed,
        modifiers: egui::Modifiers::SHIFT,
    };
    let mut actions = harness
        .frame(&cx, vec![egui::Event::PointerMoved(p1), shift(p1, true)])
        .0;
    actions.extend(harness.frame(&cx, vec![egui::Event::PointerMoved(p2)]).0);
    actions.extend(harness.frame(&cx, vec![egui::Event::PointerMoved(p2)]).0);
    actions.extend(harness.frame(&cx, vec![shift(p2, false)]).0);
    assert!(seeks(&actions).is_empty(), "{actions:?}");
    assert!(
        actions.contains(&UiAction::Time(TimeControlCommand::Select(Some((
            time_at(p1.x, track, span),
            time_at(p2.x, track, span)
        ))))),
        "{actions:?}"
    );
}

#[test]
fn a_step_button_whose_meaning_just_changed_ignores_the_click() {
    let city = small_city();
    let mut engine =
        Engine::open(std::sync::Arc::new(city.clone()), ":memory:", None).expect("engine");
    let grant = city_dispatcher();
    let mut cockpit = Cockpit::new(&city, &engine);
    let (a, _) = two_districts(&city);
    cockpit.follow(
        engine
            .raise(
                &[incident(EventKind::MuckTruck, a, RiskLevel::Moderate)],
                T0,
            )
            .expect("raise"),
    );
    let case = cockpit.state.open_cases().next().expect("case").id;
    cockpit.view.selected = Some(case);
    let extras = PanelExtras::default();
    let mut harness = Harness::new();
    let shown = harness.look(&cx(&cockpit, &city, &extras, Lang::Zh));
    let actions = harness.click(&cx(&cockpit, &city, &extras, Lang::Zh), &shown, "一键调度");
    cockpit.apply(&actions, &mut engine, &grant);
    let shown = harness.look(&cx(&cockpit, &city, &extras, Lang::Zh));
    assert!(shown.iter().any(|(t, _)| t == "签收"), "the next step");

    // A field unit takes it between the operator's look and click:
    // 签收 becomes 处置完成 under the pointer.
    cockpit.follow(
        engine
            .case_action(&grant, case, CaseAction::Acknowledge, 1)
            .expect("ack"),
    );
    let shown = harness
        .frame(&cx(&cockpit, &city, &extras, Lang::Zh), vec![])
        .1;
    assert!(shown.iter().any(|(t, _)| t == "处置完成"));
    let actions = harness.click(&cx(&cockpit, &city, &extras, Lang::Zh), &shown, "处置完成");
    assert!(
        actions.is_empty(),
        "a click right after the change is ignored: {actions:?}"
    );
    // Looked at again, the button works, against the version now shown.
    let shown = harness.look(&cx(&cockpit, &city, &extras, Lang::Zh));
    let actions = harness.click(&cx(&cockpit, &city, &extras, Lang::Zh), &shown, "处置完成");
    assert_eq!(
        actions,
        vec![UiAction::Case {
            case,
            action: CaseAction::Submit,
            version: 2
        }]
    );

    // And the backend refuses a step issued against an older version,
    // saying who moved the case on and when; the hub shows it.
    let refusal = engine
        .case_action(&grant, case, CaseAction::Acknowledge, 1)
        .expect_err("stale");
    assert!(
        matches!(
            refusal,
            Refusal::Stale {
                seen: 1,
                now: 2,
                ..
            }
        ),
        "{refusal:?}"
    );
    let mut extras = PanelExtras::default();
    extras.feedback.failed = Some(refusal.clone());
    let shown = harness.look(&cx(&cockpit, &city, &extras, Lang::Zh));
    let text = refusal.to_string();
    assert!(text.contains("已由 市指挥中心 于 08:00 签收"), "{text}");
    assert!(shown.iter().any(|(t, _)| *t == text), "the hub shows why");
}

/// Row texts of the hub list, top to bottom, without their countdowns
/// (the clock moves on).
fn rows(shown: &[(String, egui::Rect)]) -> Vec<(String, egui::Rect)> {
    let mut rows: Vec<_> = shown
        .iter()
        .filter(|(t, _)| t.starts_with("08:") && t.contains("剩"))
        .map(|(t, r)| (t.split("  剩").next().unwrap_or("").to_owned(), *r))
        .collect();
    rows.sort_by(|a, b| a.1.top().total_cmp(&b.1.top()));
    rows
}

#[test]
fn the_hub_list_holds_still_under_the_pointer_and_new_cases_wait_above_it() {
    let city = small_city();
    let mut engine =
        Engine::open(std::sync::Arc::new(city.clone()), ":memory:", None).expect("engine");
    let mut cockpit = Cockpit::new(&city, &engine);
    let (a, b) = two_districts(&city);
    common::panels::raise_three(&mut engine, &mut cockpit, a, b, T0);
    let extras = PanelExtras::default();
    let mut harness = Harness::new();
    let shown = harness.look(&cx(&cockpit, &city, &extras, Lang::Zh));
    let before = rows(&shown);
    assert_eq!(before.len(), 3);
    // The pointer rests on the top row.
    let over = before[0].1.center();
    harness.frame(
        &cx(&cockpit, &city, &extras, Lang::Zh),
        vec![egui::Event::PointerMoved(over)],
    );
    harness.frame(&cx(&cockpit, &city, &extras, Lang::Zh), vec![]);
    // A newer case arrives: it would sort to the top.
    cockpit.follow(
        engine
            .raise(
                &[incident(EventKind::GridReport, b, RiskLevel::Major)],
                T0 + 60_000,
            )
            .expect("raise"),
    );
    assert_eq!(cockpit.view.rows.len(), 4);
    let shown = harness
        .frame(&cx(&cockpit, &city, &extras, Lang::Zh), vec![])
        .1;
    let held = rows(&shown);
    assert_eq!(
        held.iter().map(|r| &r.0).collect::<Vec<_>>(),
        before.iter().map(|r| &r.0).collect::<Vec<_>>(),
        "the rows hold still under the pointer"
    );
    assert!(shown.iter().any(|(t, _)| t == "↑ 1 条新事件"), "{shown:?}");
    let actions = harness.click(
        &cx(&cockpit, &city, &extras, Lang::Zh),
        &shown,
        "↑ 1 条新事件",
    );
    assert!(actions.is_empty());
    harness.frame(
        &cx(&cockpit, &city, &extras, Lang::Zh),
        vec![egui::Event::PointerMoved(egui::pos2(1500.0, 880.0))],
    );
    let shown = harness
        .frame(&cx(&cockpit, &city, &extras, Lang::Zh), vec![])
        .1;
    let now = rows(&shown);
    assert_eq!(now.len(), 4);
    assert!(
        now[0].0.starts_with("08:01"),
        "the new case on top: {now:?}"
    );
}

#[test]
fn the_history_tab_finds_a_case_by_its_building_and_replays_it() {
    let city = small_city();
    let mut engine =
        Engine::open(std::sync::Arc::new(city.clone()), ":memory:", None).expect("engine");
    let mut cockpit = Cockpit::new(&city, &engine);
    let extras = timeline_day(&city, &mut engine, &mut cockpit);
    let (_, b) = two_districts(&city);
    let landslide = extras
        .marks
        .cases
        .values()
        .find(|c| c.kind == EventKind::LandslideWarning)
        .expect("the landslide case")
        .clone();
    let mut harness = Harness::new();
    harness.panels.hub.tab = citytwin::cockpit::ui::event_hub::HubTab::History;
    harness.panels.hub.query = b.code.clone();
    let shown = harness.look(&cx(&cockpit, &city, &extras, Lang::Zh));
    let found: Vec<_> = shown.iter().filter(|(t, _)| t.starts_with('#')).collect();
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].0.contains(&b.code) && found[0].0.contains("地灾"));
    let label = found[0].0.clone();
    let actions = harness.click(&cx(&cockpit, &city, &extras, Lang::Zh), &shown, &label);
    let minute = landslide.opened_ms.div_euclid(60_000) * 60_000;
    assert_eq!(
        actions,
        vec![
            UiAction::Time(TimeControlCommand::Seek(minute)),
            UiAction::Time(TimeControlCommand::Play),
            UiAction::SelectCase(Some(landslide.id)),
        ]
    );
    // By kind and by district too.
    for query in ["地灾", "landslide", "#2"] {
        harness.panels.hub.tab = citytwin::cockpit::ui::event_hub::HubTab::History;
        harness.panels.hub.query = query.to_owned();
        // The hub window lays itself out anew when its tab changes.
        harness.look(&cx(&cockpit, &city, &extras, Lang::Zh));
        let shown = harness.look(&cx(&cockpit, &city, &extras, Lang::Zh));
        assert!(
            shown.iter().any(|(t, _)| *t == label),
            "{query} finds it: {shown:?}"
        );
    }
}

#[test]
fn every_label_of_the_timeline_replay_and_history_has_its_glyph() {
    let city = small_city();
    let mut engine =
        Engine::open(std::sync::Arc::new(city.clone()), ":memory:", None).expect("engine");
    let mut cockpit = Cockpit::new(&city, &engine);
    let mut extras = timeline_day(&city, &mut engine, &mut cockpit);
    // Live, dragged back: banner, back-to-live, the new-alarms badge, a
    // selection with its loop toggle, a refusal in the hub.
    let mut live = TimeControl::live();
    live.set_head(T0);
    live.set_head(T0 + 6 * 3_600_000);
    live.apply(TimeControlCommand::Seek(T0 + 3_600_000));
    live.apply(TimeControlCommand::Select(Some((T0, T0 + 2 * 3_600_000))));
    extras.time = live;
    extras.head.new_alarms = 3;
    let case = cockpit.state.open_cases().next().expect("case").id;
    cockpit.view.selected = Some(case);
    extras.feedback.failed = Some(Refusal::Stale {
        case: case.0,
        seen: 0,
        now: 1,
        actor: "模拟部门 / simulated unit".into(),
        department: Some("城管局".into()),
        step: CaseAction::Acknowledge,
        at_ms: T0,
    });
    let mut harness = Harness::new();
    let mut shown = Vec::new();
    for lang in [Lang::Zh, Lang::En] {
        for tab in [
            citytwin::cockpit::ui::event_hub::HubTab::Open,
            citytwin::cockpit::ui::event_hub::HubTab::History,
        ] {
            harness.panels.hub.tab = tab;
            shown.extend(harness.look(&cx(&cockpit, &city, &extras, lang)));
        }
    }
    for expected in [
        "回放中  2026-11-24 09:00:00",
        "REPLAY  2026-11-24 09:00:00",
        "返回实时",
        "Back to live",
        "3 条新告警",
        "时间轴",
        "循环",
        "历史",
    ] {
        assert!(
            shown.iter().any(|(t, _)| t == expected),
            "{expected} is shown"
        );
    }
    harness.assert_glyphs(&shown);
}

#[test]
fn the_kpi_trend_is_rebuilt_for_the_clocks_time_from_the_cases_seen() {
    let city = small_city();
    let mut engine =
        Engine::open(std::sync::Arc::new(city.clone()), ":memory:", None).expect("engine");
    let mut cockpit = Cockpit::new(&city, &engine);
    let mut extras = timeline_day(&city, &mut engine, &mut cockpit);
    // The state is as of T0 + 3 h + 1 min: three cases received.
    let now = T0 + 3 * 3_600_000 + 60_000;
    extras.time.apply(TimeControlCommand::Seek(now));
    let cx = cx(&cockpit, &city, &extras, Lang::Zh);
    assert_eq!(cockpit.state.kpi().city.received, 3);
    let points =
        citytwin::cockpit::ui::kpi_panel::KpiPanel::trend_points(&cx, citytwin::model::Area::City);
    // One point every 10 min back to the timeline's start (T0).
    assert_eq!(points.len(), 19);
    let received: Vec<u64> = points.iter().map(|k| k.received).collect();
    assert_eq!(
        received[0], 1,
        "at T0 + 1 min only the first case: {received:?}"
    );
    assert_eq!(received[5], 1, "at T0 + 51 min still one");
    assert_eq!(
        received[6], 2,
        "at T0 + 61 min the landslide (T0 + 1 h) is in"
    );
    assert_eq!(received.last().copied(), Some(3), "now, as the KPI says");
    assert!(received.windows(2).all(|w| w[0] <= w[1]));
    assert_eq!(received.iter().filter(|r| **r == 2).count(), 12);
}
