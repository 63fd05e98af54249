//! What the presenter mode draws: over the audience's scene the step's title
//! and caption (字幕), one KPI large, the blackout, the alarm banner when the
//! briefing says so; in the presenter's own window the current and next
//! step, the notes, the elapsed time and the banner; in the cockpit a small
//! panel to reorder steps and edit their titles and captions.

use bevy_egui::egui;

use super::{Presenter, PresenterCommand};
use crate::cockpit::ui::kpi_board::{big_kpi, kpi_name, kpi_text};
use crate::cockpit::ui::{Lang, theme};
use crate::live::LiveState;
use crate::model::Area;

/// Over the audience's scene.
pub fn audience_overlay(
    ctx: &egui::Context,
    presenter: &Presenter,
    state: &LiveState,
    area: Area,
    lang: Lang,
) {
    if !presenter.presenting {
        return;
    }
    let screen = ctx.viewport_rect();
    if presenter.blackout {
        egui::Area::new(egui::Id::new("blackout"))
            .order(egui::Order::Foreground)
            .fixed_pos(screen.min)
            .show(ctx, |ui| {
                ui.painter().rect_filled(screen, 0.0, egui::Color32::BLACK);
            });
        return;
    }
    let Some(step) = presenter.step() else {
        return;
    };
    let frame = egui::Frame::new()
        .fill(theme::PANEL_FILL.egui())
        .stroke(egui::Stroke::new(1.0, theme::PANEL_STROKE.egui()))
        .inner_margin(egui::Margin::symmetric(18, 10))
        .corner_radius(6.0);
    egui::Area::new(egui::Id::new("step_title"))
        .anchor(egui::Align2::LEFT_TOP, [24.0, 20.0])
        .show(ctx, |ui| {
            frame.show(ui, |ui| {
                ui.label(
                    egui::RichText::new(&step.title)
                        .size(30.0)
                        .strong()
                        .color(theme::TEXT.egui()),
                );
            });
        });
    if !step.caption.is_empty() {
        egui::Area::new(egui::Id::new("step_caption"))
            .anchor(egui::Align2::CENTER_BOTTOM, [0.0, -28.0])
            .show(ctx, |ui| {
                ui.set_max_width(screen.width() * 0.8);
                frame.show(ui, |ui| {
                    ui.label(
                        egui::RichText::new(&step.caption)
                            .size(24.0)
                            .color(theme::TEXT.egui()),
                    );
                });
            });
    }
    if let Some(kpi) = step.kpi {
        egui::Area::new(egui::Id::new("step_kpi"))
            .anchor(egui::Align2::RIGHT_CENTER, [-40.0, 0.0])
            .show(ctx, |ui| {
                frame.show(ui, |ui| {
                    ui.set_min_width(screen.width() * 0.22);
                    big_kpi(
                        ui,
                        kpi_name(kpi, lang),
                        &kpi_text(state, area, kpi),
                        screen.height() * 0.18,
                    );
                });
            });
    }
    let on_audience = presenter
        .briefing
        .as_ref()
        .is_some_and(|b| b.alarms.on_audience);
    if on_audience {
        alarm_banner(ctx, presenter, lang);
    }
}

/// The banner of a live alarm during a briefing, with its keys.
pub fn alarm_banner(ctx: &egui::Context, presenter: &Presenter, lang: Lang) {
    let Some(alarm) = &presenter.alarm else {
        return;
    };
    egui::Area::new(egui::Id::new("alarm_banner"))
        .order(egui::Order::Foreground)
        .anchor(egui::Align2::CENTER_TOP, [0.0, 16.0])
        .show(ctx, |ui| {
            egui::Frame::new()
                .fill(theme::REPLAY_FILL.egui())
                .inner_margin(egui::Margin::symmetric(16, 8))
                .corner_radius(6.0)
                .show(ui, |ui| {
                    ui.label(
                        egui::RichText::new(format!(
                            "{} {}   {}",
                            lang.pick("【新警情】", "[New alarm]"),
                            alarm.text,
                            lang.pick("A 前往 · R 返回汇报", "A go there · R back to the briefing")
                        ))
                        .size(20.0)
                        .strong()
                        .color(theme::TEXT.egui()),
                    );
                });
        });
}

