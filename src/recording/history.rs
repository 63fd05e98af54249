//! [`CaseHistory`]: every case a stream mentions, in its latest version, and
//! the marks the timeline draws (opened, escalated, closed) — built from the
//! same messages the ingest applies, live as they arrive or from a whole
//! recording at once ([`CaseHistory::scan`]).

use std::collections::BTreeMap;
use std::path::Path;

use super::RecordingError;
use super::reader::Recording;
use crate::model::{Case, CaseAction, CaseId, CaseStatus, RiskLevel};
use crate::protocol::{Change, Message};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkKind {
    Opened,
    Escalated,
    Closed,
}

/// Something that happened to a case at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mark {
    pub time_ms: i64,
    pub kind: MarkKind,
    pub severity: RiskLevel,
    pub case: CaseId,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct CaseHistory {
    /// Every case seen, as it was last seen.
    pub cases: BTreeMap<CaseId, Case>,
    /// In time order.
    marks: Vec<Mark>,
    /// Bumped on every change (the UI rebuilds what it derives).
    pub revision: u64,
}

impl CaseHistory {
    pub fn marks(&self) -> &[Mark] {
        &self.marks
    }

    fn mark(&mut self, time_ms: i64, kind: MarkKind, case: &Case) {
        let mark = Mark {
            time_ms,
            kind,
            severity: case.severity,
            case: case.id,
        };
        // Marks arrive nearly in order: insert from the back.
        let at = self.marks.partition_point(|m| m.time_ms <= time_ms);
        self.marks.insert(at, mark);
    }

    fn see(&mut self, case: &Case) {
        let known = self.cases.get(&case.id).map(|c| c.steps.len());
        if known.is_none() {
            self.mark(case.opened_ms, MarkKind::Opened, case);
        }
        for step in case.steps.iter().skip(known.unwrap_or(0)) {
            if matches!(step.action, CaseAction::Escalate { .. }) {
                self.mark(step.time_ms, MarkKind::Escalated, case);
            }
            if step.to == CaseStatus::Closed {
                self.mark(step.time_ms, MarkKind::Closed, case);
            }
        }
        self.cases.insert(case.id, case.clone());
        self.revision += 1;
    }

    /// Takes in one stream message.
    pub fn push(&mut self, message: &Message) {
        match message {
            Message::Snapshot(s) => {
                for case in &s.open_cases {
                    if !self.cases.contains_key(&case.id) {
                        self.see(case);
                    }
                }
            }
            Message::Delta(d) => {
                for change in &d.changes {
                    if let Change::Case(case) = change {
                        self.see(case);
                    }
                }
            }
            _ => {}
        }
    }

    /// The marks between two times (inclusive).
    pub fn marks_between(&self, from_ms: i64, to_ms: i64) -> &[Mark] {
        let a = self.marks.partition_point(|m| m.time_ms < from_ms);
        let b = self.marks.partition_point(|m| m.time_ms <= to_ms);
        &self.marks[a..b.max(a)]
    }

    /// The first case opening after `t` (→ key) or the last before it (←).
    pub fn next_opening(&self, t: i64, forward: bool) -> Option<i64> {
        let openings = self.marks.iter().filter(|m| m.kind == MarkKind::Opened);
        if forward {
            openings.map(|m| m.time_ms).find(|m| *m > t)
        } else {
            openings.rev().map(|m| m.time_ms).find(|m| *m < t)
        }
    }

    /// Reads a whole recording (every chunk; corrupt ones are skipped).
    pub fn scan(path: &Path) -> Result<CaseHistory, RecordingError> {
        let mut recording = Recording::open(path)?;
        let mut history = CaseHistory::default();
        for index in 0..recording.chunks().len() {
            let Ok(messages) = recording.read_chunk(index) else {
                continue;
            };
            for (_, message) in &messages {
                history.push(message);
            }
        }
        Ok(history)
    }
}
