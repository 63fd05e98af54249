//! The cockpit panels driven through a bare egui context (no GPU): what they
//! show equals the state, and clicks/searches produce the right actions.

mod common;

use bevy_egui::egui;
use citytwin::cockpit::drill::Drill;
use citytwin::cockpit::hub_view::HubView;
use citytwin::cockpit::state::CityState;
use citytwin::cockpit::ui::legend::Legend;
use citytwin::cockpit::ui::{Lang, PanelContext, Panels, UiAction, theme};
use std::sync::Arc;

use citytwin::backend::engine::Engine;
use citytwin::cockpit::ui::kpi_panel::KpiPanel;
use citytwin::cockpit::ui::wall_scale;
use citytwin::model::{
    Area, BuildingId, CaseAction, CaseStatus, EventKind, LevelCounts, RiskLevel,
};
use common::panels::{
    Cockpit, Harness, city_dispatcher, incident, panel, raise_three, small_city, texts,
    two_districts,
};

#[test]
fn legend_shows_the_state_counts() {
    let city = small_city();
    let mut state = CityState::new(&city);
    for i in 0..200 {
        state.set_level(BuildingId(i), RiskLevel::ALL[(i % 5) as usize]);
    }
    let view = HubView::default();
    let cx = panel(&city, &state, Lang::Zh, &view);
    let rows = Legend::rows(&cx);
    let from_scratch = LevelCounts::from_levels(state.levels().iter().copied());
    for row in &rows {
        assert_eq!(row.count, from_scratch.get(row.level), "{:?}", row.level);
    }
    let mut harness = Harness::new();
    harness.frame(&cx, vec![]);
    let (_, shown) = harness.frame(&cx, vec![]);
    for row in &rows {
        assert!(
            shown.iter().any(|(t, _)| *t == row.label),
            "label {} shown",
            row.label
        );
        assert!(
            shown.iter().any(|(t, _)| *t == row.count.to_string()),
            "count {} shown",
            row.count
        );
    }
}

#[test]
fn building_card_shows_code_parties_and_phones() {
    let city = small_city();
    let mut state = CityState::new(&city);
    let b = &city.buildings[7];
    state.select(Some(b.id));
    let view = HubView::default();
    let cx = panel(&city, &state, Lang::Zh, &view);
    let mut harness = Harness::new();
    harness.frame(&cx, vec![]);
    let (_, shown) = harness.frame(&cx, vec![]);
    let has = |s: &str| shown.iter().any(|(t, _)| t.contains(s));
    assert!(has(&b.code));
    assert!(has(&b.address));
    assert!(has("消防安全责任人") && has("消防安全管理人") && has("维保单位"));
    for p in [
        &b.parties.safety_responsible,
        &b.parties.safety_manager,
        &b.parties.maintenance,
    ] {
        assert!(has(&p.phone), "phone {} shown", p.phone);
    }
    // Its close button clears the selection.
    let actions = harness.click(&cx, &shown, "关闭");
    assert!(actions.contains(&UiAction::Select(None)), "{actions:?}");
}

#[test]
fn language_toggle_switches_to_english() {
    let city = small_city();
    let state = CityState::new(&city);
    let view = HubView::default();
    let cx = panel(&city, &state, Lang::Zh, &view);
    let mut harness = Harness::new();
    harness.frame(&cx, vec![]);
    let (_, shown) = harness.frame(&cx, vec![]);
    assert!(shown.iter().any(|(t, _)| t == "火灾风险等级"));
    let actions = harness.click(&cx, &shown, "EN");
    assert!(
        actions.contains(&UiAction::SetLang(Lang::En)),
        "{actions:?}"
    );
    let cx = PanelContext {
        lang: Lang::En,
        ..cx
    };
    let (_, shown) = harness.frame(&cx, vec![]);
    assert!(shown.iter().any(|(t, _)| t == "Fire risk"));
    assert!(shown.iter().any(|(t, _)| t == "Major"));
}

