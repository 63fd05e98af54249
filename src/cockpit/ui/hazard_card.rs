//! The hazard card (地灾隐患点): type, size, warning level and the criterion
//! that set it; per monitoring point the last 30 days of displacement,
//! velocity (with its thresholds) and tangential angle (45° / 80° / 85°);
//! the inverse-velocity plot with its fitted line and the forecast failure
//! time (or 无加速); rainfall; the threatened buildings and residents; the
//! response plan; the evacuation list; and a 推演 slider that extends the
//! displacement curve by the fitted model. Everything shown is what the
//! backend decided (levels, velocities, angles, fits); the card only draws.

use bevy_egui::egui;
use egui_plot::{Bar, BarChart, HLine, Line, LineStyle, Plot, PlotPoints, Points, VLine};

use super::{Lang, PanelContext, UiAction, theme};
use crate::model::{
    EvacuationStatus, Forecast, Hazard, HazardId, HazardLive, PointKind, Sample, WarningLevel,
};

const HOUR_MS: f64 = 3_600_000.0;
const PLOT_HEIGHT: f32 = 84.0;
const COLUMN_WIDTH: f32 = 420.0;
/// Colours of up to six monitoring points' lines.
const POINT_COLOURS: [egui::Color32; 6] = [
    egui::Color32::from_rgb(64, 196, 255),
    egui::Color32::from_rgb(255, 190, 60),
    egui::Color32::from_rgb(140, 230, 120),
    egui::Color32::from_rgb(240, 120, 200),
    egui::Color32::from_rgb(200, 200, 255),
    egui::Color32::from_rgb(255, 140, 110),
];

/// A chart with thresholds: id, unit, title, the series it draws, limits.
type ThresholdChart<'a> = (
    &'a str,
    &'a str,
    &'a str,
    fn(&PointSeries) -> &Vec<[f64; 2]>,
    [f32; 3],
);

#[derive(Default)]
pub struct HazardCard {
    /// The 推演 slider: hours past the latest reading to extend to.
    pub forecast_hours: f32,
}

/// One point's series as plot coordinates (x: hours from `now_ms`).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct PointSeries {
    pub displacement: Vec<[f64; 2]>,
    pub velocity: Vec<[f64; 2]>,
    pub angle: Vec<[f64; 2]>,
    pub inverse_velocity: Vec<[f64; 2]>,
    pub rain: Vec<[f64; 2]>,
}

/// The samples of a point up to `now_ms` as the card charts them.
pub fn point_series(live: &HazardLive, point: usize, now_ms: i64) -> PointSeries {
    let mut out = PointSeries::default();
    let x = |t: i64| (t - now_ms) as f64 / HOUR_MS;
    for s in live.series.get(point).into_iter().flatten() {
        if s.time_ms() > now_ms {
            break;
        }
        match *s {
            Sample::Motion {
                time_ms,
                displacement_mm,
                velocity_mm_d,
                angle_deg,
                ..
            } => {
                out.displacement
                    .push([x(time_ms), f64::from(displacement_mm)]);
                out.velocity.push([x(time_ms), f64::from(velocity_mm_d)]);
                out.angle.push([x(time_ms), f64::from(angle_deg)]);
                if velocity_mm_d > 0.0 {
                    out.inverse_velocity
                        .push([x(time_ms), 1.0 / f64::from(velocity_mm_d)]);
                }
            }
            Sample::Rain { time_ms, mm } => out.rain.push([x(time_ms), f64::from(mm)]),
        }
    }
    out
}

/// The displacement curve extended `hours` past its last point: by the
/// fitted inverse-velocity model when there is a forecast (never past the
/// failure time), else at the last velocity.
pub fn extension(
    series: &PointSeries,
    forecast: Option<&Forecast>,
    now_ms: i64,
    hours: f64,
) -> Vec<[f64; 2]> {
    let (Some(&[x0, s0]), Some(&[_, v0])) = (series.displacement.last(), series.velocity.last())
    else {
        return Vec::new();
    };
    let t0 = now_ms + (x0 * HOUR_MS) as i64;
    let steps = 24;
    (0..=steps)
        .filter_map(|i| {
            let h = hours * f64::from(i) / f64::from(steps);
            let t = t0 + (h * HOUR_MS) as i64;
            let s = match forecast {
                Some(f) if t >= f.failure_ms => return None,
                Some(f) => s0 + f.displacement_between(t0, t)?,
                None => s0 + v0 * h / 24.0,
            };
            Some([x0 + h, s])
        })
        .collect()
}

