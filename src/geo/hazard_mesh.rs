//! Hazard bodies → one static mesh (see shaders/hazards.wgsl): the threat
//! zone and the body draped on the terrain, the volume's top and skirt, the
//! outline ribbon, a pin and an arrow per monitoring point, and a ring round
//! every threatened building. Vertices carry (body, part | point << 8);
//! nothing here depends on the live state, which lives in GPU buffers.

use super::mesh::tessellate_ring;
use super::world_from_local;
use crate::model::{City, PointKind, Terrain};

pub const PART_ZONE: u32 = 0;
pub const PART_TOP: u32 = 1;
pub const PART_SKIRT: u32 = 2;
pub const PART_OUTLINE: u32 = 3;
pub const PART_PIN: u32 = 4;
pub const PART_ARROW: u32 = 5;
pub const PART_RING: u32 = 6;

/// Draped triangles are split until no edge is longer than the terrain's
/// cell (finer would follow nothing) and never below this (m).
const DRAPE_EDGE_M: f32 = 40.0;
/// Lifts above the ground (m): the zone under the body, the body's outline.
const ZONE_LIFT_M: f32 = 2.0;
const OUTLINE_LIFT_M: f32 = 4.0;
/// Template sizes at the template distance (the shader grows them).
pub const PIN_HEIGHT_M: f32 = 120.0;
const PIN_HALF_M: f32 = 9.0;
const OUTLINE_HALF_M: f32 = 5.0;
const ARROW_HALF_M: f32 = 9.0;
/// Displacement shown per millimetre in the arrows (m/mm), and its limits.
pub const ARROW_M_PER_MM: f32 = 1.5;
pub const ARROW_MIN_M: f32 = 25.0;
pub const ARROW_MAX_M: f32 = 400.0;

#[derive(Debug, Default, Clone)]
pub struct MeshData {
    pub positions: Vec<[f32; 3]>,
    pub normals: Vec<[f32; 3]>,
    pub ids: Vec<[u32; 2]>,
}

impl MeshData {
    fn push(&mut self, p: [f32; 3], n: [f32; 3], body: u32, word: u32) {
        self.positions.push(p);
        self.normals.push(n);
        self.ids.push([body, word]);
    }

    pub fn len(&self) -> usize {
        self.positions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.positions.is_empty()
    }
}

/// A monitoring pin: its body, point, global index and ground anchor.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pin {
    pub hazard: u32,
    pub point: u16,
    pub index: u32,
    pub base: [f32; 3],
}

#[derive(Debug, Default, Clone)]
pub struct HazardMesh {
    /// Zones, tops and skirts (drawn blended).
    pub translucent: MeshData,
    /// Outlines, pins, arrows and rings.
    pub opaque: MeshData,
    pub pins: Vec<Pin>,
    /// Bodies whose outline could not be filled: (code, reason).
    pub problems: Vec<(String, String)>,
}

fn drape_edge(terrain: &Terrain) -> f32 {
    terrain.cell_m.max(DRAPE_EDGE_M)
}

fn drape(terrain: &Terrain, p: [f32; 2], lift: f32) -> [f32; 3] {
    world_from_local(p, terrain.height_at(p) + lift)
}

/// Triangles of a ring, split until every edge is short.
fn fine_triangles(ring: &[[f32; 2]], edge_m: f32) -> Result<Vec<[[f32; 2]; 3]>, String> {
    let buffers = tessellate_ring(ring)?;
    let mut out = Vec::new();
    let mut stack: Vec<[[f32; 2]; 3]> = buffers
        .indices
        .chunks_exact(3)
        .map(|t| {
            [
                buffers.vertices[t[0] as usize],
                buffers.vertices[t[1] as usize],
                buffers.vertices[t[2] as usize],
            ]
        })
        .collect();
    let len = |a: [f32; 2], b: [f32; 2]| (a[0] - b[0]).hypot(a[1] - b[1]);
    let mid = |a: [f32; 2], b: [f32; 2]| [(a[0] + b[0]) * 0.5, (a[1] + b[1]) * 0.5];
    while let Some([a, b, c]) = stack.pop() {
        if out.len() > 200_000 {
            return Err("too large to drape".to_owned());
        }
        let (ab, bc, ca) = (len(a, b), len(b, c), len(c, a));
        let longest = ab.max(bc).max(ca);
        if longest <= edge_m {
            out.push([a, b, c]);
        } else if ab == longest {
            let m = mid(a, b);
            stack.extend([[a, m, c], [m, b, c]]);
        } else if bc == longest {
            let m = mid(b, c);
            stack.extend([[a, b, m], [a, m, c]]);
        } else {
            let m = mid(c, a);
            stack.extend([[a, b, m], [m, b, c]]);
        }
    }
    Ok(out)
}

