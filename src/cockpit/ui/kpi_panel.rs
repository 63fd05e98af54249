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
                        (
                            lang.pick("办结率", "Closure"),
                            crate::model::percent_text(kpi.closure()),
                        ),
                        (
                            lang.pick("按时率", "On time"),
                            crate::model::percent_text(kpi.on_time()),
                        ),
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
                                    ui.label(crate::model::percent_text(row.kpi.closure()));
                                    ui.label(crate::model::percent_text(row.kpi.on_time()));
                                    ui.end_row();
                                }
                            });
                    });
            });
    }

    /// Bars: cases received per sample interval (scaled so the busiest is
    /// 100); line: closure rate (%). Drawn with egui_plot (hover read-outs).
    fn trend(ui: &mut egui::Ui, points: &[Kpi], lang: Lang) {
        if points.len() < 2 {
            let (rect, _) = ui.allocate_exact_size(
                egui::vec2(ui.available_width().max(380.0), 84.0),
                egui::Sense::hover(),
            );
            ui.painter().text(
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
        let most = received.iter().copied().max().unwrap_or(0).max(1) as f64;
        let bars: Vec<egui_plot::Bar> = received
            .iter()
            .enumerate()
            .map(|(i, n)| {
                egui_plot::Bar::new(i as f64, *n as f64 * 100.0 / most)
                    .width(0.8)
                    .name(format!("{n}"))
            })
            .collect();
        let rate: Vec<[f64; 2]> = points[1..]
            .iter()
            .enumerate()
            // An interval with nothing received has no rate: no point.
            .filter_map(|(i, k)| Some([i as f64, k.closure()? * 100.0]))
            .collect();
        egui_plot::Plot::new("kpi_trend")
            .height(96.0)
            .width(ui.available_width().max(380.0))
            .include_y(0.0)
            .include_y(100.0)
            .show_x(false)
            .allow_scroll(false)
            .x_axis_formatter(|_, _| String::new())
            .legend(egui_plot::Legend::default())
            .show(ui, |p| {
                p.bar_chart(
                    egui_plot::BarChart::new(lang.pick("受理量", "received"), bars)
                        .color(theme::PANEL_STROKE.egui()),
                );
                p.line(
                    egui_plot::Line::new(
                        lang.pick("办结率", "closure rate"),
                        egui_plot::PlotPoints::from(rate),
                    )
                    .color(theme::ACCENT.egui())
                    .width(2.0),
                );
            });
    }
}
