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
            let name = area_name(cx.city, *area, cx.lang);
            // Never over a highlighted building's halo: move up, clear of it.
            let Some(pos) = clear_of_halos(ctx, *pos, &name, cx.halos) else {
                continue;
            };
            let pos = &pos;
            if placed
                .iter()
                .any(|q| (q.x - pos.x).abs() < LABEL_GAP.x && (q.y - pos.y).abs() < LABEL_GAP.y)
            {
                continue;
            }
            placed.push(*pos);
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

/// The label's size on the screen (points): its text plus the button's
/// padding, as egui lays it out.
fn label_size(ctx: &egui::Context, name: &str) -> egui::Vec2 {
    let font = egui::TextStyle::Button.resolve(&ctx.global_style());
    let text = ctx.fonts_mut(|f| f.layout_no_wrap(name.to_owned(), font, egui::Color32::WHITE));
    text.size() + ctx.global_style().spacing.button_padding * 2.0 + egui::vec2(4.0, 4.0)
}

/// Where a label centred at `pos` can stand without covering any of the
/// `halos`: there, or moved up above the one it hits (None: no room).
pub fn clear_of_halos(
    ctx: &egui::Context,
    pos: egui::Pos2,
    name: &str,
    halos: &[egui::Rect],
) -> Option<egui::Pos2> {
    let size = label_size(ctx, name);
    let mut at = pos;
    for _ in 0..8 {
        let rect = egui::Rect::from_center_size(at, size);
        match halos.iter().find(|h| h.intersects(rect)) {
            None => return Some(at),
            Some(h) => at.y = h.min.y - size.y / 2.0 - 1.0,
        }
    }
    None
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_label_moves_clear_of_a_halo_and_stays_where_there_is_none() {
        let ctx = egui::Context::default();
        let mut output = ctx.run_ui(egui::RawInput::default(), |ui| {
            let ctx = ui.ctx();
            let pos = egui::pos2(300.0, 200.0);
            assert_eq!(clear_of_halos(ctx, pos, "渝中区", &[]), Some(pos));
            let halo = egui::Rect::from_min_max(egui::pos2(290.0, 150.0), egui::pos2(310.0, 215.0));
            let moved = clear_of_halos(ctx, pos, "渝中区", &[halo]).expect("room above");
            let rect = egui::Rect::from_center_size(moved, label_size(ctx, "渝中区"));
            assert!(!rect.intersects(halo), "{rect:?} clear of {halo:?}");
            assert!(moved.y < halo.min.y && moved.x == pos.x);
            // A label hemmed in by halos all the way up is not drawn.
            let column: Vec<egui::Rect> = (0..10)
                .map(|i| {
                    let top = 200.0 - 40.0 * i as f32;
                    egui::Rect::from_min_max(
                        egui::pos2(280.0, top - 41.0),
                        egui::pos2(320.0, top + 20.0),
                    )
                })
                .collect();
            assert_eq!(clear_of_halos(ctx, pos, "渝中区", &column), None);
        });
        output.textures_delta.clear();
    }
}