/// Points along a closed ring, no two further apart than the drape edge.
fn dense_ring(ring: &[[f32; 2]], edge_m: f32) -> Vec<[f32; 2]> {
    let mut out = Vec::new();
    for i in 0..ring.len() {
        let (a, b) = (ring[i], ring[(i + 1) % ring.len()]);
        let steps = ((a[0] - b[0]).hypot(a[1] - b[1]) / edge_m).ceil().max(1.0) as usize;
        for k in 0..steps {
            let t = k as f32 / steps as f32;
            out.push([a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t]);
        }
    }
    out
}

fn face_normal(a: [f32; 3], b: [f32; 3], c: [f32; 3]) -> [f32; 3] {
    let n = super::mesh::triangle_cross(a, b, c);
    let l = (n[0] * n[0] + n[1] * n[1] + n[2] * n[2]).sqrt().max(1e-9);
    [n[0] / l, n[1] / l, n[2] / l]
}

/// A ribbon along a closed ring: anchors on the ground, offsets across it
/// (grown by the shader with distance).
fn ribbon(out: &mut MeshData, terrain: &Terrain, ring: &[[f32; 2]], body: u32, part: u32) {
    let dense = dense_ring(ring, drape_edge(terrain));
    let n = dense.len();
    for i in 0..n {
        let (a, b) = (dense[i], dense[(i + 1) % n]);
        let d = [b[0] - a[0], b[1] - a[1]];
        let l = d[0].hypot(d[1]).max(1e-6);
        // Across the segment, in world axes (x east, z south).
        let across = [-d[1] / l * OUTLINE_HALF_M, 0.0, -d[0] / l * OUTLINE_HALF_M];
        let neg = [-across[0], 0.0, -across[2]];
        let (pa, pb) = (
            drape(terrain, a, OUTLINE_LIFT_M),
            drape(terrain, b, OUTLINE_LIFT_M),
        );
        for (p, o) in [
            (pa, neg),
            (pb, neg),
            (pb, across),
            (pa, neg),
            (pb, across),
            (pa, across),
        ] {
            out.push(p, o, body, part);
        }
    }
}

fn boxed(out: &mut MeshData, base: [f32; 3], half: f32, height: f32, body: u32, word: u32) {
    let c = [[-half, -half], [half, -half], [half, half], [-half, half]];
    for i in 0..4 {
        let (a, b) = (c[i], c[(i + 1) % 4]);
        let q = [
            [a[0], 0.0, a[1]],
            [b[0], 0.0, b[1]],
            [b[0], height, b[1]],
            [a[0], height, a[1]],
        ];
        for k in [0, 1, 2, 0, 2, 3] {
            out.push(base, q[k], body, word);
        }
    }
    // A flat head.
    let top: Vec<[f32; 3]> = c.iter().map(|p| [p[0] * 2.0, height, p[1] * 2.0]).collect();
    for k in [0, 1, 2, 0, 2, 3] {
        out.push(base, top[k], body, word);
    }
}

