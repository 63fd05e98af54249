//! KPIs (城市体检表): received, closed, closure rate and on-time rate, for
//! the city, each district and each street. The live values are counted
//! from the case stream; `citytwin kpi` recomputes them from the journal
//! for any past moment, and the two must agree.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Case, CaseStatus, DistrictId, StreetId};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kpi {
    pub received: u64,
    pub closed: u64,
    /// Closed no later than the case's original due time.
    pub closed_on_time: u64,
}

impl Kpi {
    /// Closed / received (0 when nothing was received).
    pub fn closure_rate(&self) -> f64 {
        if self.received == 0 {
            0.0
        } else {
            self.closed as f64 / self.received as f64
        }
    }

    /// On time / closed (0 when nothing was closed).
    pub fn on_time_rate(&self) -> f64 {
        if self.closed == 0 {
            0.0
        } else {
            self.closed_on_time as f64 / self.closed as f64
        }
    }

    /// Closed / received; `None` when nothing was received (there is no
    /// rate to show, not a rate of 0).
    pub fn closure(&self) -> Option<f64> {
        (self.received > 0).then(|| self.closure_rate())
    }

    /// On time / closed; `None` when nothing was closed.
    pub fn on_time(&self) -> Option<f64> {
        (self.closed > 0).then(|| self.on_time_rate())
    }
}

/// A rate as shown: `12.5%`, or `—` when there is nothing to divide.
pub fn percent_text(rate: Option<f64>) -> String {
    rate.map_or_else(|| "—".to_owned(), |r| format!("{:.1}%", 100.0 * r))
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KpiTable {
    pub city: Kpi,
    pub districts: BTreeMap<DistrictId, Kpi>,
    pub streets: BTreeMap<StreetId, Kpi>,
}

impl KpiTable {
    fn each(&mut self, district: DistrictId, street: StreetId, f: impl Fn(&mut Kpi)) {
        f(&mut self.city);
        f(self.districts.entry(district).or_default());
        f(self.streets.entry(street).or_default());
    }

    /// Adds counts for one street (and its district and the city).
    pub fn add(&mut self, district: DistrictId, street: StreetId, k: Kpi) {
        self.each(district, street, |t| {
            t.received += k.received;
            t.closed += k.closed;
            t.closed_on_time += k.closed_on_time;
        });
    }

    /// Counts one case update from the stream: a case is received when it
    /// is registered (it has no steps yet) and closed when it closes (once).
    pub fn count(&mut self, case: &Case) {
        if case.steps.is_empty() {
            self.each(case.district, case.street, |k| k.received += 1);
        }
        if case.status == CaseStatus::Closed {
            let on_time = case.closed_ms().is_some_and(|t| t <= case.due_ms);
            self.each(case.district, case.street, |k| {
                k.closed += 1;
                if on_time {
                    k.closed_on_time += 1;
                }
            });
        }
    }
}
