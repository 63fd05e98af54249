//! Terrain (elevation tint + hillshade baked per vertex) and the water plane.

use bevy::asset::{RenderAssetUsages, uuid_handle};
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

/// The terrain surface (the entity imagery is draped on).
#[derive(Component)]
pub struct TerrainSurface;

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

/// Terrain grid mesh with baked colours: tint by elevation, lit by slope.
pub fn terrain_mesh(terrain: &Terrain) -> Mesh {
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
    let mut positions = Vec::with_capacity(cols * rows);
    let mut colors = Vec::with_capacity(cols * rows);
    for row in 0..rows {
        for col in 0..cols {
            let h = terrain.height_at_cell(col, row);
            let local = [
                terrain.origin_m[0] + col as f32 * terrain.cell_m,
                terrain.origin_m[1] + row as f32 * terrain.cell_m,
            ];
            positions.push(world_from_local(local, h));
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
    let indices = grid_indices(cols, rows);
    Mesh::new(
        PrimitiveTopology::TriangleList,
        RenderAssetUsages::RENDER_WORLD,
    )
    .with_inserted_attribute(Mesh::ATTRIBUTE_POSITION, positions)
    .with_inserted_attribute(Mesh::ATTRIBUTE_COLOR, colors)
    .with_inserted_indices(Indices::U32(indices))
}

/// A flat water sheet at the water level over the whole terrain.
pub fn water_mesh(terrain: &Terrain, level_m: f32) -> Mesh {
    let [w, h] = terrain.size_m();
    let o = terrain.origin_m;
    let corners = [
        [o[0], o[1]],
        [o[0] + w, o[1]],
        [o[0] + w, o[1] + h],
        [o[0], o[1] + h],
    ];
    let positions: Vec<[f32; 3]> = corners
        .iter()
        .map(|c| world_from_local(*c, level_m))
        .collect();
    let c = theme::WATER.linear();
    Mesh::new(
        PrimitiveTopology::TriangleList,
        RenderAssetUsages::RENDER_WORLD,
    )
    .with_inserted_attribute(Mesh::ATTRIBUTE_POSITION, positions)
    .with_inserted_attribute(Mesh::ATTRIBUTE_COLOR, vec![[c.x, c.y, c.z, 1.0]; 4])
    .with_inserted_indices(Indices::U32(vec![0, 1, 2, 0, 2, 3]))
}
