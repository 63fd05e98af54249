//! Terrain (elevation tint + hillshade baked per vertex) and the water plane.

use bevy::asset::{RenderAssetUsages, uuid_handle};
use bevy::camera::primitives::Aabb;
use bevy::camera::visibility::VisibilityRange;
use bevy::mesh::{Indices, PrimitiveTopology};
use bevy::prelude::*;
use bevy::render::render_resource::{AsBindGroup, ShaderType};

use crate::cockpit::theme::{self, Rgb};
use crate::geo::world_from_local;
use crate::model::Terrain;

/// Width of the shoreline (pixels of height on the screen).
pub const SHORE_PX: f32 = 2.0;

pub const TERRAIN_SHADER: Handle<Shader> = uuid_handle!("5b0c3f0e-3a51-4d7c-9d36-6c1f0e6c2a02");

#[derive(Clone, Copy, Debug, ShaderType)]
pub struct GroundParams {
    pub fog_color: Vec4,
    pub sun: Vec4,
    pub fog: Vec4,
    /// x: the water level (m); y: 1 = draw the shoreline on this land;
    /// z: its width (pixels of height on the screen).
    pub shore: Vec4,
    pub shore_color: Vec4,
    /// The imagery base layer's world rectangle (x west, z north, x east,
    /// z south); its texture covers it whole.
    pub imagery_base: Vec4,
    /// The detail layer's world rectangle (drawn over the base inside it).
    pub imagery_detail: Vec4,
    /// x: 1 = the base layer is there; y: 1 = the detail layer is.
    pub imagery_on: Vec4,
}

/// The terrain surface (its chunks, every level: the entities imagery is
/// draped on; they share one material).
#[derive(Component)]
pub struct TerrainSurface;

/// A terrain chunk entity's level and the distances it is drawn at.
#[derive(Component, Debug, Clone, Copy, PartialEq)]
pub struct TerrainLevel {
    /// Index into [`TERRAIN_STRIDES`].
    pub level: usize,
    pub from_m: f32,
    pub to_m: f32,
}

/// `full_detail`: every chunk at full resolution at every distance
/// (benchmarks: the full-detail frame).
#[derive(Resource, Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TerrainLod {
    pub full_detail: bool,
}

impl TerrainLevel {
    pub fn range(&self, lod: TerrainLod) -> VisibilityRange {
        let (from, to) = match (lod.full_detail, self.level) {
            (false, _) => (self.from_m, self.to_m),
            (true, 0) => (0.0, f32::MAX),
            (true, _) => (f32::MAX, f32::MAX),
        };
        let mut range = VisibilityRange::abrupt(from, to);
        range.use_aabb = true;
        range
    }
}

/// Puts a changed [`TerrainLod`] on every terrain chunk.
pub fn apply_terrain_lod(
    lod: Res<TerrainLod>,
    mut chunks: Query<(&TerrainLevel, &mut VisibilityRange)>,
) {
    if !lod.is_changed() {
        return;
    }
    for (level, mut range) in &mut chunks {
        let wanted = level.range(*lod);
        if *range != wanted {
            *range = wanted;
        }
    }
}

/// Spawns the terrain's chunks at all their levels, one material for all;
/// returns how many triangles each level has in all.
pub fn spawn_terrain(
    commands: &mut Commands,
    terrain: &Terrain,
    material: Handle<GroundMaterial>,
    lod: TerrainLod,
    meshes: &mut Assets<Mesh>,
) -> [usize; TERRAIN_STRIDES.len()] {
    let chunks = terrain_chunks(terrain);
    let ranges = terrain_ranges(&chunks);
    let mut triangles = [0; TERRAIN_STRIDES.len()];
    for (chunk, (from_m, to_m)) in chunks.into_iter().zip(ranges) {
        triangles[chunk.level] += chunk.triangles;
        let level = TerrainLevel {
            level: chunk.level,
            from_m,
            to_m,
        };
        commands.spawn((
            Name::new("terrain"),
            TerrainSurface,
            Mesh3d(meshes.add(chunk.mesh)),
            MeshMaterial3d(material.clone()),
            Aabb::from_min_max(chunk.aabb_min, chunk.aabb_max),
            level,
            level.range(lod),
            Transform::IDENTITY,
        ));
    }
    triangles
}

