//! The event hub (事件总枢纽): the open cases of the drilled-into area,
//! overdue first then newest, filterable by type, severity and status with
//! counts; the selected case shows its dispatch form (suggested departments,
//! editable), one button for its next step, return / failed check, and its
//! timeline (time, actor, department, step).

use bevy_egui::egui;

use super::{Lang, PanelContext, UiAction, theme};
use crate::cockpit::hub_view::{CaseFilter, KINDS, STATUSES};
use crate::cockpit::time::TimeControlCommand;
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

/// How long a step button ignores clicks after its meaning changed (a
/// field unit moved the case on between the operator's look and click).
pub const STEP_CHANGE_GUARD_SECS: f64 = 0.8;

#[derive(Default)]
pub struct EventHub {
    pub form: DispatchForm,
    /// The rows as they were when the pointer came over the list: the list
    /// holds still under the pointer.
    frozen: Option<(Vec<CaseId>, std::collections::HashSet<CaseId>)>,
    /// Whether the pointer was over the list in the last frame.
    pub list_hovered: bool,
    /// The selected case's version as shown, and since when (egui time).
    shown_step: Option<(CaseId, u32, f64)>,
    /// Which tab is open: the open cases, or the history of all cases.
    pub tab: HubTab,
    /// The History tab's search text.
    pub query: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum HubTab {
    #[default]
    Open,
    History,
}

/// Whether a case matches the History tab's search: its id, its building's
/// fire code, its kind (either language) or its district.
pub fn history_matches(case: &Case, query: &str, city: &crate::model::City) -> bool {
    let q = query.trim();
    if q.is_empty() {
        return true;
    }
    let q_lower = q.to_lowercase();
    let id = case.id.0.to_string();
    let code = case
        .building
        .and_then(|b| city.building(b))
        .map(|b| b.code.as_str())
        .unwrap_or("");
    let district = city.districts.get(usize::from(case.district.0));
    id == q.trim_start_matches('#')
        || code.contains(q)
        || [
            kind_name(case.kind, Lang::Zh),
            short_kind_name(case.kind, Lang::Zh),
        ]
        .iter()
        .any(|n| n.contains(q))
        || [
            kind_name(case.kind, Lang::En),
            short_kind_name(case.kind, Lang::En),
        ]
        .iter()
        .any(|n| n.to_lowercase().contains(&q_lower))
        || district.is_some_and(|d| {
            d.name_zh.contains(q) || d.code == q || d.name_en.to_lowercase().contains(&q_lower)
        })
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
    crate::time::clock_cst(time_ms)
}

/// A small toggle chip with a count; returns whether it was clicked.
fn chip(ui: &mut egui::Ui, on: bool, text: &str, count: usize, color: Option<theme::Rgb>) -> bool {
    // The level's colour is a swatch before the text, never the text on
    // the selection fill (it would not be readable there).
    let font = egui::TextStyle::Button.resolve(ui.style());
    let mut job = egui::text::LayoutJob::default();
    if let Some(c) = color {
        let swatch = if on { c } else { theme::TEXT_DIM };
        job.append(
            "■ ",
            0.0,
            egui::TextFormat::simple(font.clone(), swatch.egui()),
        );
    }
    let fg = if on { theme::TEXT } else { theme::TEXT_DIM };
    job.append(
        &format!("{text} {count}"),
        0.0,
        egui::TextFormat::simple(font, fg.egui()),
    );
    ui.selectable_label(on, job).clicked()
}

impl EventHub {
    /// The one action the hub offers next for a case (dispatch uses the
    /// form's ticked departments).
    pub fn next_action(&mut self, case: &Case) -> Option<CaseAction> {
        Some(match case.status {
            CaseStatus::Registered => {
                self.sync_form(case);
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
    fn sync_form(&mut self, case: &Case) {
        if self.form.case != Some(case.id) {
            // The backend's suggestion travels with the case.
            self.form = DispatchForm {
                case: Some(case.id),
                departments: case.suggested.iter().map(|d| (d.clone(), true)).collect(),
                extra: String::new(),
            };
        }
    }

    pub fn ui(&mut self, ctx: &egui::Context, cx: &PanelContext<'_>, actions: &mut Vec<UiAction>) {
        let lang = cx.lang;
        let screen = ctx.viewport_rect();
        egui::Window::new(lang.pick("事件总枢纽", "Event hub"))
            .id(egui::Id::new("event_hub"))
            .anchor(egui::Align2::LEFT_TOP, [12.0, 64.0])
            .default_width(420.0)
            .max_width(440.0)
            .max_height((screen.height() - 300.0).max(200.0))
            .resizable(false)
            .collapsible(true)
            .show(ctx, |ui| self.contents(ui, cx, actions, 240.0));
    }

    /// The hub's body (counts, tabs, filters, the list, the selected
    /// case) in `ui`: inside its window, or filling a wall window.
    pub fn contents(
        &mut self,
        ui: &mut egui::Ui,
        cx: &PanelContext<'_>,
        actions: &mut Vec<UiAction>,
        list_height: f32,
    ) {
        let lang = cx.lang;
        let now_ms = cx.now_ms;
        let view = cx.view;
        // Under the pointer the list holds still; new cases wait above it.
        if !self.list_hovered {
            self.frozen = None;
        } else if self.frozen.is_none() {
            let rows = view.rows.clone();
            let set = rows.iter().copied().collect();
            self.frozen = Some((rows, set));
        }
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
        let waiting = self.frozen.as_ref().map_or(0, |(_, set)| {
            view.rows.iter().filter(|id| !set.contains(id)).count()
        });
        let mut to_top = false;
        // The tabs' row also holds the "new cases" bar: it comes and
        // goes without moving anything below it.
        ui.horizontal(|ui| {
            for (tab, label) in [
                (HubTab::Open, lang.pick("当前", "Open")),
                (HubTab::History, lang.pick("历史", "History")),
            ] {
                if ui.selectable_label(self.tab == tab, label).clicked() {
                    self.tab = tab;
                }
            }
            if waiting > 0
                && self.tab == HubTab::Open
                && ui
                    .button(
                        egui::RichText::new(format!(
                            "↑ {waiting} {}",
                            lang.pick("条新事件", "new cases")
                        ))
                        .color(theme::ACCENT.egui()),
                    )
                    .clicked()
            {
                self.frozen = None;
                to_top = true;
            }
        });
        if self.tab == HubTab::History {
            self.history_ui(ui, cx, actions);
            return;
        }
        self.filters(ui, cx, actions);
        ui.separator();
        // Borrowed, not copied: the list can hold 10k rows.
        let rows: &[CaseId] = match &self.frozen {
            Some((rows, _)) => rows,
            None => &view.rows,
        };
        let row_h = ui.text_style_height(&egui::TextStyle::Body) + 6.0;
        // Virtualised: only the visible rows are laid out.
        let mut area = egui::ScrollArea::vertical()
            .id_salt("hub_rows")
            .max_height(list_height);
        if to_top {
            area = area.vertical_scroll_offset(0.0);
        }
        let list_top = ui.cursor().top();
        area.show_rows(ui, row_h, rows.len(), |ui, range| {
            for id in &rows[range] {
                let Some(case) = cx.state.open_case(*id) else {
                    continue;
                };
                Self::row(ui, case, cx, now_ms, actions);
            }
        });
        let list =
            egui::Rect::from_x_y_ranges(ui.max_rect().x_range(), list_top..=ui.cursor().top());
        self.list_hovered = ui.rect_contains_pointer(list) && !to_top;
        let Some(case) = view.selected.and_then(|id| cx.state.open_case(id)) else {
            return;
        };
        ui.separator();
        self.case_detail(ui, case, cx, now_ms, actions);
    }

    /// Every case the stream mentioned, open or closed, newest first;
    /// choosing one seeks to the minute it opened and plays from there.
    fn history_ui(
        &mut self,
        ui: &mut egui::Ui,
        cx: &PanelContext<'_>,
        actions: &mut Vec<UiAction>,
    ) {
        let lang = cx.lang;
        ui.add(
            egui::TextEdit::singleline(&mut self.query)
                .hint_text(lang.pick(
                    "案件号、楼栋编码、类型或区县",
                    "Case id, building code, kind or district",
                ))
                .desired_width(f32::INFINITY),
        );
        let found: Vec<&Case> = cx
            .marks
            .cases
            .values()
            .rev()
            .filter(|c| history_matches(c, &self.query, cx.city))
            .collect();
        ui.label(
            egui::RichText::new(format!("{} {}", found.len(), lang.pick("件", "cases")))
                .color(theme::TEXT_DIM.egui()),
        );
        let row_h = ui.text_style_height(&egui::TextStyle::Body) + 6.0;
        egui::ScrollArea::vertical()
            .id_salt("hub_history")
            .max_height(300.0)
            .show_rows(ui, row_h, found.len(), |ui, range| {
                for case in &found[range] {
                    let code = case
                        .building
                        .and_then(|b| cx.city.building(b))
                        .map_or("—", |b| b.code.as_str());
                    let text = format!(
                        "#{} {} {}  {}  {}",
                        case.id.0,
                        crate::time::format_cst(case.opened_ms),
                        short_kind_name(case.kind, lang),
                        code,
                        status_name(case.status, lang),
                    );
                    let selected = cx.view.selected == Some(case.id);
                    let bg = if selected {
                        theme::PANEL_STROKE
                    } else {
                        theme::PANEL_FILL
                    };
                    let color = theme::readable_on(theme::risk_color(case.severity), bg);
                    if ui
                        .selectable_label(selected, egui::RichText::new(text).color(color.egui()))
                        .on_hover_text(lang.pick("回放此案件", "Replay this case"))
                        .clicked()
                    {
                        let minute = case.opened_ms.div_euclid(60_000) * 60_000;
                        actions.push(UiAction::Time(TimeControlCommand::Seek(minute)));
                        actions.push(UiAction::Time(TimeControlCommand::Play));
                        actions.push(UiAction::SelectCase(Some(case.id)));
                        self.tab = HubTab::Open;
                    }
                }
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
                .color(
                    theme::readable_on(theme::risk_color(case.severity), theme::PANEL_FILL).egui(),
                ),
            );
        });
        if let Some(b) = building {
            ui.label(
                egui::RichText::new(format!("{}  {}", b.code, b.address))
                    .color(theme::TEXT_DIM.egui()),
            );
        }
        video_links(ui, case, cx, actions);
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
        let Some(action) = self.next_action(case) else {
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
        // A button whose meaning just changed ignores clicks for a moment.
        let now_s = ui.input(|i| i.time);
        let version = case.version();
        let changed_at = match self.shown_step {
            Some((id, v, at)) if id == case.id && v == version => at,
            Some((id, _, _)) if id == case.id => now_s,
            _ => f64::NEG_INFINITY,
        };
        self.shown_step = Some((case.id, version, changed_at));
        let settling = now_s - changed_at < STEP_CHANGE_GUARD_SECS;
        if settling {
            ui.ctx().request_repaint();
        }
        let replaying = cx.time.is_replaying();
        let step = |action: CaseAction| UiAction::Case {
            case: case.id,
            action,
            version,
        };
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
            let why_not = if replaying {
                Some(crate::cockpit::stream::replay::REFUSAL)
            } else if settling {
                Some(lang.pick(
                    "案件状态刚刚变化，请确认后再点",
                    "The case just moved on: look again before clicking",
                ))
            } else {
                None
            };
            let enabled = ready && why_not.is_none();
            let button = ui.add_enabled(
                enabled,
                egui::Button::new(egui::RichText::new(label).strong()),
            );
            let button = match why_not {
                Some(why) => button.on_disabled_hover_text(why),
                None => button,
            };
            if button.clicked() {
                actions.push(step(action));
            }
            if matches!(case.status, CaseStatus::Dispatched | CaseStatus::Handling)
                && ui
                    .add_enabled(
                        why_not.is_none(),
                        egui::Button::new(lang.pick("退回", "Return")),
                    )
                    .clicked()
            {
                actions.push(step(CaseAction::Return {
                    reason: lang
                        .pick("调度员退回", "returned by the dispatcher")
                        .to_owned(),
                }));
            }
            if case.status == CaseStatus::Verifying
                && ui
                    .add_enabled(
                        why_not.is_none(),
                        egui::Button::new(lang.pick("核查不通过", "Failed check")),
                    )
                    .clicked()
            {
                actions.push(step(CaseAction::Verify { passed: false }));
            }
        });
        if replaying {
            ui.label(
                egui::RichText::new(crate::cockpit::stream::replay::REFUSAL)
                    .color(theme::LINK_WAIT.egui()),
            );
        } else if let Some(refusal) = &cx.feedback.failed {
            ui.label(egui::RichText::new(refusal.to_string()).color(theme::LINK_LOST.egui()));
        } else if let Some(reason) = &cx.feedback.refused {
            ui.label(egui::RichText::new(reason).color(theme::LINK_WAIT.egui()));
        }
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

/// The case's cameras: the AI camera that raised it, the nearby cameras on
/// the wall, and for a fire case the 视频连线 to the rescue team's
/// body-worn camera.
fn video_links(ui: &mut egui::Ui, case: &Case, cx: &PanelContext<'_>, actions: &mut Vec<UiAction>) {
    use crate::cockpit::video::{VideoCommand, rescue_camera};
    let Some(video) = cx.video else {
        return;
    };
    let lang = cx.lang;
    let source = cx
        .state
        .live
        .open_event(case.event)
        .and_then(|e| e.camera)
        .and_then(|id| cx.city.camera(id));
    ui.horizontal(|ui| {
        if let Some(camera) = source {
            ui.label(
                egui::RichText::new(format!(
                    "{} {}",
                    lang.pick("AI 识别相机", "AI camera"),
                    camera.name
                ))
                .color(theme::TEXT_DIM.egui()),
            );
        }
        if let Some(linked) = video.wall.linked.as_ref().filter(|l| l.case == case.id)
            && !linked.cameras.is_empty()
            && ui
                .small_button(format!(
                    "{} {}",
                    lang.pick("周边视频", "Nearby cameras"),
                    linked.cameras.len()
                ))
                .clicked()
        {
            actions.push(UiAction::Video(VideoCommand::Show(true)));
        }
        let place = case
            .building
            .and_then(|b| cx.city.building(b))
            .map(|b| b.centre_m());
        if case.kind == EventKind::FireMainPressureLost
            && let Some(camera) = place.and_then(|p| rescue_camera(cx.city, p))
        {
            let on = video.wall.video_link.is_some_and(|(c, _)| c == case.id);
            if ui
                .selectable_label(on, lang.pick("视频连线", "Video link"))
                .on_hover_text(lang.pick(
                    "与救援队执法记录仪视频连线",
                    "Talk to the rescue team over its body-worn camera",
                ))
                .clicked()
            {
                let link = (!on).then_some((case.id, camera));
                actions.push(UiAction::Video(VideoCommand::VideoLink(link)));
            }
        }
    });
}