/// Axis labels in China Standard Time: the clock, with the date when the
/// chart spans more than a day.
fn time_axis(
    now_ms: i64,
    with_date: bool,
) -> impl Fn(egui_plot::GridMark, &std::ops::RangeInclusive<f64>) -> String {
    move |mark, _| {
        let t = now_ms + (mark.value * HOUR_MS) as i64;
        if with_date {
            crate::time::day_clock_cst(t)
        } else {
            crate::time::clock_cst(t)
        }
    }
}

fn level_text(lang: Lang, level: WarningLevel) -> &'static str {
    lang.pick(level.name_zh(), level.name_en())
}

/// The card's text lines (label, value), as shown.
pub fn lines(hazard: &Hazard, live: &HazardLive, cx: &PanelContext<'_>) -> Vec<(String, String)> {
    let lang = cx.lang;
    let (length, width) = hazard.size_m();
    let district = cx
        .city
        .districts
        .get(usize::from(hazard.district.0))
        .map_or("—", |d| lang.pick(&d.name_zh, &d.name_en));
    let street = cx
        .city
        .streets
        .get(usize::from(hazard.street.0))
        .map_or("—", |s| s.name_zh.as_str());
    let status = &live.status;
    let criterion = status.criterion.map_or_else(
        || lang.pick("—", "—").to_owned(),
        |c| {
            let point = hazard
                .points
                .get(usize::from(c.point))
                .map_or("?", |p| p.code.as_str());
            let mut text = format!(
                "{point}: {} {:.1}°{}, {} {:.1} mm/d{}",
                lang.pick("切线角", "angle"),
                c.angle_deg,
                if c.angle_limit_deg > 0.0 {
                    format!(" > {:.0}°", c.angle_limit_deg)
                } else {
                    String::new()
                },
                lang.pick("速率", "velocity"),
                c.velocity_mm_d,
                if c.velocity_limit_mm_d > 0.0 {
                    format!(" > {:.0}", c.velocity_limit_mm_d)
                } else {
                    String::new()
                },
            );
            if let Some(t) = c.forecast_failure_ms {
                text.push_str(&format!(
                    "; {} {}",
                    lang.pick("预测失稳", "forecast failure"),
                    crate::time::clock_cst(t)
                ));
            }
            text
        },
    );
    let forecast = status.forecast.map_or_else(
        || lang.pick("无加速", "no acceleration").to_owned(),
        |f| {
            format!(
                "{} ({}–{}, R² {:.2}, n {})",
                crate::time::format_cst(f.failure_ms),
                crate::time::clock_cst(f.earliest_ms),
                crate::time::clock_cst(f.latest_ms),
                f.r2,
                f.samples
            )
        },
    );
    let mut out = vec![
        (lang.pick("编号", "Code").to_owned(), hazard.code.clone()),
        (
            lang.pick("类型", "Type").to_owned(),
            lang.pick(hazard.kind.name_zh(), hazard.kind.name_en())
                .to_owned(),
        ),
        (
            lang.pick("规模 长×宽×厚", "Size L×W×T").to_owned(),
            format!(
                "{length:.0} × {width:.0} × {:.0} m, {:.1} {}",
                hazard.thickness_m,
                hazard.volume_m3() / 1e4,
                lang.pick("万 m³", "×10⁴ m³")
            ),
        ),
        (
            lang.pick("区 / 街道", "District / street").to_owned(),
            format!("{district} / {street}"),
        ),
        (
            lang.pick("预警等级", "Warning level").to_owned(),
            level_text(lang, status.level).to_owned(),
        ),
        (lang.pick("判据", "Criterion").to_owned(), criterion),
        (
            lang.pick("预测失稳时间", "Forecast failure").to_owned(),
            forecast,
        ),
        (
            lang.pick("受威胁", "Threatened").to_owned(),
            format!(
                "{} {} / {} {} / {} {}",
                hazard.threatened.len(),
                lang.pick("栋", "buildings"),
                hazard.households(),
                lang.pick("户", "households"),
                hazard.residents(),
                lang.pick("人", "residents")
            ),
        ),
        (
            lang.pick("群测群防员", "Monitor").to_owned(),
            format!("{}  {}", hazard.monitor.name, hazard.monitor.phone),
        ),
    ];
    if let Some(t) = status.failed_ms {
        out.push((
            lang.pick("已失稳", "Failed").to_owned(),
            format!(
                "{} · {} {}",
                crate::time::format_cst(t),
                status.casualties.unwrap_or(0),
                lang.pick("人伤亡", "casualties")
            ),
        ));
    }
    out
}

