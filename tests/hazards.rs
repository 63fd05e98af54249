//! Geohazard bodies: the demo's bodies, the rules' levels and hysteresis,
//! the inverse-velocity forecast on a synthetic Voight curve, a real GNSS
//! series, and bad monitoring input.

mod common;

use std::sync::Arc;

use citytwin::backend::rules::{Rules, RulesConfig};
use citytwin::geo::rng::Rng;
use citytwin::geo::series::{Series, bodies_for_series, readings_for};
use citytwin::model::{
    City, Forecast, HAZARD_SENSOR_BASE, Hazard, HazardId, HazardKind, Measurement, MonitoringPoint,
    Party, PointKind, SensorId, SensorReading, StreetId, Thresholds, WarningLevel, ring_contains,
};
use citytwin::protocol::Change;
use common::live::small_city;

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;
const T0: i64 = 1_795_478_400_000;

/// The small demo city with one hand-made body of two GNSS points.
fn city_with_one_body() -> City {
    let mut city = (*small_city()).clone();
    let c = [3_000.0, 3_000.0];
    city.hazards = vec![Hazard {
        id: HazardId(0),
        code: "TEST-0001".into(),
        name: "试验滑坡".into(),
        kind: HazardKind::Landslide,
        district: citytwin::model::DistrictId(0),
        street: StreetId(0),
        body_m: vec![
            [c[0] - 100.0, c[1] - 300.0],
            [c[0] + 100.0, c[1] - 300.0],
            [c[0] + 100.0, c[1] + 300.0],
            [c[0] - 100.0, c[1] + 300.0],
        ],
        threat_zone_m: Vec::new(),
        thickness_m: 20.0,
        downslope: [0.0, -1.0],
        points: (0..2)
            .map(|i| MonitoringPoint {
                sensor: SensorId(HAZARD_SENSOR_BASE + i),
                code: format!("P{i}"),
                kind: PointKind::Displacement,
                position_m: [c[0], c[1] + 100.0 * i as f32],
            })
            .collect(),
        threatened: Vec::new(),
        monitor: Party {
            name: "监测员".into(),
            phone: "13900000000".into(),
        },
        street_duty: Party {
            name: "街道".into(),
            phone: "023-60000000".into(),
        },
        thresholds: Thresholds::default(),
    }];
    city
}

fn rules_for(city: &City) -> Rules {
    Rules::new(city, Default::default(), RulesConfig::default())
}

fn cumulative(sensor: u32, mm: f64, time_ms: i64) -> SensorReading {
    SensorReading {
        sensor: SensorId(HAZARD_SENSOR_BASE + sensor),
        value: Measurement::CumulativeMm(mm as f32),
        time_ms,
    }
}

/// Everything the rules said, with the reading time.
#[derive(Default)]
struct Said {
    levels: Vec<(i64, WarningLevel)>,
    forecasts: Vec<(i64, Option<Forecast>)>,
    samples: usize,
}

fn feed(rules: &mut Rules, city: &City, readings: &[SensorReading]) -> Said {
    let mut said = Said::default();
    for r in readings {
        for change in rules.on_reading(city, *r).changes {
            match change {
                Change::HazardLevel { level, .. } => said.levels.push((r.time_ms, level)),
                Change::Forecast { forecast, .. } => said.forecasts.push((r.time_ms, forecast)),
                Change::Sample { .. } => said.samples += 1,
                _ => {}
            }
        }
    }
    said
}

