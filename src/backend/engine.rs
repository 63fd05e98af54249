//! The authoritative state: readings go through the rules, every change
//! becomes the next delta, which is journaled (with its notifications),
//! applied to the live state, kept in the resume window and then published.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use super::dispatch::DispatchRules;
use super::rules::{Notification, Rules, RulesConfig};
use super::scenario::{Incident, Scenario, Simulator, sensor_bindings};
use super::store::{KEEP_DELTAS, SNAPSHOT_EVERY, Store, StoreError};
use super::tokens::Grant;
use super::window::{DeltaWindow, Resume};
use crate::live::{ApplyError, LiveState};
use crate::model::{
    BuildingId, Case, CaseAction, CaseId, City, DistrictId, EvacuationStatus, Event, EventKind,
    EventStatus, HazardId, SensorId, SensorReading, SensorTarget, StreetId,
};
use crate::protocol::{Change, Delta, Refusal, Role, Snapshot};

/// Deltas kept for resuming clients (at 4 ticks/s: about 40 minutes).
pub const WINDOW_DELTAS: usize = KEEP_DELTAS as usize;
/// Sensors bound when no scenario says otherwise.
const DEFAULT_SENSORS: usize = 4_000;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the stored stream does not apply: {0}")]
    Stream(#[from] ApplyError),
}

/// What the simulated field units and the slopes did in a tick.
#[derive(Debug, Default)]
pub struct HazardWork {
    /// (body, index of the threatened building, its residents' new status).
    pub evacuations: Vec<(HazardId, u16, EvacuationStatus)>,
    /// Bodies that fail now.
    pub failures: Vec<HazardId>,
}

pub struct Engine {
    city: Arc<City>,
    rules: Rules,
    live: LiveState,
    window: DeltaWindow,
    store: Store,
    sensors: HashMap<SensorId, BuildingId>,
    sim: Option<Simulator>,
    sim_now_ms: i64,
    dispatch: DispatchRules,
    next_case: u64,
}

impl Engine {
    /// Opens the store at `db` (created and seeded if new) and restores the
    /// state it holds; `scenario` drives the simulator.
    pub fn open(
        city: Arc<City>,
        db: &str,
        scenario: Option<Scenario>,
    ) -> Result<Engine, EngineError> {
        let sensor_count = scenario.as_ref().map_or(DEFAULT_SENSORS, |s| s.sensors);
        let sensors = sensor_bindings(&city, sensor_count);
        let store = Store::open(db, &city, &sensors)?;
        let start_ms = scenario.as_ref().map_or(0, |s| s.start_time_ms);
        let mut live = LiveState::new(&city);
        let mut base = live.to_snapshot(start_ms);
        base.seq = 0;
        live.apply_snapshot(&base)?;
        let snapshot = store.latest_snapshot()?;
        if let Some(s) = &snapshot {
            live.apply_snapshot(s)?;
        }
        for d in store.deltas_after(live.last_seq().unwrap_or(0))? {
            live.apply_delta(&d)?;
        }
        let head = live.last_seq().unwrap_or(0);
        // The resume window: the journal's last WINDOW_DELTAS deltas.
        let recent = store.deltas_after(head.saturating_sub(WINDOW_DELTAS as u64))?;
        let mut window =
            DeltaWindow::new(WINDOW_DELTAS, recent.first().map_or(head, |d| d.seq - 1));
        let sim_now_ms = recent
            .last()
            .map(|d| d.time_ms)
            .or(snapshot.as_ref().map(|s| s.time_ms))
            .unwrap_or(start_ms);
        for d in recent {
            // In order by construction (ORDER BY seq).
            let _ = window.push(d);
        }
        let restore_after_ms = scenario
            .as_ref()
            .map_or(RulesConfig::default().restore_after_ms, |s| {
                s.restore_after_s * 1000
            });
        let mut rules = Rules::new(&city, sensors.clone(), RulesConfig { restore_after_ms });
        let next_event = store.query_i64("SELECT COALESCE(MAX(id), 0) FROM events")? as u64 + 1;
        rules.resume(
            live.levels(),
            live.open_events().cloned().collect::<Vec<_>>(),
            next_event,
        );
        rules.landslide_mut().resume(
            city.hazards
                .iter()
                .zip(live.hazards())
                .map(|(h, l)| (h.id, l.status.level, !l.status.evacuation.is_empty())),
        );
        for e in live.open_events() {
            if let (EventKind::LandslideWarning, Some(h)) = (e.kind, e.hazard) {
                rules.landslide_mut().resume_event(h, e.id);
            }
        }
        let sim = scenario.map(|s| Simulator::new(s, sensors.len()));
        if let Some(sim) = &sim {
            for line in sim.plan_for(&city) {
                bevy::log::info!("scenario: {line}");
            }
        }
        let next_case = store.query_i64("SELECT COALESCE(MAX(id), 0) FROM cases")? as u64 + 1;
        Ok(Engine {
            dispatch: DispatchRules::embedded()?,
            next_case,
            city,
            rules,
            live,
            window,
            store,
            sensors,
            sim,
            sim_now_ms,
        })
    }

