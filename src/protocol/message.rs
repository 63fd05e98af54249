//! The messages: Hello/Welcome (session), Snapshot/Delta (state, with
//! sequence numbers), Command/CommandResult, Heartbeat, Goodbye.

use serde::{Deserialize, Serialize};

use super::ProtocolError;
use super::frame::{Frame, begin_frame, finish_frame};
use crate::model::{
    BuildingId, Case, CaseAction, CaseId, Criterion, EvacuationStatus, Event, Forecast, HazardId,
    HazardLive, KpiTable, PlanStep, RiskLevel, Sample, SensorReading, WarningLevel,
};

/// The byte after the version in every frame; also the recorder's channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[repr(u8)]
pub enum MessageKind {
    Hello = 1,
    Welcome = 2,
    Snapshot = 3,
    Delta = 4,
    Command = 5,
    CommandResult = 6,
    Heartbeat = 7,
    Goodbye = 8,
}

impl MessageKind {
    pub const ALL: [MessageKind; 8] = [
        MessageKind::Hello,
        MessageKind::Welcome,
        MessageKind::Snapshot,
        MessageKind::Delta,
        MessageKind::Command,
        MessageKind::CommandResult,
        MessageKind::Heartbeat,
        MessageKind::Goodbye,
    ];

    pub fn from_u8(byte: u8) -> Option<MessageKind> {
        MessageKind::ALL.into_iter().find(|k| *k as u8 == byte)
    }
}

/// Client → server, first frame of a session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    pub client_version: String,
    pub token: String,
    /// Last sequence number applied, to resume without loss.
    pub resume_from: Option<u64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Role {
    Viewer,
    Dispatcher,
}

/// What part of the city a session may see and act on.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Scope {
    City,
    /// District code, e.g. "500103".
    District(String),
    Street {
        district: String,
        street: String,
    },
}

/// Server → client, answer to a good Hello.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Welcome {
    pub server_version: String,
    pub session: u64,
    pub role: Role,
    pub scope: Scope,
}

/// The whole live state at `seq`: one level byte and one flag byte per
/// building (raw bytes, not a list of structs), sensors and open events.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub seq: u64,
    pub time_ms: i64,
    #[serde(with = "serde_bytes")]
    pub levels: Vec<u8>,
    #[serde(with = "serde_bytes")]
    pub alarms: Vec<u8>,
    pub readings: Vec<SensorReading>,
    pub open_events: Vec<Event>,
    pub open_cases: Vec<Case>,
    /// KPIs so far (closed cases are not in the snapshot, their counts are).
    pub kpi: KpiTable,
    /// Per hazard body (city order): its status and recent samples (the
    /// last 48 h in full, older ones thinned to one a day).
    pub hazards: Vec<HazardLive>,
    /// Buildings destroyed by a slope failure.
    pub collapsed: Vec<BuildingId>,
}

/// One change in a delta.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Change {
    Level {
        building: BuildingId,
        level: RiskLevel,
    },
    Alarm {
        building: BuildingId,
        on: bool,
    },
    Reading(SensorReading),
    Event(Event),
    /// A case as it is after its latest step.
    Case(Case),
    /// A monitoring point's reading as the rules evaluated it.
    Sample {
        hazard: HazardId,
        point: u16,
        sample: Sample,
    },
    /// A body's warning level changed: why, and the response plan for it.
    HazardLevel {
        hazard: HazardId,
        level: WarningLevel,
        criterion: Option<Criterion>,
        plan: Vec<PlanStep>,
    },
    /// The failure-time forecast was refitted (`None`: no acceleration).
    Forecast {
        hazard: HazardId,
        forecast: Option<Forecast>,
    },
    /// A threatened building's residents moved on (index into the body's
    /// threatened buildings).
    Evacuation {
        hazard: HazardId,
        index: u16,
        status: EvacuationStatus,
    },
    /// The body failed; `casualties` people were still in its threat zone.
    HazardFailed {
        hazard: HazardId,
        casualties: u32,
    },
    /// A building was destroyed.
    Collapsed {
        building: BuildingId,
    },
}

/// What changed since `seq - 1`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Delta {
    pub seq: u64,
    pub time_ms: i64,
    pub changes: Vec<Change>,
}

