//! The embedded store (SQLite): buildings with their live level and alarm,
//! sensors, a readings summary, events, the notification outbox (each row is
//! an SMS), the audit log, and the delta journal with periodic snapshots so a
//! restarted server resumes at the same sequence number. Every delta is
//! written in one transaction with everything it caused: no half-written rows.

use std::collections::HashMap;
use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};

use super::rules::{Notification, PartyRole};
use crate::model::{
    BuildingId, Case, CaseStatus, City, DistrictId, EventStatus, HazardId, Kpi, KpiTable, SensorId,
    StreetId,
};
use crate::protocol::{Change, Delta, FrameDecoder, Message, Snapshot};

/// The schema and journal encoding (`PRAGMA user_version`): 2 = protocol 2
/// (typed readings, hazard bodies).
pub const STORE_VERSION: i64 = 3;
/// A full snapshot row every this many deltas bounds restart replay.
pub const SNAPSHOT_EVERY: u64 = 500;
/// Deltas kept behind the newest snapshot (the server's resume window).
pub const KEEP_DELTAS: u64 = 10_000;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database {path}: {source}")]
    Sql {
        path: String,
        source: rusqlite::Error,
    },
    #[error(
        "database {path} belongs to another city ({found} buildings, this city has {expected})"
    )]
    OtherCity {
        path: String,
        found: usize,
        expected: usize,
    },
    #[error("database {path}: cannot journal delta {seq}: {reason}")]
    Encode {
        path: String,
        seq: u64,
        reason: String,
    },
    #[error(
        "database {path} was written by store version {found}; this build writes version {expected} \
         (its journal cannot be read): start with a new --db file"
    )]
    Version {
        path: String,
        found: i64,
        expected: i64,
    },
    #[error("database {path}: stored stream is corrupt at seq {seq}: {reason}")]
    Corrupt {
        path: String,
        seq: u64,
        reason: String,
    },
}

pub struct Store {
    conn: Connection,
    path: String,
}

