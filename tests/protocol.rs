//! The wire format: every message round-trips, frames survive arbitrary
//! splitting, and bad input is a clear error — never a panic.

use citytwin::model::{
    BuildingId, Criterion, EvacuationStatus, Event, EventId, EventKind, EventStatus, Forecast,
    HAZARD_SENSOR_BASE, HazardId, HazardLive, HazardStatus, Measurement, PlanStep, RiskLevel,
    Sample, SensorId, SensorReading, WarningLevel,
};
use citytwin::protocol::{
    Change, Command, CommandKind, CommandResult, Delta, FrameDecoder, Goodbye, HEADER_BYTES,
    Heartbeat, Hello, MAX_FRAME_BYTES, Message, MessageKind, PROTOCOL_VERSION, ProtocolError, Role,
    Scope, Snapshot, Welcome, read_frame,
};
use proptest::prelude::*;

fn event(id: u64, status: EventStatus) -> Event {
    Event {
        id: EventId(id),
        kind: EventKind::FireMainPressureLost,
        building: Some(BuildingId(7)),
        hazard: None,
        camera: None,
        severity: RiskLevel::High,
        status,
        time_ms: 1_764_000_000_000,
        message: "消防主管网压力为 0 MPa".to_owned(),
    }
}

fn motion(time_ms: i64, displacement_mm: f32) -> Sample {
    Sample::Motion {
        time_ms,
        displacement_mm,
        vector_mm: [displacement_mm, 0.0, -0.3],
        velocity_mm_d: 3.5,
        angle_deg: 62.0,
    }
}

fn forecast() -> Forecast {
    Forecast {
        point: 1,
        failure_ms: 1_764_100_000_000,
        earliest_ms: 1_764_090_000_000,
        latest_ms: 1_764_110_000_000,
        r2: 0.93,
        origin_ms: 1_763_900_000_000,
        intercept: 0.2,
        slope: -0.05,
        samples: 40,
        fitted_at_ms: 1_764_000_000_000,
    }
}

fn reading(sensor: u32, value: f32) -> SensorReading {
    SensorReading {
        sensor: SensorId(sensor),
        value: citytwin::model::Measurement::PressureMpa(value),
        time_ms: 1_764_000_000_500,
    }
}

fn every_message() -> Vec<Message> {
    vec![
        Message::Hello(Hello {
            client_version: "citytwin 0.1.0".into(),
            token: "secret".into(),
            resume_from: Some(41),
        }),
        Message::Welcome(Welcome {
            server_version: "citytwin 0.1.0".into(),
            session: 9,
            role: Role::Dispatcher,
            scope: Scope::Street {
                district: "500103".into(),
                street: "解放碑街道".into(),
            },
        }),
        Message::Snapshot(Snapshot {
            seq: 41,
            time_ms: 1_764_000_000_000,
            levels: (0..40_000u32).map(|i| (i % 5) as u8).collect(),
            alarms: (0..40_000u32).map(|i| u8::from(i % 97 == 0)).collect(),
            readings: vec![reading(1, 0.35), reading(2, 0.0)],
            open_events: vec![event(5, EventStatus::Open)],
            open_cases: vec![citytwin::model::Case::register(
                citytwin::model::CaseId(3),
                &event(5, EventStatus::Open),
                citytwin::model::DistrictId(0),
                citytwin::model::StreetId(2),
                1_764_000_900_000,
            )],
            kpi: citytwin::model::KpiTable::default(),
            hazards: vec![HazardLive {
                status: HazardStatus {
                    level: WarningLevel::Alarm,
                    forecast: Some(forecast()),
                    evacuation: vec![EvacuationStatus::Evacuating, EvacuationStatus::Settled],
                    ..HazardStatus::default()
                },
                series: vec![[motion(1_764_000_000_000, 12.5)].into(), Default::default()],
            }],
            collapsed: vec![BuildingId(9)],
        }),
        Message::Delta(Delta {
            seq: 42,
            time_ms: 1_764_000_001_000,
            changes: vec![
                Change::Level {
                    building: BuildingId(7),
                    level: RiskLevel::High,
                },
                Change::Alarm {
                    building: BuildingId(7),
                    on: true,
                },
                Change::Reading(reading(2, 0.0)),
                Change::Event(event(6, EventStatus::Closed)),
                Change::Reading(SensorReading {
                    sensor: SensorId(HAZARD_SENSOR_BASE + 3),
                    value: Measurement::DisplacementMm([1.5, -2.0, -0.5]),
                    time_ms: 1_764_000_000_500,
                }),
                Change::Sample {
                    hazard: HazardId(2),
                    point: 1,
                    sample: motion(1_764_000_000_900, 44.0),
                },
                Change::HazardLevel {
                    hazard: HazardId(2),
                    level: WarningLevel::Alert,
                    criterion: Some(Criterion {
                        point: 1,
                        angle_deg: 81.5,
                        velocity_mm_d: 17.0,
                        angle_limit_deg: 80.0,
                        velocity_limit_mm_d: 15.0,
                        forecast_failure_ms: None,
                    }),
                    plan: vec![PlanStep {
                        department: "应急管理局".into(),
                        action: "启动应急预案".into(),
                        due_ms: 1_764_007_200_000,
                    }],
                },
                Change::Forecast {
                    hazard: HazardId(2),
                    forecast: Some(forecast()),
                },
                Change::Evacuation {
                    hazard: HazardId(2),
                    index: 0,
                    status: EvacuationStatus::Notified,
                },
                Change::HazardFailed {
                    hazard: HazardId(2),
                    casualties: 0,
                },
                Change::Collapsed {
                    building: BuildingId(9),
                },
            ],
        }),
        Message::Command(Command {
            id: 3,
            kind: CommandKind::InjectReading(reading(2, 0.0)),
        }),
        Message::Command(Command {
            id: 4,
            kind: CommandKind::Ping,
        }),
        Message::Command(Command {
            id: 5,
            kind: CommandKind::Case {
                case: citytwin::model::CaseId(3),
                action: citytwin::model::CaseAction::Dispatch {
                    departments: vec!["消防救援支队".into()],
                },
                version: 0,
            },
        }),
        Message::CommandResult(CommandResult {
            id: 3,
            outcome: Err(citytwin::protocol::Refusal::NotDispatcher),
        }),
        Message::CommandResult(CommandResult {
            id: 6,
            outcome: Err(citytwin::protocol::Refusal::Stale {
                case: 3,
                seen: 1,
                now: 2,
                actor: "模拟部门 / simulated unit".into(),
                department: Some("城管局".into()),
                step: citytwin::model::CaseAction::Acknowledge,
                at_ms: 1_764_000_001_000,
            }),
        }),
        Message::Heartbeat(Heartbeat {
            time_ms: 1_764_000_002_000,
            last_seq: 42,
        }),
        Message::Goodbye(Goodbye {
            reason: "令牌无效 / unknown token".into(),
        }),
    ]
}