#[derive(Asset, TypePath, AsBindGroup, Debug, Clone)]
pub struct GroundMaterial {
    #[uniform(0)]
    pub params: GroundParams,
    /// Imagery over the whole base map, coarse (see `cockpit::imagery`).
    #[texture(1)]
    #[sampler(2)]
    pub imagery_base: Option<Handle<Image>>,
    /// Imagery around what the camera looks at, as fine as the screen needs.
    #[texture(3)]
    #[sampler(4)]
    pub imagery_detail: Option<Handle<Image>>,
}

impl GroundMaterial {
    /// `glint`: specular strength (0 for land, >0 for water); `shore`:
    /// the water level, for land that meets water (a bright line there).
    pub fn from_theme(glint: f32, shore: Option<f32>, fog: f32) -> GroundMaterial {
        GroundMaterial {
            params: GroundParams {
                fog_color: theme::HAZE.linear(),
                sun: theme::sun_direction().extend(glint),
                fog: Vec4::new(fog, 0.0, 0.0, 0.0),
                shore: match shore {
                    Some(level) => Vec4::new(level, 1.0, SHORE_PX, 0.0),
                    None => Vec4::ZERO,
                },
                shore_color: theme::SHORE.linear(),
                imagery_base: Vec4::ZERO,
                imagery_detail: Vec4::ZERO,
                imagery_on: Vec4::ZERO,
            },
            imagery_base: None,
            imagery_detail: None,
        }
    }
}

lean_material!(
    GroundMaterial,
    TERRAIN_SHADER,
    [Mesh::ATTRIBUTE_POSITION, Mesh::ATTRIBUTE_COLOR]
);

fn lerp_rgb(a: Rgb, b: Rgb, t: f32) -> Vec3 {
    let (a, b) = (a.linear().truncate(), b.linear().truncate());
    a + (b - a) * t.clamp(0.0, 1.0)
}

/// Two triangles per grid cell over a row-major `cols × rows` vertex grid
/// (rows run north, −z), wound to face up (+y).
pub fn grid_indices(cols: usize, rows: usize) -> Vec<u32> {
    let mut indices = Vec::with_capacity(cols.saturating_sub(1) * rows.saturating_sub(1) * 6);
    for row in 0..rows.saturating_sub(1) {
        for col in 0..cols.saturating_sub(1) {
            let i = (row * cols + col) as u32;
            let (right, up) = (i + 1, i + cols as u32);
            indices.extend([i, right, up + 1, i, up + 1, up]);
        }
    }
    indices
}

/// Per grid vertex: its baked colour, tint by elevation lit by slope.
fn vertex_colors(terrain: &Terrain) -> Vec<[f32; 4]> {
    let (cols, rows) = (terrain.cols, terrain.rows);
    let (lo, hi) = terrain
        .heights_m
        .iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), h| {
            (lo.min(*h), hi.max(*h))
        });
    let floor = terrain.water_level_m.unwrap_or(lo).max(lo);
    let span = (hi - floor).max(1.0);
    let sun = theme::sun_direction();
    let mut colors = Vec::with_capacity(cols * rows);
    for row in 0..rows {
        for col in 0..cols {
            let h = terrain.height_at_cell(col, row);
            // Central differences → normal in world space (x east, y up, z south).
            let dx = (terrain.height_at_cell(col + 1, row)
                - terrain.height_at_cell(col.saturating_sub(1), row))
                / (2.0 * terrain.cell_m);
            let dn = (terrain.height_at_cell(col, row + 1)
                - terrain.height_at_cell(col, row.saturating_sub(1)))
                / (2.0 * terrain.cell_m);
            let normal = Vec3::new(-dx, 1.0, dn).normalize();
            // Relative to flat ground: slopes facing the sun brighten, others darken.
            let shade = normal.dot(sun) - sun.y;
            let t = (h - floor) / span;
            let tint = if t < 0.35 {
                lerp_rgb(theme::TERRAIN_LOW, theme::TERRAIN_MID, t / 0.35)
            } else {
                lerp_rgb(theme::TERRAIN_MID, theme::TERRAIN_HIGH, (t - 0.35) / 0.65)
            };
            let c = tint * (1.0 + 2.5 * shade).clamp(0.35, 1.8);
            colors.push([c.x, c.y, c.z, 1.0]);
        }
    }
    colors
}

