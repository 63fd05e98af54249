//! The cockpit panels driven through a bare egui context (no GPU): what they
//! show equals the state, and clicks/searches produce the right actions.

use bevy_egui::egui;
use citytwin::cockpit::state::CityState;
use citytwin::cockpit::ui::legend::Legend;
use citytwin::cockpit::ui::{Lang, PanelContext, Panels, UiAction, theme};
use citytwin::geo::demo::{DemoScene, generate};
use citytwin::model::{BuildingId, City, LevelCounts, RiskLevel};

fn small_city() -> City {
    let mut scene = DemoScene::embedded().expect("embedded scene");
    scene.buildings = 2_000;
    scene.cell_m = 400.0;
    generate(&scene)
}

/// Every text drawn in a frame, with its screen rectangle.
fn texts(output: &egui::FullOutput) -> Vec<(String, egui::Rect)> {
    fn walk(shape: &egui::Shape, out: &mut Vec<(String, egui::Rect)>) {
        match shape {
            egui::Shape::Text(t) => out.push((
                t.galley.text().to_owned(),
                t.galley.rect.translate(t.pos.to_vec2()),
            )),
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

struct Harness {
    ctx: egui::Context,
    panels: Panels,
}

impl Harness {
    fn new() -> Harness {
        let ctx = egui::Context::default();
        theme::apply(&ctx, 1.0);
        Harness {
            ctx,
            panels: Panels::default(),
        }
    }

    fn frame(
        &mut self,
        cx: &PanelContext<'_>,
        events: Vec<egui::Event>,
    ) -> (Vec<UiAction>, Vec<(String, egui::Rect)>) {
        let input = egui::RawInput {
            screen_rect: Some(egui::Rect::from_min_size(
                egui::Pos2::ZERO,
                egui::vec2(1600.0, 900.0),
            )),
            events,
            ..Default::default()
        };
        let mut actions = Vec::new();
        let mut output = self
            .ctx
            .run_ui(input, |ui| actions = self.panels.ui(ui, cx));
        let shown = texts(&output);
        // No renderer here: the font atlas upload is dropped on purpose.
        output.textures_delta.clear();
        (actions, shown)
    }

    /// Clicks the centre of the text `label` as shown in the last frame.
    fn click(
        &mut self,
        cx: &PanelContext<'_>,
        shown: &[(String, egui::Rect)],
        label: &str,
    ) -> Vec<UiAction> {
        let (_, rect) = shown
            .iter()
            .find(|(t, _)| t == label)
            .unwrap_or_else(|| panic!("{label:?} is not on screen"));
        let pos = rect.center();
        let button = |pressed| egui::Event::PointerButton {
            pos,
            button: egui::PointerButton::Primary,
            pressed,
            modifiers: egui::Modifiers::NONE,
        };
        let mut actions = self
            .frame(cx, vec![egui::Event::PointerMoved(pos), button(true)])
            .0;
        actions.extend(self.frame(cx, vec![button(false)]).0);
        actions
    }
}

#[test]
fn legend_shows_the_state_counts() {
    let city = small_city();
    let mut state = CityState::new(&city);
    for i in 0..200 {
        state.set_level(BuildingId(i), RiskLevel::ALL[(i % 5) as usize]);
    }
    let cx = PanelContext {
        city: &city,
        state: &state,
        lang: Lang::Zh,
        link: None,
    };
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
    let cx = PanelContext {
        city: &city,
        state: &state,
        lang: Lang::Zh,
        link: None,
    };
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
    let cx = PanelContext {
        city: &city,
        state: &state,
        lang: Lang::Zh,
        link: None,
    };
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
    let cx = PanelContext {
        city: &city,
        state: &state,
        lang: Lang::Zh,
        link: None,
    };
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
    let city = small_city();
    let mut state = CityState::new(&city);
    state.select(Some(city.buildings[11].id));
    let mut harness = Harness::new();
    let mut shown = Vec::new();
    for lang in [Lang::Zh, Lang::En] {
        let cx = PanelContext {
            city: &city,
            state: &state,
            lang,
            link: None,
        };
        harness.frame(&cx, vec![]);
        shown.extend(harness.frame(&cx, vec![]).1);
    }
    assert!(shown.iter().any(|(t, _)| t.contains("消防安全责任人")));
    let font = egui::FontId::proportional(14.0);
    let missing: String = harness.ctx.fonts_mut(|fonts| {
        shown
            .iter()
            .flat_map(|(t, _)| t.chars())
            .filter(|c| !c.is_whitespace() && !fonts.has_glyph(&font, *c))
            .collect()
    });
    assert!(
        missing.is_empty(),
        "no glyph for {missing:?}: regenerate assets/fonts (make_subset.py)"
    );

    // Control: egui's own fonts have no CJK, so the shipped font is what
    // makes the check above pass.
    let bare = egui::Context::default();
    let mut output = bare.run_ui(egui::RawInput::default(), |_| {});
    output.textures_delta.clear();
    assert!(!bare.fonts_mut(|fonts| fonts.has_glyph(&font, '消')));
}

fn open_case_delta(
    city: &City,
    seq: u64,
    building: usize,
    case_id: u64,
    opened_ms: i64,
    deadline_ms: i64,
) -> citytwin::protocol::Delta {
    use citytwin::model::{Case, CaseId, Event, EventId, EventKind, EventStatus};
    let b = &city.buildings[building];
    let event = Event {
        id: EventId(case_id),
        kind: EventKind::FireMainPressureLost,
        building: Some(b.id),
        severity: RiskLevel::High,
        status: EventStatus::Open,
        time_ms: opened_ms,
        message: String::new(),
    };
    let case = Case::register(CaseId(case_id), &event, b.district, b.street, deadline_ms);
    citytwin::protocol::Delta {
        seq,
        time_ms: opened_ms,
        changes: vec![
            citytwin::protocol::Change::Event(event),
            citytwin::protocol::Change::Case(case),
        ],
    }
}

#[test]
fn event_hub_lists_overdue_first_and_dispatches_with_one_click() {
    use citytwin::model::{CaseAction, CaseId};
    let city = small_city();
    let mut state = CityState::new(&city);
    let base = state.to_snapshot(0);
    state.apply_snapshot(&base).expect("seq 0");
    let hour = 3_600_000;
    // Case 1 is due in 4 h; case 2 was due an hour ago (opened 5 h ago).
    state
        .apply_delta(&open_case_delta(&city, 1, 3, 1, 10 * hour, 14 * hour))
        .expect("delta 1");
    state
        .apply_delta(&open_case_delta(&city, 2, 4, 2, 5 * hour, 9 * hour))
        .expect("delta 2");
    assert_eq!(state.last_time_ms(), Some(5 * hour));
    // Bring the clock to 10:00 with an empty delta.
    state
        .apply_delta(&citytwin::protocol::Delta {
            seq: 3,
            time_ms: 10 * hour,
            changes: vec![],
        })
        .expect("delta 3");

    let cx = PanelContext {
        city: &city,
        state: &state,
        lang: Lang::Zh,
        link: None,
    };
    let mut harness = Harness::new();
    harness.frame(&cx, vec![]);
    let (_, shown) = harness.frame(&cx, vec![]);
    let rows: Vec<&(String, egui::Rect)> = shown
        .iter()
        .filter(|(t, _)| t.starts_with("消防主管网压力为零"))
        .collect();
    assert_eq!(rows.len(), 2, "{shown:?}");
    let (overdue_code, due_code) = (&city.buildings[4].code, &city.buildings[3].code);
    assert!(
        rows[0].0.contains(overdue_code.as_str()) && rows[0].0.contains("超时 1:00"),
        "{}",
        rows[0].0
    );
    assert!(
        rows[1].0.contains(due_code.as_str()) && rows[1].0.contains("剩 4:00"),
        "{}",
        rows[1].0
    );
    assert!(
        shown
            .iter()
            .any(|(t, _)| t.contains("未结 2") && t.contains("超时 1"))
    );

    // Click the overdue case: it is selected and the camera flies there.
    let row = rows[0].0.clone();
    let actions = harness.click(&cx, &shown, &row);
    let b = city.buildings[4].id;
    assert!(
        actions.contains(&UiAction::Select(Some(b)))
            && actions.contains(&UiAction::FlyToBuilding(b)),
        "{actions:?}"
    );
    let (_, shown) = harness.frame(&cx, vec![]);
    assert!(shown.iter().any(|(t, _)| t == "· 消防救援支队"));
    let actions = harness.click(&cx, &shown, "一键调度");
    let dispatched = actions.iter().find_map(|a| match a {
        UiAction::Case {
            case,
            action: CaseAction::Dispatch { departments },
        } => Some((*case, departments.clone())),
        _ => None,
    });
    let (case, departments) = dispatched.expect("one click dispatches");
    assert_eq!(case, CaseId(2));
    assert_eq!(departments[0], "消防救援支队");
    assert!(departments[1].contains(&city.buildings[4].parties.safety_responsible.name));
}
