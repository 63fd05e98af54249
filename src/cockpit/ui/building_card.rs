//! The building card (一楼一码): code, address, district and street, height
//! and floors, risk level, and the three bound parties with phones.

use bevy_egui::egui;

use super::{PanelContext, UiAction, theme};
use crate::model::{Area, Building, Party};

#[derive(Default)]
pub struct BuildingCard;

impl BuildingCard {
    /// The card's lines (label, value) for a building, as shown.
    pub fn lines(building: &Building, cx: &PanelContext<'_>) -> Vec<(String, String)> {
        let lang = cx.lang;
        let district = cx
            .city
            .districts
            .get(usize::from(building.district.0))
            .map_or("—", |d| lang.pick(&d.name_zh, &d.name_en));
        let street = cx
            .city
            .streets
            .get(usize::from(building.street.0))
            .map_or("—", |s| s.name_zh.as_str());
        let level = cx.state.level(building.id).unwrap_or(building.base_level);
        let party = |p: &Party| {
            if p.phone.is_empty() {
                p.name.clone()
            } else {
                format!("{}  {}", p.name, p.phone)
            }
        };
        let mut lines = vec![
            (
                lang.pick("楼栋码", "Fire code").to_owned(),
                building.code.clone(),
            ),
            (
                lang.pick("地址", "Address").to_owned(),
                building.address.clone(),
            ),
            (
                lang.pick("区 / 街道", "District / street").to_owned(),
                format!("{district} / {street}"),
            ),
            (
                lang.pick("高度 / 层数", "Height / floors").to_owned(),
                format!("{:.0} m / {}", building.height_m, building.floors),
            ),
            (
                lang.pick("风险等级", "Risk level").to_owned(),
                lang.pick(level.name_zh(), level.name_en()).to_owned(),
            ),
            (
                lang.pick("消防安全责任人", "Fire safety responsible")
                    .to_owned(),
                party(&building.parties.safety_responsible),
            ),
            (
                lang.pick("消防安全管理人", "Fire safety manager")
                    .to_owned(),
                party(&building.parties.safety_manager),
            ),
            (
                lang.pick("维保单位", "Maintenance company").to_owned(),
                party(&building.parties.maintenance),
            ),
        ];
        if let Some(name) = &building.name {
            lines.insert(1, (lang.pick("名称", "Name").to_owned(), name.clone()));
        }
        if cx.state.is_alarmed(building.id) {
            lines.push((
                lang.pick("告警", "Alarm").to_owned(),
                lang.pick("告警中", "ACTIVE").to_owned(),
            ));
        }
        lines
    }

    pub fn ui(&mut self, ctx: &egui::Context, cx: &PanelContext<'_>, actions: &mut Vec<UiAction>) {
        let Some(building) = cx.state.selected().and_then(|id| cx.city.building(id)) else {
            return;
        };
        let level = cx.state.level(building.id).unwrap_or(building.base_level);
        egui::Window::new(cx.lang.pick("楼栋信息 · 一楼一码", "Building · fire code"))
            .id(egui::Id::new("building_card"))
            .anchor(egui::Align2::RIGHT_TOP, [-12.0, 56.0])
            .resizable(false)
            .collapsible(false)
            .show(ctx, |ui| {
                let (rect, _) = ui.allocate_exact_size(
                    egui::vec2(ui.available_width().max(260.0), 6.0),
                    egui::Sense::hover(),
                );
                ui.painter()
                    .rect_filled(rect, 2.0, theme::risk_color(level).egui());
                egui::Grid::new("card_lines")
                    .num_columns(2)
                    .spacing([12.0, 4.0])
                    .show(ui, |ui| {
                        for (label, value) in Self::lines(building, cx) {
                            ui.label(egui::RichText::new(label).color(theme::TEXT_DIM.egui()));
                            ui.label(value);
                            ui.end_row();
                        }
                    });
                ui.horizontal(|ui| {
                    if ui.button(cx.lang.pick("定位", "Fly to")).clicked() {
                        actions.push(UiAction::FlyToBuilding(building.id));
                    }
                    let street = Area::Street(building.district, building.street);
                    if cx.drill.at != street
                        && cx.drill.floor.covers(street)
                        && ui
                            .button(cx.lang.pick("进入所在街道", "Its street"))
                            .clicked()
                    {
                        actions.push(UiAction::DrillTo(street));
                    }
                    if ui.button(cx.lang.pick("关闭", "Close")).clicked() {
                        actions.push(UiAction::Select(None));
                    }
                });
            });
    }
}
