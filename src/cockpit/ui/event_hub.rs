//! The event hub (事件总枢纽): the open cases of the drilled-into area,
//! overdue first then newest, filterable by type, severity and status with
//! counts; the selected case shows its dispatch form (suggested departments,
//! editable), one button for its next step, return / failed check, and its
//! timeline (time, actor, department, step).

use bevy_egui::egui;

use super::{Lang, PanelContext, UiAction, theme};
use crate::backend::dispatch::DispatchRules;
use crate::cockpit::hub_view::{CaseFilter, KINDS, STATUSES};
use crate::model::{Case, CaseAction, CaseId, CaseLevel, CaseStatus, EventKind, RiskLevel};

/// The dispatch form of one case: departments (ticked or not) and a new
/// department being typed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DispatchForm {
    pub case: Option<CaseId>,
    pub departments: Vec<(String, bool)>,
    pub extra: String,
}

impl DispatchForm {
    /// The ticked departments, in order.
    pub fn chosen(&self) -> Vec<String> {
        self.departments
            .iter()
            .filter(|(_, on)| *on)
            .map(|(d, _)| d.clone())
            .collect()
    }
}

#[derive(Default)]
pub struct EventHub {
    pub form: DispatchForm,
    rules: Option<DispatchRules>,
}

pub fn kind_name(kind: EventKind, lang: Lang) -> &'static str {
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

fn short_kind_name(kind: EventKind, lang: Lang) -> &'static str {
    match kind {
        EventKind::FireMainPressureLost | EventKind::FireMainPressureRestored => {
            lang.pick("消防水压", "Fire main")
        }
        EventKind::MuckTruck => lang.pick("渣土车", "Muck truck"),
        EventKind::GridReport => lang.pick("网格", "Grid"),
        EventKind::LandslideWarning => lang.pick("地灾", "Landslide"),
    }
}

pub fn status_name(status: CaseStatus, lang: Lang) -> &'static str {
    match status {
        CaseStatus::Registered => lang.pick("待派遣", "To dispatch"),
        CaseStatus::Dispatched => lang.pick("已派遣", "Dispatched"),
        CaseStatus::Handling => lang.pick("处置中", "Handling"),
        CaseStatus::Verifying => lang.pick("待核查", "To verify"),
        CaseStatus::Closed => lang.pick("已结案", "Closed"),
    }
}

fn level_name(level: CaseLevel, lang: Lang) -> &'static str {
    match level {
        CaseLevel::Street => lang.pick("街道级", "street"),
        CaseLevel::District => lang.pick("区级", "district"),
        CaseLevel::City => lang.pick("市级", "city"),
    }
}

/// A timeline step's name.
pub fn step_name(action: &CaseAction, lang: Lang) -> String {
    match action {
        CaseAction::Dispatch { departments } => format!(
            "{} → {}",
            lang.pick("派遣", "Dispatched"),
            departments.join("、")
        ),
        CaseAction::Acknowledge => lang.pick("签收", "Acknowledged").to_owned(),
        CaseAction::Submit => lang.pick("处置完成", "Handled").to_owned(),
        CaseAction::Verify { passed: true } => lang.pick("核查通过", "Verified").to_owned(),
        CaseAction::Verify { passed: false } => {
            lang.pick("核查不通过", "Verification failed").to_owned()
        }
        CaseAction::Close => lang.pick("结案", "Closed").to_owned(),
        CaseAction::Return { reason } => format!("{} ({reason})", lang.pick("退回", "Returned")),
        CaseAction::Escalate { to } => format!(
            "{} {}",
            lang.pick("超时升级至", "Overdue, escalated to"),
            level_name(*to, lang)
        ),
    }
}

/// "剩 1:05" / "超时 0:12" (hours:minutes to or past the case's due time)
/// against the stream's clock.
pub fn countdown(case: &Case, now_ms: i64, lang: Lang) -> String {
    let left_min = (case.due_ms - now_ms).div_euclid(60_000);
    let (word, m) = if left_min >= 0 {
        (lang.pick("剩", "left"), left_min)
    } else {
        (lang.pick("超时", "overdue"), -left_min)
    };
    format!("{word} {}:{:02}", m / 60, m % 60)
}

