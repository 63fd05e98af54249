//! 城市体征: the seed's indicators — received, closed, closure rate, grid
//! events — for one area, each filling a quarter of a wall window, readable
//! from the back of a command hall. The values are the backend's KPIs as
//! the stream delivered them (nothing recomputed here).

use bevy_egui::egui;

use super::kpi_panel::kpi_of;
use super::{Lang, PanelContext, theme};
use crate::live::LiveState;
use crate::model::briefing::KpiShown;
use crate::model::{Area, EventKind, percent_text};

/// What the board shows, in its order (row by row).
pub const BOARD: [KpiShown; 4] = [
    KpiShown::Received,
    KpiShown::Closed,
    KpiShown::ClosureRate,
    KpiShown::GridEvents,
];

/// A value's type height as a share of the window's height: at 1080 lines
/// on a 55" screen (68 cm tall) that is 14 cm — the usual rule (2.5 cm of
/// letter per 3 m of distance) asks for 8.5 cm at 10 m; the names (40 % of
/// it) suit 4 m, the values 10 m and beyond.
pub const VALUE_SHARE: f32 = 0.2;

/// The largest KPI a board draws (points): its value's glyphs are 0.6 of it.
const MAX_HEIGHT_PT: f32 = 600.0;

/// The text of a KPI for an area, as the board shows it.
pub fn kpi_text(state: &LiveState, area: Area, kpi: KpiShown) -> String {
    let k = kpi_of(state.kpi(), area);
    match kpi {
        KpiShown::Received => k.received.to_string(),
        KpiShown::Closed => k.closed.to_string(),
        KpiShown::ClosureRate => percent_text(k.closure()),
        KpiShown::OnTimeRate => percent_text(k.on_time()),
        KpiShown::GridEvents => state
            .open_cases()
            .filter(|c| c.kind == EventKind::GridReport && area.contains(c.district, c.street))
            .count()
            .to_string(),
    }
}

/// A KPI's name in the interface language.
pub fn kpi_name(kpi: KpiShown, lang: Lang) -> &'static str {
    lang.pick(kpi.name_zh(), kpi.name_en())
}

/// One KPI large: its name above, its value in big type (`height`: the
/// value's type height is 60 % of it).
pub fn big_kpi(ui: &mut egui::Ui, name: &str, value: &str, height: f32) {
    ui.vertical_centered(|ui| {
        ui.label(
            egui::RichText::new(name)
                .size(height * 0.28)
                .color(theme::TEXT_DIM.egui()),
        );
        ui.label(
            egui::RichText::new(value)
                .size(height * 0.6)
                .strong()
                .color(theme::TEXT.egui()),
        );
    });
}

/// The board filling `ui`: a title line, then the four KPIs 2×2.
pub fn kpi_board(ui: &mut egui::Ui, cx: &PanelContext<'_>, area: Area) {
    let rect = ui.max_rect();
    ui.painter()
        .rect_filled(rect, 0.0, theme::BACKGROUND.egui());
    let title_h = (rect.height() * 0.09).min(MAX_HEIGHT_PT * 0.3);
    let title = format!(
        "{} · {}",
        cx.lang.pick("城市体征", "City vital signs"),
        crate::cockpit::drill::area_name(cx.city, area, cx.lang)
    );
    ui.painter().text(
        rect.left_top() + egui::vec2(title_h * 0.4, title_h * 0.2),
        egui::Align2::LEFT_TOP,
        title,
        egui::FontId::proportional(title_h * 0.7),
        theme::ACCENT.egui(),
    );
    let body = egui::Rect::from_min_max(rect.left_top() + egui::vec2(0.0, title_h), rect.max);
    let cell = egui::vec2(body.width() / 2.0, body.height() / 2.0);
    // The value's type is 60 % of the height big_kpi is given.
    // Capped: a glyph must fit the font atlas even on a context whose
    // screen size egui does not know yet.
    let height = (rect.height() * VALUE_SHARE / 0.6)
        .min(cell.y * 0.95)
        .min(MAX_HEIGHT_PT);
    for (i, kpi) in BOARD.iter().enumerate() {
        let min = body.min + egui::vec2((i % 2) as f32 * cell.x, (i / 2) as f32 * cell.y);
        let cell_rect = egui::Rect::from_min_size(min, cell);
        ui.painter().rect_stroke(
            cell_rect.shrink(6.0),
            8.0,
            egui::Stroke::new(1.0, theme::PANEL_STROKE.egui()),
            egui::StrokeKind::Inside,
        );
        let inner =
            egui::Rect::from_center_size(cell_rect.center(), egui::vec2(cell.x, height * 1.05));
        ui.scope_builder(egui::UiBuilder::new().max_rect(inner), |ui| {
            big_kpi(
                ui,
                kpi_name(*kpi, cx.lang),
                &kpi_text(cx.state, area, *kpi),
                height,
            );
        });
    }
}
