//! The rules engine. A fire-main pressure reading of 0 MPa raises the
//! building to at least 较大 at once, sets its alarm, opens an event and
//! texts all three bound parties at the same time; pressure that stays
//! restored for `restore_after_ms` returns it to its base level.

pub mod forecast;
pub mod landslide;

use std::collections::HashMap;

use landslide::{LandslideRules, LandslideStats};

use super::scenario::Incident;
use crate::model::{
    Building, BuildingId, City, Event, EventId, EventKind, EventStatus, HazardId, Party, RiskLevel,
    SensorId, SensorReading,
};
use crate::protocol::Change;

/// Readings at or below this are "no water".
pub const ZERO_PRESSURE_MPA: f32 = 0.01;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RulesConfig {
    /// How long pressure must hold before the alarm clears.
    pub restore_after_ms: i64,
}

impl Default for RulesConfig {
    fn default() -> Self {
        RulesConfig {
            restore_after_ms: 5 * 60 * 1000,
        }
    }
}

/// Which bound party a notification goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PartyRole {
    SafetyResponsible,
    SafetyManager,
    Maintenance,
    /// 群测群防员 of a hazard body.
    HazardMonitor,
    /// The street office on duty.
    StreetDuty,
    /// The contact of a building in a threat zone.
    Resident,
}

/// One SMS in the outbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notification {
    pub building: Option<BuildingId>,
    pub hazard: Option<HazardId>,
    pub role: PartyRole,
    pub recipient: String,
    pub phone: String,
    pub text: String,
    pub time_ms: i64,
}

/// What a reading or a tick caused.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Outcome {
    pub changes: Vec<Change>,
    pub notifications: Vec<Notification>,
}

impl Outcome {
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty() && self.notifications.is_empty()
    }
}

#[derive(Clone, Debug)]
struct PressureAlarm {
    event: EventId,
    /// Since when pressure has been back (None while it is still 0).
    restored_since_ms: Option<i64>,
}

#[derive(Debug)]
pub struct Rules {
    config: RulesConfig,
    sensors: HashMap<SensorId, BuildingId>,
    levels: Vec<RiskLevel>,
    alarms: HashMap<BuildingId, PressureAlarm>,
    landslide: LandslideRules,
    next_event: u64,
}

impl Rules {
    /// `sensors` binds each fire-main pressure sensor to its building.
    pub fn new(city: &City, sensors: HashMap<SensorId, BuildingId>, config: RulesConfig) -> Rules {
        Rules {
            config,
            sensors,
            levels: city.base_levels().collect(),
            alarms: HashMap::new(),
            landslide: LandslideRules::new(city),
            next_event: 1,
        }
    }

    /// Picks up where a previous run left off: current levels, alarms still
    /// open (from their open events) and the next free event id.
    pub fn resume(
        &mut self,
        levels: &[RiskLevel],
        open_events: impl IntoIterator<Item = Event>,
        next_event: u64,
    ) {
        if levels.len() == self.levels.len() {
            self.levels.copy_from_slice(levels);
        }
        for e in open_events {
            if let (EventKind::FireMainPressureLost, Some(b)) = (e.kind, e.building) {
                self.alarms.insert(
                    b,
                    PressureAlarm {
                        event: e.id,
                        restored_since_ms: None,
                    },
                );
            }
        }
        self.next_event = self.next_event.max(next_event);
    }

    pub fn level(&self, id: BuildingId) -> Option<RiskLevel> {
        self.levels.get(id.index()).copied()
    }

    pub fn is_alarmed(&self, id: BuildingId) -> bool {
        self.alarms.contains_key(&id)
    }

    /// The hazard rules (for resuming and their counters).
    pub fn landslide_mut(&mut self) -> &mut LandslideRules {
        &mut self.landslide
    }

    pub fn landslide_stats(&self) -> LandslideStats {
        self.landslide.stats()
    }

    /// The body and point a hazard sensor reports for.
    pub fn hazard_point(&self, sensor: SensorId) -> Option<(HazardId, u16)> {
        self.landslide.point_of(sensor)
    }

    /// Whether a sensor is known to either rule set.
    pub fn knows(&self, sensor: SensorId) -> bool {
        self.sensors.contains_key(&sensor) || self.landslide.point_of(sensor).is_some()
    }