/// Residents per evacuation status (same order as [`EvacuationStatus::ALL`]).
pub fn evacuation_counts(hazard: &Hazard, live: &HazardLive) -> [u32; 5] {
    let mut counts = [0u32; 5];
    for (i, t) in hazard.threatened.iter().enumerate() {
        let s = live.status.evacuation.get(i).copied().unwrap_or_default();
        counts[s as usize] += u32::from(t.residents);
    }
    counts
}

impl HazardCard {
    pub fn ui(&mut self, ctx: &egui::Context, cx: &PanelContext<'_>, actions: &mut Vec<UiAction>) {
        let Some((id, point)) = cx.state.selected_hazard() else {
            return;
        };
        let (Some(hazard), Some(live)) = (cx.city.hazard(id), cx.state.hazard(id)) else {
            return;
        };
        let lang = cx.lang;
        let level = live.status.level;
        egui::Window::new(lang.pick("地灾隐患点", "Geohazard body"))
            .id(egui::Id::new("hazard_card"))
            .anchor(egui::Align2::RIGHT_TOP, [-12.0, 120.0])
            .default_width(2.0 * COLUMN_WIDTH + 16.0)
            .resizable(false)
            .collapsible(false)
            .show(ctx, |ui| {
                let (rect, _) = ui.allocate_exact_size(
                    egui::vec2(ui.available_width().max(2.0 * COLUMN_WIDTH), 6.0),
                    egui::Sense::hover(),
                );
                ui.painter()
                    .rect_filled(rect, 2.0, theme::warning_color(level).egui());
                ui.heading(format!("{} · {}", hazard.name, level_text(lang, level)));
                egui::ScrollArea::vertical()
                    .max_height(ctx.content_rect().height() * 0.8)
                    .show(ui, |ui| {
                        self.body(ui, cx, hazard, live, point, actions);
                    });
            });
    }

    fn body(
        &mut self,
        ui: &mut egui::Ui,
        cx: &PanelContext<'_>,
        hazard: &Hazard,
        live: &HazardLive,
        selected_point: Option<u16>,
        actions: &mut Vec<UiAction>,
    ) {
        ui.horizontal_top(|ui| {
            ui.allocate_ui(egui::vec2(COLUMN_WIDTH, 0.0), |ui| {
                ui.set_width(COLUMN_WIDTH);
                ui.vertical(|ui| Self::facts(ui, cx, hazard, live, actions));
            });
            ui.separator();
            ui.allocate_ui(egui::vec2(COLUMN_WIDTH, 0.0), |ui| {
                ui.set_width(COLUMN_WIDTH);
                ui.vertical(|ui| self.charts(ui, cx, hazard, live, selected_point));
            });
        });
    }

    /// The left column: lines, response plan, evacuation list, buttons.
    fn facts(
        ui: &mut egui::Ui,
        cx: &PanelContext<'_>,
        hazard: &Hazard,
        live: &HazardLive,
        actions: &mut Vec<UiAction>,
    ) {
        egui::Grid::new("hazard_lines")
            .num_columns(2)
            .spacing([12.0, 3.0])
            .show(ui, |ui| {
                for (label, value) in lines(hazard, live, cx) {
                    ui.label(egui::RichText::new(label).color(theme::TEXT_DIM.egui()));
                    ui.label(value);
                    ui.end_row();
                }
            });
        Self::plan_and_evacuation(ui, cx, hazard, live, actions);
    }