/// Cells a side of a terrain chunk, at full resolution.
pub const TERRAIN_CHUNK_CELLS: usize = 64;
/// The terrain's levels: every grid vertex, every second, every fourth.
pub const TERRAIN_STRIDES: [usize; 3] = [1, 2, 4];
/// A coarser level is drawn once its height error is under this many
/// pixels on a 1080-px screen (45° field of view).
pub const TERRAIN_PIXEL_BUDGET: f32 = 2.0;

/// One level of one chunk of the terrain grid.
pub struct TerrainChunk {
    /// Index into [`TERRAIN_STRIDES`].
    pub level: usize,
    pub mesh: Mesh,
    pub aabb_min: Vec3,
    pub aabb_max: Vec3,
    /// Largest height difference (m) between this level's surface and the
    /// grid's vertices under it (0 at full resolution).
    pub error_m: f32,
    pub triangles: usize,
}

/// The vertex columns (or rows) a level samples in `first..=last`: every
/// `stride`-th, and always the last.
fn samples(first: usize, last: usize, stride: usize) -> Vec<usize> {
    let mut out: Vec<usize> = (first..last).step_by(stride).collect();
    out.push(last);
    out
}

/// The terrain in chunks of [`TERRAIN_CHUNK_CELLS`], each at every level of
/// [`TERRAIN_STRIDES`], with baked colours and a skirt round its edge (as
/// deep as the chunk's largest error) so neighbours at different levels
/// leave no crack.
pub fn terrain_chunks(terrain: &Terrain) -> Vec<TerrainChunk> {
    let (cols, rows) = (terrain.cols, terrain.rows);
    if cols < 2 || rows < 2 {
        return Vec::new();
    }
    let colors = vertex_colors(terrain);
    let position = |col: usize, row: usize| {
        let local = [
            terrain.origin_m[0] + col as f32 * terrain.cell_m,
            terrain.origin_m[1] + row as f32 * terrain.cell_m,
        ];
        Vec3::from(world_from_local(local, terrain.height_at_cell(col, row)))
    };
    let mut chunks = Vec::new();
    for c0 in (0..cols - 1).step_by(TERRAIN_CHUNK_CELLS) {
        for r0 in (0..rows - 1).step_by(TERRAIN_CHUNK_CELLS) {
            let (c1, r1) = (
                (c0 + TERRAIN_CHUNK_CELLS).min(cols - 1),
                (r0 + TERRAIN_CHUNK_CELLS).min(rows - 1),
            );
            let levels: Vec<(Vec<usize>, Vec<usize>, f32)> = TERRAIN_STRIDES
                .iter()
                .map(|&stride| {
                    let (sc, sr) = (samples(c0, c1, stride), samples(r0, r1, stride));
                    // Every vertex is its own sample at full resolution.
                    let error = if stride == 1 {
                        0.0
                    } else {
                        level_error(terrain, &sc, &sr)
                    };
                    (sc, sr, error)
                })
                .collect();
            let skirt = levels.iter().fold(0.0f32, |m, l| m.max(l.2)) + 5.0;
            for (level, (sc, sr, error_m)) in levels.into_iter().enumerate() {
                let mut positions = Vec::with_capacity(sc.len() * sr.len());
                let mut vertex_colors = Vec::with_capacity(positions.capacity());
                for &row in &sr {
                    for &col in &sc {
                        positions.push(position(col, row).to_array());
                        vertex_colors.push(colors[row * cols + col]);
                    }
                }
                let mut indices = grid_indices(sc.len(), sr.len());
                // The skirt: the edge's vertices again, lowered, and a strip
                // between (both windings: seen from either side).
                let ring: Vec<usize> = perimeter(sc.len(), sr.len());
                let first_low = positions.len() as u32;
                for &i in &ring {
                    let [x, y, z] = positions[i];
                    positions.push([x, y - skirt, z]);
                    vertex_colors.push(vertex_colors[i]);
                }
                for k in 0..ring.len() {
                    let next = (k + 1) % ring.len();
                    let (a, b) = (ring[k] as u32, ring[next] as u32);
                    let (la, lb) = (first_low + k as u32, first_low + next as u32);
                    indices.extend([a, la, lb, a, lb, b, a, lb, la, a, b, lb]);
                }
                let (lo, hi) = positions.iter().fold(
                    (Vec3::splat(f32::INFINITY), Vec3::splat(f32::NEG_INFINITY)),
                    |(lo, hi), p| (lo.min(Vec3::from(*p)), hi.max(Vec3::from(*p))),
                );
                let triangles = indices.len() / 3;
                chunks.push(TerrainChunk {
                    level,
                    mesh: Mesh::new(
                        PrimitiveTopology::TriangleList,
                        RenderAssetUsages::RENDER_WORLD,
                    )
                    .with_inserted_attribute(Mesh::ATTRIBUTE_POSITION, positions)
                    .with_inserted_attribute(Mesh::ATTRIBUTE_COLOR, vertex_colors)
                    .with_inserted_indices(Indices::U32(indices)),
                    aabb_min: lo,
                    aabb_max: hi,
                    error_m,
                    triangles,
                });
            }
        }
    }
    chunks
}