/// Hourly readings: 2 mm/day creep for 10 days, then a Voight (α = 2)
/// acceleration with failure at day 14, until two hours before it.
fn voight_series(noise_mm: f32, seed: u64) -> (Vec<SensorReading>, i64) {
    let (v0, creep_days, tf_days) = (2.0_f64, 10.0_f64, 14.0_f64);
    let tf = T0 + (tf_days * DAY_MS as f64) as i64;
    let mut rng = Rng::new(seed);
    let mut out = Vec::new();
    let mut h = 0;
    loop {
        let t = T0 + h * HOUR_MS;
        if t > tf - 2 * HOUR_MS {
            break;
        }
        let d = (t - T0) as f64 / DAY_MS as f64;
        // S(t): linear creep, then v = v0·T/(tf − t) integrated.
        let s = if d < creep_days {
            v0 * d
        } else {
            let span = tf_days - creep_days;
            v0 * creep_days + v0 * span * (span / (tf_days - d)).ln()
        };
        out.push(cumulative(0, s + f64::from(rng.normal() * noise_mm), t));
        h += 1;
    }
    (out, tf)
}

fn assert_forecast_converges(said: &Said, tf: i64, label: &str) {
    let made: Vec<(i64, Forecast)> = said
        .forecasts
        .iter()
        .filter_map(|(t, f)| f.map(|f| (*t, f)))
        .collect();
    assert!(!made.is_empty(), "{label}: no forecast at all");
    // Once the fit has a day of samples past the onset, every forecast is
    // within 10 % of the time then remaining — while at least four readings
    // remain (hourly readings cannot place a failure closer than that).
    let settled: Vec<_> = made
        .iter()
        .filter(|(t, f)| f.samples >= 24 && tf - t >= 4 * HOUR_MS)
        .collect();
    assert!(
        settled.len() >= 5,
        "{label}: only {} forecasts with a day of samples",
        settled.len()
    );
    for (t, f) in &settled {
        let remaining = (tf - t) as f64;
        let error = (f.failure_ms - tf).abs() as f64;
        assert!(
            error <= 0.1 * remaining,
            "{label}: at {:.1} h before failure the forecast is {:.1} h off ({} samples, R² {:.2})",
            remaining / HOUR_MS as f64,
            error / HOUR_MS as f64,
            f.samples,
            f.r2
        );
        assert!(f.earliest_ms <= f.failure_ms && f.failure_ms <= f.latest_ms);
    }
}

#[test]
fn forecast_finds_a_known_voight_failure_time() {
    let city = city_with_one_body();
    for (noise, label) in [(0.0, "no noise"), (0.1, "0.1 mm noise (a crack meter)")] {
        let mut rules = rules_for(&city);
        let (series, tf) = voight_series(noise, 11);
        let said = feed(&mut rules, &city, &series);
        assert_eq!(
            said.samples,
            series.len(),
            "{label}: every reading is a sample"
        );
        assert_forecast_converges(&said, tf, label);
        // The levels rose in order, one step at a time, to 警报.
        let levels: Vec<WarningLevel> = said.levels.iter().map(|l| l.1).collect();
        assert!(
            levels.windows(2).all(|w| w[1] as u8 == w[0] as u8 + 1),
            "{label}: {levels:?}"
        );
        assert_eq!(
            levels.last(),
            Some(&WarningLevel::Alarm),
            "{label}: {levels:?}"
        );
        let alarm_at = said.levels.last().map(|l| l.0).unwrap_or(tf);
        assert!(
            tf - alarm_at > 6 * HOUR_MS,
            "{label}: 警报 only {:.1} h before failure",
            (tf - alarm_at) as f64 / HOUR_MS as f64
        );
    }
}

#[test]
fn steady_creep_makes_no_forecast_and_stays_at_attention() {
    let city = city_with_one_body();
    let mut rules = rules_for(&city);
    let mut rng = Rng::new(5);
    let readings: Vec<_> = (0..24 * 30)
        .map(|h| {
            let s = 2.0 * h as f64 / 24.0 + f64::from(rng.normal() * 0.3);
            cumulative(0, s, T0 + h * HOUR_MS)
        })
        .collect();
    let said = feed(&mut rules, &city, &readings);
    assert!(
        said.forecasts.iter().all(|(_, f)| f.is_none()),
        "steady creep got a forecast"
    );
    assert_eq!(
        said.levels.iter().map(|l| l.1).collect::<Vec<_>>(),
        vec![WarningLevel::Attention],
        "steady creep is 注意级, once"
    );
}