/// Builds the mesh of every body of `city`.
pub fn build(city: &City) -> HazardMesh {
    let terrain = &city.terrain;
    let mut mesh = HazardMesh::default();
    let mut point_index = 0u32;
    for h in &city.hazards {
        let body = h.id.0;
        for (ring, part, lift) in [
            (&h.threat_zone_m, PART_ZONE, ZONE_LIFT_M),
            (&h.body_m, PART_TOP, h.thickness_m.max(1.0)),
        ] {
            if ring.is_empty() {
                continue;
            }
            match fine_triangles(ring, drape_edge(terrain)) {
                Ok(tris) => {
                    for [a, b, c] in tris {
                        let (pa, pb, pc) = (
                            drape(terrain, a, lift),
                            drape(terrain, b, lift),
                            drape(terrain, c, lift),
                        );
                        let mut n = face_normal(pa, pb, pc);
                        if n[1] < 0.0 {
                            n = [-n[0], -n[1], -n[2]];
                        }
                        for p in [pa, pb, pc] {
                            mesh.translucent.push(p, n, body, part);
                        }
                    }
                }
                Err(reason) => mesh.problems.push((h.code.clone(), reason)),
            }
        }
        // The skirt: from the ground up to the volume's top.
        let dense = dense_ring(&h.body_m, drape_edge(terrain));
        let top = h.thickness_m.max(1.0);
        for i in 0..dense.len() {
            let (a, b) = (dense[i], dense[(i + 1) % dense.len()]);
            let (ga, gb) = (drape(terrain, a, 0.0), drape(terrain, b, 0.0));
            let (ta, tb) = (drape(terrain, a, top), drape(terrain, b, top));
            let n = face_normal(ga, gb, tb);
            for p in [ga, gb, tb, ga, tb, ta] {
                mesh.translucent.push(p, n, body, PART_SKIRT);
            }
        }
        ribbon(&mut mesh.opaque, terrain, &h.body_m, body, PART_OUTLINE);
        for t in &h.threatened {
            if let Some(b) = city.building(t.building) {
                ribbon(&mut mesh.opaque, terrain, &b.footprint_m, body, PART_RING);
            }
        }
        for (i, p) in h.points.iter().enumerate() {
            let base = drape(terrain, p.position_m, 0.0);
            let word = point_index << 8;
            let height = if p.kind == PointKind::RainGauge {
                PIN_HEIGHT_M * 0.6
            } else {
                PIN_HEIGHT_M
            };
            boxed(
                &mut mesh.opaque,
                base,
                PIN_HALF_M,
                height,
                body,
                PART_PIN | word,
            );
            if p.kind == PointKind::Displacement {
                // The arrow: x along (0..1 of the vector), y up, z across.
                let w = ARROW_HALF_M;
                for (x, y, z) in [
                    (0.0, 0.0, -w),
                    (1.0, 0.0, -w),
                    (1.0, 0.0, w),
                    (0.0, 0.0, -w),
                    (1.0, 0.0, w),
                    (0.0, 0.0, w),
                    (0.0, -w, 0.0),
                    (1.0, -w, 0.0),
                    (1.0, w, 0.0),
                    (0.0, -w, 0.0),
                    (1.0, w, 0.0),
                    (0.0, w, 0.0),
                ] {
                    mesh.opaque.push(base, [x, y, z], body, PART_ARROW | word);
                }
            }
            mesh.pins.push(Pin {
                hazard: body,
                point: i as u16,
                index: point_index,
                base,
            });
            point_index += 1;
        }
    }
    mesh
}

/// The arrow shown for a displacement vector east/north/up (mm): the same
/// direction in world axes, exaggerated, between the limits.
pub fn arrow_world(vector_mm: [f32; 3]) -> [f32; 3] {
    let w = world_from_local([vector_mm[0], vector_mm[1]], vector_mm[2]);
    let mm = (w[0] * w[0] + w[1] * w[1] + w[2] * w[2]).sqrt();
    if mm <= 1e-6 {
        return [0.0, 0.0, 0.0];
    }
    let len = (mm * ARROW_M_PER_MM).clamp(ARROW_MIN_M, ARROW_MAX_M);
    [w[0] / mm * len, w[1] / mm * len, w[2] / mm * len]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draped_triangles_are_small_and_cover_the_ring() {
        let square = [[0.0, 0.0], [200.0, 0.0], [200.0, 100.0], [0.0, 100.0]];
        let tris = fine_triangles(&square, DRAPE_EDGE_M).expect("tessellates");
        let area: f32 = tris
            .iter()
            .map(|[a, b, c]| {
                ((b[0] - a[0]) * (c[1] - a[1]) - (c[0] - a[0]) * (b[1] - a[1])).abs() * 0.5
            })
            .sum();
        assert!((area - 20_000.0).abs() < 1.0, "{area}");
        for [a, b, _] in &tris {
            assert!((a[0] - b[0]).hypot(a[1] - b[1]) <= DRAPE_EDGE_M + 1e-3);
        }
        assert!(fine_triangles(&[[0.0, 0.0], [1.0, 1.0]], DRAPE_EDGE_M).is_err());
    }

    #[test]
    fn arrows_point_the_way_the_ground_moves() {
        // 10 mm east: +x in the world, 15 m long.
        let a = arrow_world([10.0, 0.0, 0.0]);
        assert!(
            (a[0] - ARROW_MIN_M.max(15.0)).abs() < 1e-3 && a[2].abs() < 1e-6,
            "{a:?}"
        );
        // North is −z; a huge displacement is capped.
        let b = arrow_world([0.0, 10_000.0, 0.0]);
        assert!((b[2] + ARROW_MAX_M).abs() < 1e-3, "{b:?}");
        assert_eq!(arrow_world([0.0; 3]), [0.0; 3]);
    }
}
