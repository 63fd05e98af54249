//! The demo city generator: a deterministic central Chongqing from
//! `scenes/demo_chongqing.ron` — terrain, rivers, nine districts, ~200 streets,
//! 40,000 buildings with fire codes and bound parties, and ~30 geohazard bodies.

mod areas;
mod footprints;
mod hazards;
mod names;
mod scene;
mod terrain;

use std::collections::{HashMap, HashSet};

pub use scene::{DemoScene, EMBEDDED_DEMO_SCENE};

use crate::geo::LocalFrame;
use crate::geo::outline::AreaLocator;
use crate::geo::rng::{Fnv64, Rng};
use crate::model::{
    Building, BuildingId, City, CityBounds, District, DistrictId, RiskLevel, Street, StreetId,
    Terrain,
};
use footprints::footprint;

/// Generates the demo city. The same scene (and seed) always gives the same
/// city, byte for byte (see [`city_hash`]).
pub fn generate(scene: &DemoScene) -> City {
    let frame = LocalFrame::new(scene.origin.0, scene.origin.1);
    let terrain = terrain::generate_terrain(scene, &frame);
    let mut rng = Rng::new(scene.seed);
    let mut partition = areas::Partition::districts(scene, &frame, &terrain);
    let mut districts = make_districts(scene, &frame);
    let mut streets = make_streets(scene, &frame, &terrain, &partition, &mut rng);
    partition.add_streets(&streets, &terrain);
    let (mut district_outlines, mut street_outlines) = partition.outlines();
    for d in &mut districts {
        d.outline_m = district_outlines
            .remove(&u32::from(d.id.0))
            .unwrap_or_default();
    }
    for s in &mut streets {
        s.outline_m = street_outlines
            .remove(&u32::from(s.id.0))
            .unwrap_or_default();
    }
    let mut buildings = place_buildings(scene, &frame, &terrain, &districts, &streets, &mut rng);
    let sites = hazards::place_sites(
        scene,
        &frame,
        &terrain,
        &streets,
        &mut buildings,
        crate::model::HAZARD_SENSOR_BASE,
    );
    let hazards = hazards::place_hazards(scene, &terrain, &streets, &buildings, sites);
    City {
        name_zh: scene.name_zh.clone(),
        name_en: scene.name_en.clone(),
        bounds: CityBounds {
            origin_lon_lat: [scene.origin.0, scene.origin.1],
            min_m: [scene.min_m.0, scene.min_m.1],
            max_m: [scene.max_m.0, scene.max_m.1],
        },
        terrain,
        districts,
        streets,
        buildings,
        hazards,
        cameras: Vec::new(),
        attributions: Vec::new(),
        imagery: None,
    }
}

fn make_districts(scene: &DemoScene, frame: &LocalFrame) -> Vec<District> {
    scene
        .districts
        .iter()
        .enumerate()
        .map(|(i, d)| District {
            id: DistrictId(i as u16),
            code: d.code.clone(),
            name_zh: d.name_zh.clone(),
            name_en: d.name_en.clone(),
            centre_m: frame.to_local(d.centre.0, d.centre.1),
            outline_m: Vec::new(),
        })
        .collect()
}

/// A point drawn around one of a district's dense centres.
fn sample_near_clusters(
    rng: &mut Rng,
    frame: &LocalFrame,
    clusters: &[(f64, f64, f32, f32)],
) -> ([f32; 2], f32) {
    let total: f32 = clusters.iter().map(|c| c.3).sum();
    let mut pick = rng.f32() * total;
    let mut chosen = clusters[0];
    for c in clusters {
        if pick < c.3 {
            chosen = *c;
            break;
        }
        pick -= c.3;
    }
    let centre = frame.to_local(chosen.0, chosen.1);
    let (dx, dy) = (rng.normal() * chosen.2, rng.normal() * chosen.2);
    let r = dx.hypot(dy) / chosen.2;
    // Closeness to the centre in [0, 1]: drives height.
    ([centre[0] + dx, centre[1] + dy], (-0.5 * r * r).exp())
}