/// Clock time (China Standard Time) of a stream timestamp.
pub fn clock(time_ms: i64) -> String {
    let minutes = (time_ms + 8 * 3_600_000).div_euclid(60_000);
    format!("{:02}:{:02}", minutes.div_euclid(60) % 24, minutes % 60)
}

/// A small toggle chip with a count; returns whether it was clicked.
fn chip(ui: &mut egui::Ui, on: bool, text: &str, count: usize, color: Option<theme::Rgb>) -> bool {
    let mut label = egui::RichText::new(format!("{text} {count}"));
    if let Some(c) = color.filter(|_| on) {
        label = label.color(c.egui());
    } else if !on {
        label = label.color(theme::TEXT_DIM.egui());
    }
    ui.selectable_label(on, label).clicked()
}

impl EventHub {
    fn rules(&mut self) -> Option<&DispatchRules> {
        if self.rules.is_none() {
            self.rules = DispatchRules::embedded().ok();
        }
        self.rules.as_ref()
    }

    /// The departments the rules suggest for a case.
    pub fn suggested(&mut self, case: &Case, cx: &PanelContext<'_>) -> Vec<String> {
        let building = case.building.and_then(|b| cx.city.building(b));
        let street = cx.city.streets.get(usize::from(case.street.0));
        self.rules()
            .map(|r| r.suggest(case.kind, building, street))
            .unwrap_or_default()
    }

