//! Cases (案件) and their closed loop (闭环): register → dispatch → handle →
//! verify → close, GB/T 30428 style. A case can be returned (退回) to be
//! dispatched again, and a failed verification sends it back to handling.
//! Every step is kept with its time, actor and department; an overdue case
//! escalates street → district → city, each level exactly once.

use serde::{Deserialize, Serialize};

use super::{BuildingId, DistrictId, Event, EventId, EventKind, RiskLevel, StreetId};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CaseId(pub u64);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CaseStatus {
    /// 登记
    Registered,
    /// 派遣: departments notified, none has taken it yet.
    Dispatched,
    /// 处置
    Handling,
    /// 核查
    Verifying,
    /// 结案
    Closed,
}

/// Who a case is escalated to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum CaseLevel {
    Street,
    District,
    City,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CaseAction {
    Dispatch {
        departments: Vec<String>,
    },
    /// A department takes the case.
    Acknowledge,
    /// The department reports it handled.
    Submit,
    Verify {
        passed: bool,
    },
    Close,
    Return {
        reason: String,
    },
    /// Raised by the deadline check, never by a person.
    Escalate {
        to: CaseLevel,
    },
}

/// One entry of a case's timeline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseStep {
    pub time_ms: i64,
    pub actor: String,
    pub department: Option<String>,
    pub action: CaseAction,
    pub from: CaseStatus,
    pub to: CaseStatus,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("case {case}: cannot {action} while {status:?}")]
pub struct WorkflowError {
    pub case: u64,
    pub action: &'static str,
    pub status: CaseStatus,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Case {
    pub id: CaseId,
    pub event: EventId,
    pub kind: EventKind,
    /// The event's severity when it opened (the marker's colour).
    pub severity: RiskLevel,
    pub building: Option<BuildingId>,
    pub district: DistrictId,
    pub street: StreetId,
    pub opened_ms: i64,
    /// The original due time (on-time KPIs); never moves.
    pub due_ms: i64,
    /// The current deadline: escalation gives the next level a grace period.
    pub deadline_ms: i64,
    pub status: CaseStatus,
    pub level: CaseLevel,
    /// The departments the backend's dispatch rules suggest (the dispatch
    /// form starts with them ticked; the cockpit never recomputes them).
    pub suggested: Vec<String>,
    pub departments: Vec<String>,
    pub steps: Vec<CaseStep>,
}

fn action_name(action: &CaseAction) -> &'static str {
    match action {
        CaseAction::Dispatch { .. } => "dispatch",
        CaseAction::Acknowledge => "acknowledge",
        CaseAction::Submit => "submit",
        CaseAction::Verify { .. } => "verify",
        CaseAction::Close => "close",
        CaseAction::Return { .. } => "return",
        CaseAction::Escalate { .. } => "escalate",
    }
}

impl Case {
    /// A newly registered case for `event`, with its deadline.
    pub fn register(
        id: CaseId,
        event: &Event,
        district: DistrictId,
        street: StreetId,
        deadline_ms: i64,
    ) -> Case {
        Case {
            id,
            event: event.id,
            kind: event.kind,
            severity: event.severity,
            building: event.building,
            district,
            street,
            opened_ms: event.time_ms,
            due_ms: deadline_ms,
            deadline_ms,
            status: CaseStatus::Registered,
            level: CaseLevel::Street,
            suggested: Vec::new(),
            departments: Vec::new(),
            steps: Vec::new(),
        }
    }

    /// The case's version: how many workflow steps people took on it (an
    /// escalation changes who is responsible, not what the next step
    /// means, so it does not count). A command issued against an older
    /// version is stale.
    pub fn version(&self) -> u32 {
        self.steps
            .iter()
            .filter(|s| !matches!(s.action, CaseAction::Escalate { .. }))
            .count() as u32
    }

    pub fn is_open(&self) -> bool {
        self.status != CaseStatus::Closed
    }

