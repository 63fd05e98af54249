//! The demo city's geohazard bodies: found on the steepest ground of the
//! river banks and ridge flanks (never on a building), each a tongue-shaped
//! body pointing down the slope with its runout zone below it, 2–6 GNSS
//! stations along its axis (and a rain gauge on some), and the buildings
//! and residents in its zone.

use super::names;
use super::scene::DemoScene;
use crate::geo::rng::Rng;
use crate::model::{
    Building, HAZARD_SENSOR_BASE, Hazard, HazardId, HazardKind, MonitoringPoint, Party, PointKind,
    SensorId, Street, StreetId, Terrain, Threatened, Thresholds, ring_contains,
};

/// Ground steeper than this (rise over run) can hold a body.
const MIN_SLOPE: f32 = 0.12;
/// Bodies keep at least this far apart (m).
const SPACING_M: f32 = 1_500.0;

/// The terrain's gradient (rise per metre, east/north) at `p`.
fn gradient(terrain: &Terrain, p: [f32; 2]) -> [f32; 2] {
    let d = terrain.cell_m;
    let hx = terrain.height_at([p[0] + d, p[1]]) - terrain.height_at([p[0] - d, p[1]]);
    let hy = terrain.height_at([p[0], p[1] + d]) - terrain.height_at([p[0], p[1] - d]);
    [hx / (2.0 * d), hy / (2.0 * d)]
}

/// A tongue: narrow crown up-slope, wide toe down-slope, counter-clockwise.
fn tongue(centre: [f32; 2], down: [f32; 2], length: f32, width: f32) -> Vec<[f32; 2]> {
    let across = [-down[1], down[0]];
    (0..20)
        .map(|i| {
            let a = i as f32 / 20.0 * std::f32::consts::TAU;
            let along = a.cos() * length * 0.5;
            // Wider towards the toe (along > 0 is down-slope).
            let widen = 0.75 + 0.25 * a.cos();
            // max of sin·widen is 0.79: the widest point is `width` across.
            let side = a.sin() * width * 0.5 * widen / 0.79;
            [
                centre[0] + down[0] * along + across[0] * side,
                centre[1] + down[1] * along + across[1] * side,
            ]
        })
        .collect()
}

/// The runout zone: from the body's lower half to 1.3 lengths below its toe,
/// fanning out to 1.6 widths.
fn runout(centre: [f32; 2], down: [f32; 2], length: f32, width: f32) -> Vec<[f32; 2]> {
    let across = [-down[1], down[0]];
    let at = |along: f32, side: f32| {
        [
            centre[0] + down[0] * along + across[0] * side,
            centre[1] + down[1] * along + across[1] * side,
        ]
    };
    let (start, end) = (length * 0.2, length * 0.5 + length * 1.3);
    vec![
        at(start, -width * 0.55),
        at(start, width * 0.55),
        at(end * 0.8, width * 0.8),
        at(end, width * 0.5),
        at(end, -width * 0.5),
        at(end * 0.8, -width * 0.8),
    ]
}

/// The street whose outline holds `p` (the nearest by centre if none does,
/// off the streets' ground).
fn nearest_street(streets: &[Street], p: [f32; 2]) -> Option<&Street> {
    streets
        .iter()
        .find(|s| crate::model::outline_contains(&s.outline_m, p))
        .or_else(|| {
            streets.iter().min_by(|a, b| {
                let da = (a.centre_m[0] - p[0]).hypot(a.centre_m[1] - p[1]);
                let db = (b.centre_m[0] - p[0]).hypot(b.centre_m[1] - p[1]);
                da.total_cmp(&db)
            })
        })
}

fn centre_of(ring: &[[f32; 2]]) -> [f32; 2] {
    let n = ring.len().max(1) as f32;
    let s = ring
        .iter()
        .fold([0.0, 0.0], |a, p| [a[0] + p[0], a[1] + p[1]]);
    [s[0] / n, s[1] / n]
}

