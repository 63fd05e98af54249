//! Monitoring series as CSV: `time,point,displacement_mm` or
//! `time,point,east_mm,north_mm,up_mm`, optionally `rain_mm` (the point
//! column may be called `site`). Times are ISO 8601 dates or date-times,
//! with or without an offset (China Standard Time when none). The whole
//! file is checked first: every bad row is named by its line and reason and
//! skipped; the good rows are kept in file order.

use std::collections::BTreeMap;
use std::path::Path;

use crate::model::{
    City, HAZARD_SENSOR_BASE, Hazard, HazardId, HazardKind, Measurement, MonitoringPoint, Party,
    PointKind, SensorId, SensorReading, StreetId, Thresholds,
};

#[derive(Debug, thiserror::Error)]
pub enum SeriesError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {reason}")]
    Header { path: String, reason: String },
}

/// One good row.
#[derive(Clone, Debug, PartialEq)]
pub struct SeriesRow {
    /// 1-based line in the file (the header is line 1).
    pub line: usize,
    pub time_ms: i64,
    pub point: String,
    pub value: Measurement,
    pub rain_mm: Option<f32>,
}

/// A bad row: where and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowProblem {
    pub line: usize,
    pub reason: String,
}

impl std::fmt::Display for RowProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

#[derive(Clone, Debug, Default)]
pub struct Series {
    pub path: String,
    pub rows: Vec<SeriesRow>,
    pub problems: Vec<RowProblem>,
}

enum Columns {
    Cumulative(usize),
    Vector([usize; 3]),
}

impl Series {
    pub fn read(path: &Path) -> Result<Series, SeriesError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| SeriesError::Io {
            path: name.clone(),
            source,
        })?;
        Series::parse(&text, &name)
    }

    pub fn parse(text: &str, path: &str) -> Result<Series, SeriesError> {
        let header_err = |reason: String| SeriesError::Header {
            path: path.to_owned(),
            reason,
        };
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let headers = reader
            .headers()
            .map_err(|e| header_err(format!("no header line: {e}")))?
            .clone();
        let col = |names: &[&str]| {
            headers
                .iter()
                .position(|h| names.iter().any(|n| h.eq_ignore_ascii_case(n)))
        };
        let time = col(&["time", "date", "datetime"])
            .ok_or_else(|| header_err("no `time` column".to_owned()))?;
        let point = col(&["point", "site", "station"])
            .ok_or_else(|| header_err("no `point` (or `site`) column".to_owned()))?;
        let columns = match (
            col(&["displacement_mm"]),
            col(&["east_mm"]),
            col(&["north_mm"]),
            col(&["up_mm"]),
        ) {
            (_, Some(e), Some(n), Some(u)) => Columns::Vector([e, n, u]),
            (Some(d), ..) => Columns::Cumulative(d),
            _ => {
                return Err(header_err(format!(
                    "needs `displacement_mm` or `east_mm,north_mm,up_mm` columns (found {})",
                    headers.iter().collect::<Vec<_>>().join(",")
                )));
            }
        };
        let rain = col(&["rain_mm"]);
        let mut series = Series {
            path: path.to_owned(),
            ..Series::default()
        };
        for (i, record) in reader.records().enumerate() {
            let line = i + 2;
            let record = match record {
                Ok(r) => r,
                Err(e) => {
                    series.problems.push(RowProblem {
                        line,
                        reason: e.to_string(),
                    });
                    continue;
                }
            };
            match parse_row(&record, line, time, point, &columns, rain) {
                Ok(row) => series.rows.push(row),
                Err(reason) => series.problems.push(RowProblem { line, reason }),
            }
        }
        Ok(series)
    }

    /// Rows per point name, in name order.
    pub fn points(&self) -> BTreeMap<&str, usize> {
        let mut out = BTreeMap::new();
        for r in &self.rows {
            *out.entry(r.point.as_str()).or_insert(0) += 1;
        }
        out
    }
}

