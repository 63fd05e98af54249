//! One-box search (一键查): a fire code, name or address → the building;
//! a hazard body's name or code → the body; selected and flown to.

use bevy_egui::egui;

use super::{PanelContext, UiAction, theme};
use crate::model::{BuildingId, HazardId};

const MAX_RESULTS: usize = 8;

#[derive(Default)]
pub struct SearchBox {
    pub query: String,
    pub results: Vec<BuildingId>,
    pub hazards: Vec<HazardId>,
    /// The query the results belong to (None = nothing searched yet).
    pub searched: Option<String>,
}

impl SearchBox {
    /// Runs the query; a single hit is selected and flown to at once.
    pub fn submit(&mut self, cx: &PanelContext<'_>, actions: &mut Vec<UiAction>) {
        self.results = cx.city.search(&self.query, MAX_RESULTS);
        self.hazards = super::hazard_card::search(cx.city, &self.query, MAX_RESULTS);
        self.searched = Some(self.query.clone());
        match (&self.results[..], &self.hazards[..]) {
            ([only], []) => {
                actions.push(UiAction::Select(Some(*only)));
                actions.push(UiAction::FlyToBuilding(*only));
            }
            ([], [only]) => {
                actions.push(UiAction::SelectHazard(Some((*only, None))));
                actions.push(UiAction::FlyToHazard(*only));
            }
            _ => {}
        }
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, cx: &PanelContext<'_>, actions: &mut Vec<UiAction>) {
        let hint = cx.lang.pick(
            "一键查：楼栋码 / 名称 / 地址",
            "Search: fire code / name / address",
        );
        let edit = ui.add(
            egui::TextEdit::singleline(&mut self.query)
                .hint_text(hint)
                .desired_width(320.0)
                .id(egui::Id::new("search_box")),
        );
        let go = ui.button(cx.lang.pick("查询", "Find")).clicked();
        if go || (edit.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter))) {
            self.submit(cx, actions);
        }
        let Some(searched) = &self.searched else {
            return;
        };
        let mut close = false;
        egui::Window::new(cx.lang.pick("查询结果", "Results"))
            .id(egui::Id::new("search_results"))
            .anchor(egui::Align2::CENTER_TOP, [0.0, 56.0])
            .resizable(false)
            .collapsible(false)
            .show(ui.ctx(), |ui| {
                for id in &self.hazards {
                    let Some(h) = cx.city.hazard(*id) else {
                        continue;
                    };
                    let text = format!("{}  {}", h.code, h.name);
                    let on = cx.state.selected_hazard().is_some_and(|(s, _)| s == *id);
                    if ui.selectable_label(on, text).clicked() {
                        actions.push(UiAction::SelectHazard(Some((*id, None))));
                        actions.push(UiAction::FlyToHazard(*id));
                    }
                }
                if self.results.is_empty() && self.hazards.is_empty() {
                    ui.label(
                        egui::RichText::new(format!(
                            "{}「{searched}」",
                            cx.lang.pick("未找到", "Nothing found for")
                        ))
                        .color(theme::TEXT_DIM.egui()),
                    );
                }
                for id in &self.results {
                    let Some(b) = cx.city.building(*id) else {
                        continue;
                    };
                    let text = format!("{}  {}", b.code, b.name.as_deref().unwrap_or(&b.address));
                    if ui
                        .selectable_label(cx.state.selected() == Some(*id), text)
                        .clicked()
                    {
                        actions.push(UiAction::Select(Some(*id)));
                        actions.push(UiAction::FlyToBuilding(*id));
                    }
                }
                if ui.small_button(cx.lang.pick("关闭", "Close")).clicked() {
                    close = true;
                }
            });
        if close {
            self.searched = None;
            self.results.clear();
            self.hazards.clear();
        }
    }
}