#[test]
fn searching_a_code_selects_and_flies_to_it() {
    let city = small_city();
    let state = CityState::new(&city);
    let target = &city.buildings[123];
    let view = HubView::default();
    let cx = panel(&city, &state, Lang::Zh, &view);
    let mut harness = Harness::new();
    harness.frame(&cx, vec![]);
    // Type the code into the search box, then press the find button.
    harness.panels.top_bar.search.query = target.code.clone();
    let (_, shown) = harness.frame(&cx, vec![]);
    let actions = harness.click(&cx, &shown, "查询");
    assert!(
        actions.contains(&UiAction::Select(Some(target.id))),
        "{actions:?}"
    );
    assert!(actions.contains(&UiAction::FlyToBuilding(target.id)));

    // An address fragment finds several; nothing matches gibberish.
    let street = &city.streets[usize::from(target.street.0)].name_zh;
    assert!(city.search(street, 8).len() > 1);
    harness.panels.top_bar.search.query = "不存在的楼".to_owned();
    let mut actions = Vec::new();
    harness.panels.top_bar.search.submit(&cx, &mut actions);
    assert!(actions.is_empty() && harness.panels.top_bar.search.results.is_empty());
}

#[test]
fn every_character_the_panels_draw_is_in_the_shipped_fonts() {
    // Everything on screen at once: a selected building, cases of every
    // kind (one dispatched, then escalated), a drilled-into district, the
    // trend chart with samples, both languages.
    let city = Arc::new(small_city());
    let mut engine = Engine::open(city.clone(), ":memory:", None).expect("engine");
    let grant = city_dispatcher();
    let (a, b) = two_districts(&city);
    let t0 = 1_795_478_400_000;
    let mut cockpit = Cockpit::new(&city, &engine);
    raise_three(&mut engine, &mut cockpit, a, b, t0);
    let case = cockpit.state.open_cases().next().expect("case").id;
    cockpit.apply(
        &[
            UiAction::SelectCase(Some(case)),
            UiAction::Case {
                case,
                action: CaseAction::Dispatch {
                    departments: vec!["城管局".into()],
                },
                version: 0,
            },
        ],
        &mut engine,
        &grant,
    );
    cockpit.state.select(Some(a.id));
    let mut harness = Harness::new();
    let mut shown = Vec::new();
    for (i, lang) in [Lang::Zh, Lang::En].into_iter().enumerate() {
        // Time moves on between the frames: the trend gets its samples.
        cockpit.follow(
            engine
                .handle(&[], t0 + (i as i64 + 1) * 3 * 3_600_000)
                .expect("tick"),
        );
        for at in [Area::City, Area::District(a.district)] {
            cockpit.drill.at = at;
            cockpit.view.refresh(
                &cockpit.state,
                at,
                cockpit.state.last_time_ms().unwrap_or(0),
            );
            let cx = PanelContext {
                lang,
                ..cockpit.cx(&city)
            };
            harness.frame(&cx, vec![]);
            shown.extend(harness.frame(&cx, vec![]).1);
        }
    }
    assert!(shown.iter().any(|(t, _)| t.contains("消防安全责任人")));
    assert!(shown.iter().any(|(t, _)| t == "超时升级至 区级"));
    assert!(
        shown.iter().any(|(t, _)| t == "received"),
        "the trend's legend"
    );
    harness.assert_glyphs(&shown);
    let font = egui::FontId::proportional(14.0);

    // Control: egui's own fonts have no CJK, so the shipped font is what
    // makes the check above pass.
    let bare = egui::Context::default();
    let mut output = bare.run_ui(egui::RawInput::default(), |_| {});
    output.textures_delta.clear();
    assert!(!bare.fonts_mut(|fonts| fonts.has_glyph(&font, '消')));
}