const SCHEMA: &str = "
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
CREATE TABLE IF NOT EXISTS buildings (
    id INTEGER PRIMARY KEY, code TEXT NOT NULL UNIQUE, address TEXT NOT NULL,
    district TEXT NOT NULL, base_level INTEGER NOT NULL, level INTEGER NOT NULL,
    alarm INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS sensors (
    id INTEGER PRIMARY KEY, building INTEGER NOT NULL REFERENCES buildings(id), kind TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS readings_summary (
    sensor INTEGER PRIMARY KEY, last_value REAL NOT NULL, last_time_ms INTEGER NOT NULL,
    count INTEGER NOT NULL, zero_count INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY, kind TEXT NOT NULL, building INTEGER, severity INTEGER NOT NULL,
    status TEXT NOT NULL, opened_ms INTEGER NOT NULL, closed_ms INTEGER, message TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT, building INTEGER, hazard INTEGER, role TEXT NOT NULL,
    recipient TEXT NOT NULL, phone TEXT NOT NULL, text TEXT NOT NULL,
    created_ms INTEGER NOT NULL, sent_ms INTEGER);
CREATE TABLE IF NOT EXISTS hazard_levels (
    id INTEGER PRIMARY KEY AUTOINCREMENT, hazard INTEGER NOT NULL, time_ms INTEGER NOT NULL,
    level TEXT NOT NULL, angle_deg REAL, velocity_mm_d REAL);
CREATE TABLE IF NOT EXISTS evacuation (
    hazard INTEGER NOT NULL, building INTEGER NOT NULL, status TEXT NOT NULL,
    time_ms INTEGER NOT NULL, PRIMARY KEY (hazard, building));
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT, time_ms INTEGER NOT NULL, actor TEXT NOT NULL,
    action TEXT NOT NULL, detail TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS cases (
    id INTEGER PRIMARY KEY, event INTEGER NOT NULL, kind TEXT NOT NULL, building INTEGER,
    district INTEGER NOT NULL, street INTEGER NOT NULL, opened_ms INTEGER NOT NULL,
    due_ms INTEGER NOT NULL, deadline_ms INTEGER NOT NULL, status TEXT NOT NULL, level TEXT NOT NULL,
    departments TEXT NOT NULL, closed_ms INTEGER);
CREATE TABLE IF NOT EXISTS case_steps (
    id INTEGER PRIMARY KEY AUTOINCREMENT, case_id INTEGER NOT NULL REFERENCES cases(id),
    time_ms INTEGER NOT NULL, actor TEXT NOT NULL, department TEXT, action TEXT NOT NULL,
    from_status TEXT NOT NULL, to_status TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS case_steps_by_case ON case_steps(case_id);
CREATE INDEX IF NOT EXISTS cases_by_opened ON cases(opened_ms);
CREATE INDEX IF NOT EXISTS cases_by_closed ON cases(closed_ms);
-- KPI counters per UTC day and street, kept in the same transaction as the
-- cases: received on the day a case opens, closed (and on time) on the day
-- it closes. A KPI at T sums the days before T's and counts T's own day
-- from `cases` through the two time indexes.
CREATE TABLE IF NOT EXISTS kpi_daily (
    day INTEGER NOT NULL, district INTEGER NOT NULL, street INTEGER NOT NULL,
    received INTEGER NOT NULL DEFAULT 0, closed INTEGER NOT NULL DEFAULT 0,
    closed_on_time INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, district, street)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS deltas (seq INTEGER PRIMARY KEY, time_ms INTEGER NOT NULL, frame BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS snapshots (seq INTEGER PRIMARY KEY, time_ms INTEGER NOT NULL, frame BLOB NOT NULL);
";

const DAY_MS: i64 = 86_400_000;

/// Writes a case as it now is, and counts it in the daily KPI buckets the
/// same way [`KpiTable::count`] counts the stream: received when it has no
/// steps yet, closed (once) when it closes.
fn journal_case(tx: &rusqlite::Transaction<'_>, c: &Case) -> rusqlite::Result<()> {
    let closed_ms = c.closed_ms();
    tx.prepare_cached(
        "INSERT INTO cases (id, event, kind, building, district, street, opened_ms,
            deadline_ms, status, level, departments, closed_ms, due_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
         ON CONFLICT(id) DO UPDATE SET deadline_ms = ?8, status = ?9, level = ?10,
            departments = ?11, closed_ms = ?12",
    )?
    .execute(params![
        c.id.0 as i64,
        c.event.0 as i64,
        format!("{:?}", c.kind),
        c.building.map(|b| b.0),
        c.district.0,
        c.street.0,
        c.opened_ms,
        c.deadline_ms,
        format!("{:?}", c.status),
        format!("{:?}", c.level),
        c.departments.join(","),
        closed_ms,
        c.due_ms
    ])?;
    let mut bump = tx.prepare_cached(
        "INSERT INTO kpi_daily (day, district, street, received, closed, closed_on_time)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT(day, district, street) DO UPDATE SET received = received + ?4,
            closed = closed + ?5, closed_on_time = closed_on_time + ?6",
    )?;
    if c.steps.is_empty() {
        bump.execute(params![
            c.opened_ms.div_euclid(DAY_MS),
            c.district.0,
            c.street.0,
            1,
            0,
            0
        ])?;
    }
    if let (CaseStatus::Closed, Some(t)) = (c.status, closed_ms) {
        bump.execute(params![
            t.div_euclid(DAY_MS),
            c.district.0,
            c.street.0,
            0,
            1,
            i64::from(t <= c.due_ms)
        ])?;
    }
    Ok(())
}

/// Fills the KPI buckets of a journal written before they existed.
const BACKFILL_KPI: &str = "
INSERT INTO kpi_daily (day, district, street, received)
    SELECT opened_ms / 86400000, district, street, COUNT(*) FROM cases
    WHERE (SELECT COUNT(*) FROM kpi_daily) = 0 GROUP BY 1, 2, 3;
INSERT INTO kpi_daily (day, district, street, closed, closed_on_time)
    SELECT closed_ms / 86400000, district, street, COUNT(*), SUM(closed_ms <= due_ms) FROM cases
    WHERE closed_ms IS NOT NULL AND (SELECT COALESCE(SUM(closed), 0) FROM kpi_daily) = 0
    GROUP BY 1, 2, 3
    ON CONFLICT(day, district, street) DO UPDATE SET closed = excluded.closed,
        closed_on_time = excluded.closed_on_time;
";

fn role_name(role: PartyRole) -> &'static str {
    match role {
        PartyRole::SafetyResponsible => "消防安全责任人",
        PartyRole::SafetyManager => "消防安全管理人",
        PartyRole::Maintenance => "维保单位",
        PartyRole::HazardMonitor => "群测群防员",
        PartyRole::StreetDuty => "街道值班",
        PartyRole::Resident => "受威胁住户",
    }
}

/// One outbox row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRow {
    pub building: Option<BuildingId>,
    pub hazard: Option<HazardId>,
    pub role: String,
    pub recipient: String,
    pub phone: String,
    pub text: String,
}

fn encode(message: Message) -> Result<Vec<u8>, crate::protocol::ProtocolError> {
    let mut out = Vec::new();
    message.encode(&mut out)?;
    Ok(out)
}

impl Store {
    /// Opens (or creates) the database for `city`; `":memory:"` for a
    /// throwaway store.
    pub fn open(
        path: &str,
        city: &City,
        sensors: &HashMap<SensorId, BuildingId>,
    ) -> Result<Store, StoreError> {
        let sql = |source| StoreError::Sql {
            path: path.to_owned(),
            source,
        };
        let conn = if path == ":memory:" {
            Connection::open_in_memory()
        } else {
            Connection::open(Path::new(path))
        }
        .map_err(sql)?;
        let has_tables: bool = conn
            .query_row(
                "SELECT COUNT(*) > 0 FROM sqlite_master WHERE name = 'buildings'",
                [],
                |r| r.get(0),
            )
            .map_err(sql)?;
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(sql)?;
        if has_tables && version != STORE_VERSION {
            return Err(StoreError::Version {
                path: path.to_owned(),
                found: version,
                expected: STORE_VERSION,
            });
        }
        conn.execute_batch(SCHEMA).map_err(sql)?;
        conn.execute_batch(BACKFILL_KPI).map_err(sql)?;
        conn.execute_batch(&format!("PRAGMA user_version = {STORE_VERSION};"))
            .map_err(sql)?;
        let mut store = Store {
            conn,
            path: path.to_owned(),
        };
        let found: usize = store
            .conn
            .query_row("SELECT COUNT(*) FROM buildings", [], |r| r.get(0))
            .map_err(sql)?;
        if found == 0 {
            store.seed(city, sensors).map_err(sql)?;
        } else if found != city.buildings.len() {
            return Err(StoreError::OtherCity {
                path: path.to_owned(),
                found,
                expected: city.buildings.len(),
            });
        }
        Ok(store)
    }

    /// Opens an existing database read-only, for reports (no seeding, no
    /// city check).
    pub fn open_read_only(path: &str) -> Result<Store, StoreError> {
        let conn = Connection::open_with_flags(
            Path::new(path),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .map_err(|source| StoreError::Sql {
            path: path.to_owned(),
            source,
        })?;
        Ok(Store {
            conn,
            path: path.to_owned(),
        })
    }

    fn err(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Sql {
            path: self.path.clone(),
            source,
        }
    }

    fn seed(
        &mut self,
        city: &City,
        sensors: &HashMap<SensorId, BuildingId>,
    ) -> rusqlite::Result<()> {
        let tx = self.conn.transaction()?;
        {
            let mut insert = tx.prepare(
                "INSERT INTO buildings (id, code, address, district, base_level, level) VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
            )?;
            for b in &city.buildings {
                let district = city
                    .districts
                    .get(usize::from(b.district.0))
                    .map_or("", |d| d.code.as_str());
                insert.execute(params![
                    b.id.0,
                    b.code,
                    b.address,
                    district,
                    b.base_level as u8
                ])?;
            }
            let mut insert = tx.prepare(
                "INSERT INTO sensors (id, building, kind) VALUES (?1, ?2, 'fire_main_pressure')",
            )?;
            for (sensor, building) in sensors {
                insert.execute(params![sensor.0, building.0])?;
            }
        }
        tx.commit()
    }

    /// Journals a delta with the notifications it caused, atomically.
    pub fn commit(
        &mut self,
        delta: &Delta,
        notifications: &[Notification],
        snapshot: Option<&Snapshot>,
    ) -> Result<(), StoreError> {
        let encode_err = |e: crate::protocol::ProtocolError| StoreError::Encode {
            path: self.path.clone(),
            seq: delta.seq,
            reason: e.to_string(),
        };
        let frame = encode(Message::Delta(delta.clone())).map_err(encode_err)?;
        let snapshot = match snapshot {
            Some(s) => Some(encode(Message::Snapshot(s.clone())).map_err(encode_err)?),
            None => None,
        };
        let result = (|| -> rusqlite::Result<()> {
            let tx = self.conn.transaction()?;
            tx.execute(
                "INSERT INTO deltas (seq, time_ms, frame) VALUES (?1, ?2, ?3)",
                params![delta.seq as i64, delta.time_ms, frame],
            )?;
            for change in &delta.changes {
                match change {
                    Change::Level { building, level } => {
                        tx.execute(
                            "UPDATE buildings SET level = ?2 WHERE id = ?1",
                            params![building.0, *level as u8],
                        )?;
                    }
                    Change::Alarm { building, on } => {
                        tx.execute(
                            "UPDATE buildings SET alarm = ?2 WHERE id = ?1",
                            params![building.0, *on],
                        )?;
                    }
                    Change::Reading(r) => {
                        tx.execute(
                            "INSERT INTO readings_summary (sensor, last_value, last_time_ms, count, zero_count)
                             VALUES (?1, ?2, ?3, 1, ?4)
                             ON CONFLICT(sensor) DO UPDATE SET last_value = ?2, last_time_ms = ?3,
                                count = count + 1, zero_count = zero_count + ?4",
                            params![r.sensor.0, r.value.scalar(), r.time_ms, i64::from(r.pressure_mpa().is_some_and(|v| v <= super::rules::ZERO_PRESSURE_MPA))],
                        )?;
                    }
                    Change::Case(c) => {
                        journal_case(&tx, c)?;
                        if let Some(step) = c.steps.last() {
                            tx.execute(
                                "INSERT INTO case_steps (case_id, time_ms, actor, department, action, from_status, to_status)
                                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                                params![
                                    c.id.0 as i64,
                                    step.time_ms,
                                    step.actor,
                                    step.department,
                                    format!("{:?}", step.action),
                                    format!("{:?}", step.from),
                                    format!("{:?}", step.to)
                                ],
                            )?;
                        }
                    }
                    Change::HazardLevel {
                        hazard,
                        level,
                        criterion,
                        ..
                    } => {
                        tx.execute(
                            "INSERT INTO hazard_levels (hazard, time_ms, level, angle_deg, velocity_mm_d) VALUES (?1, ?2, ?3, ?4, ?5)",
                            params![hazard.0, delta.time_ms, format!("{level:?}"), criterion.map(|c| c.angle_deg), criterion.map(|c| c.velocity_mm_d)],
                        )?;
                    }
                    Change::Evacuation {
                        hazard,
                        index,
                        status,
                    } => {
                        tx.execute(
                            "INSERT INTO evacuation (hazard, building, status, time_ms) VALUES (?1, ?2, ?3, ?4)
                             ON CONFLICT(hazard, building) DO UPDATE SET status = ?3, time_ms = ?4",
                            params![hazard.0, index, format!("{status:?}"), delta.time_ms],
                        )?;
                    }
                    // Samples, forecasts, failures and collapses live in the
                    // delta journal itself.
                    Change::Sample { .. }
                    | Change::Forecast { .. }
                    | Change::HazardFailed { .. }
                    | Change::Collapsed { .. } => {}
                    Change::Event(e) => {
                        let status = match e.status {
                            EventStatus::Open => "open",
                            EventStatus::Closed => "closed",
                        };
                        tx.execute(
                            "INSERT INTO events (id, kind, building, severity, status, opened_ms, message)
                             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                             ON CONFLICT(id) DO UPDATE SET status = ?5, closed_ms = ?6",
                            params![e.id.0 as i64, format!("{:?}", e.kind), e.building.map(|b| b.0), e.severity as u8, status, e.time_ms, e.message],
                        )?;
                    }
                }
            }
            for n in notifications {
                tx.execute(
                    "INSERT INTO outbox (building, hazard, role, recipient, phone, text, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    params![n.building.map(|b| b.0), n.hazard.map(|h| h.0), role_name(n.role), n.recipient, n.phone, n.text, n.time_ms],
                )?;
            }
            if let Some(frame) = &snapshot {
                tx.execute(
                    "INSERT INTO snapshots (seq, time_ms, frame) VALUES (?1, ?2, ?3)",
                    params![delta.seq as i64, delta.time_ms, frame],
                )?;
                // Keep a resume window of deltas behind the newest snapshot;
                // older deltas and snapshots are no longer needed.
                let keep_from = delta.seq.saturating_sub(KEEP_DELTAS) as i64;
                tx.execute("DELETE FROM deltas WHERE seq <= ?1", [keep_from])?;
                tx.execute("DELETE FROM snapshots WHERE seq < ?1", [keep_from])?;
            }
            tx.commit()
        })();
        result.map_err(|e| self.err(e))
    }

    pub fn audit(
        &mut self,
        time_ms: i64,
        actor: &str,
        action: &str,
        detail: &str,
    ) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO audit (time_ms, actor, action, detail) VALUES (?1, ?2, ?3, ?4)",
                params![time_ms, actor, action, detail],
            )
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    fn decode_row(&self, seq: i64, frame: &[u8]) -> Result<Message, StoreError> {
        let corrupt = |reason: String| StoreError::Corrupt {
            path: self.path.clone(),
            seq: seq as u64,
            reason,
        };
        let mut decoder = FrameDecoder::new();
        decoder.push(frame);
        let frame = decoder
            .next_frame()
            .map_err(|e| corrupt(e.to_string()))?
            .ok_or_else(|| corrupt("empty frame".into()))?;
        Message::decode(&frame).map_err(|e| corrupt(e.to_string()))
    }

    /// The newest full-state row, if any.
    pub fn latest_snapshot(&self) -> Result<Option<Snapshot>, StoreError> {
        let row: Option<(i64, Vec<u8>)> = self
            .conn
            .query_row(
                "SELECT seq, frame FROM snapshots ORDER BY seq DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        match row {
            None => Ok(None),
            Some((seq, frame)) => match self.decode_row(seq, &frame)? {
                Message::Snapshot(s) => Ok(Some(s)),
                _ => Err(StoreError::Corrupt {
                    path: self.path.clone(),
                    seq: seq as u64,
                    reason: "snapshot row holds another message".into(),
                }),
            },
        }
    }

    /// Journaled deltas with seq > `after`, in order.
    pub fn deltas_after(&self, after: u64) -> Result<Vec<Delta>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT seq, frame FROM deltas WHERE seq > ?1 ORDER BY seq")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([after as i64], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?))
            })
            .map_err(|e| self.err(e))?;
        let mut deltas = Vec::new();
        for row in rows {
            let (seq, frame) = row.map_err(|e| self.err(e))?;
            match self.decode_row(seq, &frame)? {
                Message::Delta(d) => deltas.push(d),
                _ => {
                    return Err(StoreError::Corrupt {
                        path: self.path.clone(),
                        seq: seq as u64,
                        reason: "delta row holds another message".into(),
                    });
                }
            }
        }
        Ok(deltas)
    }

    /// The texts sent about a building (its fire alarms; evacuation orders
    /// for the hazard it stands under).
    pub fn outbox_for(&self, building: BuildingId) -> Result<Vec<OutboxRow>, StoreError> {
        self.outbox_where("building = ?1", building.0)
    }

    /// The texts sent about a hazard body (evacuation orders).
    pub fn outbox_for_hazard(&self, hazard: HazardId) -> Result<Vec<OutboxRow>, StoreError> {
        self.outbox_where("hazard = ?1", hazard.0)
    }

    fn outbox_where(&self, filter: &str, id: u32) -> Result<Vec<OutboxRow>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT building, hazard, role, recipient, phone, text FROM outbox WHERE {filter} ORDER BY id"
            ))
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([id], |r| {
                Ok(OutboxRow {
                    building: r.get::<_, Option<u32>>(0)?.map(BuildingId),
                    hazard: r.get::<_, Option<u32>>(1)?.map(HazardId),
                    role: r.get(2)?,
                    recipient: r.get(3)?,
                    phone: r.get(4)?,
                    text: r.get(5)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| self.err(e))
    }

    /// KPIs as they were at `at_ms`, from the journal: the daily buckets
    /// before `at_ms`'s day plus that day's cases, counted through the time
    /// indexes. Equal to [`Store::kpi_at_scan`], in milliseconds at millions
    /// of cases.
    pub fn kpi_at(&self, at_ms: i64) -> Result<KpiTable, StoreError> {
        // A journal from before the buckets, opened read-only (a report),
        // could not be backfilled: count it the slow way.
        let buckets = self
            .conn
            .query_row(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'kpi_daily'",
                [],
                |r| r.get::<_, i64>(0),
            )
            .map_err(|e| self.err(e))?;
        if buckets == 0 {
            return self.kpi_at_scan(at_ms);
        }
        let day = at_ms.div_euclid(DAY_MS);
        let day_start = day * DAY_MS;
        let mut table = KpiTable::default();
        let queries: [(&str, &[i64]); 3] = [
            (
                "SELECT district, street, received, closed, closed_on_time
                 FROM kpi_daily WHERE day < ?1",
                &[day],
            ),
            (
                "SELECT district, street, COUNT(*), 0, 0 FROM cases
                 WHERE opened_ms >= ?1 AND opened_ms <= ?2 GROUP BY district, street",
                &[day_start, at_ms],
            ),
            (
                "SELECT district, street, 0, COUNT(*), SUM(closed_ms <= due_ms) FROM cases
                 WHERE closed_ms >= ?1 AND closed_ms <= ?2 GROUP BY district, street",
                &[day_start, at_ms],
            ),
        ];
        for (sql, args) in queries {
            self.add_kpi_rows(&mut table, sql, args)?;
        }
        Ok(table)
    }

    /// Adds rows of (district, street, received, closed, on time) to `table`.
    fn add_kpi_rows(
        &self,
        table: &mut KpiTable,
        sql: &str,
        args: &[i64],
    ) -> Result<(), StoreError> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(|e| self.err(e))?;
        let mut rows = stmt
            .query(rusqlite::params_from_iter(args))
            .map_err(|e| self.err(e))?;
        while let Some(r) = rows.next().map_err(|e| self.err(e))? {
            let read = |r: &rusqlite::Row<'_>| -> rusqlite::Result<_> {
                Ok((
                    DistrictId(r.get(0)?),
                    StreetId(r.get(1)?),
                    Kpi {
                        received: r.get::<_, i64>(2)? as u64,
                        closed: r.get::<_, i64>(3)? as u64,
                        closed_on_time: r.get::<_, Option<i64>>(4)?.unwrap_or(0) as u64,
                    },
                ))
            };
            let (district, street, k) = read(r).map_err(|e| self.err(e))?;
            table.add(district, street, k);
        }
        Ok(())
    }

    /// Journals cases as they now are (with their KPI counts) in one
    /// transaction, without deltas: bulk imports and the KPI benchmark.
    pub fn journal_cases(&mut self, cases: &[Case]) -> Result<(), StoreError> {
        let result = (|| -> rusqlite::Result<()> {
            let tx = self.conn.transaction()?;
            for c in cases {
                journal_case(&tx, c)?;
            }
            tx.commit()
        })();
        result.map_err(|e| self.err(e))
    }

    /// The same KPIs by scanning every case (the reference the bucketed
    /// [`Store::kpi_at`] is checked against).
    pub fn kpi_at_scan(&self, at_ms: i64) -> Result<KpiTable, StoreError> {
        let mut table = KpiTable::default();
        let mut stmt = self
            .conn
            .prepare(
                "SELECT district, street,
                        COUNT(*),
                        SUM(closed_ms IS NOT NULL AND closed_ms <= ?1),
                        SUM(closed_ms IS NOT NULL AND closed_ms <= ?1 AND closed_ms <= due_ms)
                 FROM cases WHERE opened_ms <= ?1 GROUP BY district, street",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([at_ms], |r| {
                Ok((
                    DistrictId(r.get(0)?),
                    StreetId(r.get(1)?),
                    Kpi {
                        received: r.get::<_, i64>(2)? as u64,
                        closed: r.get::<_, i64>(3)? as u64,
                        closed_on_time: r.get::<_, i64>(4)? as u64,
                    },
                ))
            })
            .map_err(|e| self.err(e))?;
        for row in rows {
            let (district, street, k) = row.map_err(|e| self.err(e))?;
            table.add(district, street, k);
        }
        Ok(table)
    }

    /// Runs a single-value SQL query (reports, tests).
    pub fn query_i64(&self, sql: &str) -> Result<i64, StoreError> {
        self.conn
            .query_row(sql, [], |r| r.get(0))
            .map_err(|e| self.err(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geo::demo::{DemoScene, generate};
    use crate::live::LiveState;

    /// A 50-building demo city.
    fn tiny_city() -> City {
        let mut scene = DemoScene::embedded().expect("scene");
        scene.buildings = 50;
        scene.cell_m = 1000.0;
        generate(&scene)
    }

    #[test]
    fn kpi_buckets_are_backfilled_for_a_journal_written_without_them() {
        use crate::model::{CaseAction, CaseId, Event, EventId, EventKind, RiskLevel};
        let city = tiny_city();
        let path =
            std::env::temp_dir().join(format!("citytwin-backfill-{}.db", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let path = path.display().to_string();
        let day = 86_400_000;
        let cases: Vec<Case> = (0..40u64)
            .flat_map(|i| {
                let b = &city.buildings[i as usize % 50];
                let opened = 1_795_478_400_000 + i as i64 * day / 7;
                let event = Event {
                    id: EventId(i),
                    kind: EventKind::GridReport,
                    building: Some(b.id),
                    hazard: None,
                    camera: None,
                    severity: RiskLevel::Lower,
                    status: crate::model::EventStatus::Open,
                    time_ms: opened,
                    message: String::new(),
                };
                let open = Case::register(CaseId(i), &event, b.district, b.street, opened + day);
                let mut closed = open.clone();
                let t = opened + (i as i64 % 5) * day / 2;
                for action in [
                    CaseAction::Dispatch {
                        departments: vec!["x".into()],
                    },
                    CaseAction::Acknowledge,
                    CaseAction::Submit,
                    CaseAction::Verify { passed: true },
                    CaseAction::Close,
                ] {
                    closed.apply(action, "t", None, t).expect("step");
                }
                if i % 3 == 0 {
                    vec![open]
                } else {
                    vec![open, closed]
                }
            })
            .collect();
        {
            let mut store = Store::open(&path, &city, &HashMap::new()).expect("store");
            store.journal_cases(&cases).expect("journal");
            store
                .conn
                .execute("DELETE FROM kpi_daily", [])
                .expect("forget the buckets");
        }
        let times = [0, 3, 6, 9].map(|d| 1_795_478_400_000 + d * day + day / 3);
        {
            // Without the table at all, a read-only report still counts.
            let store = Store::open(&path, &city, &HashMap::new()).expect("store");
            store
                .conn
                .execute("DROP TABLE kpi_daily", [])
                .expect("drop");
        }
        let read_only = Store::open_read_only(&path).expect("read-only");
        for t in times {
            assert_eq!(
                read_only.kpi_at(t).expect("kpi"),
                read_only.kpi_at_scan(t).expect("scan")
            );
        }
        drop(read_only);
        let store = Store::open(&path, &city, &HashMap::new()).expect("reopen");
        for t in times {
            let scan = store.kpi_at_scan(t).expect("scan");
            assert!(scan.city.received > 0);
            assert_eq!(store.kpi_at(t).expect("buckets"), scan, "at {t}");
        }
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn the_journal_keeps_a_window_behind_the_newest_snapshot() {
        let city = tiny_city();
        let mut store = Store::open(":memory:", &city, &HashMap::new()).expect("store");
        let live = LiveState::new(&city);
        let last = KEEP_DELTAS + SNAPSHOT_EVERY + 100;
        for seq in 1..=last {
            let delta = Delta {
                seq,
                time_ms: seq as i64,
                changes: Vec::new(),
            };
            let snapshot = seq.is_multiple_of(SNAPSHOT_EVERY).then(|| Snapshot {
                seq,
                ..live.to_snapshot(seq as i64)
            });
            store
                .commit(&delta, &[], snapshot.as_ref())
                .expect("commit");
        }
        let newest_snapshot = last - 100;
        assert_eq!(
            store.latest_snapshot().expect("read").map(|s| s.seq),
            Some(newest_snapshot)
        );
        let oldest = store.query_i64("SELECT MIN(seq) FROM deltas").expect("min");
        assert_eq!(oldest as u64, newest_snapshot - KEEP_DELTAS + 1);
        let snapshots = store
            .query_i64("SELECT COUNT(*) FROM snapshots")
            .expect("count");
        assert!(
            snapshots as u64 <= KEEP_DELTAS / SNAPSHOT_EVERY + 1,
            "{snapshots}"
        );
        let tail = store.deltas_after(newest_snapshot).expect("deltas");
        assert_eq!(
            tail.iter().map(|d| d.seq).collect::<Vec<_>>(),
            (newest_snapshot + 1..=last).collect::<Vec<_>>()
        );
    }
}