    /// Open and past its original due time at `now_ms` (what the operator
    /// sees flagged; escalation follows [`Case::is_overdue`]).
    pub fn is_late(&self, now_ms: i64) -> bool {
        self.is_open() && now_ms > self.due_ms
    }

    /// Open and past its current deadline at `now_ms` (escalation is due).
    pub fn is_overdue(&self, now_ms: i64) -> bool {
        self.is_open() && now_ms > self.deadline_ms
    }

    /// When it was closed, if it is.
    pub fn closed_ms(&self) -> Option<i64> {
        self.steps
            .iter()
            .rev()
            .find(|s| s.to == CaseStatus::Closed)
            .map(|s| s.time_ms)
    }

    /// Applies a person's action; illegal transitions change nothing.
    pub fn apply(
        &mut self,
        action: CaseAction,
        actor: &str,
        department: Option<&str>,
        time_ms: i64,
    ) -> Result<(), WorkflowError> {
        use CaseStatus::*;
        let to = match (&action, self.status) {
            (CaseAction::Dispatch { departments }, Registered) if !departments.is_empty() => {
                Dispatched
            }
            (CaseAction::Acknowledge, Dispatched) => Handling,
            (CaseAction::Submit, Handling) => Verifying,
            (CaseAction::Verify { passed: true }, Verifying) => Verifying,
            (CaseAction::Verify { passed: false }, Verifying) => Handling,
            (CaseAction::Close, Verifying) if self.last_verification_passed() => Closed,
            (CaseAction::Return { .. }, Dispatched | Handling) => Registered,
            _ => {
                return Err(WorkflowError {
                    case: self.id.0,
                    action: action_name(&action),
                    status: self.status,
                });
            }
        };
        if let CaseAction::Dispatch { departments } = &action {
            self.departments = departments.clone();
        }
        self.steps.push(CaseStep {
            time_ms,
            actor: actor.to_owned(),
            department: department.map(str::to_owned),
            action,
            from: self.status,
            to,
        });
        self.status = to;
        Ok(())
    }

    fn last_verification_passed(&self) -> bool {
        matches!(
            self.steps
                .iter()
                .rev()
                .find(|s| matches!(s.action, CaseAction::Verify { .. })),
            Some(CaseStep {
                action: CaseAction::Verify { passed: true },
                ..
            })
        )
    }