#[test]
fn duplicates_late_and_broken_readings_change_nothing_twice() {
    let city = city_with_one_body();
    let mut rules = rules_for(&city);
    let readings: Vec<_> = (0..10)
        .map(|h| cumulative(0, h as f64 * 0.1, T0 + h * HOUR_MS))
        .collect();
    feed(&mut rules, &city, &readings);
    // A redelivery of reading 5: ignored and counted.
    let again = feed(&mut rules, &city, &readings[5..6]);
    assert_eq!(again.samples, 0);
    assert_eq!(rules.landslide_stats().duplicates, 1);
    // A late reading between 3 and 4: kept as a sample, counted, no level.
    let late = feed(
        &mut rules,
        &city,
        &[cumulative(0, 0.35, T0 + 3 * HOUR_MS + 1_000)],
    );
    assert_eq!((late.samples, late.levels.len()), (1, 0));
    assert_eq!(rules.landslide_stats().late, 1);
    // NaN and a reading of the wrong kind: rejected, no change at all.
    let nan = SensorReading {
        value: Measurement::CumulativeMm(f32::NAN),
        ..readings[0]
    };
    let rain_on_gnss = SensorReading {
        value: Measurement::RainMm(3.0),
        ..readings[0]
    };
    for bad in [nan, rain_on_gnss] {
        assert!(rules.on_reading(&city, bad).changes.is_empty());
    }
    assert_eq!(rules.landslide_stats().rejected, 2);
    // Point 1 never reported: nothing about it, and no panic.
    assert!(
        readings
            .iter()
            .all(|r| r.sensor != SensorId(HAZARD_SENSOR_BASE + 1))
    );
}

#[test]
fn real_baishuihe_creep_stays_at_attention_through_its_steps() {
    let path = common::shared_data("hazards/baishuihe_gnss_monthly_2007_2012.csv");
    let series = Series::read(&path).expect("the shared series reads");
    assert!(series.problems.is_empty(), "{:?}", series.problems);
    assert_eq!(series.rows.len(), 204);
    let mut city = (*small_city()).clone();
    city.hazards.clear();
    let bodies = bodies_for_series(&series, &mut city);
    assert_eq!(bodies.len(), 1, "one body named after the site");
    let body = &city.hazards[0];
    assert_eq!(body.name, "Baishuihe");
    let codes: Vec<&str> = body.points.iter().map(|p| p.code.as_str()).collect();
    assert_eq!(codes, ["XD01", "ZG118", "ZG93"]);
    let (readings, unmatched) = readings_for(&series, &city);
    assert!(unmatched.is_empty(), "{unmatched:?}");
    assert_eq!(readings.len(), 204);
    let mut rules = rules_for(&city);
    let said = feed(&mut rules, &city, &readings);
    let levels: Vec<WarningLevel> = said.levels.iter().map(|l| l.1).collect();
    // Monthly steps of up to 355 mm (reservoir drawdown) are not a failure.
    assert!(
        levels.iter().all(|l| *l < WarningLevel::Alarm),
        "a step jump raised 警报: {levels:?}"
    );
    assert_eq!(
        rules.landslide_mut().level(HazardId(0)),
        Some(WarningLevel::Attention),
        "{levels:?}"
    );
    assert!(said.forecasts.iter().all(|(_, f)| f.is_none()));
}