/// Places the scene's hand-made sites: the body on the slope at its
/// centre, its houses (new buildings, appended) spread over the dry part of
/// its threat zone with the residents shared among them.
pub(crate) fn place_sites(
    scene: &DemoScene,
    frame: &crate::geo::LocalFrame,
    terrain: &Terrain,
    streets: &[Street],
    buildings: &mut Vec<Building>,
    first_sensor: u32,
) -> Vec<Hazard> {
    let mut rng = Rng::new(scene.seed ^ 0x517e);
    let mut sensor = first_sensor;
    let mut out = Vec::new();
    for (i, site) in scene.sites.iter().enumerate() {
        let p = frame.to_local(site.centre.0, site.centre.1);
        let g = gradient(terrain, p);
        let slope = g[0].hypot(g[1]).max(1e-6);
        let down = [-g[0] / slope, -g[1] / slope];
        let body = tongue(p, down, site.length_m, site.width_m);
        let zone = runout(p, down, site.length_m, site.width_m);
        let Some(street) = nearest_street(streets, p) else {
            continue;
        };
        let district_code = scene
            .districts
            .get(usize::from(street.district.0))
            .map_or("000000", |d| d.code.as_str());
        // Houses: on a jittered grid over the zone below the body, on dry land.
        let water = scene.water_level_m;
        let mut spots = Vec::new();
        let across = [-down[1], down[0]];
        'grid: for a in 0..40 {
            for c in 0..12 {
                let along = site.length_m * 0.6 + a as f32 * 30.0;
                let side = (c as f32 - 5.5) * 32.0;
                let q = [
                    p[0] + down[0] * along + across[0] * side + rng.range(-6.0, 6.0),
                    p[1] + down[1] * along + across[1] * side + rng.range(-6.0, 6.0),
                ];
                if ring_contains(&zone, q)
                    && !ring_contains(&body, q)
                    && terrain.height_at(q) > water + 10.0
                    && rng.f32() < 0.5
                {
                    spots.push(q);
                    if spots.len() == site.houses {
                        break 'grid;
                    }
                }
            }
        }
        let per_house = site.residents / site.houses.max(1) as u32;
        let extra = site.residents as usize - per_house as usize * site.houses.max(1);
        let mut threatened = Vec::new();
        for (k, q) in spots.iter().enumerate() {
            let angle = f32::atan2(down[1], down[0]);
            let ring = super::footprints::footprint(&mut rng, *q, 12.0, angle);
            let base = ring
                .iter()
                .map(|r| terrain.height_at(*r))
                .fold(f32::INFINITY, f32::min);
            let floors = 2 + rng.below(2) as u16;
            let id = crate::model::BuildingId(buildings.len() as u32);
            let residents = (per_house + u32::from(k < extra)) as u16;
            buildings.push(Building {
                id,
                code: format!("{district_code}-V{:03}-{:03}", i + 1, k + 1),
                name: None,
                address: format!("{}{}组{}号", site.name, 1 + k / 8, 1 + k % 8),
                district: street.district,
                street: street.id,
                footprint_m: ring,
                parts_m: Vec::new(),
                base_elevation_m: base,
                height_m: f32::from(floors) * 3.2,
                floors,
                base_level: crate::model::RiskLevel::Low,
                parties: names::parties(&mut rng),
            });
            threatened.push(Threatened {
                building: id,
                households: residents.div_ceil(3).max(1),
                residents,
            });
        }
        let mut points: Vec<MonitoringPoint> = (0..site.stations)
            .map(|k| {
                let along = (k as f32 + 0.5) / site.stations as f32 - 0.5;
                let q = [
                    p[0] + down[0] * along * site.length_m * 0.8,
                    p[1] + down[1] * along * site.length_m * 0.8,
                ];
                sensor += 1;
                MonitoringPoint {
                    sensor: SensorId(sensor),
                    code: format!("GNSS-{:02}", k + 1),
                    kind: PointKind::Displacement,
                    position_m: q,
                }
            })
            .collect();
        if site.rain_gauge {
            sensor += 1;
            points.push(MonitoringPoint {
                sensor: SensorId(sensor),
                code: "RG-01".to_owned(),
                kind: PointKind::RainGauge,
                position_m: [
                    p[0] - down[0] * site.length_m * 0.6,
                    p[1] - down[1] * site.length_m * 0.6,
                ],
            });
        }
        out.push(Hazard {
            id: HazardId(i as u32),
            code: site.code.clone(),
            name: site.name.clone(),
            kind: HazardKind::parse(&site.kind).unwrap_or(HazardKind::Landslide),
            district: street.district,
            street: StreetId(street.id.0),
            body_m: body,
            threat_zone_m: zone,
            thickness_m: site.thickness_m,
            downslope: down,
            points,
            threatened,
            monitor: Party {
                name: names::person_name(&mut rng),
                phone: names::mobile(&mut rng),
            },
            street_duty: Party {
                name: format!("{}办事处", street.name_zh),
                phone: names::landline(&mut rng),
            },
            thresholds: Thresholds::default(),
        });
    }
    out
}

