//! Footprints → merged tile meshes: roofs tessellated with lyon, walls
//! extruded, no bottom faces. Every vertex carries its building's id so the
//! GPU state buffer can colour it without touching the mesh again.

use std::collections::BTreeMap;

use lyon_tessellation::{
    BuffersBuilder, FillOptions, FillTessellator, FillVertex, VertexBuffers, math::point,
    path::Path,
};

use super::raster::TileRaster;
use super::world_from_local;
use crate::model::{Building, BuildingId, Terrain};

/// Geometry of one tile, in world space (see [`super::world_from_local`]).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TileMesh {
    /// Tile grid coordinates (east, north).
    pub key: (i32, i32),
    pub positions: Vec<[f32; 3]>,
    pub building_ids: Vec<u32>,
    /// Per vertex: metres above the building's base and the building's
    /// height (the shader darkens the foot of each wall and picks out the
    /// roof edge with them).
    pub walls: Vec<[f32; 2]>,
    pub indices: Vec<u32>,
    pub buildings: Vec<BuildingId>,
    /// The far level of the same buildings ([`append_building_far`]); taken
    /// out when the tile is put on the GPU.
    pub far: Option<Box<TileMesh>>,
    /// The farthest level: the buildings tall enough for their walls to
    /// show from there ([`append_building_roofs`]) …
    pub roofs: Option<Box<TileMesh>>,
    /// … and the others flat, as a raster of ids on the terrain.
    pub raster: Option<Box<TileRaster>>,
    pub aabb_min: [f32; 3],
    pub aabb_max: [f32; 3],
}

impl TileMesh {
    pub fn triangle_count(&self) -> usize {
        self.indices.len() / 3
    }

    fn push_vertex(&mut self, p: [f32; 3], id: u32, wall: [f32; 2]) -> u32 {
        let index = self.positions.len() as u32;
        self.positions.push(p);
        self.building_ids.push(id);
        self.walls.push(wall);
        index
    }

    /// Pushes a triangle wound counter-clockwise as seen from `normal`'s side.
    fn push_triangle(&mut self, [a, b, c]: [u32; 3], normal: [f32; 3]) {
        let [pa, pb, pc] = [a, b, c].map(|i| self.positions[i as usize]);
        if dot(triangle_cross(pa, pb, pc), normal) >= 0.0 {
            self.indices.extend([a, b, c]);
        } else {
            self.indices.extend([a, c, b]);
        }
    }

    fn update_bounds(&mut self) {
        let (lo, hi) = self.positions.iter().fold(
            ([f32::INFINITY; 3], [f32::NEG_INFINITY; 3]),
            |(lo, hi), p| {
                (
                    [lo[0].min(p[0]), lo[1].min(p[1]), lo[2].min(p[2])],
                    [hi[0].max(p[0]), hi[1].max(p[1]), hi[2].max(p[2])],
                )
            },
        );
        self.aabb_min = lo;
        self.aabb_max = hi;
    }
}

/// (b − a) × (c − a): the triangle's normal scaled by twice its area
/// (counter-clockwise seen from the side it points to).
pub(crate) fn triangle_cross(a: [f32; 3], b: [f32; 3], c: [f32; 3]) -> [f32; 3] {
    let u = [b[0] - a[0], b[1] - a[1], b[2] - a[2]];
    let v = [c[0] - a[0], c[1] - a[1], c[2] - a[2]];
    [
        u[1] * v[2] - u[2] * v[1],
        u[2] * v[0] - u[0] * v[2],
        u[0] * v[1] - u[1] * v[0],
    ]
}

fn dot(a: [f32; 3], b: [f32; 3]) -> f32 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

/// Halo geometry of a tile: per building an oriented box around its
/// footprint, every vertex with the direction it is pushed outward on the
/// screen (a few pixels, whatever the distance) and its building's id.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HaloMesh {
    pub positions: Vec<[f32; 3]>,
    pub outward: Vec<[f32; 3]>,
    pub building_ids: Vec<u32>,
    pub indices: Vec<u32>,
}

/// Vertices of one building's halo box.
const BOX_VERTICES: usize = 8;