fn encode_all(messages: &[Message]) -> Vec<u8> {
    let mut out = Vec::new();
    for m in messages {
        m.encode(&mut out).expect("encodes");
    }
    out
}

fn decode_all(decoder: &mut FrameDecoder) -> Vec<Message> {
    let mut out = Vec::new();
    while let Some(frame) = decoder.next_frame().expect("valid frame") {
        out.push(Message::decode(&frame).expect("valid payload"));
    }
    out
}

#[test]
fn every_message_round_trips() {
    let messages = every_message();
    let kinds: std::collections::HashSet<MessageKind> =
        messages.iter().map(Message::kind).collect();
    assert_eq!(
        kinds.len(),
        MessageKind::ALL.len(),
        "the list covers every kind"
    );
    let bytes = encode_all(&messages);
    let mut decoder = FrameDecoder::new();
    decoder.push(&bytes);
    assert_eq!(decode_all(&mut decoder), messages);
    assert_eq!(decoder.buffered(), 0);
    decoder.finish().expect("nothing left over");
}

#[test]
fn frames_fed_one_byte_at_a_time_decode_the_same() {
    let messages = every_message();
    let bytes = encode_all(&messages);
    let mut decoder = FrameDecoder::new();
    let mut got = Vec::new();
    for b in &bytes {
        decoder.push(std::slice::from_ref(b));
        got.extend(decode_all(&mut decoder));
    }
    assert_eq!(got, messages);
}

#[test]
fn the_snapshot_carries_levels_as_raw_bytes() {
    let Message::Snapshot(snapshot) = &every_message()[2] else {
        unreachable!("message 2 is the snapshot")
    };
    let mut out = Vec::new();
    Message::Snapshot(snapshot.clone())
        .encode(&mut out)
        .expect("encodes");
    // 40k levels + 40k alarm bytes and a little framing: no per-item overhead.
    assert!(out.len() < 80_000 + 400, "{} bytes", out.len());
    assert_eq!(out[4], PROTOCOL_VERSION);
    assert_eq!(out[5], MessageKind::Snapshot as u8);
    let len = u32::from_le_bytes([out[0], out[1], out[2], out[3]]) as usize;
    assert_eq!(len + 4, out.len());
}

#[test]
fn read_frame_sees_a_clean_close_and_a_truncated_one() {
    let bytes = encode_all(&every_message()[..2]);
    let mut reader = std::io::Cursor::new(bytes.clone());
    let mut decoder = FrameDecoder::new();
    assert!(
        read_frame(&mut reader, &mut decoder)
            .expect("frame 1")
            .is_some()
    );
    assert!(
        read_frame(&mut reader, &mut decoder)
            .expect("frame 2")
            .is_some()
    );
    assert!(
        read_frame(&mut reader, &mut decoder)
            .expect("clean close")
            .is_none()
    );

    let mut reader = std::io::Cursor::new(bytes[..bytes.len() - 3].to_vec());
    let mut decoder = FrameDecoder::new();
    assert!(
        read_frame(&mut reader, &mut decoder)
            .expect("frame 1")
            .is_some()
    );
    let err = read_frame(&mut reader, &mut decoder).expect_err("cut inside frame 2");
    assert!(matches!(err, ProtocolError::Truncated { .. }), "{err}");
    assert!(err.to_string().contains("middle of a frame"));
}