/// Places `scene.hazards` bodies; deterministic for the scene's seed.
pub(crate) fn place_hazards(
    scene: &DemoScene,
    terrain: &Terrain,
    streets: &[Street],
    buildings: &[Building],
    sites: Vec<Hazard>,
) -> Vec<Hazard> {
    let wanted = scene.hazards + sites.len();
    let mut rng = Rng::new(scene.seed ^ 0x6e0_2a2d);
    let water = scene.water_level_m;
    let margin = 1_500.0;
    // Candidates: steep, dry ground — above the buildings (where a body
    // threatens somebody) and anywhere on the banks and ridges.
    let mut candidates: Vec<(f32, [f32; 2], [f32; 2])> = Vec::new();
    for i in 0..wanted * 600 {
        let p = if i % 2 == 0 && !buildings.is_empty() {
            let b = &buildings[rng.below(buildings.len())];
            let c = centre_of(&b.footprint_m);
            let (r, a) = (
                rng.range(250.0, 900.0),
                rng.range(0.0, std::f32::consts::TAU),
            );
            [c[0] + r * a.cos(), c[1] + r * a.sin()]
        } else {
            [
                rng.range(scene.min_m.0 + margin, scene.max_m.0 - margin),
                rng.range(scene.min_m.1 + margin, scene.max_m.1 - margin),
            ]
        };
        if p[0] < scene.min_m.0 + margin
            || p[0] > scene.max_m.0 - margin
            || p[1] < scene.min_m.1 + margin
            || p[1] > scene.max_m.1 - margin
        {
            continue;
        }
        let g = gradient(terrain, p);
        let slope = g[0].hypot(g[1]);
        if slope < MIN_SLOPE || terrain.height_at(p) < water + 15.0 {
            continue;
        }
        candidates.push((slope, p, [-g[0] / slope, -g[1] / slope]));
    }
    candidates.sort_by(|a, b| b.0.total_cmp(&a.0));
    // Buildings by position, for the footprint and threat-zone tests.
    let centres: Vec<[f32; 2]> = buildings
        .iter()
        .map(|b| centre_of(&b.footprint_m))
        .collect();
    let mut sensor = sites
        .iter()
        .flat_map(|h| h.points.iter().map(|p| p.sensor.0))
        .max()
        .unwrap_or(HAZARD_SENSOR_BASE);
    let mut hazards: Vec<Hazard> = sites;
    // First the bodies above somebody (four in five), then any.
    let passes = [(wanted - scene.hazards / 5, true), (wanted, false)];
    let mut used = vec![false; candidates.len()];
    for (quota, must_threaten) in passes {
        for (k, &(_, p, down)) in candidates.iter().enumerate() {
            if hazards.len() >= quota || used[k] {
                continue;
            }
            if hazards
                .iter()
                .any(|h| (h.centre_m()[0] - p[0]).hypot(h.centre_m()[1] - p[1]) < SPACING_M)
            {
                continue;
            }
            let kind = match rng.below(10) {
                0..=5 => HazardKind::Landslide,
                6 | 7 => HazardKind::DangerousRock,
                8 => HazardKind::Rockfall,
                _ => HazardKind::DebrisFlow,
            };
            let (length, width, thickness) = match kind {
                HazardKind::Landslide => (
                    rng.range(200.0, 650.0),
                    rng.range(120.0, 320.0),
                    rng.range(6.0, 35.0),
                ),
                HazardKind::DangerousRock => (
                    rng.range(60.0, 160.0),
                    rng.range(80.0, 260.0),
                    rng.range(4.0, 15.0),
                ),
                HazardKind::Rockfall => (
                    rng.range(80.0, 200.0),
                    rng.range(60.0, 180.0),
                    rng.range(3.0, 12.0),
                ),
                HazardKind::DebrisFlow => (
                    rng.range(400.0, 900.0),
                    rng.range(60.0, 150.0),
                    rng.range(2.0, 8.0),
                ),
            };
            let body = tongue(p, down, length, width);
            // Never on a building, never into the water.
            let near = |q: [f32; 2], r: f32| (q[0] - p[0]).hypot(q[1] - p[1]) < r;
            let reach = length * 2.5 + width;
            let covers = |b: &Building, c: &[f32; 2]| {
                ring_contains(&body, *c) || b.footprint_m.iter().any(|q| ring_contains(&body, *q))
            };
            if buildings
                .iter()
                .zip(&centres)
                .any(|(b, c)| near(*c, reach) && covers(b, c))
                || body.iter().any(|q| terrain.height_at(*q) < water + 2.0)
            {
                continue;
            }
            let zone = runout(p, down, length, width);
            let threatened: Vec<Threatened> = buildings
                .iter()
                .zip(&centres)
                .filter(|(_, c)| near(**c, reach) && ring_contains(&zone, **c))
                .map(|(b, _)| {
                    let households =
                        (u32::from(b.floors) * rng.range(2.0, 4.0) as u32).clamp(1, 2_000) as u16;
                    let residents = (f32::from(households) * rng.range(2.4, 3.2)).round() as u16;
                    Threatened {
                        building: b.id,
                        households,
                        residents,
                    }
                })
                .collect();
            if threatened.is_empty() && must_threaten {
                continue;
            }
            used[k] = true;
            let Some(street) = nearest_street(streets, p) else {
                continue;
            };
            let district = street.district;
            let district_code = scene
                .districts
                .get(usize::from(district.0))
                .map_or("000000", |d| d.code.as_str());
            let id = HazardId(hazards.len() as u32);
            let stations = 2 + rng.below(5);
            let mut points: Vec<MonitoringPoint> = (0..stations)
                .map(|i| {
                    let along = (i as f32 + 0.5) / stations as f32 - 0.5;
                    let side = if i % 2 == 0 { -0.15 } else { 0.15 } * width;
                    let q = [
                        p[0] + down[0] * along * length * 0.8 - down[1] * side,
                        p[1] + down[1] * along * length * 0.8 + down[0] * side,
                    ];
                    sensor += 1;
                    MonitoringPoint {
                        sensor: SensorId(sensor),
                        code: format!("GNSS-{:02}", i + 1),
                        kind: PointKind::Displacement,
                        position_m: q,
                    }
                })
                .collect();
            if rng.f32() < 0.5 {
                sensor += 1;
                points.push(MonitoringPoint {
                    sensor: SensorId(sensor),
                    code: "RG-01".to_owned(),
                    kind: PointKind::RainGauge,
                    position_m: [p[0] - down[0] * length * 0.6, p[1] - down[1] * length * 0.6],
                });
            }
            let place = names::place_name(&mut rng);
            let suffix = match kind {
                HazardKind::DangerousRock => "危岩带",
                HazardKind::Rockfall => "崩塌",
                HazardKind::DebrisFlow => "沟泥石流",
                HazardKind::Landslide => "滑坡",
            };
            hazards.push(Hazard {
                id,
                code: format!("{district_code}-DZ-{:04}", id.0 + 1),
                name: format!("{place}{suffix}"),
                kind,
                district,
                street: StreetId(street.id.0),
                body_m: body,
                threat_zone_m: zone,
                thickness_m: thickness,
                downslope: down,
                points,
                threatened,
                monitor: Party {
                    name: names::person_name(&mut rng),
                    phone: names::mobile(&mut rng),
                },
                street_duty: Party {
                    name: format!("{}办事处", street.name_zh),
                    phone: names::landline(&mut rng),
                },
                thresholds: Thresholds::default(),
            });
        }
    }
    hazards
}
