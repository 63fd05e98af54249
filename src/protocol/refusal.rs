//! Why the backend refused a command: machine-readable on the wire, shown
//! to the operator in both languages.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::model::{CaseAction, CaseStatus, EvacuationStatus};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Refusal {
    /// Only dispatcher tokens may do this.
    NotDispatcher,
    /// The building or case lies outside the token's scope.
    OutOfScope {
        what: String,
    },
    UnknownCase {
        case: u64,
    },
    UnknownSensor {
        sensor: u32,
    },
    /// Escalation follows the deadlines; nobody requests it.
    EscalationIsAutomatic,
    /// The workflow does not allow this step now.
    Workflow {
        case: u64,
        action: String,
        status: CaseStatus,
    },
    /// The case moved on after the operator looked at it: the step was
    /// issued against version `seen`, the case is at `now`, last moved by
    /// `actor` (`department`) at `at_ms` with `step`.
    Stale {
        case: u64,
        seen: u32,
        now: u32,
        actor: String,
        department: Option<String>,
        step: CaseAction,
        at_ms: i64,
    },
    UnknownHazard {
        hazard: u32,
    },
    /// An evacuation report the list cannot take: the building is not in
    /// the body's threat zone (`from` None), no evacuation was ordered, or
    /// the report would move its residents backwards.
    Evacuation {
        hazard: u32,
        building: u32,
        from: Option<EvacuationStatus>,
        to: EvacuationStatus,
        ordered: bool,
    },
    /// Something failed on the backend's side (storage).
    Internal {
        reason: String,
    },
}

/// 签收 / acknowledged … (a step's short name, both languages).
fn step_words(step: &CaseAction) -> (&'static str, &'static str) {
    match step {
        CaseAction::Dispatch { .. } => ("派遣", "dispatched"),
        CaseAction::Acknowledge => ("签收", "acknowledged"),
        CaseAction::Submit => ("处置完成", "handled"),
        CaseAction::Verify { passed: true } => ("核查通过", "verified"),
        CaseAction::Verify { passed: false } => ("核查不通过", "failed the check of"),
        CaseAction::Close => ("结案", "closed"),
        CaseAction::Return { .. } => ("退回", "returned"),
        CaseAction::Escalate { .. } => ("升级", "escalated"),
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::NotDispatcher => write!(
                f,
                "只有调度员令牌可以操作 / only dispatcher tokens may do this"
            ),
            Refusal::OutOfScope { what } => {
                write!(
                    f,
                    "{what} 不在本令牌范围内 / {what} is outside this token's scope"
                )
            }
            Refusal::UnknownCase { case } => {
                write!(f, "没有未结案件 {case} / no open case {case}")
            }
            Refusal::UnknownSensor { sensor } => {
                write!(f, "没有传感器 {sensor} / no sensor {sensor}")
            }
            Refusal::EscalationIsAutomatic => {
                write!(f, "升级由系统按时限自动进行 / escalation is automatic")
            }
            Refusal::Workflow {
                case,
                action,
                status,
            } => write!(
                f,
                "案件 {case} 当前不能{action} / case {case}: cannot {action} while {status:?}"
            ),
            Refusal::Stale {
                case,
                actor,
                department,
                step,
                at_ms,
                ..
            } => {
                let (zh, en) = step_words(step);
                let who = match department {
                    Some(d) => format!("{actor} · {d}"),
                    None => actor.clone(),
                };
                let at = crate::time::clock_cst(*at_ms);
                write!(
                    f,
                    "案件 {case} 已由 {who} 于 {at} {zh}，请按最新状态操作 / case {case} was {en} by {who} at {at}: act on what it is now"
                )
            }
            Refusal::UnknownHazard { hazard } => {
                write!(f, "没有地灾隐患点 {hazard} / no hazard body {hazard}")
            }
            Refusal::Evacuation {
                hazard,
                building,
                from,
                to,
                ordered,
            } => match (from, ordered) {
                (None, _) => write!(
                    f,
                    "楼栋 {building} 不在隐患点 {hazard} 的威胁范围内 / building {building} is not in hazard {hazard}'s threat zone"
                ),
                (Some(_), false) => write!(
                    f,
                    "隐患点 {hazard} 尚未下达撤离令 / no evacuation has been ordered for hazard {hazard}"
                ),
                (Some(from), true) => write!(
                    f,
                    "楼栋 {building} 已是{}，不能改为{} / building {building} is {} already, cannot go back to {}",
                    from.name_zh(),
                    to.name_zh(),
                    from.name_en(),
                    to.name_en()
                ),
            },
            Refusal::Internal { reason } => {
                write!(f, "后台错误 / backend error: {reason}")
            }
        }
    }
}

impl std::error::Error for Refusal {}
