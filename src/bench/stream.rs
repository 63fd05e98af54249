//! `citytwin bench ingest` and `bench snapshot`: encode/decode/apply
//! throughput of the state stream and the cost of a 40k-building snapshot.

use std::time::Instant;

use crate::cockpit::state::CityState;
use crate::geo::demo::{DemoScene, generate};
use crate::geo::rng::Rng;
use crate::model::{BuildingId, RiskLevel};
use crate::protocol::{Change, Delta, FrameDecoder, Message};

use super::{Common, median_p95};

fn demo_state() -> anyhow::Result<CityState> {
    let city = generate(&DemoScene::embedded()?);
    let mut state = CityState::new(&city);
    let mut snapshot = state.to_snapshot(0);
    snapshot.seq = 0;
    state.apply_snapshot(&snapshot)?;
    Ok(state)
}

/// Deltas of `per_delta` random level changes over `buildings` buildings.
fn random_deltas(buildings: usize, count: usize, per_delta: usize, seed: u64) -> Vec<Delta> {
    let mut rng = Rng::new(seed);
    (1..=count as u64)
        .map(|seq| Delta {
            seq,
            time_ms: seq as i64 * 100,
            changes: (0..per_delta)
                .map(|_| Change::Level {
                    building: BuildingId(rng.below(buildings) as u32),
                    level: RiskLevel::ALL[rng.below(5)],
                })
                .collect(),
        })
        .collect()
}

pub fn ingest(common: &Common) -> anyhow::Result<()> {
    let mut state = demo_state()?;
    let (count, per_delta) = (2_000, 100);
    let updates = (count * per_delta) as f64;
    let deltas = random_deltas(state.len(), count, per_delta, 7);
    println!(
        "citytwin bench ingest — {count} deltas × {per_delta} level changes over {} buildings",
        state.len()
    );

    let mut bytes = Vec::new();
    let t = Instant::now();
    for d in &deltas {
        Message::Delta(d.clone()).encode(&mut bytes)?;
    }
    let encode_s = t.elapsed().as_secs_f64();

    let t = Instant::now();
    let mut decoder = FrameDecoder::new();
    decoder.push(&bytes);
    let mut decoded = Vec::with_capacity(count);
    while let Some(frame) = decoder.next_frame()? {
        if let Message::Delta(d) = Message::decode(&frame)? {
            decoded.push(d);
        }
    }
    let decode_s = t.elapsed().as_secs_f64();

    let t = Instant::now();
    for d in &decoded {
        state.apply_delta(d)?;
    }
    let apply_s = t.elapsed().as_secs_f64();
    println!(
        "encode {:.0} updates/s, decode {:.0} updates/s, apply {:.0} updates/s ({} bytes on the wire)",
        updates / encode_s,
        updates / decode_s,
        updates / apply_s,
        bytes.len()
    );

    // Per-frame ingest at 200k updates/s and 60 fps: decode + apply +
    // repack of the GPU state words, per frame.
    let per_frame_updates: usize = 200_000 / 60;
    let frame_deltas = random_deltas(
        state.len(),
        per_frame_updates.div_ceil(per_delta),
        per_delta,
        8,
    );
    let mut frames_ms = Vec::new();
    let mut packed = Vec::new();
    let mut seq = state.last_seq().unwrap_or(0);
    for _ in 0..common.frames.max(10) {
        let mut wire = Vec::new();
        for d in &frame_deltas {
            seq += 1;
            Message::Delta(Delta { seq, ..d.clone() }).encode(&mut wire)?;
        }
        let t = Instant::now();
        let mut decoder = FrameDecoder::new();
        decoder.push(&wire);
        while let Some(frame) = decoder.next_frame()? {
            if let Message::Delta(d) = Message::decode(&frame)? {
                state.apply_delta(&d)?;
            }
        }
        state.pack_into(&mut packed);
        frames_ms.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let (median, p95) = median_p95(&mut frames_ms);
    println!(
        "per-frame ingest of {per_frame_updates} updates (200k/s at 60 fps): median {median:.3} ms, p95 {p95:.3} ms"
    );
    Ok(())
}

pub fn snapshot(common: &Common) -> anyhow::Result<()> {
    let state = demo_state()?;
    let mut target = demo_state()?;
    let snapshot = state.to_snapshot(0);
    println!(
        "citytwin bench snapshot — {} buildings",
        snapshot.levels.len()
    );
    let (mut enc, mut dec, mut app) = (Vec::new(), Vec::new(), Vec::new());
    let mut size = 0;
    for _ in 0..common.frames.max(10) {
        let t = Instant::now();
        let mut bytes = Vec::new();
        Message::Snapshot(snapshot.clone()).encode(&mut bytes)?;
        enc.push(t.elapsed().as_secs_f64() * 1e3);
        size = bytes.len();

        let t = Instant::now();
        let mut decoder = FrameDecoder::new();
        decoder.push(&bytes);
        let frame = decoder
            .next_frame()?
            .ok_or_else(|| anyhow::anyhow!("no frame"))?;
        let Message::Snapshot(decoded) = Message::decode(&frame)? else {
            anyhow::bail!("not a snapshot");
        };
        dec.push(t.elapsed().as_secs_f64() * 1e3);

        let t = Instant::now();
        target.apply_snapshot(&decoded)?;
        app.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let (enc_m, enc_p) = median_p95(&mut enc);
    let (dec_m, dec_p) = median_p95(&mut dec);
    let (app_m, app_p) = median_p95(&mut app);
    println!("snapshot size: {size} bytes");
    println!(
        "encode median {enc_m:.3} ms (p95 {enc_p:.3}); decode median {dec_m:.3} ms (p95 {dec_p:.3}); apply median {app_m:.3} ms (p95 {app_p:.3})"
    );
    println!(
        "encode + decode + apply: {:.3} ms (median)",
        enc_m + dec_m + app_m
    );
    Ok(())
}