    /// The right column: the 推演 slider and the charts.
    fn charts(
        &mut self,
        ui: &mut egui::Ui,
        cx: &PanelContext<'_>,
        hazard: &Hazard,
        live: &HazardLive,
        selected_point: Option<u16>,
    ) {
        let lang = cx.lang;
        let now = cx.now_ms;
        let displacement_points: Vec<usize> = hazard
            .points
            .iter()
            .enumerate()
            .filter(|(_, p)| p.kind == PointKind::Displacement)
            .map(|(i, _)| i)
            .collect();
        let series: Vec<(usize, PointSeries)> = displacement_points
            .iter()
            .map(|&i| (i, point_series(live, i, now)))
            .collect();
        let forecast = live.status.forecast;
        ui.add(
            egui::Slider::new(&mut self.forecast_hours, 0.0..=72.0)
                .text(lang.pick("推演 (小时)", "forecast (hours)"))
                .integer(),
        );
        let colour = |k: usize| POINT_COLOURS[k % POINT_COLOURS.len()];
        // One legend for all charts: the points' colours.
        ui.horizontal_wrapped(|ui| {
            for (k, (i, _)) in series.iter().enumerate() {
                let code = &hazard.points[*i].code;
                let text = egui::RichText::new(format!("■ {code}")).color(colour(k));
                ui.label(if selected_point == Some(*i as u16) {
                    text.strong()
                } else {
                    text
                });
            }
            ui.label(
                egui::RichText::new(lang.pick("虚线：推演 / 阈值", "dashed: model / thresholds"))
                    .color(theme::TEXT_DIM.egui()),
            );
        });
        let th = hazard.thresholds;
        let span_h = series
            .iter()
            .filter_map(|(_, s)| s.displacement.first().map(|p| -p[0]))
            .fold(0.0, f64::max);
        let plot = |id: &str, label: &str| {
            Plot::new(format!("{}_{id}", hazard.code))
                .height(PLOT_HEIGHT)
                .x_axis_formatter(time_axis(now, span_h > 24.0))
                .y_axis_label(label.to_owned())
                .allow_scroll(false)
        };
        ui.label(lang.pick("累计位移 (mm)", "Cumulative displacement (mm)"));
        plot("displacement", "mm").show(ui, |p| {
            for (k, (i, s)) in series.iter().enumerate() {
                let name = &hazard.points[*i].code;
                let mut line = Line::new(name.clone(), PlotPoints::from(s.displacement.clone()))
                    .color(colour(k));
                if selected_point == Some(*i as u16) {
                    line = line.width(3.0);
                }
                p.line(line);
                let f = forecast.filter(|f| usize::from(f.point) == *i);
                let ext = extension(s, f.as_ref(), now, f64::from(self.forecast_hours));
                if ext.len() > 1 {
                    p.line(
                        Line::new(
                            format!("{name} {}", lang.pick("推演", "model")),
                            PlotPoints::from(ext),
                        )
                        .color(colour(k))
                        .style(LineStyle::dashed_loose()),
                    );
                }
            }
            if let Some(f) = forecast {
                p.vline(
                    VLine::new(
                        lang.pick("预测失稳", "forecast failure"),
                        (f.failure_ms - now) as f64 / HOUR_MS,
                    )
                    .color(theme::warning_color(WarningLevel::Alarm).egui()),
                );
            }
        });
        // Velocity and angle: a line per point, dashed lines at the
        // 警示 / 警戒 / 警报 thresholds.
        let above = [
            WarningLevel::Caution,
            WarningLevel::Alert,
            WarningLevel::Alarm,
        ];
        let charts: [ThresholdChart<'_>; 2] = [
            (
                "velocity",
                "mm/d",
                lang.pick("速率 (mm/d)", "Velocity (mm/day)"),
                |s| &s.velocity,
                th.velocity_mm_d,
            ),
            (
                "angle",
                "°",
                lang.pick("改进切线角 (°)", "Improved tangential angle (°)"),
                |s| &s.angle,
                th.angle_deg,
            ),
        ];
        for (id, unit, title, values, limits) in charts {
            ui.label(title);
            plot(id, unit).show(ui, |p| {
                for (k, (i, s)) in series.iter().enumerate() {
                    p.line(
                        Line::new(
                            hazard.points[*i].code.clone(),
                            PlotPoints::from(values(s).clone()),
                        )
                        .color(colour(k)),
                    );
                }
                for (limit, level) in limits.iter().zip(above) {
                    p.hline(
                        HLine::new(
                            format!("{} {limit:.0}{unit}", level_text(lang, level)),
                            f64::from(*limit),
                        )
                        .color(theme::warning_color(level).egui())
                        .style(LineStyle::dashed_dense()),
                    );
                }
            });
        }
        ui.label(lang.pick("速率倒数 1/v (d/mm)", "Inverse velocity 1/v (day/mm)"));
        match forecast {
            None => {
                ui.label(
                    egui::RichText::new(lang.pick(
                        "无加速，不作失稳预测",
                        "no acceleration: no failure forecast",
                    ))
                    .color(theme::TEXT_DIM.egui()),
                );
            }
            Some(f) => {
                let i = usize::from(f.point);
                let s = series.iter().find(|(k, _)| *k == i).map(|(_, s)| s);
                plot("inverse", "d/mm").show(ui, |p| {
                    if let Some(s) = s {
                        let from = (f.origin_ms - now) as f64 / HOUR_MS;
                        let pts: Vec<[f64; 2]> = s
                            .inverse_velocity
                            .iter()
                            .copied()
                            .filter(|q| q[0] >= from - 1.0)
                            .collect();
                        p.points(
                            Points::new(hazard.points[i].code.clone(), PlotPoints::from(pts))
                                .radius(2.0),
                        );
                    }
                    let x = |t: i64| (t - now) as f64 / HOUR_MS;
                    p.line(
                        Line::new(
                            lang.pick("拟合", "fit"),
                            PlotPoints::from(vec![
                                [x(f.origin_ms), f.intercept],
                                [x(f.failure_ms), 0.0],
                            ]),
                        )
                        .color(theme::warning_color(WarningLevel::Alarm).egui()),
                    );
                    p.vline(VLine::new(
                        lang.pick("预测失稳", "forecast failure"),
                        x(f.failure_ms),
                    ));
                });
            }
        }
        if let Some(g) = hazard
            .points
            .iter()
            .position(|p| p.kind == PointKind::RainGauge)
        {
            let rain = point_series(live, g, now).rain;
            if !rain.is_empty() {
                ui.label(lang.pick("降雨 (mm)", "Rainfall (mm)"));
                plot("rain", "mm").show(ui, |p| {
                    let bars = rain
                        .iter()
                        .map(|r| Bar::new(r[0], r[1]).width(0.8))
                        .collect();
                    p.bar_chart(
                        BarChart::new(lang.pick("降雨", "rain"), bars).color(theme::ACCENT.egui()),
                    );
                });
            }
        }
    }

