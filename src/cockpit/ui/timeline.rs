//! The timeline bar (时间轴) along the bottom: the span of the recording (or
//! of the live session's history), the clock in China Standard Time, a
//! density strip of case openings coloured by severity, ticks where cases
//! opened, escalated and closed; drag to seek, shift-drag to select a range
//! (loop it, or export it with `citytwin replay clip`); play/pause (space),
//! speeds, step back and forward, previous/next event (← →), back to live.
//! While the clock shows the past, a 回放中 / REPLAY banner says so and a
//! badge counts the alarms that arrived meanwhile. Emits
//! `TimeControlCommand`s only.

use bevy_egui::egui;

use super::{Lang, PanelContext, UiAction, theme};
use crate::cockpit::time::{PlayState, SPEEDS, STEP_MS, TimeControlCommand};
use crate::recording::MarkKind;
use crate::time::{clock_cst, format_cst};

/// Height of the track (points).
pub const TRACK_HEIGHT: f32 = 30.0;
/// Columns of the density strip.
const DENSITY_BINS: usize = 240;

#[derive(Debug, Default)]
pub struct TimelineBar {
    /// Where a shift-drag started (stream ms).
    select_from: Option<i64>,
    /// The track's rectangle in the last frame (tests aim at it).
    pub track: Option<egui::Rect>,
}

/// The x of stream time `t` on a track spanning `span`.
pub fn x_of(t: i64, rect: egui::Rect, span: (i64, i64)) -> f32 {
    let (a, b) = span;
    let f = if b > a {
        (t - a) as f64 / (b - a) as f64
    } else {
        1.0
    };
    rect.left() + rect.width() * f.clamp(0.0, 1.0) as f32
}

/// The stream time at `x` on a track spanning `span`.
pub fn time_at(x: f32, rect: egui::Rect, span: (i64, i64)) -> i64 {
    let (a, b) = span;
    let f = ((x - rect.left()) / rect.width().max(1.0)).clamp(0.0, 1.0) as f64;
    a + ((b - a) as f64 * f).round() as i64
}

fn speed_label(speed: f64) -> String {
    format!("{speed}×")
}

impl TimelineBar {
    /// Draws the bar along the bottom; returns its height (0 when there is
    /// no span to show yet).
    pub fn ui(
        &mut self,
        root: &mut egui::Ui,
        cx: &PanelContext<'_>,
        actions: &mut Vec<UiAction>,
    ) -> f32 {
        let Some(span) = cx.time.span() else {
            self.track = None;
            return 0.0;
        };
        let lang = cx.lang;
        let ctx = root.ctx().clone();
        let ctx = &ctx;
        let height = egui::Panel::bottom("timeline")
            .resizable(false)
            .show(root, |ui| {
                self.controls_ui(ui, cx, actions);
                self.track_ui(ui, cx, span, actions);
            })
            .response
            .rect
            .height();
        if cx.time.is_replaying() {
            banner_ui(ctx, cx, lang);
        }
        // Keys: space plays/pauses, ← → jump between events.
        if !ctx.egui_wants_keyboard_input() {
            let (space, left, right) = ctx.input(|i| {
                (
                    i.key_pressed(egui::Key::Space),
                    i.key_pressed(egui::Key::ArrowLeft),
                    i.key_pressed(egui::Key::ArrowRight),
                )
            });
            if space {
                actions.push(UiAction::Time(TimeControlCommand::TogglePlay));
            }
            for (pressed, forward) in [(left, false), (right, true)] {
                if pressed && let Some(t) = cx.marks.next_opening(cx.now_ms, forward) {
                    actions.push(UiAction::Time(TimeControlCommand::Seek(t)));
                }
            }
        }
        height
    }

