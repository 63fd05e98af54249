//! Area names on the map: the districts at city level, a district's streets
//! once drilled in. Clicking a name drills into it.

use bevy_egui::egui;

use super::{PanelContext, UiAction, theme};
use crate::cockpit::drill::area_name;
use crate::model::Area;

/// Least distance (points) between two labels' centres, per axis.
const LABEL_GAP: egui::Vec2 = egui::vec2(90.0, 26.0);

#[derive(Default)]
pub struct MapLabels;

impl MapLabels {
    /// Draws the labels whose position lies inside `map` (with a margin).
    pub fn ui(
        &mut self,
        ctx: &egui::Context,
        cx: &PanelContext<'_>,
        map: egui::Rect,
        actions: &mut Vec<UiAction>,
    ) {
        let inside = map.shrink2(egui::vec2(40.0, 16.0));
        // Greedy declutter: a label too close to one already placed waits
        // until the camera comes nearer.
        let mut placed: Vec<egui::Pos2> = Vec::new();
        for (area, pos) in cx.labels.iter().filter(|(_, p)| inside.contains(*p)) {
            if placed
                .iter()
                .any(|q| (q.x - pos.x).abs() < LABEL_GAP.x && (q.y - pos.y).abs() < LABEL_GAP.y)
            {
                continue;
            }
            placed.push(*pos);
            let name = area_name(cx.city, *area, cx.lang);
            let id = egui::Id::new(("map_label", *area));
            egui::Area::new(id)
                .fixed_pos(*pos)
                .pivot(egui::Align2::CENTER_CENTER)
                .order(egui::Order::Background)
                .show(ctx, |ui| {
                    ui.style_mut().wrap_mode = Some(egui::TextWrapMode::Extend);
                    let text = egui::RichText::new(name).color(theme::TEXT.egui()).strong();
                    let button = egui::Button::new(text)
                        .fill(theme::LABEL_FILL.egui())
                        .stroke(egui::Stroke::new(1.0, theme::PANEL_STROKE.egui()));
                    if ui
                        .add(button)
                        .on_hover_text(cx.lang.pick("点击进入", "Click to drill down"))
                        .clicked()
                    {
                        actions.push(UiAction::DrillTo(*area));
                    }
                });
        }
    }
}

/// The areas labelled on the map at `at`: districts of the city, streets of
/// a district, nothing inside a street.
pub fn labelled_areas(city: &crate::model::City, at: Area) -> Vec<Area> {
    match at {
        Area::City => city
            .districts
            .iter()
            .map(|d| Area::District(d.id))
            .collect(),
        Area::District(id) => city
            .streets
            .iter()
            .filter(|s| s.district == id)
            .map(|s| Area::Street(id, s.id))
            .collect(),
        Area::Street(..) => Vec::new(),
    }
}