/// The cockpit side of the panels as the bevy systems run it: the state
/// from the backend's stream, the drill, the hub view; actions applied the
/// way the systems apply them.
#[test]
fn the_hub_filters_by_district_and_type_dispatches_edited_departments_and_shows_the_timeline() {
    let city = Arc::new(small_city());
    let mut engine = Engine::open(city.clone(), ":memory:", None).expect("engine");
    let grant = city_dispatcher();
    let (a, b) = two_districts(&city);
    let t0 = 1_795_478_400_000; // 2026-11-24 08:00 CST
    let mut cockpit = Cockpit::new(&city, &engine);
    raise_three(&mut engine, &mut cockpit, a, b, t0);
    let mut harness = Harness::new();
    harness.frame(&cockpit.cx(&city), vec![]);
    let (_, shown) = harness.frame(&cockpit.cx(&city), vec![]);
    assert!(
        shown.iter().any(|(t, _)| t == "未结 3   显示 3   超时 0"),
        "{shown:?}"
    );
    // The newest first (equal times: by id), each with its countdown.
    let rows: Vec<&String> = shown
        .iter()
        .map(|(t, _)| t)
        .filter(|t| t.starts_with("08:00 "))
        .collect();
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert!(
        rows.iter()
            .any(|r| r.contains("地灾") && r.contains("剩 1:00"))
    );

    // Drill into the first district from the KPI table.
    let district = &city.districts[usize::from(a.district.0)].name_zh;
    let actions = harness.click(&cockpit.cx(&city), &shown, district);
    assert!(actions.contains(&UiAction::DrillTo(Area::District(a.district))));
    cockpit.apply(&actions, &mut engine, &grant);
    let (_, shown) = harness.frame(&cockpit.cx(&city), vec![]);
    assert!(
        shown.iter().any(|(t, _)| t == "未结 2   显示 2   超时 0"),
        "only the district's cases: {shown:?}"
    );
    assert!(
        !shown
            .iter()
            .any(|(t, _)| t.starts_with("08:00 ") && t.contains("地灾"))
    );
    // The breadcrumb shows where we are.
    assert!(shown.iter().any(|(t, _)| t == district));

    // Type filter: only muck trucks.
    let actions = harness.click(&cockpit.cx(&city), &shown, "渣土车 1");
    cockpit.apply(&actions, &mut engine, &grant);
    let (_, shown) = harness.frame(&cockpit.cx(&city), vec![]);
    let row = shown
        .iter()
        .find(|(t, _)| t.starts_with("08:00 渣土车"))
        .map(|(t, _)| t.clone())
        .expect("the muck-truck row");
    assert!(!shown.iter().any(|(t, _)| t.starts_with("08:00 网格")));

    // Select it: the building is selected and flown to (through SelectCase).
    let actions = harness.click(&cockpit.cx(&city), &shown, &row);
    let case = cockpit
        .state
        .open_cases()
        .find(|c| c.kind == EventKind::MuckTruck)
        .expect("case")
        .id;
    assert!(
        actions.contains(&UiAction::SelectCase(Some(case))),
        "{actions:?}"
    );
    cockpit.apply(&actions, &mut engine, &grant);

    // The form suggests 城管局 + 住建委; untick 住建委, add 交巡警支队.
    let (_, shown) = harness.frame(&cockpit.cx(&city), vec![]);
    assert!(shown.iter().any(|(t, _)| t == "城管局"));
    let actions = harness.click(&cockpit.cx(&city), &shown, "住建委");
    assert!(actions.is_empty());
    harness.panels.hub.form.extra = "交巡警支队".into();
    let (_, shown) = harness.frame(&cockpit.cx(&city), vec![]);
    harness.click(&cockpit.cx(&city), &shown, "+");
    let (_, shown) = harness.frame(&cockpit.cx(&city), vec![]);
    let actions = harness.click(&cockpit.cx(&city), &shown, "一键调度");
    assert!(
        actions.contains(&UiAction::Case {
            case,
            action: CaseAction::Dispatch {
                departments: vec!["城管局".into(), "交巡警支队".into()]
            },
            version: 0,
        }),
        "{actions:?}"
    );
    cockpit.apply(&actions, &mut engine, &grant);

    // The backend's delta came back: the case is dispatched, with its timeline.
    let (_, shown) = harness.frame(&cockpit.cx(&city), vec![]);
    assert!(
        shown
            .iter()
            .any(|(t, _)| t.starts_with("08:00 渣土车") && t.contains("已派遣")),
        "{shown:?}"
    );
    assert!(shown.iter().any(|(t, _)| t == "派遣 → 城管局、交巡警支队"));
    assert!(shown.iter().any(|(t, _)| t == "市指挥中心"));
    assert!(
        shown.iter().any(|(t, _)| t == "签收"),
        "the next step is offered"
    );

    // Three hours on, past its 2 h deadline: overdue, escalated, flagged.
    cockpit.follow(engine.handle(&[], t0 + 3 * 3_600_000).expect("tick"));
    let (_, shown) = harness.frame(&cockpit.cx(&city), vec![]);
    assert!(
        shown
            .iter()
            .any(|(t, _)| t.starts_with("08:00 渣土车") && t.contains("超时") && t.ends_with('↑')),
        "{shown:?}"
    );
    assert!(shown.iter().any(|(t, _)| t == "超时升级至 区级"));
    assert!(shown.iter().any(|(t, _)| t == "已升级 区级"));

    // Return it: back to registered, the form offers dispatch again.
    let shown = harness.look(&cockpit.cx(&city));
    let actions = harness.click(&cockpit.cx(&city), &shown, "退回");
    cockpit.apply(&actions, &mut engine, &grant);
    let case_now = cockpit.state.open_case(case).expect("still open");
    assert_eq!(case_now.status, CaseStatus::Registered);
}