#[test]
fn the_demo_city_has_bodies_on_steep_dry_ground_not_on_buildings() {
    let scene = citytwin::geo::demo::DemoScene::embedded().expect("scene");
    let city = Arc::new(citytwin::geo::demo::generate(&scene));
    let n = city.hazards.len();
    assert!((25..=30).contains(&n), "{n} bodies");
    let water = city.terrain.water_level_m.unwrap_or(f32::MIN);
    let mut threatened = 0;
    for h in &city.hazards {
        let displacement = h
            .points
            .iter()
            .filter(|p| p.kind == PointKind::Displacement)
            .count();
        assert!(
            (2..=6).contains(&displacement),
            "{}: {displacement}",
            h.code
        );
        for p in &h.points {
            assert!(p.sensor.0 >= HAZARD_SENSOR_BASE);
        }
        for b in &city.buildings {
            let c = b.footprint_m[0];
            assert!(!ring_contains(&h.body_m, c), "{} covers {}", h.code, b.code);
        }
        for p in &h.body_m {
            assert!(
                city.terrain.height_at(*p) > water,
                "{} in the water",
                h.code
            );
        }
        for t in &h.threatened {
            let b = &city.buildings[t.building.index()];
            assert!(ring_contains(&h.threat_zone_m, b.footprint_m[0]) || t.residents > 0);
            assert!(t.residents >= t.households);
        }
        let (length, width) = h.size_m();
        assert!(
            length > 30.0 && width > 30.0,
            "{}: {length} × {width}",
            h.code
        );
        assert!(h.volume_m3() > 0.0);
        threatened += usize::from(!h.threatened.is_empty());
    }
    assert!(
        threatened * 2 > n,
        "most bodies threaten somebody ({threatened}/{n})"
    );
}

#[test]
fn a_real_series_replays_into_a_loopback_server_as_live_readings() {
    use citytwin::backend::engine::Engine;
    use citytwin::backend::feed::ReadingFeed;
    use citytwin::backend::server::{BackendThread, ServerConfig};
    use common::live::{TestClient, city_dispatcher_tokens};

    let path = common::shared_data("hazards/baishuihe_gnss_monthly_2007_2012.csv");
    let series = Series::read(&path).expect("the shared series reads");
    let mut city = (*small_city()).clone();
    city.hazards.clear();
    bodies_for_series(&series, &mut city);
    let city = Arc::new(city);
    let (readings, _) = readings_for(&series, &city);
    let engine = Engine::open(city.clone(), ":memory:", None).expect("engine");
    let server = BackendThread::spawn(
        engine,
        ServerConfig {
            listen: ([127, 0, 0, 1], 0).into(),
            tokens: city_dispatcher_tokens("t"),
            tick: std::time::Duration::from_millis(20),
            heartbeat: std::time::Duration::from_millis(500),
            record: None,
            // Six years in about two seconds.
            feed: Some(ReadingFeed::new(readings, 1e8)),
        },
    )
    .expect("server starts");
    let mut client = TestClient::connect_ready(&city, server.addr, "t");
    // Whether they came in the snapshot (played before the client joined)
    // or as deltas, the client's state ends with every reading.
    let samples = |c: &TestClient| {
        c.state
            .hazard(HazardId(0))
            .map_or(0, |h| h.series.iter().map(|s| s.len()).sum::<usize>())
    };
    client.pump_until(30, "every reading played", |c| samples(c) >= 204);
    server.stop();
    assert_eq!(samples(&client), 204);
    let live = client.state.hazard(HazardId(0)).expect("body");
    assert_eq!(live.status.level, WarningLevel::Attention);
    assert!(
        client
            .deltas
            .iter()
            .flat_map(|d| &d.changes)
            .all(|ch| !matches!(
                ch,
                Change::HazardLevel {
                    level: WarningLevel::Alarm,
                    ..
                }
            )),
        "a step jump raised 警报"
    );
    // Six years, oldest first, per point.
    for s in &live.series {
        assert!(
            s.iter()
                .zip(s.iter().skip(1))
                .all(|(a, b)| a.time_ms() < b.time_ms())
        );
    }
}

