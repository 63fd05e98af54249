//! The event hub (事件总枢纽): open cases, overdue first, each with its
//! countdown; the selected case shows the suggested departments and one
//! button for its next step (一键调度, then handle → verify → close).

use bevy_egui::egui;

use super::{Lang, PanelContext, UiAction, theme};
use crate::backend::dispatch::DispatchRules;
use crate::model::{Case, CaseAction, CaseId, CaseStatus, EventKind};

#[derive(Default)]
pub struct EventHub {
    pub selected: Option<CaseId>,
    rules: Option<DispatchRules>,
}

fn kind_name(kind: EventKind, lang: Lang) -> &'static str {
    match kind {
        EventKind::FireMainPressureLost => lang.pick("消防主管网压力为零", "Fire main at 0 MPa"),
        EventKind::FireMainPressureRestored => {
            lang.pick("消防主管网压力恢复", "Fire main restored")
        }
        EventKind::MuckTruck => lang.pick("渣土车违规", "Illegal muck truck"),
        EventKind::GridReport => lang.pick("网格上报", "Grid report"),
        EventKind::LandslideWarning => lang.pick("地质灾害预警", "Landslide warning"),
    }
}

fn status_name(status: CaseStatus, lang: Lang) -> &'static str {
    match status {
        CaseStatus::Registered => lang.pick("待派遣", "To dispatch"),
        CaseStatus::Dispatched => lang.pick("已派遣", "Dispatched"),
        CaseStatus::Handling => lang.pick("处置中", "Handling"),
        CaseStatus::Verifying => lang.pick("待核查", "To verify"),
        CaseStatus::Closed => lang.pick("已结案", "Closed"),
    }
}

/// "剩 1:05" / "超时 0:12" (hours:minutes) against the stream's clock.
pub fn countdown(case: &Case, now_ms: i64, lang: Lang) -> String {
    let left_min = (case.deadline_ms - now_ms) / 60_000;
    let (word, m) = if left_min >= 0 {
        (lang.pick("剩", "left"), left_min)
    } else {
        (lang.pick("超时", "overdue"), -left_min)
    };
    format!("{word} {}:{:02}", m / 60, m % 60)
}

/// The open cases as listed: overdue first, then by deadline, newest last.
pub fn ordered<'a>(cx: &PanelContext<'a>, now_ms: i64) -> Vec<&'a Case> {
    let mut cases: Vec<&Case> = cx.state.open_cases().collect();
    cases.sort_by_key(|c| {
        (
            !c.is_overdue(now_ms),
            c.deadline_ms,
            std::cmp::Reverse(c.opened_ms),
        )
    });
    cases
}

impl EventHub {
    fn rules(&mut self) -> Option<&DispatchRules> {
        if self.rules.is_none() {
            self.rules = DispatchRules::embedded().ok();
        }
        self.rules.as_ref()
    }

    /// The one action the hub offers next for a case.
    pub fn next_action(&mut self, case: &Case, cx: &PanelContext<'_>) -> Option<CaseAction> {
        Some(match case.status {
            CaseStatus::Registered => {
                let building = case.building.and_then(|b| cx.city.building(b));
                let street = cx.city.streets.get(usize::from(case.street.0));
                let departments = self.rules()?.suggest(case.kind, building, street);
                CaseAction::Dispatch { departments }
            }
            CaseStatus::Dispatched => CaseAction::Acknowledge,
            CaseStatus::Handling => CaseAction::Submit,
            CaseStatus::Verifying
                if case
                    .steps
                    .last()
                    .is_some_and(|s| matches!(s.action, CaseAction::Verify { passed: true })) =>
            {
                CaseAction::Close
            }
            CaseStatus::Verifying => CaseAction::Verify { passed: true },
            CaseStatus::Closed => return None,
        })
    }

    pub fn ui(&mut self, ctx: &egui::Context, cx: &PanelContext<'_>, actions: &mut Vec<UiAction>) {
        let lang = cx.lang;
        let now_ms = cx.state.last_time_ms().unwrap_or(0);
        let cases = ordered(cx, now_ms);
        egui::Window::new(lang.pick("事件总枢纽", "Event hub"))
            .id(egui::Id::new("event_hub"))
            .anchor(egui::Align2::LEFT_TOP, [12.0, 56.0])
            .default_width(360.0)
            .resizable(false)
            .collapsible(true)
            .show(ctx, |ui| {
                let overdue = cases.iter().filter(|c| c.is_overdue(now_ms)).count();
                ui.label(
                    egui::RichText::new(format!(
                        "{} {}   {} {}",
                        lang.pick("未结", "Open"),
                        cases.len(),
                        lang.pick("超时", "Overdue"),
                        overdue
                    ))
                    .strong(),
                );
                let row_h = ui.text_style_height(&egui::TextStyle::Body) + 6.0;
                // Virtualised: only the visible rows are laid out.
                egui::ScrollArea::vertical().max_height(260.0).show_rows(
                    ui,
                    row_h,
                    cases.len(),
                    |ui, range| {
                        for case in &cases[range] {
                            let code = case
                                .building
                                .and_then(|b| cx.city.building(b))
                                .map_or("—", |b| b.code.as_str());
                            let color = if case.is_overdue(now_ms) {
                                theme::LINK_LOST
                            } else {
                                theme::TEXT
                            };
                            let text = egui::RichText::new(format!(
                                "{}  {}  {}  {}",
                                kind_name(case.kind, lang),
                                code,
                                status_name(case.status, lang),
                                countdown(case, now_ms, lang)
                            ))
                            .color(color.egui());
                            if ui
                                .selectable_label(self.selected == Some(case.id), text)
                                .clicked()
                            {
                                self.selected = Some(case.id);
                                if let Some(b) = case.building {
                                    actions.push(UiAction::Select(Some(b)));
                                    actions.push(UiAction::FlyToBuilding(b));
                                }
                            }
                        }
                    },
                );
                let Some(case) = self.selected.and_then(|id| cx.state.open_case(id)) else {
                    return;
                };
                ui.separator();
                ui.label(format!("{} #{}", lang.pick("案件", "Case"), case.id.0));
                if let Some(action) = self.next_action(case, cx) {
                    if let CaseAction::Dispatch { departments } = &action {
                        ui.label(
                            egui::RichText::new(lang.pick("建议派遣", "Suggested"))
                                .color(theme::TEXT_DIM.egui()),
                        );
                        for d in departments {
                            ui.label(format!("· {d}"));
                        }
                    }
                    let label = match &action {
                        CaseAction::Dispatch { .. } => lang.pick("一键调度", "Dispatch"),
                        CaseAction::Acknowledge => lang.pick("签收", "Acknowledge"),
                        CaseAction::Submit => lang.pick("处置完成", "Handled"),
                        CaseAction::Verify { .. } => lang.pick("核查通过", "Verified"),
                        _ => lang.pick("结案", "Close"),
                    };
                    if ui.button(label).clicked() {
                        actions.push(UiAction::Case {
                            case: case.id,
                            action,
                        });
                    }
                }
            });
    }
}
