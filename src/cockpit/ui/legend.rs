//! The risk legend: the five levels in their colours with live counts.

use bevy_egui::egui;

use super::{PanelContext, UiAction, theme};
use crate::model::RiskLevel;

/// One legend line as shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegendRow {
    pub level: RiskLevel,
    pub label: String,
    pub count: usize,
}

#[derive(Default)]
pub struct Legend;

impl Legend {
    /// The rows the legend shows, most severe first.
    pub fn rows(cx: &PanelContext<'_>) -> Vec<LegendRow> {
        let counts = cx.state.counts();
        RiskLevel::ALL
            .iter()
            .map(|&level| LegendRow {
                level,
                label: cx.lang.pick(level.name_zh(), level.name_en()).to_owned(),
                count: counts.get(level),
            })
            .collect()
    }

    pub fn ui(&mut self, ctx: &egui::Context, cx: &PanelContext<'_>, actions: &mut Vec<UiAction>) {
        egui::Window::new(cx.lang.pick("火灾风险等级", "Fire risk"))
            .id(egui::Id::new("legend"))
            .anchor(egui::Align2::LEFT_BOTTOM, [12.0, -12.0 - cx.bottom_inset])
            .resizable(false)
            .collapsible(false)
            .show(ctx, |ui| {
                egui::Grid::new("legend_rows")
                    .num_columns(3)
                    .spacing([10.0, 6.0])
                    .show(ui, |ui| {
                        for row in Self::rows(cx) {
                            let (rect, _) = ui
                                .allocate_exact_size(egui::vec2(18.0, 14.0), egui::Sense::hover());
                            ui.painter().rect_filled(
                                rect,
                                3.0,
                                theme::risk_color(row.level).egui(),
                            );
                            ui.label(&row.label);
                            ui.label(
                                egui::RichText::new(row.count.to_string())
                                    .monospace()
                                    .strong(),
                            );
                            ui.end_row();
                        }
                    });
                ui.separator();
                // Risk focus: from every level equal to only the high ones.
                let mut focus = cx.look.risk_focus;
                ui.horizontal(|ui| {
                    ui.label(cx.lang.pick("风险聚焦", "Risk focus"));
                    let slider = egui::Slider::new(&mut focus, 0.0..=1.0)
                        .show_value(false)
                        .trailing_fill(true);
                    let response = ui.add(slider).on_hover_text(cx.lang.pick(
                        "左：各等级同样醒目；右：只突出较大、重大",
                        "Left: all levels alike; right: only high and major stand out",
                    ));
                    if response.changed() {
                        actions.push(UiAction::Look(cx.look.with_focus(focus)));
                    }
                });
                ui.label(
                    egui::RichText::new(format!(
                        "{} {}",
                        cx.lang.pick("楼栋总数", "Buildings"),
                        cx.state.counts().total()
                    ))
                    .color(theme::TEXT_DIM.egui()),
                );
                for line in &cx.city.attributions {
                    ui.label(
                        egui::RichText::new(line)
                            .small()
                            .color(theme::TEXT_DIM.egui()),
                    );
                }
                for (line, warn) in imagery_lines(cx) {
                    let color = if warn {
                        theme::LINK_WAIT
                    } else {
                        theme::TEXT_DIM
                    };
                    ui.label(egui::RichText::new(line).small().color(color.egui()));
                }
            });
    }
}

/// The base map's lines under the attributions: which file, and what went
/// wrong with it (`true`: shown as a warning).
pub fn imagery_lines(cx: &PanelContext<'_>) -> Vec<(String, bool)> {
    let (Some(source), Some(status)) = (&cx.city.imagery, cx.imagery) else {
        return Vec::new();
    };
    let name = source.path.file_name().map_or_else(
        || source.path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let mut lines = vec![(
        format!(
            "{} {name} · {}",
            cx.lang.pick("影像", "Imagery"),
            source.summary
        ),
        false,
    )];
    if let Some(problem) = &status.problem {
        lines.push((
            format!(
                "{}: {problem}",
                cx.lang.pick("影像不可用", "Imagery unavailable")
            ),
            true,
        ));
    }
    if !status.corrupt_tiles.is_empty() {
        lines.push((
            format!(
                "{} {}",
                cx.lang.pick("已跳过损坏瓦片", "Corrupt tiles skipped:"),
                status.corrupt_tiles.len()
            ),
            true,
        ));
    }
    lines
}