/// Client → server: something the operator (or a test) asks for. Later
/// capabilities add kinds (dispatch, verify, close …).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum CommandKind {
    Ping,
    /// A sensor reading injected by an authorised client (drills, tests).
    InjectReading(SensorReading),
    /// A step of a case's workflow (dispatch, acknowledge, submit, verify,
    /// close, return), by a dispatcher whose scope covers the case, issued
    /// against the case as the operator saw it: `version` is the number of
    /// steps it had then (a case that moved on since refuses it as stale).
    Case {
        case: CaseId,
        action: CaseAction,
        version: u32,
    },
    /// A field unit's report on a threatened building's residents.
    Evacuation {
        hazard: HazardId,
        building: BuildingId,
        status: EvacuationStatus,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Command {
    pub id: u64,
    pub kind: CommandKind,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandResult {
    pub id: u64,
    /// `Err` carries why, machine-readable (and shown to the operator).
    pub outcome: Result<(), super::Refusal>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Heartbeat {
    pub time_ms: i64,
    /// The newest sequence number the sender knows.
    pub last_seq: u64,
}

/// Either side, last frame before closing: why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Goodbye {
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Message {
    Hello(Hello),
    Welcome(Welcome),
    Snapshot(Snapshot),
    Delta(Delta),
    Command(Command),
    CommandResult(CommandResult),
    Heartbeat(Heartbeat),
    Goodbye(Goodbye),
}

/// Lets postcard append to a borrowed buffer (no copy, nothing lost on error).
struct AppendTo<'a>(&'a mut Vec<u8>);

impl Extend<u8> for AppendTo<'_> {
    fn extend<I: IntoIterator<Item = u8>>(&mut self, bytes: I) {
        self.0.extend(bytes);
    }
}

fn encode_payload<T: Serialize>(
    kind: MessageKind,
    value: &T,
    out: &mut Vec<u8>,
) -> Result<(), ProtocolError> {
    let at = begin_frame(kind, out);
    postcard::to_extend(value, AppendTo(out)).map_err(|e| ProtocolError::Encode {
        kind,
        reason: e.to_string(),
    })?;
    finish_frame(at, out)
}

fn decode_payload<'a, T: Deserialize<'a>>(
    kind: MessageKind,
    payload: &'a [u8],
) -> Result<T, ProtocolError> {
    let (value, rest) = postcard::take_from_bytes(payload).map_err(|e| ProtocolError::Decode {
        kind,
        reason: e.to_string(),
    })?;
    if !rest.is_empty() {
        return Err(ProtocolError::TrailingBytes {
            kind,
            extra: rest.len(),
        });
    }
    Ok(value)
}

impl Message {
    pub fn kind(&self) -> MessageKind {
        match self {
            Message::Hello(_) => MessageKind::Hello,
            Message::Welcome(_) => MessageKind::Welcome,
            Message::Snapshot(_) => MessageKind::Snapshot,
            Message::Delta(_) => MessageKind::Delta,
            Message::Command(_) => MessageKind::Command,
            Message::CommandResult(_) => MessageKind::CommandResult,
            Message::Heartbeat(_) => MessageKind::Heartbeat,
            Message::Goodbye(_) => MessageKind::Goodbye,
        }
    }

    /// Appends this message as one frame to `out`. On error `out` is left as
    /// it was.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), ProtocolError> {
        let before = out.len();
        let kind = self.kind();
        let result = match self {
            Message::Hello(m) => encode_payload(kind, m, out),
            Message::Welcome(m) => encode_payload(kind, m, out),
            Message::Snapshot(m) => encode_payload(kind, m, out),
            Message::Delta(m) => encode_payload(kind, m, out),
            Message::Command(m) => encode_payload(kind, m, out),
            Message::CommandResult(m) => encode_payload(kind, m, out),
            Message::Heartbeat(m) => encode_payload(kind, m, out),
            Message::Goodbye(m) => encode_payload(kind, m, out),
        };
        if result.is_err() {
            out.truncate(before);
        }
        result
    }

    /// Decodes a frame's payload according to its kind.
    pub fn decode(frame: &Frame) -> Result<Message, ProtocolError> {
        let p = frame.payload.as_slice();
        Ok(match frame.kind {
            MessageKind::Hello => Message::Hello(decode_payload(frame.kind, p)?),
            MessageKind::Welcome => Message::Welcome(decode_payload(frame.kind, p)?),
            MessageKind::Snapshot => Message::Snapshot(decode_payload(frame.kind, p)?),
            MessageKind::Delta => Message::Delta(decode_payload(frame.kind, p)?),
            MessageKind::Command => Message::Command(decode_payload(frame.kind, p)?),
            MessageKind::CommandResult => Message::CommandResult(decode_payload(frame.kind, p)?),
            MessageKind::Heartbeat => Message::Heartbeat(decode_payload(frame.kind, p)?),
            MessageKind::Goodbye => Message::Goodbye(decode_payload(frame.kind, p)?),
        })
    }
}