fn make_streets(
    scene: &DemoScene,
    frame: &LocalFrame,
    terrain: &Terrain,
    partition: &areas::Partition,
    rng: &mut Rng,
) -> Vec<Street> {
    let share_total: f32 = scene.districts.iter().map(|d| d.share).sum();
    let mut used: HashSet<String> = scene
        .districts
        .iter()
        .flat_map(|d| d.streets.iter().map(|s| format!("{s}街道")))
        .collect();
    let mut streets = Vec::with_capacity(scene.streets);
    for (di, d) in scene.districts.iter().enumerate() {
        let wanted = ((scene.streets as f32 * d.share / share_total).round() as usize).max(1);
        let mut names: Vec<String> = d.streets.iter().map(|s| format!("{s}街道")).collect();
        while names.len() < wanted {
            let name = format!("{}街道", names::place_name(rng));
            if used.insert(name.clone()) {
                names.push(name);
            }
        }
        for name in names.into_iter().take(wanted.max(d.streets.len())) {
            // Streets sit where the district's buildings are, on its dry
            // land.
            let mut centre = frame.to_local(d.clusters[0].0, d.clusters[0].1);
            for _ in 0..50 {
                let (p, _) = sample_near_clusters(rng, frame, &d.clusters);
                if !terrain.is_water(p) && partition.district_at(p) == Some(di as u32) {
                    centre = p;
                    break;
                }
            }
            streets.push(Street {
                id: StreetId(streets.len() as u16),
                district: DistrictId(di as u16),
                name_zh: name,
                centre_m: centre,
                outline_m: Vec::new(),
            });
        }
    }
    streets
}

/// A placed footprint's bounding circle: centre and radius.
type Circle = ([f32; 2], f32);

/// Spatial hash of placed footprints to keep them apart.
struct Occupancy {
    cell_m: f32,
    cells: HashMap<(i32, i32), Vec<Circle>>,
}

impl Occupancy {
    fn key(&self, p: [f32; 2]) -> (i32, i32) {
        (
            (p[0] / self.cell_m).floor() as i32,
            (p[1] / self.cell_m).floor() as i32,
        )
    }

    fn is_free(&self, p: [f32; 2], r: f32) -> bool {
        let (cx, cy) = self.key(p);
        (cx - 1..=cx + 1).all(|x| {
            (cy - 1..=cy + 1).all(|y| {
                self.cells.get(&(x, y)).is_none_or(|list| {
                    list.iter()
                        .all(|(q, rq)| (p[0] - q[0]).hypot(p[1] - q[1]) > r + rq + 6.0)
                })
            })
        })
    }

    fn insert(&mut self, p: [f32; 2], r: f32) {
        let key = self.key(p);
        self.cells.entry(key).or_default().push((p, r));
    }
}

fn base_level(rng: &mut Rng, mix: (f32, f32, f32, f32), closeness: f32) -> RiskLevel {
    // Dense, tall centres carry a little more risk.
    let u = rng.f32() * (1.2 - 0.4 * closeness);
    if u < mix.0 {
        RiskLevel::Major
    } else if u < mix.0 + mix.1 {
        RiskLevel::High
    } else if u < mix.0 + mix.1 + mix.2 {
        RiskLevel::Moderate
    } else if u < mix.0 + mix.1 + mix.2 + mix.3 {
        RiskLevel::Lower
    } else {
        RiskLevel::Low
    }
}

