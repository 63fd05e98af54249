//! The hazard card drawn through a bare egui context: its lines, its
//! charts (displacement, velocity, angle, inverse velocity with the fit,
//! rainfall), the plan and the evacuation list, in both languages with a
//! glyph for every character; its buttons ask, never act.

mod common;

use bevy_egui::egui;
use citytwin::cockpit::hub_view::HubView;
use citytwin::cockpit::state::CityState;
use citytwin::cockpit::ui::{Lang, UiAction};
use citytwin::model::{
    EvacuationStatus, Forecast, HazardId, PlanStep, PointKind, Sample, WarningLevel,
};
use common::panels::{Harness, panel, small_city};

const HOUR_MS: i64 = 3_600_000;
const T0: i64 = 1_696_089_600_000;

fn lines_drawn(output: &egui::FullOutput) -> usize {
    fn walk(shape: &egui::Shape) -> usize {
        match shape {
            egui::Shape::Vec(v) => v.iter().map(walk).sum(),
            egui::Shape::Path(p) if p.points.len() >= 3 => 1,
            egui::Shape::LineSegment { .. } => 1,
            _ => 0,
        }
    }
    output.shapes.iter().map(|c| walk(&c.shape)).sum()
}

#[test]
fn the_hazard_card_charts_a_body_in_both_languages() {
    let city = small_city();
    let h = city
        .hazards
        .iter()
        .find(|h| {
            !h.threatened.is_empty() && h.points.iter().any(|p| p.kind == PointKind::RainGauge)
        })
        .or_else(|| city.hazards.iter().find(|h| !h.threatened.is_empty()))
        .expect("a body with people below it");
    let mut state = CityState::new(&city);
    // What the stream would have said: two days of accelerating samples,
    // a forecast, 警报 with its plan, and an evacuation under way.
    let now = T0 + 48 * HOUR_MS;
    let mut snapshot = state.live.to_snapshot(now);
    let live = &mut snapshot.hazards[h.id.index()];
    for (i, p) in h.points.iter().enumerate() {
        for k in 0..48 {
            let t = T0 + k * HOUR_MS;
            let v = 2.0 * 60.0 / (60.0 - k as f32);
            live.series[i].push_back(match p.kind {
                PointKind::RainGauge => Sample::Rain {
                    time_ms: t,
                    mm: (k % 5) as f32,
                },
                PointKind::Displacement => Sample::Motion {
                    time_ms: t,
                    displacement_mm: k as f32 * v / 24.0,
                    vector_mm: [1.0, 1.0, -0.3],
                    velocity_mm_d: v,
                    angle_deg: (v / 2.0).atan().to_degrees(),
                },
            });
        }
    }
    live.status.level = WarningLevel::Alarm;
    live.status.forecast = Some(Forecast {
        point: 0,
        failure_ms: T0 + 60 * HOUR_MS,
        earliest_ms: T0 + 58 * HOUR_MS,
        latest_ms: T0 + 62 * HOUR_MS,
        r2: 0.97,
        origin_ms: T0,
        intercept: 0.5,
        slope: -0.2,
        samples: 48,
        fitted_at_ms: now,
    });
    live.status.plan = vec![PlanStep {
        department: "应急管理局".into(),
        action: "划定警戒区，封闭道路，禁止进入".into(),
        due_ms: now + HOUR_MS,
    }];
    live.status.evacuation = vec![EvacuationStatus::Evacuated; h.threatened.len()];
    live.status.evacuation[0] = EvacuationStatus::Evacuating;
    state.apply_snapshot(&snapshot).expect("applies");

    let view = HubView::default();
    let mut harness = Harness::new();
    let base_cx = panel(&city, &state, Lang::Zh, &view);
    let (_, without) = harness.frame_output(&base_cx, vec![]);
    let plain_lines = lines_drawn(&without);

    state.select_hazard(Some((h.id, Some(0))));
    for lang in [Lang::Zh, Lang::En] {
        let cx = citytwin::cockpit::ui::PanelContext {
            now_ms: now,
            ..panel(&city, &state, lang, &view)
        };
        harness.frame(&cx, vec![]);
        let (_, output) = harness.frame_output(&cx, vec![]);
        let shown = common::panels::texts(&output);
        let has = |s: &str| shown.iter().any(|(t, _)| t.contains(s));
        assert!(has(&h.code) && has(&h.name), "{lang:?}: names the body");
        let expect: &[&str] = match lang {
            Lang::Zh => &[
                "警报级",
                "判据",
                "预测失稳时间",
                "累计位移",
                "速率",
                "切线角",
                "应急管理局",
                "撤离名单",
                "已撤离",
                "撤离中",
                "推演",
            ],
            Lang::En => &[
                "alarm",
                "Criterion",
                "Forecast failure",
                "Cumulative displacement",
                "Velocity",
                "tangential angle",
                "Evacuation list",
                "evacuated",
                "evacuating",
                "forecast (hours)",
            ],
        };
        for s in expect {
            assert!(has(s), "{lang:?}: {s:?} shown");
        }
        let evacuated: u32 = h.threatened[1..]
            .iter()
            .map(|t| u32::from(t.residents))
            .sum();
        assert!(
            has(&format!("{evacuated}")),
            "{lang:?}: counts the evacuated"
        );
        // The four or five charts draw their lines.
        assert!(
            lines_drawn(&output) > plain_lines + 20,
            "{lang:?}: charts draw ({} lines vs {plain_lines})",
            lines_drawn(&output)
        );
        harness.assert_glyphs(&shown);
    }
    // Its buttons only ask.
    let cx = citytwin::cockpit::ui::PanelContext {
        now_ms: now,
        ..panel(&city, &state, Lang::Zh, &view)
    };
    let shown = harness.look(&cx);
    let actions = harness.click(&cx, &shown, "定位");
    assert!(
        actions.contains(&UiAction::FlyToHazard(h.id)),
        "{actions:?}"
    );
    let shown = harness.look(&cx);
    let actions = harness.click(&cx, &shown, "关闭");
    assert!(
        actions.contains(&UiAction::SelectHazard(None)),
        "{actions:?}"
    );
    assert_eq!(state.selected_hazard(), Some((HazardId(h.id.0), Some(0))));
}