/// The indices of a `w × h` vertex grid's edge, once round.
fn perimeter(w: usize, h: usize) -> Vec<usize> {
    let mut ring: Vec<usize> = (0..w).collect();
    ring.extend((1..h).map(|r| r * w + w - 1));
    ring.extend((0..w - 1).rev().map(|c| (h - 1) * w + c));
    ring.extend((1..h - 1).rev().map(|r| r * w));
    ring
}

/// How far the surface through the sampled vertices (triangulated as
/// [`grid_indices`] does) strays from the grid's vertices under it.
fn level_error(terrain: &Terrain, sc: &[usize], sr: &[usize]) -> f32 {
    let h = |c: usize, r: usize| terrain.height_at_cell(c, r);
    let mut worst = 0.0f32;
    for rw in sr.windows(2) {
        for cw in sc.windows(2) {
            let (ca, cb, ra, rb) = (cw[0], cw[1], rw[0], rw[1]);
            let (h00, h10, h01, h11) = (h(ca, ra), h(cb, ra), h(ca, rb), h(cb, rb));
            for r in ra..=rb {
                for c in ca..=cb {
                    let u = (c - ca) as f32 / (cb - ca) as f32;
                    let v = (r - ra) as f32 / (rb - ra) as f32;
                    // The cell's diagonal runs from (ca, ra) to (cb, rb).
                    let surface = if u >= v {
                        h00 + u * (h10 - h00) + v * (h11 - h10)
                    } else {
                        h00 + v * (h01 - h00) + u * (h11 - h01)
                    };
                    worst = worst.max((surface - h(c, r)).abs());
                }
            }
        }
    }
    worst
}

/// Where each terrain level is drawn: from the distance its error falls
/// under [`TERRAIN_PIXEL_BUDGET`] (to the chunk's centre, plus its half
/// diagonal) until the next level's does.
pub fn terrain_ranges(chunks: &[TerrainChunk]) -> Vec<(f32, f32)> {
    let px_per_m_at_1m = 1080.0 / (2.0 * 22.5f32.to_radians().tan());
    let mut out = Vec::with_capacity(chunks.len());
    // `terrain_chunks` puts each chunk's levels one after the other.
    for levels in chunks.chunks(TERRAIN_STRIDES.len()) {
        let mut starts: Vec<f32> = levels
            .iter()
            .map(|c| {
                let half = (c.aabb_max - c.aabb_min).xz().length() / 2.0;
                if c.level == 0 {
                    0.0
                } else {
                    c.error_m * px_per_m_at_1m / TERRAIN_PIXEL_BUDGET + half
                }
            })
            .collect();
        for k in 1..starts.len() {
            starts[k] = starts[k].max(starts[k - 1]);
        }
        for (k, start) in starts.iter().enumerate() {
            out.push((*start, starts.get(k + 1).copied().unwrap_or(f32::MAX)));
        }
    }
    out
}

/// Terrain cells per side of a water cell.
const WATER_CELL: usize = 4;