    /// Escalates an overdue case one level up (street → district → city),
    /// once per deadline passed: the deadline is extended by `grace_ms` at
    /// each level. Returns the new level when it escalated.
    pub fn escalate_if_overdue(&mut self, now_ms: i64, grace_ms: i64) -> Option<CaseLevel> {
        if !self.is_overdue(now_ms) {
            return None;
        }
        let to = match self.level {
            CaseLevel::Street => CaseLevel::District,
            CaseLevel::District => CaseLevel::City,
            CaseLevel::City => return None,
        };
        self.steps.push(CaseStep {
            time_ms: now_ms,
            actor: "系统 / system".to_owned(),
            department: None,
            action: CaseAction::Escalate { to },
            from: self.status,
            to: self.status,
        });
        self.level = to;
        self.deadline_ms = now_ms + grace_ms;
        Some(to)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case() -> Case {
        let event = Event {
            id: EventId(9),
            kind: EventKind::GridReport,
            building: None,
            hazard: None,
            camera: None,
            severity: crate::model::RiskLevel::Moderate,
            status: crate::model::EventStatus::Open,
            time_ms: 1_000,
            message: String::new(),
        };
        Case::register(CaseId(1), &event, DistrictId(0), StreetId(3), 61_000)
    }

    #[test]
    fn the_closed_loop_runs_register_to_close_with_a_timeline() {
        let mut c = case();
        c.apply(
            CaseAction::Dispatch {
                departments: vec!["城管局".into(), "住建委".into()],
            },
            "调度员",
            None,
            2_000,
        )
        .expect("dispatch");
        c.apply(CaseAction::Acknowledge, "张伟", Some("城管局"), 3_000)
            .expect("ack");
        c.apply(CaseAction::Submit, "张伟", Some("城管局"), 4_000)
            .expect("submit");
        c.apply(CaseAction::Verify { passed: true }, "网格员", None, 5_000)
            .expect("verify");
        c.apply(CaseAction::Close, "调度员", None, 6_000)
            .expect("close");
        assert_eq!(c.status, CaseStatus::Closed);
        assert_eq!(c.closed_ms(), Some(6_000));
        let path: Vec<(CaseStatus, CaseStatus)> = c.steps.iter().map(|s| (s.from, s.to)).collect();
        use CaseStatus::*;
        assert_eq!(
            path,
            vec![
                (Registered, Dispatched),
                (Dispatched, Handling),
                (Handling, Verifying),
                (Verifying, Verifying),
                (Verifying, Closed)
            ]
        );
        assert_eq!(c.steps[1].department.as_deref(), Some("城管局"));
        assert!(!c.is_overdue(100_000));
    }

    #[test]
    fn illegal_steps_are_refused_and_change_nothing() {
        let mut c = case();
        let err = c
            .apply(CaseAction::Close, "x", None, 2_000)
            .expect_err("cannot close a registered case");
        assert_eq!(err.status, CaseStatus::Registered);
        assert!(
            c.apply(
                CaseAction::Dispatch {
                    departments: vec![]
                },
                "x",
                None,
                2_000
            )
            .is_err()
        );
        c.apply(
            CaseAction::Dispatch {
                departments: vec!["消防救援支队".into()],
            },
            "x",
            None,
            2_000,
        )
        .expect("dispatch");
        c.apply(CaseAction::Acknowledge, "x", None, 3_000)
            .expect("ack");
        c.apply(CaseAction::Submit, "x", None, 4_000)
            .expect("submit");
        // Closing needs a passed verification.
        assert!(c.apply(CaseAction::Close, "x", None, 5_000).is_err());
        c.apply(CaseAction::Verify { passed: false }, "核查员", None, 5_000)
            .expect("verify");
        assert_eq!(
            c.status,
            CaseStatus::Handling,
            "a failed check goes back to handling"
        );
        assert_eq!(c.steps.len(), 4);
    }

    #[test]
    fn a_returned_case_reopens_for_dispatch() {
        let mut c = case();
        c.apply(
            CaseAction::Dispatch {
                departments: vec!["街道办".into()],
            },
            "x",
            None,
            2_000,
        )
        .expect("dispatch");
        c.apply(
            CaseAction::Return {
                reason: "不属本部门 / not ours".into(),
            },
            "y",
            Some("街道办"),
            3_000,
        )
        .expect("return");
        assert_eq!(c.status, CaseStatus::Registered);
        c.apply(
            CaseAction::Dispatch {
                departments: vec!["城管局".into()],
            },
            "x",
            None,
            4_000,
        )
        .expect("re-dispatch");
        assert_eq!(c.departments, vec!["城管局".to_owned()]);
    }

    #[test]
    fn an_overdue_case_escalates_once_per_level_and_stops_at_the_city() {
        let mut c = case();
        assert_eq!(c.escalate_if_overdue(60_000, 30_000), None, "not yet due");
        assert_eq!(
            c.escalate_if_overdue(61_001, 30_000),
            Some(CaseLevel::District)
        );
        // Checked again at once (every tick): no second escalation.
        assert_eq!(c.escalate_if_overdue(61_002, 30_000), None);
        assert_eq!(c.escalate_if_overdue(91_002, 30_000), Some(CaseLevel::City));
        assert_eq!(
            c.escalate_if_overdue(200_000, 30_000),
            None,
            "the city is the top"
        );
        let escalations = c
            .steps
            .iter()
            .filter(|s| matches!(s.action, CaseAction::Escalate { .. }))
            .count();
        assert_eq!(escalations, 2);
        assert!(c.is_overdue(200_000), "still flagged overdue");
    }
}