fn parse_row(
    record: &csv::StringRecord,
    line: usize,
    time: usize,
    point: usize,
    columns: &Columns,
    rain: Option<usize>,
) -> Result<SeriesRow, String> {
    let field = |i: usize, what: &str| {
        record
            .get(i)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| format!("no {what}"))
    };
    let number = |i: usize, what: &str| -> Result<f32, String> {
        let text = field(i, what)?;
        let v: f32 = text
            .parse()
            .map_err(|_| format!("{what} {text:?} is not a number"))?;
        if v.is_finite() {
            Ok(v)
        } else {
            Err(format!("{what} {text:?} is not a finite number"))
        }
    };
    let time_ms = crate::time::parse_iso(field(time, "time")?)?;
    let point = field(point, "point")?.to_owned();
    let value = match columns {
        Columns::Cumulative(d) => Measurement::CumulativeMm(number(*d, "displacement_mm")?),
        Columns::Vector([e, n, u]) => Measurement::DisplacementMm([
            number(*e, "east_mm")?,
            number(*n, "north_mm")?,
            number(*u, "up_mm")?,
        ]),
    };
    let rain_mm = match rain.and_then(|i| record.get(i)).filter(|s| !s.is_empty()) {
        Some(_) => Some(number(rain.unwrap_or_default(), "rain_mm")?),
        None => None,
    };
    Ok(SeriesRow {
        line,
        time_ms,
        point,
        value,
        rain_mm,
    })
}

/// The series' readings for the city's monitoring points (matched by point
/// code, or "body point" as `name code`), time-ordered; the names that
/// match no point, with their row counts.
pub fn readings_for(series: &Series, city: &City) -> (Vec<SensorReading>, Vec<(String, usize)>) {
    let mut readings = Vec::new();
    let mut unmatched: BTreeMap<String, usize> = BTreeMap::new();
    for row in &series.rows {
        let found = city.hazards.iter().find_map(|h| {
            h.points
                .iter()
                .find(|p| {
                    p.kind == PointKind::Displacement
                        && (p.code == row.point || format!("{} {}", h.name, p.code) == row.point)
                })
                .map(|p| (h, p))
        });
        let Some((h, p)) = found else {
            *unmatched.entry(row.point.clone()).or_insert(0) += 1;
            continue;
        };
        readings.push(SensorReading {
            sensor: p.sensor,
            value: row.value,
            time_ms: row.time_ms,
        });
        if let (Some(mm), Some(gauge)) = (
            row.rain_mm,
            h.points.iter().find(|g| g.kind == PointKind::RainGauge),
        ) {
            readings.push(SensorReading {
                sensor: gauge.sensor,
                value: Measurement::RainMm(mm),
                time_ms: row.time_ms,
            });
        }
    }
    readings.sort_by_key(|r| r.time_ms);
    (readings, unmatched.into_iter().collect())
}