#[test]
fn the_kpi_panel_equals_the_live_kpis_and_drills_down_and_back_up() {
    let city = Arc::new(small_city());
    let mut engine = Engine::open(city.clone(), ":memory:", None).expect("engine");
    let (a, b) = two_districts(&city);
    let t0 = 1_795_478_400_000;
    let mut cockpit = Cockpit::new(&city, &engine);
    let grant = city_dispatcher();
    cockpit.follow(
        engine
            .raise(
                &[
                    incident(EventKind::GridReport, a, RiskLevel::Lower),
                    incident(EventKind::GridReport, a, RiskLevel::Lower),
                    incident(EventKind::MuckTruck, b, RiskLevel::Moderate),
                ],
                t0,
            )
            .expect("raise"),
    );
    // Close one of district a's cases through the whole loop.
    let first = cockpit
        .state
        .open_cases()
        .find(|c| c.district == a.district)
        .expect("case")
        .id;
    for action in [
        CaseAction::Dispatch {
            departments: vec!["街道".into()],
        },
        CaseAction::Acknowledge,
        CaseAction::Submit,
        CaseAction::Verify { passed: true },
        CaseAction::Close,
    ] {
        let version = engine.live().open_case(first).map_or(0, |c| c.version());
        let d = engine
            .case_action(&grant, first, action, version)
            .expect("step");
        cockpit.follow(d);
    }
    let kpi = cockpit.state.kpi().clone();
    assert_eq!((kpi.city.received, kpi.city.closed), (3, 1));
    let cx = cockpit.cx(&city);
    let rows = KpiPanel::rows(&cx, Area::City);
    assert_eq!(rows.len(), city.districts.len());
    assert_eq!(rows[0].area, Area::District(a.district), "busiest first");
    assert_eq!((rows[0].kpi.received, rows[0].kpi.closed), (2, 1));
    assert_eq!(rows[0].kpi, kpi.districts[&a.district]);

    let mut harness = Harness::new();
    harness.frame(&cockpit.cx(&city), vec![]);
    let (_, shown) = harness.frame(&cockpit.cx(&city), vec![]);
    for text in ["3", "1", "33.3%", "100.0%", "50.0%"] {
        assert!(shown.iter().any(|(t, _)| t == text), "{text} shown");
    }
    let district = city.districts[usize::from(a.district.0)].name_zh.clone();
    let actions = harness.click(&cockpit.cx(&city), &shown, &district);
    cockpit.apply(&actions, &mut engine, &grant);
    assert_eq!(cockpit.drill.at, Area::District(a.district));
    // At district level the table lists its streets; a street drills further.
    let (_, shown) = harness.frame(&cockpit.cx(&city), vec![]);
    let street = &city.streets[usize::from(a.street.0)].name_zh;
    let actions = harness.click(&cockpit.cx(&city), &shown, street);
    cockpit.apply(&actions, &mut engine, &grant);
    assert_eq!(cockpit.drill.at, Area::Street(a.district, a.street));
    // The breadcrumb goes back up to the city; the building card offers
    // its street directly.
    cockpit.drill.at = Area::District(a.district);
    cockpit.state.select(Some(a.id));
    // A new window takes one frame to size itself.
    harness.frame(&cockpit.cx(&city), vec![]);
    let (_, shown) = harness.frame(&cockpit.cx(&city), vec![]);
    let actions = harness.click(&cockpit.cx(&city), &shown, "进入所在街道");
    assert_eq!(
        actions,
        vec![UiAction::DrillTo(Area::Street(a.district, a.street))]
    );
    cockpit.apply(&actions, &mut engine, &grant);
    cockpit.state.select(None);
    let (_, shown) = harness.frame(&cockpit.cx(&city), vec![]);
    let actions = harness.click(&cockpit.cx(&city), &shown, &city.name_zh);
    cockpit.apply(&actions, &mut engine, &grant);
    assert_eq!(cockpit.drill.at, Area::City);

    // A district-scoped cockpit cannot climb above its district.
    cockpit.drill = Drill {
        at: Area::District(b.district),
        floor: Area::District(b.district),
    };
    cockpit.view.refresh(
        &cockpit.state,
        cockpit.drill.at,
        cockpit.state.last_time_ms().unwrap_or(0),
    );
    let (_, shown) = harness.frame(&cockpit.cx(&city), vec![]);
    let actions = harness.click(&cockpit.cx(&city), &shown, &city.name_zh);
    assert!(actions.is_empty(), "the city is not a link: {actions:?}");
    assert!(shown.iter().any(|(t, _)| t == "未结 1   显示 1   超时 0"));
}