/// The water surface at `level_m`, only where the terrain dips below it:
/// cells of [`WATER_CELL`] × [`WATER_CELL`] terrain cells with any corner
/// under water, runs along a row merged (no fragments spent on dry land
/// the terrain covers anyway); `None` where nothing is under water.
pub fn water_mesh(terrain: &Terrain, level_m: f32) -> Option<Mesh> {
    let (cols, rows) = (
        (terrain.cols - 1).div_ceil(WATER_CELL),
        (terrain.rows - 1).div_ceil(WATER_CELL),
    );
    let wet = |i: usize, j: usize| {
        let (c0, r0) = (i * WATER_CELL, j * WATER_CELL);
        (r0..=(r0 + WATER_CELL).min(terrain.rows - 1)).any(|r| {
            (c0..=(c0 + WATER_CELL).min(terrain.cols - 1))
                .any(|c| terrain.height_at_cell(c, r) < level_m)
        })
    };
    let corner = |i: usize, j: usize| {
        let local = [
            terrain.origin_m[0] + ((i * WATER_CELL).min(terrain.cols - 1)) as f32 * terrain.cell_m,
            terrain.origin_m[1] + ((j * WATER_CELL).min(terrain.rows - 1)) as f32 * terrain.cell_m,
        ];
        world_from_local(local, level_m)
    };
    let mut positions = Vec::new();
    let mut indices = Vec::new();
    for j in 0..rows {
        let mut i = 0;
        while i < cols {
            if !wet(i, j) {
                i += 1;
                continue;
            }
            let start = i;
            while i < cols && wet(i, j) {
                i += 1;
            }
            let first = positions.len() as u32;
            positions.extend([
                corner(start, j),
                corner(i, j),
                corner(i, j + 1),
                corner(start, j + 1),
            ]);
            indices.extend([first, first + 1, first + 2, first, first + 2, first + 3]);
        }
    }
    if indices.is_empty() {
        return None;
    }
    let c = theme::WATER.linear();
    let colors = vec![[c.x, c.y, c.z, 1.0]; positions.len()];
    Some(
        Mesh::new(
            PrimitiveTopology::TriangleList,
            RenderAssetUsages::RENDER_WORLD,
        )
        .with_inserted_attribute(Mesh::ATTRIBUTE_POSITION, positions)
        .with_inserted_attribute(Mesh::ATTRIBUTE_COLOR, colors)
        .with_inserted_indices(Indices::U32(indices)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use bevy::mesh::VertexAttributeValues;

    /// 150 × 100 vertices (three chunks by two, the last ones partial),
    /// 30 m cells, rolling hills.
    fn hills() -> Terrain {
        let (cols, rows) = (150, 100);
        let heights_m = (0..rows)
            .flat_map(|r| {
                (0..cols)
                    .map(move |c| 200.0 + 80.0 * (c as f32 * 0.13).sin() * (r as f32 * 0.09).cos())
            })
            .collect();
        Terrain {
            origin_m: [-2000.0, -1500.0],
            cell_m: 30.0,
            cols,
            rows,
            heights_m,
            water_level_m: None,
        }
    }

    #[test]
    fn water_lies_only_where_the_terrain_dips_under_it() {
        let t = hills();
        // The hills span 120–280 m: a level of 150 m floods the valleys.
        let level = 150.0;
        let mesh = water_mesh(&t, level).expect("water");
        let Some(VertexAttributeValues::Float32x3(p)) = mesh.attribute(Mesh::ATTRIBUTE_POSITION)
        else {
            panic!("positions")
        };
        assert!(p.iter().all(|v| v[1] == level));
        let Some(Indices::U32(indices)) = mesh.indices() else {
            panic!("indices")
        };
        // Every flooded vertex lies on a water rectangle (two triangles).
        let rects: Vec<([f32; 2], [f32; 2])> = indices
            .chunks_exact(6)
            .map(|q| {
                let (a, c) = (p[q[0] as usize], p[q[2] as usize]);
                (
                    [a[0].min(c[0]), (-a[2]).min(-c[2])],
                    [a[0].max(c[0]), (-a[2]).max(-c[2])],
                )
            })
            .collect();
        let mut flooded = 0;
        for r in 0..t.rows {
            for c in 0..t.cols {
                if t.height_at_cell(c, r) >= level {
                    continue;
                }
                flooded += 1;
                let q = [
                    t.origin_m[0] + c as f32 * t.cell_m,
                    t.origin_m[1] + r as f32 * t.cell_m,
                ];
                assert!(
                    rects.iter().any(|(lo, hi)| (lo[0]..=hi[0]).contains(&q[0])
                        && (lo[1]..=hi[1]).contains(&q[1])),
                    "flooded vertex ({c}, {r}) is dry"
                );
            }
        }
        assert!(flooded > 100, "{flooded} flooded vertices");
        let [w, h] = t.size_m();
        let area = top_area(&mesh);
        assert!(area < 0.8 * w * h, "water over {area} of {} m²", w * h);
        assert!(water_mesh(&t, 100.0).is_none(), "all dry under 120 m");
    }

    /// The area (m², seen from above) of a mesh's upward-facing triangles.
    fn top_area(mesh: &Mesh) -> f32 {
        let Some(VertexAttributeValues::Float32x3(p)) = mesh.attribute(Mesh::ATTRIBUTE_POSITION)
        else {
            panic!("positions")
        };
        let Some(Indices::U32(indices)) = mesh.indices() else {
            panic!("indices")
        };
        indices
            .chunks_exact(3)
            .map(|t| {
                let [a, b, c] = [0, 1, 2].map(|k| Vec3::from(p[t[k] as usize]));
                let n = (b - a).cross(c - a);
                if n.y > 0.0 { n.y / 2.0 } else { 0.0 }
            })
            .sum()
    }

    #[test]
    fn every_level_covers_the_whole_terrain_and_knows_its_error() {
        let terrain = hills();
        let chunks = terrain_chunks(&terrain);
        assert_eq!(chunks.len(), 3 * 2 * TERRAIN_STRIDES.len());
        let [w, h] = terrain.size_m();
        let mut worst = Vec::new();
        for level in 0..TERRAIN_STRIDES.len() {
            let of_level: Vec<_> = chunks.iter().filter(|c| c.level == level).collect();
            let area: f32 = of_level.iter().map(|c| top_area(&c.mesh)).sum();
            assert!(
                (area - w * h).abs() < w * h * 1e-4,
                "level {level}: {area} m² of {} m²",
                w * h
            );
            worst.push(of_level.iter().fold(0.0f32, |m, c| m.max(c.error_m)));
        }
        // Full resolution is exact; each coarser level strays more (and
        // less than the hills are high).
        assert_eq!(worst[0], 0.0);
        assert!(
            0.0 < worst[1] && worst[1] < worst[2] && worst[2] < 80.0,
            "{worst:?}"
        );
        // Coarser levels have fewer triangles (skirts included).
        let per_level: Vec<usize> = (0..TERRAIN_STRIDES.len())
            .map(|l| {
                chunks
                    .iter()
                    .filter(|c| c.level == l)
                    .map(|c| c.triangles)
                    .sum()
            })
            .collect();
        assert!(per_level[1] * 3 < per_level[0] && per_level[2] * 3 < per_level[1]);
        // Flat ground has no error at any level.
        let flat = Terrain::flat([0.0, 0.0], [3000.0, 3000.0], 50.0);
        assert!(terrain_chunks(&flat).iter().all(|c| c.error_m == 0.0));
    }

    #[test]
    fn each_chunk_has_exactly_one_level_at_every_distance() {
        let chunks = terrain_chunks(&hills());
        let ranges = terrain_ranges(&chunks);
        for (levels, ranges) in chunks
            .chunks(TERRAIN_STRIDES.len())
            .zip(ranges.chunks(TERRAIN_STRIDES.len()))
        {
            assert_eq!(
                levels.iter().map(|c| c.level).collect::<Vec<_>>(),
                [0, 1, 2]
            );
            assert_eq!(ranges[0].0, 0.0);
            assert_eq!(ranges[2].1, f32::MAX);
            for pair in ranges.windows(2) {
                assert_eq!(pair[0].1, pair[1].0, "{ranges:?}");
                assert!(pair[0].0 <= pair[0].1);
            }
            // A level with an error is drawn only once it is under the
            // pixel budget: farther than error × pixels per metre.
            if levels[1].error_m > 0.0 {
                assert!(ranges[1].0 > levels[1].error_m * 1000.0 / TERRAIN_PIXEL_BUDGET);
            }
        }
    }
}
