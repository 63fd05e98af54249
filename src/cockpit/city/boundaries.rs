//! Area boundaries on the ground: ribbons along the areas' outlines (the
//! data's polygons, or the demo's grown districts) — every district's at
//! city level; the drilled-into area's outline (and its streets' inside)
//! once drilled in. Plain geometry draped on the terrain: the ground's
//! shader does no per-pixel work for them.

use bevy::asset::{RenderAssetUsages, uuid_handle};
use bevy::mesh::{Indices, PrimitiveTopology};
use bevy::prelude::*;
use bevy::render::render_resource::{AsBindGroup, ShaderType};

use crate::cockpit::drill::Drill;
use crate::cockpit::state::CityData;
use crate::cockpit::theme::{self, Rgb};
use crate::geo::world_from_local;
use crate::model::{Area, AreaPolygon, City, Terrain};

/// A straight piece of boundary, local metres (from, to).
pub type Segment = ([f32; 2], [f32; 2]);

pub const LINES_SHADER: Handle<Shader> = uuid_handle!("2f6c1b7a-8e3d-4c59-b0a4-7d91e6f2c3b8");

/// Half-width of a line per metre of camera distance (≈ 1.5 px at 45° fov
/// on a 1080-line screen), and its bounds in metres.
const HALF_WIDTH_PER_M: f32 = 0.0012;
const HALF_WIDTH_MIN_M: f32 = 3.0;
const HALF_WIDTH_MAX_M: f32 = 120.0;
/// How high above the ground (or the water) lines float, against z-fighting.
const LIFT_M: f32 = 6.0;
/// Lines are cut into pieces this long so they follow the terrain.
const PIECE_M: f32 = 40.0;

#[derive(Clone, Copy, Debug, ShaderType)]
pub struct LineParams {
    pub fog_color: Vec4,
    pub width: Vec4,
}

#[derive(Asset, TypePath, AsBindGroup, Debug, Clone)]
pub struct LineMaterial {
    #[uniform(0)]
    pub params: LineParams,
}

impl LineMaterial {
    pub fn from_theme(fog: f32) -> LineMaterial {
        LineMaterial {
            params: LineParams {
                fog_color: theme::HAZE.linear(),
                width: Vec4::new(HALF_WIDTH_PER_M, HALF_WIDTH_MIN_M, HALF_WIDTH_MAX_M, fog),
            },
        }
    }
}

lean_material!(
    LineMaterial,
    LINES_SHADER,
    [
        Mesh::ATTRIBUTE_POSITION,
        Mesh::ATTRIBUTE_NORMAL,
        Mesh::ATTRIBUTE_COLOR
    ]
);

