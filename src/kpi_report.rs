//! `citytwin kpi`: the KPI table (一表通) recomputed from a database's case
//! journal for any past moment, as text or CSV.

use crate::model::{City, DistrictId, Kpi, KpiTable};

pub use crate::time::parse_cst;

/// One printed row.
#[derive(Debug, Clone, PartialEq)]
pub struct KpiRow {
    pub scope: String,
    pub name: String,
    pub kpi: Kpi,
}

/// The city row, then one row per district (or only `scope`'s district and
/// its streets when a district code is given).
pub fn rows(city: &City, table: &KpiTable, scope: Option<&str>) -> Vec<KpiRow> {
    let district_row = |i: usize, k: Kpi| {
        let d = &city.districts[i];
        KpiRow {
            scope: d.code.clone(),
            name: d.name_zh.clone(),
            kpi: k,
        }
    };
    match scope.and_then(|code| city.districts.iter().position(|d| d.code == code)) {
        None => {
            let mut out = vec![KpiRow {
                scope: "city".to_owned(),
                name: city.name_zh.clone(),
                kpi: table.city,
            }];
            for i in 0..city.districts.len() {
                let k = table
                    .districts
                    .get(&DistrictId(i as u16))
                    .copied()
                    .unwrap_or_default();
                out.push(district_row(i, k));
            }
            out
        }
        Some(i) => {
            let k = table
                .districts
                .get(&DistrictId(i as u16))
                .copied()
                .unwrap_or_default();
            let mut out = vec![district_row(i, k)];
            for s in city
                .streets
                .iter()
                .filter(|s| usize::from(s.district.0) == i)
            {
                out.push(KpiRow {
                    scope: format!("{}/{}", city.districts[i].code, s.name_zh),
                    name: s.name_zh.clone(),
                    kpi: table.streets.get(&s.id).copied().unwrap_or_default(),
                });
            }
            out
        }
    }
}

/// Pads `text` to `width` terminal columns (Chinese characters take two).
fn pad(text: &str, width: usize, right: bool) -> String {
    let used = unicode_width::UnicodeWidthStr::width(text);
    let fill = " ".repeat(width.saturating_sub(used));
    if right {
        format!("{fill}{text}")
    } else {
        format!("{text}{fill}")
    }
}

/// The rows as CSV (RFC 4180 quoting by the `csv` crate).
fn render_csv(rows: &[KpiRow]) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut write = || -> Result<(), csv::Error> {
        writer.write_record([
            "scope",
            "name",
            "received",
            "closed",
            "closure_rate",
            "on_time_rate",
        ])?;
        for r in rows {
            writer.write_record([
                r.scope.clone(),
                r.name.clone(),
                r.kpi.received.to_string(),
                r.kpi.closed.to_string(),
                // No rate: an empty cell (not 0).
                r.kpi
                    .closure()
                    .map_or_else(String::new, |v| format!("{v:.4}")),
                r.kpi
                    .on_time()
                    .map_or_else(String::new, |v| format!("{v:.4}")),
            ])?;
        }
        writer.flush()?;
        Ok(())
    };
    // Writing into memory cannot fail; say so if it ever does.
    if let Err(e) = write() {
        return format!("csv: {e}\n");
    }
    let bytes = writer.into_inner().unwrap_or_default();
    String::from_utf8_lossy(&bytes).into_owned()
}

pub fn render(rows: &[KpiRow], csv: bool) -> String {
    if csv {
        return render_csv(rows);
    }
    let label = |r: &KpiRow| format!("{} {}", r.scope, r.name);
    let first = rows
        .iter()
        .map(|r| unicode_width::UnicodeWidthStr::width(label(r).as_str()))
        .chain([unicode_width::UnicodeWidthStr::width("范围 / scope")])
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    let header = [("受理", 10), ("结案", 10), ("结案率", 8), ("按时率", 8)];
    out.push_str(&pad("范围 / scope", first, false));
    for (h, w) in header {
        out.push(' ');
        out.push_str(&pad(h, w, true));
    }
    out.push('\n');
    for r in rows {
        out.push_str(&pad(&label(r), first, false));
        for (cell, (_, w)) in [
            r.kpi.received.to_string(),
            r.kpi.closed.to_string(),
            crate::model::percent_text(r.kpi.closure()),
            crate::model::percent_text(r.kpi.on_time()),
        ]
        .iter()
        .zip(header)
        {
            out.push(' ');
            out.push_str(&pad(cell, w, true));
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_zero_not_nan_when_nothing_happened() {
        let k = Kpi::default();
        assert_eq!((k.closure_rate(), k.on_time_rate()), (0.0, 0.0));
        let k = Kpi {
            received: 4,
            closed: 2,
            closed_on_time: 1,
        };
        assert_eq!((k.closure_rate(), k.on_time_rate()), (0.5, 0.5));
        let text = render(
            &[KpiRow {
                scope: "500103".into(),
                name: "渝中区".into(),
                kpi: k,
            }],
            true,
        );
        assert_eq!(text.lines().nth(1), Some("500103,渝中区,4,2,0.5000,0.5000"));
    }

    #[test]
    fn a_rate_with_nothing_to_divide_is_a_dash_not_zero() {
        let rows = |kpi| {
            [KpiRow {
                scope: "500103".into(),
                name: "渝中区".into(),
                kpi,
            }]
        };
        // Received but nothing closed: a closure rate of 0, no on-time rate.
        let k = Kpi {
            received: 3,
            closed: 0,
            closed_on_time: 0,
        };
        let text = render(&rows(k), false);
        let line = text.lines().nth(1).unwrap_or_default();
        assert!(
            line.contains("0.0%") && line.trim_end().ends_with('—'),
            "{line}"
        );
        assert_eq!(
            render(&rows(k), true).lines().nth(1),
            Some("500103,渝中区,3,0,0.0000,")
        );
        let none = render(&rows(Kpi::default()), false);
        assert_eq!(none.lines().nth(1).map(|l| l.matches('—').count()), Some(2));
        assert_eq!(crate::model::percent_text(Some(0.125)), "12.5%");
    }

    #[test]
    fn csv_quotes_names_and_the_table_aligns_by_display_width() {
        let k = Kpi {
            received: 12,
            closed: 3,
            closed_on_time: 3,
        };
        let rows = [
            KpiRow {
                scope: "500103".into(),
                name: "渝中区".into(),
                kpi: k,
            },
            KpiRow {
                scope: "x".into(),
                name: "Foo, \"Bar\"".into(),
                kpi: k,
            },
        ];
        let csv = render(&rows, true);
        assert_eq!(
            csv.lines().nth(2),
            Some(r#"x,"Foo, ""Bar""",12,3,0.2500,1.0000"#)
        );
        let table = render(&rows, false);
        let widths: Vec<usize> = table
            .lines()
            .map(unicode_width::UnicodeWidthStr::width)
            .collect();
        assert!(widths.windows(2).all(|w| w[0] == w[1]), "{table}");
        // The columns end at the same display column in every row.
        let ends: Vec<usize> = table
            .lines()
            .map(|l| {
                unicode_width::UnicodeWidthStr::width(
                    l.trim_end_matches(|c: char| c != ' ').trim_end(),
                )
            })
            .collect();
        assert!(ends.windows(2).all(|w| w[0] == w[1]), "{table}");
    }
}