    /// Replaces the dispatch rules (departments and deadlines per event kind).
    pub fn with_dispatch_rules(mut self, rules: DispatchRules) -> Engine {
        self.dispatch = rules;
        self
    }

    pub fn city(&self) -> &Arc<City> {
        &self.city
    }

    pub fn head_seq(&self) -> u64 {
        self.window.head_seq()
    }

    /// Whether a scenario drives the engine (else only commands do).
    pub fn has_scenario(&self) -> bool {
        self.sim.is_some()
    }

    pub fn now_ms(&self) -> i64 {
        self.sim_now_ms
    }

    pub fn live(&self) -> &LiveState {
        &self.live
    }

    pub fn store(&mut self) -> &mut Store {
        &mut self.store
    }

    pub fn sensors(&self) -> &HashMap<SensorId, BuildingId> {
        &self.sensors
    }

    /// What a sensor reports for: a building's fire main or a hazard
    /// body's monitoring point.
    pub fn sensor_target(&self, sensor: SensorId) -> Option<SensorTarget> {
        if let Some(b) = self.sensors.get(&sensor) {
            return Some(SensorTarget::Building(*b));
        }
        self.rules
            .hazard_point(sensor)
            .map(|(hazard, point)| SensorTarget::HazardPoint { hazard, point })
    }

    /// The hazard rules' counters (duplicates, late and rejected readings).
    pub fn landslide_stats(&self) -> super::rules::landslide::LandslideStats {
        self.rules.landslide_stats()
    }

    pub fn snapshot(&self) -> Snapshot {
        self.live.to_snapshot(self.sim_now_ms)
    }

    pub fn resume_from(&self, last_seq: u64) -> Resume {
        self.window.resume_from(last_seq)
    }

    /// Runs readings (and due restorations) through the rules; returns the
    /// delta they produced, already journaled and applied.
    pub fn handle(
        &mut self,
        readings: &[SensorReading],
        now_ms: i64,
    ) -> Result<Option<Delta>, EngineError> {
        self.handle_with(readings, &[], now_ms, Vec::new(), HazardWork::default())
    }

    /// Raises incidents (camera detections, grid reports, slope warnings)
    /// at `now_ms`: each opens an event and registers its case.
    pub fn raise(
        &mut self,
        incidents: &[Incident],
        now_ms: i64,
    ) -> Result<Option<Delta>, EngineError> {
        self.handle_with(&[], incidents, now_ms, Vec::new(), HazardWork::default())
    }

    /// One tick's work as one delta: readings through the rules, due
    /// restorations, new cases, escalations and the workflow steps `worked`.
    fn handle_with(
        &mut self,
        readings: &[SensorReading],
        incidents: &[Incident],
        now_ms: i64,
        worked: Vec<(CaseId, CaseAction)>,
        hazard_work: HazardWork,
    ) -> Result<Option<Delta>, EngineError> {
        self.sim_now_ms = self.sim_now_ms.max(now_ms);
        let mut changes = Vec::new();
        let mut notifications: Vec<Notification> = Vec::new();
        for r in readings {
            let out = self.rules.on_reading(&self.city, *r);
            changes.extend(out.changes);
            notifications.extend(out.notifications);
        }
        for incident in incidents {
            changes.push(self.rules.on_incident(incident, self.sim_now_ms));
        }
        changes.extend(self.rules.on_tick(&self.city, self.sim_now_ms).changes);
        for (hazard, index, status) in hazard_work.evacuations {
            changes.push(Change::Evacuation {
                hazard,
                index,
                status,
            });
        }
        for hazard in hazard_work.failures {
            changes.extend(self.failure(hazard));
        }
        let cases = self.register_cases(&changes);
        changes.extend(cases);
        let updates = self.case_updates(worked);
        changes.extend(self.close_events(&updates));
        changes.extend(updates);
        self.commit(changes, &notifications)
    }