fn header(len: u32, version: u8, kind: u8) -> Vec<u8> {
    let mut v = len.to_le_bytes().to_vec();
    v.extend([version, kind]);
    v
}

#[test]
fn bad_headers_are_refused_before_the_payload_arrives() {
    let mut decoder = FrameDecoder::new();
    decoder.push(&(MAX_FRAME_BYTES + 1).to_le_bytes());
    let err = decoder.next_frame().expect_err("too large");
    assert!(
        matches!(err, ProtocolError::FrameTooLarge { len, max } if len == u64::from(MAX_FRAME_BYTES) + 1 && max == MAX_FRAME_BYTES)
    );

    let mut decoder = FrameDecoder::new();
    decoder.push(&header(10, PROTOCOL_VERSION + 1, 1));
    let err = decoder.next_frame().expect_err("wrong version");
    assert!(
        matches!(err, ProtocolError::UnsupportedVersion { got, supported } if got == PROTOCOL_VERSION + 1 && supported == PROTOCOL_VERSION)
    );

    let mut decoder = FrameDecoder::new();
    decoder.push(&header(10, PROTOCOL_VERSION, 99));
    assert!(matches!(
        decoder.next_frame(),
        Err(ProtocolError::UnknownKind { kind: 99 })
    ));

    let mut decoder = FrameDecoder::new();
    decoder.push(&header(1, PROTOCOL_VERSION, 1));
    assert!(matches!(
        decoder.next_frame(),
        Err(ProtocolError::FrameTooShort { len: 1 })
    ));
}

#[test]
fn garbage_payloads_and_trailing_bytes_are_decode_errors() {
    let mut bytes = header(2 + 3, PROTOCOL_VERSION, MessageKind::Snapshot as u8);
    bytes.extend([0xff, 0xff, 0xff]);
    let mut decoder = FrameDecoder::new();
    decoder.push(&bytes);
    let frame = decoder
        .next_frame()
        .expect("frame is well formed")
        .expect("complete");
    let err = Message::decode(&frame).expect_err("garbage");
    assert!(
        matches!(
            err,
            ProtocolError::Decode {
                kind: MessageKind::Snapshot,
                ..
            }
        ),
        "{err}"
    );

    let mut out = Vec::new();
    Message::Heartbeat(Heartbeat {
        time_ms: 1,
        last_seq: 2,
    })
    .encode(&mut out)
    .expect("encodes");
    out.push(0);
    let len = u32::from_le_bytes([out[0], out[1], out[2], out[3]]) + 1;
    out[..4].copy_from_slice(&len.to_le_bytes());
    let mut decoder = FrameDecoder::new();
    decoder.push(&out);
    let frame = decoder.next_frame().expect("ok").expect("complete");
    assert!(matches!(
        Message::decode(&frame),
        Err(ProtocolError::TrailingBytes { extra: 1, .. })
    ));
    assert_eq!(HEADER_BYTES, 6);
}

#[test]
fn the_protocol_module_uses_neither_bevy_nor_tokio() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/protocol");
    for entry in std::fs::read_dir(&dir).expect("src/protocol exists") {
        let path = entry.expect("entry").path();
        let text = std::fs::read_to_string(&path).expect("readable");
        for line in text.lines().filter(|l| !l.trim_start().starts_with("//")) {
            assert!(
                !line.contains("bevy") && !line.contains("tokio"),
                "{} must stay sans-IO: {line}",
                path.display()
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Random bytes, in random chunks: the decoder returns frames or an
    /// error, and never panics; every frame it returns decodes or errors.
    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048), split in 1usize..64) {
        let mut decoder = FrameDecoder::new();
        'outer: for chunk in bytes.chunks(split) {
            decoder.push(chunk);
            loop {
                match decoder.next_frame() {
                    Ok(Some(frame)) => { let _ = Message::decode(&frame); }
                    Ok(None) => break,
                    Err(_) => break 'outer,
                }
            }
        }
    }

    /// Valid frames with a random valid kind but random payload bytes.
    #[test]
    fn random_payloads_never_panic(kind in 1u8..=8, payload in proptest::collection::vec(any::<u8>(), 0..512)) {
        let mut bytes = header(2 + payload.len() as u32, PROTOCOL_VERSION, kind);
        bytes.extend(&payload);
        let mut decoder = FrameDecoder::new();
        decoder.push(&bytes);
        let frame = decoder.next_frame().expect("header is valid").expect("complete");
        let _ = Message::decode(&frame);
    }

    /// Any split of a valid stream gives back exactly the messages.
    #[test]
    fn any_split_decodes_the_same(cuts in proptest::collection::vec(any::<usize>(), 0..12)) {
        let messages = every_message();
        let bytes = encode_all(&messages);
        let mut points: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
        points.push(0);
        points.push(bytes.len());
        points.sort_unstable();
        let mut decoder = FrameDecoder::new();
        let mut got = Vec::new();
        for w in points.windows(2) {
            decoder.push(&bytes[w[0]..w[1]]);
            got.extend(decode_all(&mut decoder));
        }
        prop_assert_eq!(got, messages);
    }
}
