//! `citytwin kpi`: the KPI table (一表通) recomputed from a database's case
//! journal for any past moment, as text or CSV.

use crate::model::{City, DistrictId, Kpi, KpiTable};

/// Parses `YYYY-MM-DDTHH:MM[:SS]` in China Standard Time (UTC+8) to ms since
/// the Unix epoch.
pub fn parse_cst(text: &str) -> Result<i64, String> {
    let bad = || format!("{text:?} should look like 2026-11-24T18:00 (China Standard Time)");
    let (date, time) = text.split_once('T').ok_or_else(bad)?;
    let d: Vec<i64> = date
        .split('-')
        .map(|p| p.parse().map_err(|_| bad()))
        .collect::<Result<_, _>>()?;
    let t: Vec<i64> = time
        .split(':')
        .map(|p| p.parse().map_err(|_| bad()))
        .collect::<Result<_, _>>()?;
    let (&[y, m, day], hms) = (d.as_slice(), t.as_slice()) else {
        return Err(bad());
    };
    let (h, min, s) = match hms {
        [h, min] => (*h, *min, 0),
        [h, min, s] => (*h, *min, *s),
        _ => return Err(bad()),
    };
    if !(1..=12).contains(&m)
        || !(1..=31).contains(&day)
        || !(0..24).contains(&h)
        || !(0..60).contains(&min)
        || !(0..60).contains(&s)
    {
        return Err(bad());
    }
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Ok(((days * 86_400 + h * 3600 + min * 60 + s) - 8 * 3600) * 1000)
}

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

pub fn render(rows: &[KpiRow], csv: bool) -> String {
    let mut out = String::new();
    if csv {
        out.push_str("scope,name,received,closed,closure_rate,on_time_rate\n");
        for r in rows {
            out.push_str(&format!(
                "{},{},{},{},{:.4},{:.4}\n",
                r.scope,
                r.name,
                r.kpi.received,
                r.kpi.closed,
                r.kpi.closure_rate(),
                r.kpi.on_time_rate()
            ));
        }
    } else {
        out.push_str(&format!(
            "{:<28} {:>10} {:>10} {:>8} {:>8}\n",
            "范围 / scope", "受理", "结案", "结案率", "按时率"
        ));
        for r in rows {
            out.push_str(&format!(
                "{:<28} {:>10} {:>10} {:>7.1}% {:>7.1}%\n",
                format!("{} {}", r.scope, r.name),
                r.kpi.received,
                r.kpi.closed,
                100.0 * r.kpi.closure_rate(),
                100.0 * r.kpi.on_time_rate()
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cst_times_parse_to_the_right_instant() {
        // 2026-11-24 08:00 in Chongqing is 00:00 UTC.
        assert_eq!(parse_cst("2026-11-24T08:00"), Ok(1_795_478_400_000));
        assert_eq!(
            parse_cst("2026-11-24T18:00:30"),
            Ok(1_795_478_400_000 + 10 * 3_600_000 + 30_000)
        );
        assert_eq!(parse_cst("1970-01-01T08:00"), Ok(0));
        assert!(parse_cst("2026-13-01T00:00").is_err());
        assert!(parse_cst("yesterday").is_err());
    }

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
}
