//! The top bar: title, the one-box search (一键查) and the language toggle.

use bevy_egui::egui;

use super::search::SearchBox;
use super::{Lang, PanelContext, UiAction, theme};

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
                    ui.label(
                        egui::RichText::new(cx.lang.pick(&cx.city.name_zh, &cx.city.name_en))
                            .color(theme::TEXT_DIM.egui()),
                    );
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
                        search.ui(ui, cx, actions);
                        if let Some(link) = cx.link {
                            super::link_badge::link_badge_ui(ui, link, cx.lang);
                        }
                    });
                });
            });
    }
}