#[test]
fn the_wall_layout_scales_to_7680x2160_without_overlapping_panels() {
    let city = small_city();
    let mut state = CityState::new(&city);
    state.select(Some(city.buildings[5].id));
    let view = HubView::default();
    let cx = panel(&city, &state, Lang::Zh, &view);
    let mut heights = Vec::new();
    for (w, h) in [(1920.0, 1080.0), (3840.0, 2160.0), (7680.0, 2160.0)] {
        let scale = wall_scale(1.0, Some(h));
        let ctx = egui::Context::default();
        theme::apply(&ctx, scale);
        let mut panels = Panels::default();
        let mut text_h = 0.0;
        for _ in 0..3 {
            // Integrations hand egui the screen in points: pixels / zoom.
            let input = egui::RawInput {
                screen_rect: Some(egui::Rect::from_min_size(
                    egui::Pos2::ZERO,
                    egui::vec2(w, h) / scale,
                )),
                ..Default::default()
            };
            let mut output = ctx.run_ui(input, |ui| {
                panels.ui(ui, &cx);
            });
            // Title height in physical pixels (points × zoom).
            text_h = texts(&output)
                .iter()
                .find(|(t, _)| t == "火灾风险等级")
                .map_or(0.0, |(_, r)| r.height() * ctx.zoom_factor());
            output.textures_delta.clear();
        }
        heights.push(text_h);
        let screen = egui::Rect::from_min_size(egui::Pos2::ZERO, egui::vec2(w, h) / scale);
        let rects: Vec<(&str, egui::Rect)> = ["event_hub", "kpi_panel", "legend", "building_card"]
            .into_iter()
            .map(|id| {
                let rect = ctx
                    .memory(|m| m.area_rect(egui::Id::new(id)))
                    .unwrap_or_else(|| panic!("{id} shown at {w}×{h}"));
                (id, rect)
            })
            .collect();
        for (id, r) in &rects {
            assert!(
                screen.contains_rect(*r),
                "{id} {r:?} inside {screen:?} at {w}×{h}"
            );
        }
        for (i, (id_a, ra)) in rects.iter().enumerate() {
            for (id_b, rb) in &rects[i + 1..] {
                assert!(
                    !ra.intersects(*rb),
                    "{id_a} {ra:?} overlaps {id_b} {rb:?} at {w}×{h}"
                );
            }
        }
    }
    // Legible from a distance: text grows with the wall's height.
    assert!(heights[0] >= 14.0, "{heights:?}");
    assert!(heights[1] >= 1.9 * heights[0], "{heights:?}");
    assert!(heights[2] >= 1.9 * heights[0], "{heights:?}");
}