impl HaloMesh {
    /// The buildings that have a box, in the mesh's order.
    pub fn buildings(&self) -> impl Iterator<Item = u32> + '_ {
        self.building_ids.iter().step_by(BOX_VERTICES).copied()
    }

    /// The boxes of `buildings` (one per footprint part), in order: made
    /// when wanted from the model, for the few buildings that have a halo.
    pub fn of<'a>(buildings: impl IntoIterator<Item = &'a Building>) -> HaloMesh {
        let mut out = HaloMesh::default();
        for b in buildings {
            let (base, top) = (b.base_elevation_m, b.top_elevation_m());
            for ring in b.rings() {
                out.push_box(ring, base, top, b.id.0);
            }
        }
        out
    }

    /// Appends the box of `ring` (local metres) from `base` to `top`,
    /// aligned with the ring's longest edge.
    fn push_box(&mut self, ring: &[[f32; 2]], base: f32, top: f32, id: u32) {
        let Some((axis, _)) = ring
            .iter()
            .zip(ring.iter().cycle().skip(1))
            .map(|(a, b)| ([b[0] - a[0], b[1] - a[1]], (b[0] - a[0]).hypot(b[1] - a[1])))
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .filter(|(_, len)| *len > 1e-3)
            .map(|(d, len)| ([d[0] / len, d[1] / len], len))
        else {
            return;
        };
        let across = [-axis[1], axis[0]];
        let along = |p: &[f32; 2], d: [f32; 2]| p[0] * d[0] + p[1] * d[1];
        let range = |d: [f32; 2]| {
            ring.iter()
                .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), p| {
                    (lo.min(along(p, d)), hi.max(along(p, d)))
                })
        };
        let ((u0, u1), (v0, v1)) = (range(axis), range(across));
        let (uc, vc, zc) = ((u0 + u1) / 2.0, (v0 + v1) / 2.0, (base + top) / 2.0);
        let at = |u: f32, v: f32| [axis[0] * u + across[0] * v, axis[1] * u + across[1] * v];
        let mid = world_from_local(at(uc, vc), zc);
        let first = self.positions.len() as u32;
        // Corner k: bit 0 → u1, bit 1 → v1, bit 2 → top.
        for k in 0..8u32 {
            let u = if k & 1 == 0 { u0 } else { u1 };
            let v = if k & 2 == 0 { v0 } else { v1 };
            let z = if k & 4 == 0 { base } else { top };
            let world = world_from_local(at(u, v), z);
            // Horizontal: from the box's axis to the corner; vertical: up
            // or down one metre. The shader pushes each part by the halo's
            // width on the screen, so the rim is as wide beside a tall,
            // thin tower as above it.
            self.positions.push(world);
            self.outward.push([
                world[0] - mid[0],
                if z > zc { 1.0 } else { -1.0 },
                world[2] - mid[2],
            ]);
            self.building_ids.push(id);
        }
        // Six faces wound counter-clockwise seen from outside: the halo is
        // drawn from the inside (front faces culled), so only the far side
        // of the box shows, around the building, never over it.
        for face in [
            [0, 1, 3, 2],
            [4, 5, 7, 6],
            [0, 1, 5, 4],
            [2, 3, 7, 6],
            [0, 2, 6, 4],
            [1, 3, 7, 5],
        ] {
            let [a, b, c, d] = face.map(|i: u32| first + i);
            for [p, q, r] in [[a, b, c], [a, c, d]] {
                let [pp, pq, pr] = [p, q, r].map(|i| self.positions[i as usize]);
                let out = [0, 1, 2].map(|k| (pp[k] + pq[k] + pr[k]) / 3.0 - mid[k]);
                if dot(triangle_cross(pp, pq, pr), out) >= 0.0 {
                    self.indices.extend([p, q, r]);
                } else {
                    self.indices.extend([p, r, q]);
                }
            }
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum MeshError {
    #[error("building {code}: footprint has {vertices} distinct vertices, need at least 3")]
    Degenerate { code: String, vertices: usize },
    #[error("building {code}: roof tessellation failed ({reason})")]
    Tessellation { code: String, reason: String },
}

/// Twice the signed area of a ring (positive = counter-clockwise).
pub fn signed_area2(ring: &[[f32; 2]]) -> f32 {
    ring.iter()
        .zip(ring.iter().cycle().skip(1))
        .map(|(a, b)| a[0] * b[1] - b[0] * a[1])
        .sum()
}

/// Appends one building (roof + walls of each of its parts) to `mesh`: the
/// near level, every footprint as it is. Each corner
/// is one vertex shared by the roof and the walls meeting there (two a
/// corner); no vertex carries a normal — every face is flat, and the shader
/// takes its normal from screen derivatives.
pub fn append_building(mesh: &mut TileMesh, building: &Building) -> Result<(), MeshError> {
    append_level(mesh, building, 0.0)?;
    mesh.buildings.push(building.id);
    Ok(())
}

/// How far a far-level footprint may stray from the real one (metres).
pub const FAR_TOLERANCE_M: f32 = 1.0;
/// A tile keeps its far level only with at most this share of the near
/// level's triangles.
pub const FAR_WORTH_KEEPING: f32 = 0.8;

/// The far level of a building: each footprint simplified to within
/// `tolerance_m` (Douglas–Peucker), on shared corners like the near level.
/// Same id, same state word: colour, selection and pulse are the near
/// level's.
pub fn append_building_far(
    mesh: &mut TileMesh,
    building: &Building,
    tolerance_m: f32,
) -> Result<(), MeshError> {
    append_level(mesh, building, tolerance_m)
}

/// How far a roofs-level footprint may stray (metres).
pub const ROOFS_TOLERANCE_M: f32 = 3.0;
/// At the roofs level, buildings at least this tall keep walls and roofs;
/// lower ones are drawn flat from the tile's raster (their walls would be
/// under [`crate::cockpit::city::buildings::ROOFS_PIXEL_BUDGET`] pixels
/// high where the level is drawn).
pub const ROOFS_MIN_WALL_M: f32 = 36.0;

/// The roofs level of a building at least [`ROOFS_MIN_WALL_M`] tall: its
/// far level simplified to [`ROOFS_TOLERANCE_M`].
pub fn append_building_roofs(mesh: &mut TileMesh, building: &Building) -> Result<(), MeshError> {
    append_level(mesh, building, ROOFS_TOLERANCE_M)
}

/// A building's rings at one level of detail, each with its roof's
/// triangles (on the ring's own points, plus any lyon added).
pub struct Triangulated(Vec<RingRoof>);

/// A ring and its roof's triangles.
type RingRoof = (Vec<[f32; 2]>, VertexBuffers<[f32; 2], u32>);

/// Triangulates every ring of `building` simplified to `tolerance_m`. A
/// ring the simplification leaves as it was in `finer` (the same
/// building at a finer level) takes that level's triangles instead of
/// tessellating again (Douglas–Peucker keeps a subset of the finer
/// level's points, so the same count is the same ring).
pub fn triangulate(
    building: &Building,
    tolerance_m: f32,
    finer: Option<&Triangulated>,
) -> Result<Triangulated, MeshError> {
    let mut parts = Vec::new();
    for (i, ring) in building.rings().enumerate() {
        if ring.len() < 3 {
            return Err(MeshError::Degenerate {
                code: building.code.clone(),
                vertices: ring.len(),
            });
        }
        let simple = simplify_ring(ring, tolerance_m);
        if let Some(same) = finer
            .and_then(|f| f.0.get(i))
            .filter(|(finer_ring, _)| finer_ring.len() == simple.len())
        {
            parts.push(same.clone());
            continue;
        }
        parts.push(match tessellate_ring(&simple) {
            Ok(roof) => (simple, roof),
            // The simplified ring folded over: the real one.
            Err(_) => (
                ring.to_vec(),
                tessellate_roof(ring).map_err(|reason| MeshError::Tessellation {
                    code: building.code.clone(),
                    reason,
                })?,
            ),
        });
    }
    Ok(Triangulated(parts))
}

/// One level of a building on its own (the tiles make the levels in one
/// go, each from the finer one: [`triangulate`]).
fn append_level(
    mesh: &mut TileMesh,
    building: &Building,
    tolerance_m: f32,
) -> Result<(), MeshError> {
    // Every part is triangulated before any is appended: a building that
    // fails leaves nothing of itself in the mesh.
    let parts = triangulate(building, tolerance_m, None)?;
    append_triangulated(mesh, building, &parts);
    Ok(())
}

/// Appends a building's triangulated rings: roofs and walls on shared
/// corners.
pub fn append_triangulated(mesh: &mut TileMesh, building: &Building, parts: &Triangulated) {
    let id = building.id.0;
    let base = building.base_elevation_m;
    let top = building.top_elevation_m();
    let height = top - base;
    for (ring, roof) in &parts.0 {
        let n = ring.len() as u32;
        // Outward of a counter-clockwise ring is each edge turned right;
        // of a clockwise one, turned left.
        let turn = if signed_area2(ring) >= 0.0 { 1.0 } else { -1.0 };
        let first = mesh.positions.len() as u32;
        for p in ring {
            mesh.push_vertex(world_from_local(*p, base), id, [0.0, height]);
        }
        let roof_first = mesh.positions.len() as u32;
        for p in ring {
            mesh.push_vertex(world_from_local(*p, top), id, [height, height]);
        }
        let bottom = first;
        // Roof triangles on the shared top corners (lyon keeps the input
        // points; one it adds gets a vertex of its own). A fanned roof is
        // on the ring's own points in order: no lookup needed.
        let roof_index: Vec<u32> = if roof.vertices == *ring {
            (0..n).map(|i| roof_first + i).collect()
        } else {
            let corner: std::collections::HashMap<[u32; 2], u32> = ring
                .iter()
                .enumerate()
                .map(|(i, p)| ([p[0].to_bits(), p[1].to_bits()], roof_first + i as u32))
                .collect();
            roof.vertices
                .iter()
                .map(|p| match corner.get(&[p[0].to_bits(), p[1].to_bits()]) {
                    Some(i) => *i,
                    None => mesh.push_vertex(world_from_local(*p, top), id, [height, height]),
                })
                .collect()
        };
        let up = [0.0, 1.0, 0.0];
        for tri in roof.indices.chunks_exact(3) {
            mesh.push_triangle(
                [
                    roof_index[tri[0] as usize],
                    roof_index[tri[1] as usize],
                    roof_index[tri[2] as usize],
                ],
                up,
            );
        }
        for i in 0..n {
            let j = (i + 1) % n;
            let (a, b) = (ring[i as usize], ring[j as usize]);
            let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
            if dx.hypot(dy) < 1e-3 {
                continue;
            }
            let outward = world_from_local([dy * turn, -dx * turn], 0.0);
            mesh.push_triangle([bottom + i, bottom + j, roof_first + j], outward);
            mesh.push_triangle([bottom + i, roof_first + j, roof_first + i], outward);
        }
    }
}

/// Douglas–Peucker on a closed ring: split at the two points farthest
/// apart, simplify both chains. Keeps at least a triangle; a ring that
/// cannot lose a point is returned as it is.
pub fn simplify_ring(ring: &[[f32; 2]], tolerance_m: f32) -> Vec<[f32; 2]> {
    let n = ring.len();
    if n <= 4 || tolerance_m <= 0.0 {
        return ring.to_vec();
    }
    let far = (1..n)
        .max_by(|a, b| {
            let d = |i: usize| (ring[i][0] - ring[0][0]).hypot(ring[i][1] - ring[0][1]);
            d(*a).total_cmp(&d(*b))
        })
        .unwrap_or(n / 2);
    let mut keep = vec![false; n];
    keep[0] = true;
    keep[far] = true;
    let chain_a: Vec<usize> = (0..=far).collect();
    let chain_b: Vec<usize> = (far..n).chain(std::iter::once(0)).collect();
    for chain in [chain_a, chain_b] {
        douglas_peucker(ring, &chain, tolerance_m, &mut keep);
    }
    let out: Vec<[f32; 2]> = ring
        .iter()
        .zip(&keep)
        .filter(|(_, k)| **k)
        .map(|(p, _)| *p)
        .collect();
    // A sliver left of a thin building: keep the real one.
    if out.len() < 3 || signed_area2(&out).abs() < signed_area2(ring).abs() * 0.5 {
        return ring.to_vec();
    }
    out
}

fn douglas_peucker(ring: &[[f32; 2]], chain: &[usize], tolerance: f32, keep: &mut [bool]) {
    if chain.len() < 3 {
        return;
    }
    let (a, b) = (ring[chain[0]], ring[chain[chain.len() - 1]]);
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let len = dx.hypot(dy).max(1e-6);
    let (mut worst, mut at) = (0.0f32, 0);
    for (k, &i) in chain.iter().enumerate().take(chain.len() - 1).skip(1) {
        let p = ring[i];
        let d = ((p[0] - a[0]) * dy - (p[1] - a[1]) * dx).abs() / len;
        if d > worst {
            worst = d;
            at = k;
        }
    }
    if worst > tolerance {
        keep[chain[at]] = true;
        douglas_peucker(ring, &chain[..=at], tolerance, keep);
        douglas_peucker(ring, &chain[at..], tolerance, keep);
    }
}

fn tessellate_roof(ring: &[[f32; 2]]) -> Result<VertexBuffers<[f32; 2], u32>, String> {
    tessellate_ring(ring)
}

/// Triangulates a ring (lyon, non-zero fill); an error names the reason.
pub fn tessellate_ring(ring: &[[f32; 2]]) -> Result<VertexBuffers<[f32; 2], u32>, String> {
    if ring.len() < 3 {
        return Err(format!("{} points are not a polygon", ring.len()));
    }
    // Most footprints are convex (boxes): a fan, without the tessellator.
    if let Some(fan) = convex_fan(ring) {
        return Ok(fan);
    }
    let mut builder = Path::builder();
    builder.begin(point(ring[0][0], ring[0][1]));
    for p in &ring[1..] {
        builder.line_to(point(p[0], p[1]));
    }
    builder.close();
    let path = builder.build();
    let mut buffers: VertexBuffers<[f32; 2], u32> = VertexBuffers::new();
    FillTessellator::new()
        .tessellate_path(
            &path,
            &FillOptions::tolerance(0.05),
            &mut BuffersBuilder::new(&mut buffers, |v: FillVertex| {
                let p = v.position();
                [p.x, p.y]
            }),
        )
        .map_err(|e| format!("{e:?}"))?;
    if buffers.indices.is_empty() {
        return Err("no roof triangles (zero area?)".to_owned());
    }
    Ok(buffers)
}

/// A strictly convex ring as a triangle fan (None when it is not: a
/// reflex or straight corner, or a ring that winds more than once).
fn convex_fan(ring: &[[f32; 2]]) -> Option<VertexBuffers<[f32; 2], u32>> {
    let n = ring.len();
    let mut sign = 0.0f32;
    let mut turning = 0.0f32;
    for i in 0..n {
        let (a, b, c) = (ring[i], ring[(i + 1) % n], ring[(i + 2) % n]);
        let (u, v) = ([b[0] - a[0], b[1] - a[1]], [c[0] - b[0], c[1] - b[1]]);
        let cross = u[0] * v[1] - u[1] * v[0];
        if cross.abs() <= 1e-6 * (u[0].hypot(u[1]) * v[0].hypot(v[1])).max(1e-12) {
            return None;
        }
        if sign == 0.0 {
            sign = cross.signum();
        } else if cross.signum() != sign {
            return None;
        }
        turning += cross.atan2(u[0] * v[0] + u[1] * v[1]);
    }
    // Once round (2π), not a star that turns the same way twice.
    if (turning.abs() - std::f32::consts::TAU).abs() > 0.1 {
        return None;
    }
    let mut buffers: VertexBuffers<[f32; 2], u32> = VertexBuffers::new();
    buffers.vertices.extend_from_slice(ring);
    for i in 1..n as u32 - 1 {
        buffers.indices.extend([0, i, i + 1]);
    }
    Some(buffers)
}

/// Groups buildings into square tiles by footprint centre and meshes each
/// tile (the roofs level's raster draped on `terrain`). Buildings whose
/// footprint cannot be meshed are skipped and returned with the reason.
pub fn build_tiles(
    buildings: &[Building],
    tile_size_m: f32,
    terrain: &Terrain,
) -> (Vec<TileMesh>, Vec<MeshError>) {
    let mut groups: BTreeMap<(i32, i32), Vec<&Building>> = BTreeMap::new();
    for b in buildings {
        let c = b.centre_m();
        let key = (
            (c[0] / tile_size_m).floor() as i32,
            (c[1] / tile_size_m).floor() as i32,
        );
        groups.entry(key).or_default().push(b);
    }
    let groups: Vec<_> = groups.into_iter().collect();
    // Tessellation is independent per tile: spread it over the cores.
    let results = super::parallel::map_chunks("mesh", &groups, |part| mesh_groups(part, terrain));
    let mut tiles = Vec::new();
    let mut errors = Vec::new();
    for (t, e) in results {
        tiles.extend(t);
        errors.extend(e);
    }
    (tiles, errors)
}

fn mesh_groups(
    groups: &[((i32, i32), Vec<&Building>)],
    terrain: &Terrain,
) -> (Vec<TileMesh>, Vec<MeshError>) {
    let mut tiles = Vec::with_capacity(groups.len());
    let mut errors = Vec::new();
    for (key, members) in groups {
        let mut mesh = TileMesh {
            key: *key,
            ..TileMesh::default()
        };
        let mut far = TileMesh {
            key: *key,
            ..TileMesh::default()
        };
        let mut roofs = TileMesh {
            key: *key,
            ..TileMesh::default()
        };
        let mut flat = Vec::new();
        for b in members {
            // Each level from the one finer than it: a ring that loses no
            // point keeps its triangles.
            let near_parts = match triangulate(b, 0.0, None) {
                Ok(parts) => parts,
                Err(e) => {
                    errors.push(e);
                    continue;
                }
            };
            append_triangulated(&mut mesh, b, &near_parts);
            mesh.buildings.push(b.id);
            // Only what the near level draws has the other levels.
            let tall = b.height_m >= ROOFS_MIN_WALL_M;
            if !tall {
                flat.push(*b);
            }
            let levels = triangulate(b, FAR_TOLERANCE_M, Some(&near_parts)).and_then(|far_parts| {
                append_triangulated(&mut far, b, &far_parts);
                if tall {
                    let roof_parts = triangulate(b, ROOFS_TOLERANCE_M, Some(&far_parts))?;
                    append_triangulated(&mut roofs, b, &roof_parts);
                }
                Ok(())
            });
            if let Err(e) = levels {
                errors.push(e);
            }
        }
        if !mesh.indices.is_empty() {
            mesh.update_bounds();
            // A far level that saves little (boxes stay boxes) is not worth
            // its memory: the near level is drawn in its place.
            if far.triangle_count() as f32 <= FAR_WORTH_KEEPING * mesh.triangle_count() as f32 {
                far.update_bounds();
                mesh.far = Some(Box::new(far));
            }
            if !roofs.indices.is_empty() {
                roofs.update_bounds();
                mesh.roofs = Some(Box::new(roofs));
            }
            mesh.raster = TileRaster::of(&flat, terrain).map(Box::new);
            tiles.push(mesh);
        }
    }
    (tiles, errors)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::{DistrictId, Party, ResponsibleParties, RiskLevel, StreetId};

    /// A 20 × 20 m L, counter-clockwise: the north-east quarter cut out.
    pub(crate) const L_RING: [[f32; 2]; 6] = [
        [0.0, 0.0],
        [20.0, 0.0],
        [20.0, 10.0],
        [10.0, 10.0],
        [10.0, 20.0],
        [0.0, 20.0],
    ];

    fn flat_terrain() -> Terrain {
        Terrain::flat([-2000.0, -2000.0], [2000.0, 2000.0], 100.0)
    }

    pub(crate) fn test_building(id: u32, footprint: Vec<[f32; 2]>) -> Building {
        let party = Party {
            name: "测试".into(),
            phone: "13800000000".into(),
        };
        Building {
            id: BuildingId(id),
            code: format!("T-{id}"),
            name: None,
            address: String::new(),
            district: DistrictId(0),
            street: StreetId(0),
            footprint_m: footprint,
            parts_m: Vec::new(),
            base_elevation_m: 100.0,
            height_m: 30.0,
            floors: 10,
            base_level: RiskLevel::Low,
            parties: ResponsibleParties {
                safety_responsible: party.clone(),
                safety_manager: party.clone(),
                maintenance: party,
            },
        }
    }

    #[test]
    fn box_has_roof_and_four_walls_but_no_floor() {
        let b = test_building(7, vec![[0.0, 0.0], [10.0, 0.0], [10.0, 20.0], [0.0, 20.0]]);
        let mut mesh = TileMesh::default();
        append_building(&mut mesh, &b).expect("box meshes");
        // 2 roof triangles + 4 walls × 2.
        assert_eq!(mesh.triangle_count(), 10);
        assert!(mesh.building_ids.iter().all(|&id| id == 7));
        // Shared corners: 4 at the base, 4 at the top.
        assert_eq!(mesh.positions.len(), 8);
        // No face points down (no bottom), and every vertex is at base or top.
        assert!(mesh.indices.chunks_exact(3).all(|t| {
            let [a, b, c] = [0, 1, 2].map(|k| mesh.positions[t[k] as usize]);
            triangle_cross(a, b, c)[1] >= -1e-3
        }));
        assert!(
            mesh.positions
                .iter()
                .all(|p| (p[1] - 100.0).abs() < 1e-4 || (p[1] - 130.0).abs() < 1e-4)
        );
    }

    #[test]
    fn tiles_reuse_a_finer_levels_triangles_and_equal_each_level_meshed_on_its_own() {
        // A box (no level drops a point), a circle (each level drops
        // some), an L and a tall circle (it has a roofs level).
        let circle = |r: f32, n: usize| -> Vec<[f32; 2]> {
            (0..n)
                .map(|i| {
                    let a = i as f32 / n as f32 * std::f32::consts::TAU;
                    [50.0 + r * a.cos(), 50.0 + r * a.sin()]
                })
                .collect()
        };
        let mut tall = test_building(3, circle(30.0, 96));
        tall.height_m = 80.0;
        let buildings = vec![
            test_building(0, vec![[0.0, 0.0], [10.0, 0.0], [10.0, 20.0], [0.0, 20.0]]),
            test_building(1, circle(20.0, 64)),
            test_building(2, L_RING.to_vec()),
            tall,
        ];
        let box_near = triangulate(&buildings[0], 0.0, None).expect("box");
        let box_far = triangulate(&buildings[0], FAR_TOLERANCE_M, Some(&box_near)).expect("far");
        assert_eq!(box_far.0[0].0, box_near.0[0].0, "a box stays the box");
        let (tiles, errors) = build_tiles(&buildings, 3000.0, &flat_terrain());
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(tiles.len(), 1);
        let tile = &tiles[0];
        // Each level as the per-level functions make it on their own.
        let (mut near, mut far, mut roofs) = (
            TileMesh::default(),
            TileMesh::default(),
            TileMesh::default(),
        );
        for b in &buildings {
            append_building(&mut near, b).expect("near");
            append_building_far(&mut far, b, FAR_TOLERANCE_M).expect("far");
            if b.height_m >= ROOFS_MIN_WALL_M {
                append_building_roofs(&mut roofs, b).expect("roofs");
            }
        }
        assert_eq!(tile.positions, near.positions);
        assert_eq!(tile.indices, near.indices);
        let tile_far = tile
            .far
            .as_ref()
            .expect("the circles make a far level worth keeping");
        assert_eq!(
            (&tile_far.positions, &tile_far.indices),
            (&far.positions, &far.indices)
        );
        let tile_roofs = tile.roofs.as_ref().expect("a roofs level for the tall one");
        assert_eq!(
            (&tile_roofs.positions, &tile_roofs.indices),
            (&roofs.positions, &roofs.indices)
        );
    }

    #[test]
    fn the_far_level_shares_corners_and_drops_what_a_metre_cannot_show() {
        // A 40 m circle of 64 points: within 1 m it needs far fewer.
        let circle: Vec<[f32; 2]> = (0..64)
            .map(|i| {
                let a = i as f32 / 64.0 * std::f32::consts::TAU;
                [20.0 * a.cos(), 20.0 * a.sin()]
            })
            .collect();
        let simple = simplify_ring(&circle, 1.0);
        assert!(simple.len() < 20 && simple.len() >= 8, "{}", simple.len());
        // Every dropped point lies within a metre of the simplified ring
        // (its distance to the circle's centre differs by at most 1 m).
        let inner = 20.0 * (std::f32::consts::PI / simple.len() as f32).cos();
        assert!(20.0 - inner < 1.0 + 1e-3, "{inner}");
        // A box stays a box; its far level: 8 corners, 10 triangles, ids kept.
        let b = test_building(7, vec![[0.0, 0.0], [10.0, 0.0], [10.0, 20.0], [0.0, 20.0]]);
        let mut far = TileMesh::default();
        append_building_far(&mut far, &b, FAR_TOLERANCE_M).expect("far level");
        assert_eq!(far.positions.len(), 8);
        assert_eq!(far.triangle_count(), 10);
        assert!(far.building_ids.iter().all(|&id| id == 7));
        // Wound outward / up like the near level: every triangle's normal
        // points away from the box's centre.
        let centre = [5.0, 115.0, -10.0];
        for t in far.indices.chunks_exact(3) {
            let [a, b, c] = [0, 1, 2].map(|k| far.positions[t[k] as usize]);
            let n = triangle_cross(a, b, c);
            let mid = [
                (a[0] + b[0] + c[0]) / 3.0,
                (a[1] + b[1] + c[1]) / 3.0,
                (a[2] + b[2] + c[2]) / 3.0,
            ];
            let out = [mid[0] - centre[0], mid[1] - centre[1], mid[2] - centre[2]];
            assert!(dot(n, out) > 0.0, "triangle {t:?} faces inward");
        }
        // At the roofs level a box as tall as ROOFS_MIN_WALL_M keeps its
        // walls; a lower one is drawn flat from the tile's raster only.
        let tall = Building {
            height_m: ROOFS_MIN_WALL_M,
            ..b.clone()
        };
        let low = Building {
            height_m: 10.0,
            ..test_building(
                9,
                vec![[30.0, 0.0], [40.0, 0.0], [40.0, 20.0], [30.0, 20.0]],
            )
        };
        let (tiles, errors) = build_tiles(&[tall, low], 1000.0, &flat_terrain());
        assert!(errors.is_empty());
        let roofs = tiles[0].roofs.as_ref().expect("a roofs mesh");
        assert_eq!(roofs.triangle_count(), 10);
        assert!(roofs.building_ids.iter().all(|&id| id == 7));
        let raster = tiles[0].raster.as_ref().expect("a raster");
        assert_eq!(raster.id_at([35.0, 10.0]), Some(9));
        assert_eq!(raster.id_at([5.0, 10.0]), None, "the tall box is not flat");
        // Its roofs at the low box's height (100 m ground + 10 m).
        assert!(raster.positions.iter().all(|p| (p[1] - 110.0).abs() < 1e-3));
        // The building with a 64-point round footprint: far fewer vertices.
        let round = test_building(8, circle);
        let (mut near, mut far) = (TileMesh::default(), TileMesh::default());
        append_building(&mut near, &round).expect("near");
        append_building_far(&mut far, &round, FAR_TOLERANCE_M).expect("far");
        assert!(
            far.positions.len() * 3 < near.positions.len()
                && far.triangle_count() * 3 < near.triangle_count(),
            "{} vs {} vertices, {} vs {} triangles",
            far.positions.len(),
            near.positions.len(),
            far.triangle_count(),
            near.triangle_count()
        );
    }

    #[test]
    fn convex_footprints_are_fanned_and_others_tessellated() {
        let square = [[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0]];
        let fan = convex_fan(&square).expect("a square is convex");
        assert_eq!((fan.vertices.len(), fan.indices.len()), (4, 6));
        // Clockwise too.
        let mut cw = square;
        cw.reverse();
        assert!(convex_fan(&cw).is_some());
        // An L has a reflex corner, a straight corner is not strict, a
        // pentagram turns the same way twice round: all to lyon.
        let l = L_RING;
        assert!(convex_fan(&l).is_none());
        assert!(
            convex_fan(&[
                [0.0, 0.0],
                [5.0, 0.0],
                [10.0, 0.0],
                [10.0, 10.0],
                [0.0, 10.0]
            ])
            .is_none()
        );
        let star: Vec<[f32; 2]> = (0..5)
            .map(|i| {
                let a = (i * 2) as f32 / 5.0 * std::f32::consts::TAU;
                [10.0 * a.cos(), 10.0 * a.sin()]
            })
            .collect();
        assert!(convex_fan(&star).is_none());
        let l_roof = tessellate_ring(&l).expect("lyon does the L");
        assert_eq!(l_roof.indices.len(), 4 * 3);
    }

    #[test]
    fn triangles_face_outward_and_up() {
        // Clockwise L-shape: winding must still come out facing outward/up.
        let ring = vec![
            [0.0, 0.0],
            [0.0, 20.0],
            [10.0, 20.0],
            [10.0, 10.0],
            [20.0, 10.0],
            [20.0, 0.0],
        ];
        let mut mesh = TileMesh::default();
        append_building(&mut mesh, &test_building(1, ring)).expect("L meshes");
        for tri in mesh.indices.chunks_exact(3) {
            let [a, b, c] = [0, 1, 2].map(|k| mesh.positions[tri[k] as usize]);
            let u = [b[0] - a[0], b[1] - a[1], b[2] - a[2]];
            let v = [c[0] - a[0], c[1] - a[1], c[2] - a[2]];
            let cross = [
                u[1] * v[2] - u[2] * v[1],
                u[2] * v[0] - u[0] * v[2],
                u[0] * v[1] - u[1] * v[0],
            ];
            if cross[1].abs() > 1e-3 {
                assert!(cross[1] > 0.0, "roofs face up");
                continue;
            }
            // A wall faces out of the L: half a metre along its normal is
            // outside the footprint, half a metre against it inside.
            let inside = |e: f32, n: f32| {
                ((0.0..=20.0).contains(&e) && (0.0..=10.0).contains(&n))
                    || ((0.0..=10.0).contains(&e) && (10.0..=20.0).contains(&n))
            };
            let len = cross[0].hypot(cross[2]);
            let (ne, nn) = (cross[0] / len * 0.5, -cross[2] / len * 0.5);
            let mid = [0, 1, 2].map(|k| (a[k] + b[k] + c[k]) / 3.0);
            let (e, n) = (mid[0], -mid[2]);
            assert!(!inside(e + ne, n + nn) && inside(e - ne, n - nn), "{tri:?}");
        }
        // The concave roof covers exactly the L's area (300 m²), not its hull.
        let roof_area: f32 = mesh
            .indices
            .chunks_exact(3)
            .filter(|t| {
                let [a, b, c] = [0, 1, 2].map(|k| mesh.positions[t[k] as usize]);
                triangle_cross(a, b, c)[1] > 1e-3
            })
            .map(|t| {
                let [a, b, c] = [0, 1, 2].map(|k| mesh.positions[t[k] as usize]);
                ((b[0] - a[0]) * (c[2] - a[2]) - (c[0] - a[0]) * (b[2] - a[2])).abs() / 2.0
            })
            .sum();
        assert!((roof_area - 300.0).abs() < 0.5, "{roof_area}");
    }

    #[test]
    fn walls_know_their_height_and_halo_boxes_follow_the_footprint() {
        // A 40 × 10 m block turned 30°: its halo box is turned with it.
        let (c, s) = (30f32.to_radians().cos(), 30f32.to_radians().sin());
        let ring: Vec<[f32; 2]> = [[0.0, 0.0], [40.0, 0.0], [40.0, 10.0], [0.0, 10.0]]
            .iter()
            .map(|p| [p[0] * c - p[1] * s, p[0] * s + p[1] * c])
            .collect();
        let mut mesh = TileMesh::default();
        append_building(&mut mesh, &test_building(4, ring.clone())).expect("meshes");
        assert_eq!(mesh.walls.len(), mesh.positions.len());
        for (p, w) in mesh.positions.iter().zip(&mesh.walls) {
            assert!((w[1] - 30.0).abs() < 1e-4);
            assert!((p[1] - 100.0 - w[0]).abs() < 1e-3, "{p:?} {w:?}");
        }
        let halo = &HaloMesh::of([&test_building(4, ring.clone())]);
        assert_eq!((halo.positions.len(), halo.indices.len()), (8, 36));
        // The box's corners are the footprint's corners (within rounding).
        for corner in &ring {
            let world = world_from_local(*corner, 100.0);
            assert!(
                halo.positions
                    .iter()
                    .any(|p| { (p[0] - world[0]).abs() < 1e-3 && (p[2] - world[2]).abs() < 1e-3 })
            );
        }
        assert!(halo.outward.iter().all(|d| d[1].abs() == 1.0));
        // Every halo triangle faces away from the box's centre (the shader
        // culls those, drawing only the far side).
        let centre = halo.positions.iter().fold([0.0f32; 3], |c, p| {
            [c[0] + p[0] / 8.0, c[1] + p[1] / 8.0, c[2] + p[2] / 8.0]
        });
        for tri in halo.indices.chunks_exact(3) {
            let [a, b, c] = [0, 1, 2].map(|k| halo.positions[tri[k] as usize]);
            let u = [b[0] - a[0], b[1] - a[1], b[2] - a[2]];
            let v = [c[0] - a[0], c[1] - a[1], c[2] - a[2]];
            let n = [
                u[1] * v[2] - u[2] * v[1],
                u[2] * v[0] - u[0] * v[2],
                u[0] * v[1] - u[1] * v[0],
            ];
            let out = [0, 1, 2].map(|k| (a[k] + b[k] + c[k]) / 3.0 - centre[k]);
            assert!(n[0] * out[0] + n[1] * out[1] + n[2] * out[2] > 0.0);
        }
        assert!(halo.outward.iter().all(|d| d[0].hypot(d[2]) > 5.0));
    }

    #[test]
    fn halo_boxes_are_whole_and_in_order_one_per_part() {
        let box_at = |x: f32| vec![[x, 0.0], [x + 30.0, 0.0], [x + 30.0, 20.0], [x, 20.0]];
        let (a, b) = (
            test_building(4, box_at(0.0)),
            test_building(7, box_at(100.0)),
        );
        let two_parts = Building {
            parts_m: vec![box_at(300.0)],
            ..test_building(9, box_at(200.0))
        };
        let halo = HaloMesh::of([&a, &b, &two_parts]);
        assert_eq!(halo.buildings().collect::<Vec<_>>(), vec![4, 7, 9, 9]);
        assert_eq!((halo.positions.len(), halo.indices.len()), (32, 144));
        // Each box is its building's alone: the second is b's, on its own
        // vertices.
        assert_eq!(HaloMesh::of([&b]).positions, halo.positions[8..16]);
        assert!(halo.indices[36..72].iter().all(|i| (8..16).contains(i)));
        assert!(
            halo.indices
                .iter()
                .all(|&i| (i as usize) < halo.positions.len())
        );
        assert_eq!(HaloMesh::of([]), HaloMesh::default());
    }

    #[test]
    fn degenerate_footprints_are_reported_not_meshed() {
        let b = test_building(3, vec![[0.0, 0.0], [1.0, 1.0]]);
        let (tiles, errors) = build_tiles(&[b], 1000.0, &flat_terrain());
        assert!(tiles.is_empty());
        assert!(matches!(
            errors[0],
            MeshError::Degenerate { vertices: 2, .. }
        ));
    }

    #[test]
    fn tiles_partition_buildings_by_centre() {
        let square = |x: f32| vec![[x, 0.0], [x + 10.0, 0.0], [x + 10.0, 10.0], [x, 10.0]];
        let buildings = vec![
            test_building(0, square(0.0)),
            test_building(1, square(50.0)),
            test_building(2, square(1500.0)),
        ];
        let (tiles, errors) = build_tiles(&buildings, 1000.0, &flat_terrain());
        assert!(errors.is_empty());
        assert_eq!(tiles.len(), 2);
        let total: usize = tiles.iter().map(|t| t.buildings.len()).sum();
        assert_eq!(total, 3);
    }
}