/// Ribbons for `segments` (local metres) in `colour`, draped over the
/// terrain; `None` when there is nothing to draw.
pub fn ribbon_mesh(terrain: &Terrain, lines: &[(&[Segment], Rgb)]) -> Option<Mesh> {
    let mut positions: Vec<[f32; 3]> = Vec::new();
    let mut offsets: Vec<[f32; 3]> = Vec::new();
    let mut colours: Vec<[f32; 4]> = Vec::new();
    let mut indices: Vec<u32> = Vec::new();
    let ground = |p: [f32; 2]| {
        let h = terrain.height_at(p);
        terrain.water_level_m.map_or(h, |w| h.max(w)) + LIFT_M
    };
    for (segments, colour) in lines {
        let colour = colour.linear().to_array();
        for (p, q) in segments.iter() {
            let (d, n) = (q[0] - p[0], q[1] - p[1]);
            let len = d.hypot(n);
            if len <= 0.0 {
                continue;
            }
            // Along and across the line in world space (x east, z south).
            let along = Vec3::new(d / len, 0.0, -n / len);
            let across = Vec3::new(-n / len, 0.0, -d / len);
            let pieces = (len / PIECE_M).ceil().max(1.0) as usize;
            for k in 0..pieces {
                let t0 = k as f32 / pieces as f32;
                let t1 = (k + 1) as f32 / pieces as f32;
                let a = [p[0] + d * t0, p[1] + n * t0];
                let b = [p[0] + d * t1, p[1] + n * t1];
                let base = positions.len() as u32;
                // The first and last piece reach half a width past the ends,
                // so corners of the staircase close.
                let (ext0, ext1) = (
                    if k == 0 { -1.0 } else { 0.0 },
                    if k + 1 == pieces { 1.0 } else { 0.0 },
                );
                for (point, ext) in [(a, ext0), (b, ext1)] {
                    let centre = world_from_local(point, ground(point));
                    for side in [-1.0f32, 1.0] {
                        positions.push(centre);
                        offsets.push((across * side + along * ext).to_array());
                        colours.push(colour);
                    }
                }
                indices.extend_from_slice(&[
                    base,
                    base + 2,
                    base + 1,
                    base + 1,
                    base + 2,
                    base + 3,
                ]);
            }
        }
    }
    if positions.is_empty() {
        return None;
    }
    Some(
        Mesh::new(
            PrimitiveTopology::TriangleList,
            RenderAssetUsages::RENDER_WORLD,
        )
        .with_inserted_attribute(Mesh::ATTRIBUTE_POSITION, positions)
        .with_inserted_attribute(Mesh::ATTRIBUTE_NORMAL, offsets)
        .with_inserted_attribute(Mesh::ATTRIBUTE_COLOR, colours)
        .with_inserted_indices(Indices::U32(indices)),
    )
}

/// The edges of `outline`'s rings that lie over the terrain (an area
/// reaching past the data's ground is cut at its edge).
pub fn outline_segments(outline: &[AreaPolygon], terrain: &Terrain) -> Vec<Segment> {
    let size = terrain.size_m();
    let over = |p: [f32; 2]| {
        p[0] >= terrain.origin_m[0]
            && p[1] >= terrain.origin_m[1]
            && p[0] <= terrain.origin_m[0] + size[0]
            && p[1] <= terrain.origin_m[1] + size[1]
    };
    outline
        .iter()
        .flat_map(AreaPolygon::rings)
        .flat_map(|ring| (0..ring.len()).map(move |i| (ring[i], ring[(i + 1) % ring.len()])))
        .filter(|(p, q)| over(*p) && over(*q))
        .collect()
}

/// The outlines of all districts (city level).
pub fn district_borders(city: &City) -> Vec<Segment> {
    city.districts
        .iter()
        .flat_map(|d| outline_segments(&d.outline_m, &city.terrain))
        .collect()
}

/// The outline of `area`, and the outlines of its streets inside it.
pub fn area_outline(city: &City, area: Area) -> (Vec<Segment>, Vec<Segment>) {
    let terrain = &city.terrain;
    match area {
        Area::City => (Vec::new(), Vec::new()),
        Area::District(d) => (
            city.districts
                .get(usize::from(d.0))
                .map_or_else(Vec::new, |d| outline_segments(&d.outline_m, terrain)),
            city.streets
                .iter()
                .filter(|s| s.district == d)
                .flat_map(|s| outline_segments(&s.outline_m, terrain))
                .collect(),
        ),
        Area::Street(_, s) => (
            city.streets
                .get(usize::from(s.0))
                .map_or_else(Vec::new, |s| outline_segments(&s.outline_m, terrain)),
            Vec::new(),
        ),
    }
}

/// The two line entities.
#[derive(Resource)]
pub struct Boundaries {
    borders: Entity,
    outline: Entity,
    material: Handle<LineMaterial>,
    shown_for: Option<Area>,
}

