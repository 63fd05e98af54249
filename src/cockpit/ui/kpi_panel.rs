//! The KPI panel (城市体检表): received, closed, closure rate and on-time
//! rate for the drilled-into area, a table of its districts (or streets)
//! that drills down on click, and a trend chart: cases received per
//! interval (bars) and the closure rate (line) up to the clock's time —
//! rebuilt from the KPIs now and the cases the stream mentioned, so after a
//! seek it shows the past as it was, never the future.

use bevy_egui::egui;

use super::{Lang, PanelContext, UiAction, theme};
use crate::model::{Area, Kpi, KpiTable};

/// Stream time between two trend points.
pub const SAMPLE_EVERY_MS: i64 = 10 * 60_000;
/// Points shown: a day at one per 10 minutes.
pub const SAMPLES_KEPT: usize = 144;

/// One line of the table as shown.
#[derive(Debug, Clone, PartialEq)]
pub struct KpiRow {
    pub area: Area,
    pub name: String,
    pub kpi: Kpi,
}

#[derive(Default)]
pub struct KpiPanel {}

/// The KPIs of one area in a table.
pub fn kpi_of(table: &KpiTable, area: Area) -> Kpi {
    match area {
        Area::City => table.city,
        Area::District(d) => table.districts.get(&d).copied().unwrap_or_default(),
        Area::Street(_, s) => table.streets.get(&s).copied().unwrap_or_default(),
    }
}

fn percent(x: f64) -> String {
    format!("{:.1}%", 100.0 * x)
}

impl KpiPanel {
    /// The areas one level below `area` with their KPIs (districts of the
    /// city, streets of a district; a street has none), busiest first.
    pub fn rows(cx: &PanelContext<'_>, area: Area) -> Vec<KpiRow> {
        let table = cx.state.kpi();
        let mut rows: Vec<KpiRow> = match area {
            Area::City => cx
                .city
                .districts
                .iter()
                .map(|d| KpiRow {
                    area: Area::District(d.id),
                    name: cx.lang.pick(&d.name_zh, &d.name_en).to_owned(),
                    kpi: kpi_of(table, Area::District(d.id)),
                })
                .collect(),
            Area::District(id) => cx
                .city
                .streets
                .iter()
                .filter(|s| s.district == id)
                .map(|s| KpiRow {
                    area: Area::Street(id, s.id),
                    name: s.name_zh.clone(),
                    kpi: kpi_of(table, Area::Street(id, s.id)),
                })
                .collect(),
            Area::Street(..) => Vec::new(),
        };
        rows.sort_by(|a, b| {
            b.kpi
                .received
                .cmp(&a.kpi.received)
                .then(a.name.cmp(&b.name))
        });
        rows
    }

    /// The area's KPIs every [`SAMPLE_EVERY_MS`] up to the clock's time,
    /// oldest first: the KPIs now, minus what the cases the stream
    /// mentioned received and closed after each point. Points before the
    /// stream's known history (the timeline's start) are left out.
    pub fn trend_points(cx: &PanelContext<'_>, area: Area) -> Vec<Kpi> {
        let now = cx.now_ms;
        let start = cx.time.span().map_or(i64::MIN, |s| s.0);
        let bins = (0..SAMPLES_KEPT)
            .take_while(|j| now - *j as i64 * SAMPLE_EVERY_MS >= start)
            .count();
        if bins == 0 {
            return Vec::new();
        }
        // after[j]: counted after point j (= now − j·interval).
        let mut received = vec![0u64; bins + 1];
        let mut closed = vec![0u64; bins + 1];
        let mut on_time = vec![0u64; bins + 1];
        let first_point_after = |t: i64| (((now - t) / SAMPLE_EVERY_MS) + 1) as usize;
        for case in cx.marks.cases.values() {
            if !area.contains(case.district, case.street) || case.opened_ms > now {
                continue;
            }
            received[first_point_after(case.opened_ms).min(bins)] += 1;
            if let Some(t) = case.closed_ms().filter(|t| *t <= now) {
                closed[first_point_after(t).min(bins)] += 1;
                if t <= case.due_ms {
                    on_time[first_point_after(t).min(bins)] += 1;
                }
            }
        }
        let now_kpi = kpi_of(cx.state.kpi(), area);
        let (mut r, mut c, mut o) = (0, 0, 0);
        let mut points: Vec<Kpi> = (0..bins)
            .map(|j| {
                r += received[j];
                c += closed[j];
                o += on_time[j];
                Kpi {
                    received: now_kpi.received.saturating_sub(r),
                    closed: now_kpi.closed.saturating_sub(c),
                    closed_on_time: now_kpi.closed_on_time.saturating_sub(o),
                }
            })
            .collect();
        points.reverse();
        points
    }