    /// A closed case closes its event, except a fire-main alarm: that one
    /// closes when the pressure is back (the rules decide).
    fn close_events(&self, cases: &[Change]) -> Vec<Change> {
        cases
            .iter()
            .filter_map(|c| match c {
                Change::Case(case) if !case.is_open() => self.live.open_event(case.event),
                _ => None,
            })
            .filter(|e| e.kind != EventKind::FireMainPressureLost)
            .map(|e| {
                Change::Event(Event {
                    status: EventStatus::Closed,
                    time_ms: self.sim_now_ms,
                    ..e.clone()
                })
            })
            .collect()
    }

    /// A case for every newly opened event that the dispatch rules cover.
    fn register_cases(&mut self, changes: &[Change]) -> Vec<Change> {
        let mut out = Vec::new();
        for change in changes {
            let Change::Event(event) = change else {
                continue;
            };
            // An update of an event already open (a warning raised to 警报)
            // is not a new case.
            if event.status != EventStatus::Open || self.live.open_event(event.id).is_some() {
                continue;
            }
            let Some(deadline_ms) = self.dispatch.deadline_ms(event.kind, event.time_ms) else {
                continue;
            };
            let hazard = event.hazard.and_then(|h| self.city.hazard(h));
            let (district, street) =
                match (hazard, event.building.and_then(|b| self.city.building(b))) {
                    (Some(h), _) => (h.district, h.street),
                    (None, Some(b)) => (b.district, b.street),
                    (None, None) => (DistrictId(0), StreetId(0)),
                };
            let mut case =
                Case::register(CaseId(self.next_case), event, district, street, deadline_ms);
            case.suggested = self.dispatch.suggest(
                event.kind,
                event.building.and_then(|b| self.city.building(b)),
                self.city.streets.get(usize::from(street.0)),
            );
            self.next_case += 1;
            out.push(Change::Case(case));
        }
        out
    }

    /// Escalations of overdue open cases (each level once), then the
    /// simulated workflow steps: at most one new version per case.
    fn case_updates(&self, worked: Vec<(CaseId, CaseAction)>) -> Vec<Change> {
        let now = self.sim_now_ms;
        let grace_ms = self.dispatch.escalation_grace_min * 60_000;
        let mut updated: BTreeMap<CaseId, Case> = self
            .live
            .open_cases()
            .filter(|c| c.is_overdue(now))
            .filter_map(|c| {
                let mut c = c.clone();
                c.escalate_if_overdue(now, grace_ms).map(|_| (c.id, c))
            })
            .collect();
        for (id, action) in worked {
            let Some(mut case) = updated
                .remove(&id)
                .or_else(|| self.live.open_case(id).cloned())
            else {
                continue;
            };
            let escalated = self
                .live
                .open_case(id)
                .is_some_and(|c| c.steps.len() < case.steps.len());
            let stepped = case
                .apply(action, "模拟部门 / simulated unit", None, now)
                .is_ok();
            if stepped || escalated {
                updated.insert(id, case);
            }
        }
        updated.into_values().map(Change::Case).collect()
    }

    /// Applies an operator's workflow step to an open case, if the grant
    /// allows it; the reason is shown to the operator when it does not.
    pub fn case_action(
        &mut self,
        grant: &Grant,
        id: CaseId,
        action: CaseAction,
        version: u32,
    ) -> Result<Option<Delta>, Refusal> {
        if matches!(action, CaseAction::Escalate { .. }) {
            return Err(Refusal::EscalationIsAutomatic);
        }
        let Some(case) = self.live.open_case(id).cloned() else {
            return Err(Refusal::UnknownCase { case: id.0 });
        };
        if grant.role != Role::Dispatcher {
            return Err(Refusal::NotDispatcher);
        }
        if !grant.covers(&self.city, case.district, case.street) {
            return Err(Refusal::OutOfScope {
                what: format!("案件 {} / case {}", id.0, id.0),
            });
        }
        if case.version() != version
            && let Some(last) = case
                .steps
                .iter()
                .rev()
                .find(|s| !matches!(s.action, CaseAction::Escalate { .. }))
        {
            return Err(Refusal::Stale {
                case: id.0,
                seen: version,
                now: case.version(),
                actor: last.actor.clone(),
                department: last.department.clone(),
                step: last.action.clone(),
                at_ms: last.time_ms,
            });
        }
        let mut updated = case;
        updated
            .apply(action, &grant.name, None, self.sim_now_ms)
            .map_err(|e| Refusal::Workflow {
                case: e.case,
                action: e.action.to_owned(),
                status: e.status,
            })?;
        let mut changes = vec![Change::Case(updated)];
        changes.splice(0..0, self.close_events(&changes));
        self.commit(changes, &[]).map_err(|e| Refusal::Internal {
            reason: e.to_string(),
        })
    }