/// The presenter's own window: step i/N, the current and next step, notes,
/// elapsed time, the alarm banner and any problem with the file.
pub fn presenter_view(ui: &mut egui::Ui, presenter: &Presenter, elapsed_s: f64, lang: Lang) {
    let n = presenter.len();
    ui.horizontal(|ui| {
        ui.label(
            egui::RichText::new(format!(
                "{} {}/{}",
                lang.pick("步骤", "Step"),
                presenter.index + 1,
                n
            ))
            .size(22.0)
            .strong(),
        );
        let secs = elapsed_s.max(0.0) as u64;
        ui.label(
            egui::RichText::new(format!(
                "{} {:02}:{:02}",
                lang.pick("已用时", "Elapsed"),
                secs / 60,
                secs % 60
            ))
            .size(22.0)
            .monospace(),
        );
        if presenter.blackout {
            ui.label(
                egui::RichText::new(lang.pick("● 黑屏中", "● Blacked out"))
                    .color(theme::LINK_WAIT.egui()),
            );
        }
        if !presenter.digits.is_empty() {
            ui.label(format!("→ {}", presenter.digits));
        }
    });
    alarm_banner(ui.ctx(), presenter, lang);
    if let Some(problem) = &presenter.problem {
        ui.colored_label(theme::LINK_LOST.egui(), problem);
    }
    ui.separator();
    if let Some(step) = presenter.step() {
        ui.label(egui::RichText::new(lang.pick("当前", "Now")).color(theme::TEXT_DIM.egui()));
        ui.label(egui::RichText::new(&step.title).size(26.0).strong());
        if !step.caption.is_empty() {
            ui.label(&step.caption);
        }
        ui.separator();
        ui.label(egui::RichText::new(lang.pick("讲稿", "Notes")).color(theme::TEXT_DIM.egui()));
        ui.label(egui::RichText::new(&step.notes).size(20.0));
    }
    ui.separator();
    ui.label(egui::RichText::new(lang.pick("下一步", "Next")).color(theme::TEXT_DIM.egui()));
    match presenter.next_step() {
        Some(next) => ui.label(egui::RichText::new(&next.title).size(20.0)),
        None => ui.label(lang.pick("（最后一步）", "(last step)")),
    };
    ui.separator();
    ui.label(
        egui::RichText::new(lang.pick(
            "→ / PageDown / 空格 下一步 · ← / PageUp 上一步 · B 黑屏 · 数字+回车 跳转 · Esc 退出",
            "→ / PageDown / Space next · ← / PageUp back · B blackout · number+Enter jump · Esc leave",
        ))
        .small()
        .color(theme::TEXT_DIM.egui()),
    );
}

/// Editing the open briefing without a text editor: reorder, retitle,
/// recaption, remove; Insert appends the current view.
pub fn authoring_panel(
    ctx: &egui::Context,
    presenter: &Presenter,
    lang: Lang,
) -> Vec<PresenterCommand> {
    let mut out = Vec::new();
    let Some(briefing) = &presenter.briefing else {
        return out;
    };
    if presenter.presenting {
        return out;
    }
    egui::Window::new(lang.pick("汇报编辑", "Briefing"))
        .id(egui::Id::new("briefing_editor"))
        .default_width(320.0)
        .show(ctx, |ui| {
            ui.label(
                egui::RichText::new(lang.pick(
                    "Insert 键：把当前视图加为新的一步",
                    "Insert: add the current view as a new step",
                ))
                .small()
                .color(theme::TEXT_DIM.egui()),
            );
            if let Some(problem) = &presenter.problem {
                ui.colored_label(theme::LINK_LOST.egui(), problem);
            }
            egui::ScrollArea::vertical()
                .max_height(360.0)
                .show(ui, |ui| {
                    for (i, step) in briefing.steps.iter().enumerate() {
                        ui.horizontal(|ui| {
                            ui.label(format!("{}.", i + 1));
                            let mut title = step.title.clone();
                            if ui.text_edit_singleline(&mut title).lost_focus()
                                && title != step.title
                            {
                                out.push(PresenterCommand::SetTitle(i, title));
                            }
                            if ui.small_button("↑").clicked() {
                                out.push(PresenterCommand::MoveStep {
                                    index: i,
                                    earlier: true,
                                });
                            }
                            if ui.small_button("↓").clicked() {
                                out.push(PresenterCommand::MoveStep {
                                    index: i,
                                    earlier: false,
                                });
                            }
                            if ui.small_button(lang.pick("删", "Del")).clicked() {
                                out.push(PresenterCommand::RemoveStep(i));
                            }
                        });
                        let mut caption = step.caption.clone();
                        if ui
                            .add(
                                egui::TextEdit::multiline(&mut caption)
                                    .desired_rows(1)
                                    .hint_text(lang.pick("字幕", "Caption")),
                            )
                            .lost_focus()
                            && caption != step.caption
                        {
                            out.push(PresenterCommand::SetCaption(i, caption));
                        }
                    }
                });
            if ui.button(lang.pick("开始汇报", "Present")).clicked() {
                out.push(PresenterCommand::Goto(0));
            }
        });
    out
}