    /// Applies a reading. Unknown sensors change nothing (the caller logs).
    pub fn on_reading(&mut self, city: &City, reading: SensorReading) -> Outcome {
        if let Some(hazard) = self
            .landslide
            .on_reading(city, &reading, &mut self.next_event)
        {
            return Outcome {
                changes: hazard.changes,
                notifications: hazard.notifications,
            };
        }
        let mut out = Outcome::default();
        let (Some(&id), Some(mpa)) = (self.sensors.get(&reading.sensor), reading.pressure_mpa())
        else {
            return out;
        };
        let Some(building) = city.building(id) else {
            return out;
        };
        let lost = mpa <= ZERO_PRESSURE_MPA;
        out.changes.push(Change::Reading(reading));
        match (self.alarms.get_mut(&id), lost) {
            (Some(alarm), true) => alarm.restored_since_ms = None,
            (Some(alarm), false) => {
                alarm.restored_since_ms.get_or_insert(reading.time_ms);
            }
            (None, false) => {}
            (None, true) => {
                let event = EventId(self.next_event);
                self.next_event += 1;
                self.alarms.insert(
                    id,
                    PressureAlarm {
                        event,
                        restored_since_ms: None,
                    },
                );
                let current = self.levels[id.index()];
                let raised = current.at_least(RiskLevel::High);
                if raised != current {
                    self.levels[id.index()] = raised;
                    out.changes.push(Change::Level {
                        building: id,
                        level: raised,
                    });
                }
                out.changes.push(Change::Alarm {
                    building: id,
                    on: true,
                });
                out.changes.push(Change::Event(Event {
                    id: event,
                    kind: EventKind::FireMainPressureLost,
                    building: Some(id),
                    hazard: None,
                    camera: None,
                    severity: RiskLevel::High,
                    status: EventStatus::Open,
                    time_ms: reading.time_ms,
                    message: format!("{} 消防主管网压力为 0 MPa", building.code),
                }));
                out.notifications = notify_all(building, reading.time_ms);
            }
        }
        out
    }

    /// Opens the event for an incident the scenario (or an integration)
    /// raised directly: a camera detection, a grid report, a slope warning.
    pub fn on_incident(&mut self, incident: &Incident, time_ms: i64) -> Change {
        let id = EventId(self.next_event);
        self.next_event += 1;
        Change::Event(Event {
            id,
            kind: incident.kind,
            building: Some(incident.building),
            hazard: None,
            camera: incident.camera,
            severity: incident.severity,
            status: EventStatus::Open,
            time_ms,
            message: incident.message.clone(),
        })
    }

    /// Clears alarms whose pressure has held for the configured time.
    pub fn on_tick(&mut self, city: &City, now_ms: i64) -> Outcome {
        let mut out = Outcome::default();
        let mut due: Vec<BuildingId> = self
            .alarms
            .iter()
            .filter(|(_, a)| {
                a.restored_since_ms
                    .is_some_and(|t| now_ms - t >= self.config.restore_after_ms)
            })
            .map(|(id, _)| *id)
            .collect();
        due.sort();
        for id in due {
            let (Some(alarm), Some(building)) = (self.alarms.remove(&id), city.building(id)) else {
                continue;
            };
            if self.levels[id.index()] != building.base_level {
                self.levels[id.index()] = building.base_level;
                out.changes.push(Change::Level {
                    building: id,
                    level: building.base_level,
                });
            }
            out.changes.push(Change::Alarm {
                building: id,
                on: false,
            });
            out.changes.push(Change::Event(Event {
                id: alarm.event,
                kind: EventKind::FireMainPressureRestored,
                building: Some(id),
                hazard: None,
                camera: None,
                severity: RiskLevel::High,
                status: EventStatus::Closed,
                time_ms: now_ms,
                message: format!("{} 消防主管网压力已恢复", building.code),
            }));
        }
        out
    }
}

/// The three texts, sent together.
fn notify_all(building: &Building, time_ms: i64) -> Vec<Notification> {
    let text = format!(
        "【城市运行】{}（楼栋码 {}）消防主管网压力为 0 MPa，已升为较大风险，请立即核查处置。",
        building.address, building.code
    );
    let p = &building.parties;
    [
        (PartyRole::SafetyResponsible, &p.safety_responsible),
        (PartyRole::SafetyManager, &p.safety_manager),
        (PartyRole::Maintenance, &p.maintenance),
    ]
    .into_iter()
    .map(|(role, party): (PartyRole, &Party)| Notification {
        building: Some(building.id),
        hazard: None,
        role,
        recipient: party.name.clone(),
        phone: party.phone.clone(),
        text: text.clone(),
        time_ms,
    })
    .collect()
}