fn place_buildings(
    scene: &DemoScene,
    frame: &LocalFrame,
    terrain: &Terrain,
    districts: &[District],
    streets: &[Street],
    rng: &mut Rng,
) -> Vec<Building> {
    // Buildings take the areas whose outlines hold them, as imported ones.
    let district_at = AreaLocator::new(districts.iter().map(|d| d.outline_m.as_slice()));
    let street_at = AreaLocator::new(streets.iter().map(|s| s.outline_m.as_slice()));
    let share_total: f32 = scene.districts.iter().map(|d| d.share).sum();
    let mut occupancy = Occupancy {
        cell_m: 80.0,
        cells: HashMap::new(),
    };
    let water = scene.water_level_m;
    let margin = 200.0;
    let mut buildings = Vec::with_capacity(scene.buildings);
    let mut roads: HashMap<u16, Vec<String>> = HashMap::new();
    for (di, d) in scene.districts.iter().enumerate() {
        let quota = if di + 1 == scene.districts.len() {
            scene.buildings - buildings.len()
        } else {
            (scene.buildings as f32 * d.share / share_total).round() as usize
        };
        let mut placed = 0;
        let mut attempts = 0;
        let angle_bias = rng.range(0.0, std::f32::consts::FRAC_PI_2);
        while placed < quota && attempts < quota * 60 {
            attempts += 1;
            let (centre, closeness) = sample_near_clusters(rng, frame, &d.clusters);
            let height_m = (10.0 + 240.0 * closeness.powf(1.2) * rng.f32().powf(2.2)).min(250.0);
            let size = rng.range(14.0, 26.0) + height_m * 0.12;
            let angle = angle_bias
                + if rng.f32() < 0.7 {
                    0.0
                } else {
                    rng.range(-0.6, 0.6)
                };
            let ring = footprint(rng, centre, size, angle);
            let inside = ring.iter().all(|p| {
                p[0] > scene.min_m.0 + margin
                    && p[0] < scene.max_m.0 - margin
                    && p[1] > scene.min_m.1 + margin
                    && p[1] < scene.max_m.1 - margin
            });
            // Each district builds on its own ground, in one of its streets
            // (by the point a building's areas are found by: the mean of
            // its corners).
            let n = ring.len() as f32;
            let (sx, sy) = ring
                .iter()
                .fold((0.0, 0.0), |(sx, sy), p| (sx + p[0], sy + p[1]));
            let corners = [sx / n, sy / n];
            let street = street_at
                .locate(corners)
                .filter(|&s| streets[s].district.0 as usize == di);
            let (true, Some(di_here), Some(street)) = (inside, district_at.locate(corners), street)
            else {
                continue;
            };
            if di_here != di || !occupancy.is_free(centre, size * 0.75) {
                continue;
            }
            let ground: Vec<f32> = ring
                .iter()
                .chain(std::iter::once(&centre))
                .map(|p| terrain.height_at(*p))
                .collect();
            let lowest = ground.iter().copied().fold(f32::INFINITY, f32::min);
            let highest = ground.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            // Never in (or on the very edge of) a river, never on a cliff.
            if lowest < water + 3.0 || highest - lowest > 25.0 {
                continue;
            }
            occupancy.insert(centre, size * 0.75);
            let street = StreetId(street as u16);
            let street_roads = roads
                .entry(street.0)
                .or_insert_with(|| (0..4).map(|_| names::road_name(rng)).collect());
            let road = rng.pick(street_roads).clone();
            let street_name = &streets[street.0 as usize].name_zh;
            let id = BuildingId(buildings.len() as u32);
            let name = (rng.f32() < 0.12 || height_m > 150.0).then(|| names::tower_name(rng));
            buildings.push(Building {
                id,
                code: format!("{}-{:07}", d.code, placed + 1),
                name,
                address: format!(
                    "重庆市{}{}{}{}号",
                    d.name_zh,
                    street_name,
                    road,
                    1 + rng.below(400)
                ),
                district: DistrictId(di as u16),
                street,
                footprint_m: ring,
                parts_m: Vec::new(),
                base_elevation_m: lowest,
                height_m,
                floors: (height_m / 3.0).round().max(1.0) as u16,
                base_level: base_level(rng, scene.level_mix, closeness),
                parties: names::parties(rng),
            });
            placed += 1;
        }
    }
    buildings
}

/// A stable content hash of a city: same scene → same hash.
pub fn city_hash(city: &City) -> u64 {
    let mut h = Fnv64::default();
    for v in &city.terrain.heights_m {
        h.write(&v.to_bits().to_le_bytes());
    }
    for s in &city.streets {
        h.write(s.name_zh.as_bytes());
    }
    for b in &city.buildings {
        h.write(b.code.as_bytes());
        h.write(b.address.as_bytes());
        h.write(&[b.base_level as u8]);
        h.write(&b.height_m.to_bits().to_le_bytes());
        h.write(&b.base_elevation_m.to_bits().to_le_bytes());
        for p in &b.footprint_m {
            h.write(&p[0].to_bits().to_le_bytes());
            h.write(&p[1].to_bits().to_le_bytes());
        }
        h.write(b.parties.safety_responsible.phone.as_bytes());
    }
    for z in &city.hazards {
        h.write(z.code.as_bytes());
        for p in z.body_m.iter().chain(&z.threat_zone_m) {
            h.write(&p[0].to_bits().to_le_bytes());
            h.write(&p[1].to_bits().to_le_bytes());
        }
    }
    h.finish()
}