#[test]
fn imported_bodies_keep_the_good_and_name_the_bad() {
    use citytwin::geo::LocalFrame;
    use citytwin::geo::hazards::import_hazards;
    let mut city = (*small_city()).clone();
    let before = city.hazards.len();
    let [olon, olat] = city.bounds.origin_lon_lat;
    let frame = LocalFrame::new(olon, olat);
    let ll = |x: f32, y: f32| {
        let [lon, lat] = frame.to_lon_lat([x, y]);
        format!("[{lon}, {lat}]")
    };
    let square = |x: f32, y: f32, s: f32| {
        format!(
            "[{}, {}, {}, {}, {}]",
            ll(x, y),
            ll(x + s, y),
            ll(x + s, y + s),
            ll(x, y + s),
            ll(x, y)
        )
    };
    let bow = format!(
        "[{}, {}, {}, {}]",
        ll(0.0, 0.0),
        ll(300.0, 300.0),
        ll(300.0, 0.0),
        ll(0.0, 300.0)
    );
    let text = format!(
        r#"{{"type": "FeatureCollection", "features": [
          {{"type": "Feature", "properties": {{"name": "好滑坡", "type": "滑坡", "thickness_m": 12, "code": "T-1",
            "threat_zone": {zone}, "residents": 40, "thresholds": {{"velocity_mm_d": [3, 10, 20]}}, "points": [{{"code": "G1", "lon": {plon}, "lat": {plat}}}]}},
            "geometry": {{"type": "Polygon", "coordinates": [{good}]}}}},
          {{"type": "Feature", "properties": {{"name": "蝴蝶结"}}, "geometry": {{"type": "Polygon", "coordinates": [{bow}]}}}},
          {{"type": "Feature", "properties": {{"name": "天外"}}, "geometry": {{"type": "Polygon", "coordinates": [{far}]}}}},
          {{"type": "Feature", "properties": {{"name": "火山", "type": "volcano"}}, "geometry": {{"type": "Polygon", "coordinates": [{good}]}}}}
        ]}}"#,
        good = square(1000.0, 1000.0, 200.0),
        zone = square(600.0, 600.0, 400.0),
        far = square(1e7, 1e7, 100.0),
        plon = frame.to_lon_lat([1100.0, 1100.0])[0],
        plat = frame.to_lon_lat([1100.0, 1100.0])[1],
    );
    let path = common::live::temp_path("hazards", "bodies.geojson");
    std::fs::write(&path, text).expect("write");
    let report = import_hazards(&path, &mut city, false).expect("reads");
    assert_eq!(report.added.len(), 1);
    assert_eq!(city.hazards.len(), before + 1);
    let h = city.hazards.last().expect("added");
    assert_eq!(
        (h.code.as_str(), h.name.as_str(), h.kind),
        ("T-1", "好滑坡", HazardKind::Landslide)
    );
    assert_eq!(h.points[0].code, "G1");
    assert_eq!(
        h.thresholds.velocity_mm_d,
        [3.0, 10.0, 20.0],
        "its own thresholds"
    );
    assert_eq!(
        h.thresholds.angle_deg,
        [45.0, 80.0, 85.0],
        "the rest default"
    );
    assert!((h.thickness_m - 12.0).abs() < 1e-6);
    assert!((h.area_m2() - 40_000.0).abs() < 200.0, "{}", h.area_m2());
    assert_eq!(h.residents(), if h.threatened.is_empty() { 0 } else { 40 });
    let reasons: Vec<(usize, &str)> = report
        .skipped
        .iter()
        .map(|(i, r)| (*i, r.as_str()))
        .collect();
    assert_eq!(reasons.len(), 3, "{reasons:?}");
    assert!(
        reasons[0].0 == 1 && reasons[0].1.contains("crosses itself"),
        "{reasons:?}"
    );
    assert!(
        reasons[1].0 == 2 && reasons[1].1.contains("outside the terrain"),
        "{reasons:?}"
    );
    assert!(
        reasons[2].0 == 3 && reasons[2].1.contains("volcano"),
        "{reasons:?}"
    );
}