    fn controls_ui(
        &mut self,
        ui: &mut egui::Ui,
        cx: &PanelContext<'_>,
        actions: &mut Vec<UiAction>,
    ) {
        let lang = cx.lang;
        let time = cx.time;
        let mut push = |c| actions.push(UiAction::Time(c));
        ui.horizontal(|ui| {
            ui.label(
                egui::RichText::new(lang.pick("时间轴", "Timeline")).color(theme::TEXT_DIM.egui()),
            );
            if ui
                .button(lang.pick("-1分", "-1 min"))
                .on_hover_text(lang.pick("后退一分钟", "Back one minute"))
                .clicked()
            {
                push(TimeControlCommand::StepBy(-STEP_MS));
            }
            let playing = matches!(time.play, PlayState::Playing { .. });
            let (icon, tip) = if playing || time.is_following() {
                ("⏸", lang.pick("暂停（空格）", "Pause (space)"))
            } else {
                ("⏵", lang.pick("播放（空格）", "Play (space)"))
            };
            if ui.button(icon).on_hover_text(tip).clicked() {
                push(TimeControlCommand::TogglePlay);
            }
            if ui
                .button(lang.pick("+1分", "+1 min"))
                .on_hover_text(lang.pick("前进一分钟", "Forward one minute"))
                .clicked()
            {
                push(TimeControlCommand::StepBy(STEP_MS));
            }
            for (forward, icon, tip) in [
                (false, "⏮", lang.pick("上一事件（←）", "Previous event (←)")),
                (true, "⏭", lang.pick("下一事件（→）", "Next event (→)")),
            ] {
                let target = cx.marks.next_opening(cx.now_ms, forward);
                if ui
                    .add_enabled(target.is_some(), egui::Button::new(icon))
                    .on_hover_text(tip)
                    .clicked()
                    && let Some(t) = target
                {
                    push(TimeControlCommand::Seek(t));
                }
            }
            ui.separator();
            for speed in SPEEDS {
                let on = (time.speed - speed).abs() < 1e-9;
                if ui.selectable_label(on, speed_label(speed)).clicked() {
                    push(TimeControlCommand::SetSpeed(speed));
                }
            }
            ui.separator();
            ui.label(
                egui::RichText::new(format!("{} (CST)", format_cst(cx.now_ms)))
                    .monospace()
                    .strong()
                    .color(theme::TEXT.egui()),
            );
            if let Some((a, b)) = time.selection {
                ui.separator();
                ui.label(
                    egui::RichText::new(format!("{}–{}", clock_cst(a), clock_cst(b)))
                        .color(theme::ACCENT.egui()),
                )
                .on_hover_text(lang.pick(
                    "导出：citytwin replay clip 文件 --from … --to … --out 片段.mcap",
                    "Export: citytwin replay clip FILE --from … --to … --out clip.mcap",
                ));
                let mut looping = time.looping;
                if ui
                    .checkbox(&mut looping, lang.pick("循环", "Loop"))
                    .changed()
                {
                    push(TimeControlCommand::Loop(looping));
                }
                if ui.small_button("×").clicked() {
                    push(TimeControlCommand::Select(None));
                }
            }
            if time.is_live() {
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    if time.is_following() {
                        ui.label(
                            egui::RichText::new(lang.pick("● 实时", "● LIVE"))
                                .strong()
                                .color(theme::LINK_OK.egui()),
                        );
                    } else {
                        if ui
                            .button(
                                egui::RichText::new(lang.pick("返回实时", "Back to live")).strong(),
                            )
                            .clicked()
                        {
                            push(TimeControlCommand::Follow);
                        }
                        let n = cx.head.new_alarms;
                        if n > 0 {
                            ui.label(
                                egui::RichText::new(format!(
                                    "{n} {}",
                                    lang.pick("条新告警", "new alarms")
                                ))
                                .strong()
                                .color(theme::LINK_LOST.egui()),
                            );
                        }
                    }
                });
            }
        });
    }

    fn track_ui(
        &mut self,
        ui: &mut egui::Ui,
        cx: &PanelContext<'_>,
        span: (i64, i64),
        actions: &mut Vec<UiAction>,
    ) {
        let width = ui.available_width();
        let (rect, response) = ui.allocate_exact_size(
            egui::vec2(width, TRACK_HEIGHT),
            egui::Sense::click_and_drag(),
        );
        self.track = Some(rect);
        let painter = ui.painter_at(rect);
        painter.rect_filled(rect, 3.0, theme::LABEL_FILL.egui());
        // Hour ticks with their clock labels.
        let hour = 3_600_000;
        let mut t = span.0.div_euclid(hour) * hour + hour;
        let label_every = ((span.1 - span.0) / hour / 12).max(1) * hour;
        while t < span.1 {
            let x = x_of(t, rect, span);
            painter.line_segment(
                [
                    egui::pos2(x, rect.bottom() - 5.0),
                    egui::pos2(x, rect.bottom()),
                ],
                egui::Stroke::new(1.0, theme::TEXT_DIM.egui()),
            );
            if t % label_every == 0 {
                painter.text(
                    egui::pos2(x + 2.0, rect.bottom() - 1.0),
                    egui::Align2::LEFT_BOTTOM,
                    clock_cst(t),
                    egui::FontId::proportional(10.0),
                    theme::TEXT_DIM.egui(),
                );
            }
            t += hour;
        }
        // Density of openings, coloured by the most severe in each column.
        let marks = cx.marks.marks_between(span.0, span.1);
        let mut bins = [(0u32, 4usize); DENSITY_BINS];
        for m in marks.iter().filter(|m| m.kind == MarkKind::Opened) {
            let i = (((x_of(m.time_ms, rect, span) - rect.left()) / rect.width().max(1.0))
                * (DENSITY_BINS - 1) as f32) as usize;
            let bin = &mut bins[i.min(DENSITY_BINS - 1)];
            bin.0 += 1;
            bin.1 = bin.1.min(m.severity.index());
        }
        let most = bins.iter().map(|b| b.0).max().unwrap_or(0).max(1);
        let bin_w = rect.width() / DENSITY_BINS as f32;
        for (i, (count, severity)) in bins.iter().enumerate() {
            if *count == 0 {
                continue;
            }
            let h = 4.0 + (TRACK_HEIGHT * 0.45 - 4.0) * (*count as f32 / most as f32);
            let x = rect.left() + i as f32 * bin_w;
            let level = crate::model::RiskLevel::ALL[*severity];
            painter.rect_filled(
                egui::Rect::from_min_max(
                    egui::pos2(x, rect.center().y - h / 2.0),
                    egui::pos2(x + bin_w.max(1.0), rect.center().y + h / 2.0),
                ),
                0.0,
                theme::risk_color(level).egui().gamma_multiply(0.55),
            );
        }
        // Ticks: openings at the top, escalations in the middle, closings
        // at the bottom.
        for m in marks {
            let x = x_of(m.time_ms, rect, span);
            let (y0, y1, color) = match m.kind {
                MarkKind::Opened => (rect.top(), rect.top() + 7.0, theme::risk_color(m.severity)),
                MarkKind::Escalated => (
                    rect.center().y - 3.0,
                    rect.center().y + 3.0,
                    theme::LINK_WAIT,
                ),
                MarkKind::Closed => (rect.bottom() - 7.0, rect.bottom(), theme::LINK_OK),
            };
            painter.line_segment(
                [egui::pos2(x, y0), egui::pos2(x, y1)],
                egui::Stroke::new(1.5, color.egui()),
            );
        }
        if let Some((a, b)) = cx.time.selection {
            let sel = egui::Rect::from_x_y_ranges(
                x_of(a, rect, span)..=x_of(b, rect, span),
                rect.y_range(),
            );
            painter.rect_filled(sel, 0.0, theme::ACCENT.egui().gamma_multiply(0.18));
        }
        let now_x = x_of(cx.now_ms, rect, span);
        painter.line_segment(
            [
                egui::pos2(now_x, rect.top()),
                egui::pos2(now_x, rect.bottom()),
            ],
            egui::Stroke::new(2.5, theme::ACCENT.egui()),
        );
        // Drag seeks; shift-drag selects a range.
        let shift = ui.input(|i| i.modifiers.shift);
        if let Some(pos) = response.interact_pointer_pos() {
            let t = time_at(pos.x, rect, span);
            if shift {
                let from = *self.select_from.get_or_insert(t);
                if response.drag_stopped() || response.dragged() {
                    actions.push(UiAction::Time(TimeControlCommand::Select(Some((from, t)))));
                }
            } else if response.dragged() || response.clicked() || response.drag_started() {
                actions.push(UiAction::Time(TimeControlCommand::Seek(t)));
            }
        }
        if !response.dragged() && !response.is_pointer_button_down_on() {
            self.select_from = None;
        }
        if let Some(pos) = response.hover_pos() {
            response.on_hover_text_at_pointer(format_cst(time_at(pos.x, rect, span)));
        }
    }
}

/// 回放中 / REPLAY across the top of the map while the clock shows the past.
fn banner_ui(ctx: &egui::Context, cx: &PanelContext<'_>, lang: Lang) {
    egui::Area::new(egui::Id::new("replay_banner"))
        .anchor(egui::Align2::CENTER_TOP, [0.0, 100.0])
        .interactable(false)
        .show(ctx, |ui| {
            egui::Frame::new()
                .fill(theme::REPLAY_FILL.egui())
                .corner_radius(4.0)
                .inner_margin(egui::Margin::symmetric(14, 6))
                .show(ui, |ui| {
                    ui.label(
                        egui::RichText::new(format!(
                            "{}  {}",
                            lang.pick("回放中", "REPLAY"),
                            format_cst(cx.now_ms)
                        ))
                        .strong()
                        .size(18.0)
                        .color(theme::TEXT.egui()),
                    );
                });
        });
}