    /// A field unit's report on a threatened building's residents: only
    /// forward (未通知 → 已通知 → 撤离中 → 已撤离 → 已安置), only after the
    /// evacuation was ordered, by a dispatcher whose scope covers the body.
    pub fn evacuation(
        &mut self,
        grant: &Grant,
        hazard: HazardId,
        building: BuildingId,
        status: EvacuationStatus,
    ) -> Result<Option<Delta>, Refusal> {
        let Some(h) = self.city.hazard(hazard) else {
            return Err(Refusal::UnknownHazard { hazard: hazard.0 });
        };
        if grant.role != Role::Dispatcher {
            return Err(Refusal::NotDispatcher);
        }
        if !grant.covers(&self.city, h.district, h.street) {
            return Err(Refusal::OutOfScope {
                what: format!("隐患点 {} / hazard {}", h.code, h.code),
            });
        }
        let index = h.threatened.iter().position(|t| t.building == building);
        let list = self
            .live
            .hazard(hazard)
            .map(|l| l.status.evacuation.as_slice())
            .unwrap_or_default();
        let from = index.map(|i| list.get(i).copied().unwrap_or_default());
        let refuse = |from, ordered| Refusal::Evacuation {
            hazard: hazard.0,
            building: building.0,
            from,
            to: status,
            ordered,
        };
        let (Some(index), Some(from)) = (index, from) else {
            return Err(refuse(None, !list.is_empty()));
        };
        if list.is_empty() {
            return Err(refuse(Some(from), false));
        }
        if status <= from {
            return Err(refuse(Some(from), true));
        }
        let change = Change::Evacuation {
            hazard,
            index: index as u16,
            status,
        };
        self.commit(vec![change], &[])
            .map_err(|e| Refusal::Internal {
                reason: e.to_string(),
            })
    }

    /// The body fails: its threatened buildings collapse, and whoever was
    /// not yet out of the zone is counted.
    fn failure(&self, hazard: HazardId) -> Vec<Change> {
        let (Some(h), Some(live)) = (self.city.hazard(hazard), self.live.hazard(hazard)) else {
            return Vec::new();
        };
        if live.status.failed_ms.is_some() {
            return Vec::new();
        }
        let casualties = h
            .threatened
            .iter()
            .enumerate()
            .filter(|(i, _)| !live.status.evacuation.get(*i).is_some_and(|s| s.is_out()))
            .map(|(_, t)| u32::from(t.residents))
            .sum();
        let mut out = vec![Change::HazardFailed { hazard, casualties }];
        out.extend(h.threatened.iter().map(|t| Change::Collapsed {
            building: t.building,
        }));
        out
    }

    /// Turns changes into the next delta: journaled, applied, windowed.
    fn commit(
        &mut self,
        changes: Vec<Change>,
        notifications: &[Notification],
    ) -> Result<Option<Delta>, EngineError> {
        if changes.is_empty() {
            return Ok(None);
        }
        let delta = Delta {
            seq: self.window.head_seq() + 1,
            time_ms: self.sim_now_ms,
            changes,
        };
        // Every SNAPSHOT_EVERY deltas the journal also stores the full state.
        let snapshot = if delta.seq.is_multiple_of(SNAPSHOT_EVERY) {
            let mut next = self.live.clone();
            next.apply_delta(&delta)?;
            Some(next.to_snapshot(delta.time_ms))
        } else {
            None
        };
        // Journal first: a delta that is not stored is never published.
        self.store
            .commit(&delta, notifications, snapshot.as_ref())?;
        self.live.apply_delta(&delta)?;
        let _ = self.window.push(delta.clone());
        Ok(Some(delta))
    }

    /// One simulator tick (if a scenario runs), else only due restorations.
    pub fn tick(&mut self) -> Result<Option<Delta>, EngineError> {
        let Some(sim) = &mut self.sim else {
            return self.handle(&[], self.sim_now_ms);
        };
        let dt = sim.scenario().sim_ms_per_tick();
        let now = self.sim_now_ms + dt;
        let readings = sim.step(now, dt);
        let incidents = sim.incidents(&self.city, dt);
        let worked = sim.work_cases(now, self.live.open_cases(), |case| case.suggested.clone());
        let mut readings = readings;
        readings.extend(sim.hazard_readings(&self.city, now, dt));
        let hazard_work = HazardWork {
            evacuations: sim.work_evacuations(&self.city, self.live.hazards(), now),
            failures: sim.failures(&self.city, now),
        };
        self.handle_with(&readings, &incidents, now, worked, hazard_work)
    }
}
