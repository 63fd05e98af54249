//! The top bar: title, the breadcrumb (city › district › street), the
//! one-box search (一键查), the link badge and the language toggle.

use bevy_egui::egui;

use super::search::SearchBox;
use super::{Lang, PanelContext, UiAction, theme};
use crate::cockpit::drill::area_name;

#[derive(Default)]
pub struct TopBar {
    pub search: SearchBox,
}

impl TopBar {
    pub fn ui(&mut self, root: &mut egui::Ui, cx: &PanelContext<'_>, actions: &mut Vec<UiAction>) {
        let Self { search } = self;
        egui::Panel::top("top_bar")
            .resizable(false)
            .show(root, |ui| {
                ui.horizontal(|ui| {
                    ui.heading(
                        egui::RichText::new(cx.lang.pick(
                            "城市运行数字孪生 · 一屏总览",
                            "City Twin · One-Screen Overview",
                        ))
                        .color(theme::ACCENT.egui())
                        .strong(),
                    );
                    breadcrumb(ui, cx, actions);
                    ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                        let (label, other) = match cx.lang {
                            Lang::Zh => ("EN", Lang::En),
                            Lang::En => ("中文", Lang::Zh),
                        };
                        if ui
                            .button(label)
                            .on_hover_text(cx.lang.pick("切换语言", "Switch language"))
                            .clicked()
                        {
                            actions.push(UiAction::SetLang(other));
                        }
                        if let Some(video) = cx.video {
                            let open = video.wall.open;
                            if ui
                                .selectable_label(open, cx.lang.pick("视频墙", "Video wall"))
                                .clicked()
                            {
                                actions.push(UiAction::Video(
                                    crate::cockpit::video::VideoCommand::Show(!open),
                                ));
                            }
                        }
                        search.ui(ui, cx, actions);
                        if let Some(link) = cx.link {
                            super::link_badge::link_badge_ui(ui, link, cx.lang);
                        }
                    });
                });
            });
    }
}

/// 重庆市 › 渝中区 › 解放碑街道: each level above the current one goes back
/// up (not above the token's floor).
fn breadcrumb(ui: &mut egui::Ui, cx: &PanelContext<'_>, actions: &mut Vec<UiAction>) {
    let path = cx.drill.at.path();
    for (i, area) in path.iter().enumerate() {
        if i > 0 {
            ui.label(egui::RichText::new("›").color(theme::TEXT_DIM.egui()));
        }
        let name = area_name(cx.city, *area, cx.lang);
        let last = i + 1 == path.len();
        if last {
            ui.label(egui::RichText::new(name).color(theme::TEXT.egui()).strong());
        } else if cx.drill.floor.covers(*area) {
            if ui.link(name).clicked() {
                actions.push(UiAction::DrillTo(*area));
            }
        } else {
            ui.label(egui::RichText::new(name).color(theme::TEXT_DIM.egui()));
        }
    }
}
