//! The wall windows' panels through a bare egui context: the KPI board,
//! the event hub and the video wall filling their own windows, and a city
//! window's title and panels (with the card of the building selected in
//! the operator's window) — every character has a glyph in both
//! languages; the board's values are large enough to read from 10 m.

mod common;

use bevy_egui::egui;
use citytwin::cockpit::hub_view::HubView;
use citytwin::cockpit::state::CityState;
use citytwin::cockpit::ui::kpi_board::VALUE_SHARE;
use citytwin::cockpit::ui::{Lang, Panels};
use citytwin::cockpit::wall::{WallScreen, draw_screen};
use citytwin::model::briefing::AreaRef;
use citytwin::model::wall::Content;
use citytwin::model::{Area, RiskLevel};
use common::panels::{Harness, panel, small_city, texts};

#[test]
fn wall_windows_have_every_glyph_and_the_board_reads_from_ten_metres() {
    let city = small_city();
    let mut state = CityState::new(&city);
    state.set_level(city.buildings[0].id, RiskLevel::Major);
    // Selected in the operator's window: the wall's city windows show its card.
    let selected = &city.buildings[7];
    state.select(Some(selected.id));
    let view = HubView::default();
    let harness = Harness::new();
    let screens = [
        Content::City {
            area: Some(AreaRef::City),
            pose: None,
        },
        Content::KpiBoard {
            area: AreaRef::City,
        },
        Content::EventHub,
        Content::VideoWall { layout: 2 },
    ];
    let height = 1080.0;
    let mut shown = Vec::new();
    for lang in [Lang::Zh, Lang::En] {
        for (entry, content) in screens.iter().enumerate() {
            let screen = WallScreen {
                entry: entry + 1,
                title: "全市风险一张图".into(),
                content: content.clone(),
                area: Some(Area::City),
            };
            let mut panels = Panels::default();
            let mut drawn = Vec::new();
            for _ in 0..2 {
                let input = egui::RawInput {
                    screen_rect: Some(egui::Rect::from_min_size(
                        egui::Pos2::ZERO,
                        egui::vec2(1920.0, height),
                    )),
                    ..Default::default()
                };
                let cx = panel(&city, &state, lang, &view);
                let mut output = harness.ctx.run_ui(input, |ui| {
                    let _ = draw_screen(ui.ctx(), &screen, &cx, None, &mut panels);
                });
                output.textures_delta.clear();
                drawn = texts(&output);
            }
            if let Content::KpiBoard { .. } = content {
                let names = [
                    lang.pick("受理事件", "Received"),
                    lang.pick("办结事件", "Closed"),
                    lang.pick("办结率", "Closure rate"),
                    lang.pick("网格事件", "Grid events"),
                ];
                for name in names {
                    assert!(
                        drawn.iter().any(|(t, _)| t == name),
                        "the board shows {name}: {drawn:?}"
                    );
                }
                // The values: digits (or —) in the largest type.
                let values: Vec<_> = drawn
                    .iter()
                    .filter(|(t, _)| {
                        t.chars()
                            .all(|c| c.is_ascii_digit() || c == '.' || c == '%' || c == '—')
                    })
                    .collect();
                assert_eq!(values.len(), 4, "four values: {values:?}");
                for (text, rect) in values {
                    assert!(
                        rect.height() >= VALUE_SHARE * height * 0.9,
                        "{text} is {:.0} px tall on a {height} px screen: too small for 10 m",
                        rect.height()
                    );
                }
            }
            shown.extend(drawn);
        }
    }
    let has = |s: &str| shown.iter().any(|(t, _)| t.contains(s));
    assert!(
        has("城市体征") && has("City vital signs"),
        "the board's title"
    );
    assert!(has("全市风险一张图 · "), "a city window's title and area");
    assert!(has("火灾风险等级"), "a city window's legend");
    assert!(
        has(&selected.code),
        "the building selected elsewhere has its card in a wall city window"
    );
    assert!(has("事件总枢纽") && has("Event hub"), "the hub's window");
    assert!(
        has("No video in this cockpit"),
        "a video window without video says so"
    );
    harness.assert_glyphs(&shown);
}