pub(super) fn spawn_boundaries(
    commands: &mut Commands,
    city: &City,
    meshes: &mut Assets<Mesh>,
    materials: &mut Assets<LineMaterial>,
) {
    let material = materials.add(LineMaterial::from_theme(crate::cockpit::city::fog_for(
        city,
    )));
    let borders_mesh = ribbon_mesh(
        &city.terrain,
        &[(&district_borders(city), theme::BORDER_DISTRICT)],
    );
    let mut borders = commands.spawn((Name::new("district borders"), Transform::IDENTITY));
    if let Some(mesh) = borders_mesh {
        borders.insert((Mesh3d(meshes.add(mesh)), MeshMaterial3d(material.clone())));
    }
    let borders = borders.id();
    let outline = commands
        .spawn((
            Name::new("area outline"),
            Transform::IDENTITY,
            Visibility::Hidden,
        ))
        .id();
    commands.insert_resource(Boundaries {
        borders,
        outline,
        material,
        shown_for: None,
    });
}

/// Shows the district borders at city level, and the drilled-into area's
/// outline (rebuilt when the area changes) below it.
pub fn sync_boundaries(
    mut commands: Commands,
    drill: Option<Res<Drill>>,
    boundaries: Option<ResMut<Boundaries>>,
    city: Res<CityData>,
    mut meshes: ResMut<Assets<Mesh>>,
) {
    let (Some(drill), Some(mut b)) = (drill, boundaries) else {
        return;
    };
    if b.shown_for == Some(drill.at) {
        return;
    }
    b.shown_for = Some(drill.at);
    let city_level = drill.at == Area::City;
    commands.entity(b.borders).insert(if city_level {
        Visibility::Inherited
    } else {
        Visibility::Hidden
    });
    if city_level {
        commands.entity(b.outline).insert(Visibility::Hidden);
        return;
    }
    let (outline, streets) = area_outline(&city, drill.at);
    let mesh = ribbon_mesh(
        &city.terrain,
        &[
            (&streets, theme::BORDER_STREET),
            (&outline, theme::BORDER_FOCUS),
        ],
    );
    let mut entity = commands.entity(b.outline);
    match mesh {
        Some(mesh) => {
            entity.insert((
                Mesh3d(meshes.add(mesh)),
                MeshMaterial3d(b.material.clone()),
                Visibility::Inherited,
            ));
        }
        None => {
            entity.insert(Visibility::Hidden);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geo::demo::{DemoScene, generate};

    #[test]
    fn a_district_outline_holds_its_streets_and_ribbons_cover_every_edge() {
        let mut scene = DemoScene::embedded().expect("scene");
        scene.buildings = 3_000;
        let city = generate(&scene);
        let d = city.districts[0].id;
        let (outline, streets) = area_outline(&city, Area::District(d));
        assert!(!outline.is_empty() && !streets.is_empty());
        // The district's streets lie inside its outline, or on it (a
        // street's border along the district's is the same line).
        let district = &city.districts[0].outline_m;
        let on_outline = |p: [f32; 2]| {
            outline.iter().any(|(a, b)| {
                let (d, t) = ([b[0] - a[0], b[1] - a[1]], [p[0] - a[0], p[1] - a[1]]);
                let k = ((d[0] * t[0] + d[1] * t[1]) / (d[0] * d[0] + d[1] * d[1])).clamp(0.0, 1.0);
                (t[0] - d[0] * k).hypot(t[1] - d[1] * k) < 0.5
            })
        };
        let stray: Vec<_> = streets
            .iter()
            .filter(|(p, _)| !crate::model::outline_contains(district, *p) && !on_outline(*p))
            .collect();
        assert!(
            stray.is_empty(),
            "{} of {}: {:?}",
            stray.len(),
            streets.len(),
            stray.first()
        );
        let mesh = ribbon_mesh(&city.terrain, &[(&outline, theme::BORDER_FOCUS)]).expect("a mesh");
        let pieces: usize = outline
            .iter()
            .map(|(p, q)| ((q[0] - p[0]).hypot(q[1] - p[1]) / PIECE_M).ceil() as usize)
            .sum();
        assert_eq!(mesh.count_vertices(), pieces * 4);
        assert!(ribbon_mesh(&city.terrain, &[(&[], theme::BORDER_FOCUS)]).is_none());
        assert!(area_outline(&city, Area::City).0.is_empty());
    }
}
