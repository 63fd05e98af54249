//! The presenter's panels in both languages: every character they paint
//! has a glyph in the bundled fonts (the CJK subset), and they show what
//! the step says.

mod common;

use bevy_egui::egui;
use citytwin::cockpit::presenter::view::{audience_overlay, authoring_panel, presenter_view};
use citytwin::cockpit::presenter::{Alarm, Presenter};
use citytwin::cockpit::state::CityState;
use citytwin::cockpit::ui::Lang;
use citytwin::model::briefing::Briefing;
use citytwin::model::{Area, CaseId, RiskLevel};
use common::panels::{Harness, small_city, texts};

#[test]
fn presenter_panels_have_every_glyph_in_both_languages() {
    let city = small_city();
    let state = CityState::new(&city);
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/scenes/briefing_demo.ron");
    let briefing = Briefing::load(std::path::Path::new(path)).expect("demo briefing");
    let harness = Harness::new();
    let mut shown = Vec::new();
    for lang in [Lang::Zh, Lang::En] {
        for (index, presenting, blackout) in [(0, false, false), (5, true, false), (1, true, true)]
        {
            let mut presenter = Presenter::default();
            presenter.briefing = Some(briefing.clone());
            presenter.index = index;
            presenter.presenting = presenting;
            presenter.blackout = blackout;
            presenter.digits = "12".into();
            presenter.alarm = Some(Alarm {
                case: CaseId(1),
                severity: RiskLevel::High,
                text: "较大 · 消防主管网压力为零 渝中区解放碑".into(),
            });
            presenter.problem = Some("scenes/briefing_demo.ron:3:5: 意外的字符".into());
            presenter.briefing.as_mut().expect("set").alarms.on_audience = true;
            for _ in 0..2 {
                let mut output = harness.ctx.run_ui(egui::RawInput::default(), |ui| {
                    presenter_view(ui, &presenter, 75.0, lang);
                    audience_overlay(ui.ctx(), &presenter, &state, Area::City, lang);
                    let _ = authoring_panel(ui.ctx(), &presenter, lang);
                });
                output.textures_delta.clear();
                shown.extend(texts(&output));
            }
        }
    }
    let has = |s: &str| shown.iter().any(|(t, _)| t.contains(s));
    assert!(has("城市体征"), "the last step's title");
    assert!(has("办结率"), "its KPI shown large");
    assert!(has("01:15"), "elapsed time");
    assert!(has("Notes") && has("讲稿"), "notes in both languages");
    assert!(has("汇报编辑"), "the authoring panel");
    assert!(has("新警情"), "the alarm banner");
    harness.assert_glyphs(&shown);
}