    fn plan_and_evacuation(
        ui: &mut egui::Ui,
        cx: &PanelContext<'_>,
        hazard: &Hazard,
        live: &HazardLive,
        actions: &mut Vec<UiAction>,
    ) {
        let lang = cx.lang;
        ui.separator();
        ui.label(egui::RichText::new(lang.pick("应对方案", "Response plan")).strong());
        if live.status.plan.is_empty() {
            ui.label("—");
        }
        for step in &live.status.plan {
            ui.label(format!(
                "{} · {} · {} {}",
                step.department,
                step.action,
                lang.pick("时限", "by"),
                crate::time::clock_cst(step.due_ms)
            ));
        }
        ui.separator();
        ui.label(egui::RichText::new(lang.pick("撤离名单", "Evacuation list")).strong());
        if live.status.evacuation.is_empty() {
            ui.label(lang.pick("未下达撤离令", "no evacuation ordered"));
        } else {
            let counts = evacuation_counts(hazard, live);
            ui.label(
                EvacuationStatus::ALL
                    .iter()
                    .zip(counts)
                    .map(|(s, n)| format!("{} {n}", lang.pick(s.name_zh(), s.name_en())))
                    .collect::<Vec<_>>()
                    .join(" · "),
            );
            egui::ScrollArea::vertical()
                .id_salt("evacuation_rows")
                .max_height(160.0)
                .show(ui, |ui| {
                    egui::Grid::new("evacuation").num_columns(3).show(ui, |ui| {
                        for (i, t) in hazard.threatened.iter().enumerate() {
                            let status = live.status.evacuation.get(i).copied().unwrap_or_default();
                            let address = cx
                                .city
                                .building(t.building)
                                .map_or("?", |b| b.address.as_str());
                            ui.label(address);
                            ui.label(format!(
                                "{} {} / {} {}",
                                t.households,
                                lang.pick("户", "hh"),
                                t.residents,
                                lang.pick("人", "ppl")
                            ));
                            ui.label(lang.pick(status.name_zh(), status.name_en()));
                            ui.end_row();
                        }
                    })
                });
        }
        ui.horizontal(|ui| {
            if ui.button(lang.pick("定位", "Fly to")).clicked() {
                actions.push(UiAction::FlyToHazard(hazard.id));
            }
            if ui.button(lang.pick("关闭", "Close")).clicked() {
                actions.push(UiAction::SelectHazard(None));
            }
        });
    }
}

/// The card's title and level for a body (what the hub row links to).
pub fn title(hazard: &Hazard, live: &HazardLive, lang: Lang) -> String {
    format!("{} · {}", hazard.name, level_text(lang, live.status.level))
}

/// Bodies whose name or code contains `query` (search box).
pub fn search(city: &crate::model::City, query: &str, limit: usize) -> Vec<HazardId> {
    let q = query.trim().to_lowercase();
    if q.is_empty() {
        return Vec::new();
    }
    city.hazards
        .iter()
        .filter(|h| h.code.to_lowercase().contains(&q) || h.name.to_lowercase().contains(&q))
        .take(limit)
        .map(|h| h.id)
        .collect()
}