    pub fn ui(&mut self, ctx: &egui::Context, cx: &PanelContext<'_>, actions: &mut Vec<UiAction>) {
        let lang = cx.lang;
        let area = cx.drill.at;
        let kpi = kpi_of(cx.state.kpi(), area);
        egui::Window::new(lang.pick("城市体检表 · 案件指标", "City check-up · case KPIs"))
            .id(egui::Id::new("kpi_panel"))
            .anchor(egui::Align2::RIGHT_BOTTOM, [-12.0, -12.0 - cx.bottom_inset])
            .default_width(440.0)
            .resizable(false)
            .collapsible(true)
            .show(ctx, |ui| {
                ui.label(
                    egui::RichText::new(crate::cockpit::drill::area_name(cx.city, area, lang))
                        .color(theme::ACCENT.egui())
                        .strong(),
                );
                ui.horizontal(|ui| {
                    for (label, value) in [
                        (lang.pick("受理", "Received"), kpi.received.to_string()),
                        (lang.pick("办结", "Closed"), kpi.closed.to_string()),
                        (lang.pick("办结率", "Closure"), percent(kpi.closure_rate())),
                        (lang.pick("按时率", "On time"), percent(kpi.on_time_rate())),
                    ] {
                        ui.vertical(|ui| {
                            ui.label(egui::RichText::new(label).color(theme::TEXT_DIM.egui()));
                            ui.label(egui::RichText::new(value).size(22.0).strong());
                        });
                        ui.add_space(10.0);
                    }
                });
                Self::trend(ui, &Self::trend_points(cx, area), lang);
                let rows = Self::rows(cx, area);
                if rows.is_empty() {
                    return;
                }
                ui.separator();
                let row_h = ui.text_style_height(&egui::TextStyle::Body) + 4.0;
                egui::ScrollArea::vertical()
                    .id_salt("kpi_rows")
                    .max_height(row_h * 9.5)
                    .show(ui, |ui| {
                        egui::Grid::new("kpi_table")
                            .num_columns(5)
                            .striped(true)
                            .spacing([14.0, 2.0])
                            .show(ui, |ui| {
                                for h in [
                                    lang.pick("区域", "Area"),
                                    lang.pick("受理", "Received"),
                                    lang.pick("办结", "Closed"),
                                    lang.pick("办结率", "Closure"),
                                    lang.pick("按时率", "On time"),
                                ] {
                                    ui.label(egui::RichText::new(h).color(theme::TEXT_DIM.egui()));
                                }
                                ui.end_row();
                                for row in rows {
                                    if ui
                                        .link(&row.name)
                                        .on_hover_text(lang.pick("进入", "Drill down"))
                                        .clicked()
                                    {
                                        actions.push(UiAction::DrillTo(row.area));
                                    }
                                    ui.label(row.kpi.received.to_string());
                                    ui.label(row.kpi.closed.to_string());
                                    ui.label(percent(row.kpi.closure_rate()));
                                    ui.label(percent(row.kpi.on_time_rate()));
                                    ui.end_row();
                                }
                            });
                    });
            });
    }

    /// Bars: cases received per sample interval; line: closure rate.
    fn trend(ui: &mut egui::Ui, points: &[Kpi], lang: Lang) {
        let (rect, _) = ui.allocate_exact_size(
            egui::vec2(ui.available_width().max(380.0), 84.0),
            egui::Sense::hover(),
        );
        let painter = ui.painter_at(rect);
        painter.rect_stroke(
            rect,
            2.0,
            egui::Stroke::new(1.0, theme::PANEL_STROKE.egui()),
            egui::StrokeKind::Inside,
        );
        if points.len() < 2 {
            painter.text(
                rect.center(),
                egui::Align2::CENTER_CENTER,
                lang.pick("趋势采样中…", "Sampling the trend…"),
                egui::FontId::proportional(13.0),
                theme::TEXT_DIM.egui(),
            );
            return;
        }
        let received: Vec<u64> = points
            .windows(2)
            .map(|w| w[1].received.saturating_sub(w[0].received))
            .collect();
        let most = received.iter().copied().max().unwrap_or(0).max(1) as f32;
        let slot = rect.width() / SAMPLES_KEPT as f32;
        let x0 = rect.right() - slot * received.len() as f32;
        for (i, n) in received.iter().enumerate() {
            let h = (rect.height() - 6.0) * (*n as f32 / most);
            let x = x0 + slot * i as f32;
            painter.rect_filled(
                egui::Rect::from_min_max(
                    egui::pos2(x + 0.5, rect.bottom() - h),
                    egui::pos2(x + slot.max(1.5) - 0.5, rect.bottom()),
                ),
                0.0,
                theme::PANEL_STROKE.egui(),
            );
        }
        let line: Vec<egui::Pos2> = points[1..]
            .iter()
            .enumerate()
            .map(|(i, k)| {
                egui::pos2(
                    x0 + slot * (i as f32 + 0.5),
                    rect.bottom() - 3.0 - (rect.height() - 6.0) * k.closure_rate() as f32,
                )
            })
            .collect();
        painter.add(egui::Shape::line(
            line,
            egui::Stroke::new(2.0, theme::ACCENT.egui()),
        ));
        // Legend: a line swatch for the rate, a bar swatch for the count.
        let font = egui::FontId::proportional(12.0);
        let mut x = rect.left() + 6.0;
        let y = rect.top() + 9.0;
        painter.line_segment(
            [egui::pos2(x, y), egui::pos2(x + 12.0, y)],
            egui::Stroke::new(2.0, theme::ACCENT.egui()),
        );
        x += 16.0;
        let text = painter.text(
            egui::pos2(x, y),
            egui::Align2::LEFT_CENTER,
            lang.pick("办结率", "closure rate"),
            font.clone(),
            theme::TEXT_DIM.egui(),
        );
        x = text.right() + 12.0;
        painter.rect_filled(
            egui::Rect::from_min_size(egui::pos2(x, y - 5.0), egui::vec2(6.0, 10.0)),
            0.0,
            theme::PANEL_STROKE.egui(),
        );
        painter.text(
            egui::pos2(x + 10.0, y),
            egui::Align2::LEFT_CENTER,
            lang.pick("受理量", "received"),
            font,
            theme::TEXT_DIM.egui(),
        );
    }
}