/// Bodies for a series that has none to go to: one per site ("Baishuihe
/// ZG93" → body "Baishuihe", point "ZG93"), placed at the city's centre on
/// whatever terrain is there (the series does not say where), with a rain
/// gauge when the series has rain. Appended after the city's own bodies.
pub fn bodies_for_series(series: &Series, city: &mut City) -> Vec<HazardId> {
    let mut sites: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for name in series.points().keys() {
        let (body, point) = match name.rsplit_once(' ') {
            Some((b, p)) => (b.to_owned(), p.to_owned()),
            None => ((*name).to_owned(), (*name).to_owned()),
        };
        let points = sites.entry(body).or_default();
        if !points.contains(&point) {
            points.push(point);
        }
    }
    let has_rain = series.rows.iter().any(|r| r.rain_mm.is_some());
    let next_sensor = city
        .hazards
        .iter()
        .flat_map(|h| h.points.iter().map(|p| p.sensor.0 + 1))
        .max()
        .unwrap_or(HAZARD_SENSOR_BASE)
        .max(HAZARD_SENSOR_BASE);
    let mut sensor = next_sensor;
    let centre = [
        (city.bounds.min_m[0] + city.bounds.max_m[0]) * 0.5,
        (city.bounds.min_m[1] + city.bounds.max_m[1]) * 0.5,
    ];
    let street = city.streets.first().map_or(StreetId(0), |s| s.id);
    let district = city
        .streets
        .first()
        .map_or(crate::model::DistrictId(0), |s| s.district);
    let mut ids = Vec::new();
    for (i, (name, points)) in sites.into_iter().enumerate() {
        let id = HazardId(city.hazards.len() as u32);
        let c = [centre[0] + i as f32 * 800.0, centre[1]];
        let (l, w) = (600.0, 300.0);
        let body = vec![
            [c[0] - w / 2.0, c[1] - l / 2.0],
            [c[0] + w / 2.0, c[1] - l / 2.0],
            [c[0] + w / 2.0, c[1] + l / 2.0],
            [c[0] - w / 2.0, c[1] + l / 2.0],
        ];
        let mut monitoring: Vec<MonitoringPoint> = points
            .iter()
            .enumerate()
            .map(|(k, code)| {
                sensor += 1;
                MonitoringPoint {
                    sensor: SensorId(sensor),
                    code: code.clone(),
                    kind: PointKind::Displacement,
                    position_m: [
                        c[0],
                        c[1] - l / 2.0 + l * (k as f32 + 0.5) / points.len() as f32,
                    ],
                }
            })
            .collect();
        if has_rain {
            sensor += 1;
            monitoring.push(MonitoringPoint {
                sensor: SensorId(sensor),
                code: "RG".to_owned(),
                kind: PointKind::RainGauge,
                position_m: [c[0] + w / 2.0, c[1] + l / 2.0],
            });
        }
        city.hazards.push(Hazard {
            id,
            code: format!("IMPORT-{:04}", id.0 + 1),
            name: name.clone(),
            kind: HazardKind::Landslide,
            district,
            street,
            body_m: body.clone(),
            threat_zone_m: Vec::new(),
            thickness_m: 0.0,
            downslope: [0.0, -1.0],
            points: monitoring,
            threatened: Vec::new(),
            monitor: Party {
                name: "—".to_owned(),
                phone: String::new(),
            },
            street_duty: Party {
                name: "—".to_owned(),
                phone: String::new(),
            },
            thresholds: Thresholds::default(),
        });
        ids.push(id);
    }
    ids
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_rows_are_named_by_line_and_skipped() {
        let text = "time,point,displacement_mm,rain_mm\n\
                    2023-10-01,WS-01,1.5,\n\
                    2023-10-02,WS-01,abc,\n\
                    not-a-date,WS-01,2.0,\n\
                    2023-10-03T08:00:00+08:00,WS-01,2.5,3.0\n\
                    2023-10-04,,3.0,\n\
                    2023-10-05,WS-01,NaN,\n";
        let s = Series::parse(text, "t.csv").expect("header is fine");
        assert_eq!(s.rows.len(), 2);
        assert_eq!(s.rows[1].rain_mm, Some(3.0));
        let lines: Vec<usize> = s.problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![3, 4, 6, 7]);
        assert!(
            s.problems[0].reason.contains("\"abc\" is not a number"),
            "{:?}",
            s.problems
        );
        assert!(
            s.problems[1].reason.contains("not-a-date"),
            "{:?}",
            s.problems
        );
        assert!(
            s.problems[2].reason.contains("no point"),
            "{:?}",
            s.problems
        );
        assert!(s.problems[3].reason.contains("finite"), "{:?}", s.problems);
    }

    #[test]
    fn a_file_without_displacement_columns_is_refused() {
        let err = Series::parse("time,point,temperature\n2023-10-01,A,3\n", "t.csv")
            .expect_err("no displacement");
        assert!(err.to_string().contains("displacement_mm"), "{err}");
    }
}