    /// The one action the hub offers next for a case (dispatch uses the
    /// form's ticked departments).
    pub fn next_action(&mut self, case: &Case, cx: &PanelContext<'_>) -> Option<CaseAction> {
        Some(match case.status {
            CaseStatus::Registered => {
                self.sync_form(case, cx);
                CaseAction::Dispatch {
                    departments: self.form.chosen(),
                }
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

    /// Starts the form over with the rules' suggestions when the case changes.
    fn sync_form(&mut self, case: &Case, cx: &PanelContext<'_>) {
        if self.form.case != Some(case.id) {
            let suggested = self.suggested(case, cx);
            self.form = DispatchForm {
                case: Some(case.id),
                departments: suggested.into_iter().map(|d| (d, true)).collect(),
                extra: String::new(),
            };
        }
    }

    pub fn ui(&mut self, ctx: &egui::Context, cx: &PanelContext<'_>, actions: &mut Vec<UiAction>) {
        let lang = cx.lang;
        let now_ms = cx.state.last_time_ms().unwrap_or(0);
        let view = cx.view;
        let screen = ctx.viewport_rect();
        egui::Window::new(lang.pick("事件总枢纽", "Event hub"))
            .id(egui::Id::new("event_hub"))
            .anchor(egui::Align2::LEFT_TOP, [12.0, 64.0])
            .default_width(420.0)
            .max_width(440.0)
            .max_height((screen.height() - 300.0).max(200.0))
            .resizable(false)
            .collapsible(true)
            .show(ctx, |ui| {
                ui.label(
                    egui::RichText::new(format!(
                        "{} {}   {} {}   {} {}",
                        lang.pick("未结", "Open"),
                        view.counts.in_area,
                        lang.pick("显示", "Shown"),
                        view.rows.len(),
                        lang.pick("超时", "Overdue"),
                        view.counts.overdue
                    ))
                    .strong(),
                );
                self.filters(ui, cx, actions);
                ui.separator();
                let row_h = ui.text_style_height(&egui::TextStyle::Body) + 6.0;
                // Virtualised: only the visible rows are laid out.
                egui::ScrollArea::vertical()
                    .id_salt("hub_rows")
                    .max_height(240.0)
                    .show_rows(ui, row_h, view.rows.len(), |ui, range| {
                        for id in &view.rows[range] {
                            let Some(case) = cx.state.open_case(*id) else {
                                continue;
                            };
                            self.row(ui, case, cx, now_ms, actions);
                        }
                    });
                let Some(case) = view.selected.and_then(|id| cx.state.open_case(id)) else {
                    return;
                };
                ui.separator();
                self.case_detail(ui, case, cx, now_ms, actions);
            });
    }

    fn filters(&mut self, ui: &mut egui::Ui, cx: &PanelContext<'_>, actions: &mut Vec<UiAction>) {
        let lang = cx.lang;
        let counts = &cx.view.counts;
        let mut filter: CaseFilter = cx.view.filter;
        let before = filter;
        ui.horizontal_wrapped(|ui| {
            ui.label(egui::RichText::new(lang.pick("类型", "Type")).color(theme::TEXT_DIM.egui()));
            for (i, kind) in KINDS.iter().enumerate() {
                if chip(
                    ui,
                    filter.kinds[i],
                    short_kind_name(*kind, lang),
                    counts.kinds[i],
                    None,
                ) {
                    filter.solo_kind(*kind);
                }
            }
        });
        ui.horizontal_wrapped(|ui| {
            ui.label(
                egui::RichText::new(lang.pick("等级", "Severity")).color(theme::TEXT_DIM.egui()),
            );
            for level in RiskLevel::ALL {
                let i = level.index();
                let name = lang.pick(level.name_zh(), level.name_en());
                if chip(
                    ui,
                    filter.severities[i],
                    name,
                    counts.severities[i],
                    Some(theme::risk_color(level)),
                ) {
                    filter.severities[i] = !filter.severities[i];
                }
            }
        });
        ui.horizontal_wrapped(|ui| {
            ui.label(
                egui::RichText::new(lang.pick("状态", "Status")).color(theme::TEXT_DIM.egui()),
            );
            for (i, status) in STATUSES.iter().enumerate() {
                if chip(
                    ui,
                    filter.statuses[i],
                    status_name(*status, lang),
                    counts.statuses[i],
                    None,
                ) {
                    filter.statuses[i] = !filter.statuses[i];
                }
            }
            if chip(
                ui,
                filter.overdue_only,
                lang.pick("仅超时", "Overdue only"),
                counts.overdue,
                Some(theme::LINK_LOST),
            ) {
                filter.overdue_only = !filter.overdue_only;
            }
        });
        if filter != before {
            actions.push(UiAction::Filter(filter));
        }
    }

    fn row(
        &mut self,
        ui: &mut egui::Ui,
        case: &Case,
        cx: &PanelContext<'_>,
        now_ms: i64,
        actions: &mut Vec<UiAction>,
    ) {
        let lang = cx.lang;
        let code = case
            .building
            .and_then(|b| cx.city.building(b))
            .map_or("—", |b| b.code.as_str());
        let overdue = case.is_late(now_ms);
        let color = if overdue {
            theme::LINK_LOST
        } else {
            theme::TEXT
        };
        ui.horizontal(|ui| {
            let (dot, _) = ui.allocate_exact_size(egui::vec2(10.0, 10.0), egui::Sense::hover());
            ui.painter()
                .circle_filled(dot.center(), 4.5, theme::risk_color(case.severity).egui());
            let flag = if case.level == CaseLevel::Street {
                ""
            } else {
                " ↑"
            };
            let text = egui::RichText::new(format!(
                "{} {}  {}  {}  {}{flag}",
                clock(case.opened_ms),
                short_kind_name(case.kind, lang),
                code,
                status_name(case.status, lang),
                countdown(case, now_ms, lang),
            ))
            .color(color.egui());
            if ui
                .selectable_label(cx.view.selected == Some(case.id), text)
                .clicked()
            {
                actions.push(UiAction::SelectCase(Some(case.id)));
            }
        });
    }

    fn case_detail(
        &mut self,
        ui: &mut egui::Ui,
        case: &Case,
        cx: &PanelContext<'_>,
        now_ms: i64,
        actions: &mut Vec<UiAction>,
    ) {
        let lang = cx.lang;
        let building = case.building.and_then(|b| cx.city.building(b));
        ui.horizontal(|ui| {
            ui.label(
                egui::RichText::new(format!(
                    "{} #{}  {}",
                    lang.pick("案件", "Case"),
                    case.id.0,
                    kind_name(case.kind, lang)
                ))
                .strong()
                .color(theme::risk_color(case.severity).egui()),
            );
        });
        if let Some(b) = building {
            ui.label(
                egui::RichText::new(format!("{}  {}", b.code, b.address))
                    .color(theme::TEXT_DIM.egui()),
            );
        }
        let overdue = case.is_late(now_ms);
        ui.horizontal(|ui| {
            ui.label(status_name(case.status, lang));
            ui.label(
                egui::RichText::new(countdown(case, now_ms, lang)).color(if overdue {
                    theme::LINK_LOST.egui()
                } else {
                    theme::TEXT.egui()
                }),
            );
            if case.level != CaseLevel::Street {
                ui.label(
                    egui::RichText::new(format!(
                        "{} {}",
                        lang.pick("已升级", "Escalated:"),
                        level_name(case.level, lang)
                    ))
                    .color(theme::LINK_WAIT.egui()),
                );
            }
        });
        let Some(action) = self.next_action(case, cx) else {
            return;
        };
        if case.status == CaseStatus::Registered {
            self.dispatch_form(ui, lang);
        } else if !case.departments.is_empty() {
            ui.label(format!(
                "{}: {}",
                lang.pick("承办", "Assigned"),
                case.departments.join("、")
            ));
        }
        ui.horizontal(|ui| {
            let label = match &action {
                CaseAction::Dispatch { .. } => lang.pick("一键调度", "Dispatch"),
                CaseAction::Acknowledge => lang.pick("签收", "Acknowledge"),
                CaseAction::Submit => lang.pick("处置完成", "Handled"),
                CaseAction::Verify { .. } => lang.pick("核查通过", "Verified"),
                _ => lang.pick("结案", "Close"),
            };
            let ready =
                !matches!(&action, CaseAction::Dispatch { departments } if departments.is_empty());
            if ui
                .add_enabled(
                    ready,
                    egui::Button::new(egui::RichText::new(label).strong()),
                )
                .clicked()
            {
                actions.push(UiAction::Case {
                    case: case.id,
                    action,
                });
            }
            if matches!(case.status, CaseStatus::Dispatched | CaseStatus::Handling)
                && ui.button(lang.pick("退回", "Return")).clicked()
            {
                actions.push(UiAction::Case {
                    case: case.id,
                    action: CaseAction::Return {
                        reason: lang
                            .pick("调度员退回", "returned by the dispatcher")
                            .to_owned(),
                    },
                });
            }
            if case.status == CaseStatus::Verifying
                && ui.button(lang.pick("核查不通过", "Failed check")).clicked()
            {
                actions.push(UiAction::Case {
                    case: case.id,
                    action: CaseAction::Verify { passed: false },
                });
            }
        });
        self.timeline(ui, case, lang);
    }

    fn dispatch_form(&mut self, ui: &mut egui::Ui, lang: Lang) {
        ui.label(
            egui::RichText::new(lang.pick("派遣部门（可修改）", "Departments (editable)"))
                .color(theme::TEXT_DIM.egui()),
        );
        for (name, on) in &mut self.form.departments {
            ui.checkbox(on, name.as_str());
        }
        ui.horizontal(|ui| {
            let edit = ui.add(
                egui::TextEdit::singleline(&mut self.form.extra)
                    .hint_text(lang.pick("增加部门", "Add a department"))
                    .desired_width(180.0),
            );
            let entered = edit.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            if (ui.button("+").clicked() || entered) && !self.form.extra.trim().is_empty() {
                let name = self.form.extra.trim().to_owned();
                if !self.form.departments.iter().any(|(d, _)| *d == name) {
                    self.form.departments.push((name, true));
                }
                self.form.extra.clear();
            }
        });
    }

    fn timeline(&self, ui: &mut egui::Ui, case: &Case, lang: Lang) {
        ui.label(
            egui::RichText::new(lang.pick("案件时间线", "Timeline")).color(theme::TEXT_DIM.egui()),
        );
        // One wrapped line per step: time, who, what.
        let line = |ui: &mut egui::Ui, time_ms: i64, who: String, what: String| {
            ui.horizontal_wrapped(|ui| {
                ui.label(egui::RichText::new(clock(time_ms)).monospace());
                ui.label(egui::RichText::new(who).color(theme::TEXT_DIM.egui()));
                ui.label(what);
            });
        };
        line(
            ui,
            case.opened_ms,
            lang.pick("系统", "system").to_owned(),
            lang.pick("登记", "Registered").to_owned(),
        );
        for step in &case.steps {
            let who = match &step.department {
                Some(d) => format!("{} · {d}", step.actor),
                None => step.actor.clone(),
            };
            line(ui, step.time_ms, who, step_name(&step.action, lang));
        }
    }
}
