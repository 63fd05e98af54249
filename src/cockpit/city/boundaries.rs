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
/// Lines are cut where the ground bends away from them by more than this …
const FOLLOW_TOLERANCE_M: f32 = 2.0;
/// … into pieces no shorter than this.
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
/// terrain; `None` when there is nothing to draw. Segments that continue
/// one another form one strip (each joint one pair of vertices, mitred);
/// a segment is cut only where the ground under it bends more than
/// [`FOLLOW_TOLERANCE_M`] away from a straight piece.
pub fn ribbon_mesh(terrain: &Terrain, lines: &[(&[Segment], Rgb)]) -> Option<Mesh> {
    let mut strips = Strips::default();
    let ground = |p: [f32; 2]| {
        let h = terrain.height_at(p);
        terrain.water_level_m.map_or(h, |w| h.max(w)) + LIFT_M
    };
    for (segments, colour) in lines {
        let colour = colour.linear().to_array();
        let mut run: Vec<[f32; 2]> = Vec::new();
        for (p, q) in segments.iter() {
            if (q[0] - p[0]).hypot(q[1] - p[1]) <= 0.0 {
                continue;
            }
            if run.last() != Some(p) {
                strips.push(&run, colour, &ground);
                run = vec![*p];
            }
            follow(&mut run, *p, *q, terrain, &ground);
        }
        strips.push(&run, colour, &ground);
    }
    if strips.positions.is_empty() {
        return None;
    }
    Some(
        Mesh::new(
            PrimitiveTopology::TriangleList,
            RenderAssetUsages::RENDER_WORLD,
        )
        .with_inserted_attribute(Mesh::ATTRIBUTE_POSITION, strips.positions)
        .with_inserted_attribute(Mesh::ATTRIBUTE_NORMAL, strips.offsets)
        .with_inserted_attribute(Mesh::ATTRIBUTE_COLOR, strips.colours)
        .with_inserted_indices(Indices::U32(strips.indices)),
    )
}

/// Appends the points after `p` up to `q`: `q` itself, preceded by
/// midpoints wherever a straight piece would stray more than
/// [`FOLLOW_TOLERANCE_M`] from the ground (checked where the piece crosses
/// the terrain's grid lines, where the ground bends, and every half cell),
/// down to pieces of [`PIECE_M`].
fn follow(
    run: &mut Vec<[f32; 2]>,
    p: [f32; 2],
    q: [f32; 2],
    terrain: &Terrain,
    ground: &impl Fn([f32; 2]) -> f32,
) {
    let len = (q[0] - p[0]).hypot(q[1] - p[1]);
    if len > PIECE_M {
        let (hp, hq) = (ground(p), ground(q));
        let cell = terrain.cell_m.max(1.0);
        let samples = (2.0 * len / cell).ceil().max(2.0) as usize;
        let uniform = (1..samples).map(|k| k as f32 / samples as f32);
        // Grid lines x = origin + k·cell (axis 0) and y = … (axis 1).
        let crossings = (0..2).flat_map(|axis| {
            let (a, b) = (p[axis], q[axis]);
            let o = terrain.origin_m[axis];
            let (lo, hi) = (a.min(b), a.max(b));
            let first = ((lo - o) / cell).ceil() as i64;
            let last = ((hi - o) / cell).floor() as i64;
            (first..=last.max(first - 1))
                .filter(move |_| (b - a).abs() > 1e-6)
                .map(move |k| (o + k as f32 * cell - a) / (b - a))
        });
        let bends = uniform.chain(crossings).any(|t| {
            let at = [p[0] + (q[0] - p[0]) * t, p[1] + (q[1] - p[1]) * t];
            (ground(at) - (hp + (hq - hp) * t)).abs() > FOLLOW_TOLERANCE_M
        });
        if bends {
            let mid = [(p[0] + q[0]) / 2.0, (p[1] + q[1]) / 2.0];
            follow(run, p, mid, terrain, ground);
            follow(run, mid, q, terrain, ground);
            return;
        }
    }
    run.push(q);
}

/// Ribbon strips being built: per point two vertices, one each side.
#[derive(Default)]
struct Strips {
    positions: Vec<[f32; 3]>,
    offsets: Vec<[f32; 3]>,
    colours: Vec<[f32; 4]>,
    indices: Vec<u32>,
}

impl Strips {
    /// One strip along `points`: at each joint the offset is the mitre of
    /// the pieces meeting there (kept within twice the half-width at sharp
    /// turns); the ends reach half a width past the line so corners close.
    fn push(&mut self, points: &[[f32; 2]], colour: [f32; 4], ground: &impl Fn([f32; 2]) -> f32) {
        if points.len() < 2 {
            return;
        }
        // Along and across a piece in world space (x east, z south).
        let along = |a: [f32; 2], b: [f32; 2]| {
            let (d, n) = (b[0] - a[0], b[1] - a[1]);
            let len = d.hypot(n).max(1e-6);
            Vec3::new(d / len, 0.0, -n / len)
        };
        let across = |along: Vec3| Vec3::new(along.z, 0.0, -along.x);
        let first = self.positions.len() as u32;
        let last = points.len() - 1;
        for (k, point) in points.iter().enumerate() {
            let before = (k > 0).then(|| along(points[k - 1], *point));
            let after = (k < last).then(|| along(*point, points[k + 1]));
            let offset = |side: f32| match (before, after) {
                (None, Some(a)) => across(a) * side - a,
                (Some(b), None) => across(b) * side + b,
                (Some(b), Some(a)) => {
                    let mitre = (across(b) + across(a)).normalize_or_zero();
                    if mitre == Vec3::ZERO {
                        across(a) * side
                    } else {
                        mitre * side / mitre.dot(across(a)).max(0.5)
                    }
                }
                (None, None) => Vec3::ZERO,
            };
            let centre = world_from_local(*point, ground(*point));
            for side in [-1.0f32, 1.0] {
                self.positions.push(centre);
                self.offsets.push(offset(side).to_array());
                self.colours.push(colour);
            }
        }
        for k in 0..last as u32 {
            let base = first + 2 * k;
            self.indices.extend_from_slice(&[
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
    fn ribbons_are_cut_only_where_the_ground_bends() {
        let flat = Terrain::flat([0.0, 0.0], [4000.0, 4000.0], 50.0);
        let ground = |t: &Terrain, p: [f32; 2]| t.height_at(p) + LIFT_M;
        let line = |t: &Terrain| {
            let start = [100.0, 2000.0];
            let mut run = vec![start];
            follow(&mut run, start, [3900.0, 2000.0], t, &|p| ground(t, p));
            run
        };
        assert_eq!(line(&flat).len(), 2, "a straight piece over flat ground");
        // Ridges across the line: every piece's chord within the tolerance
        // of the ground under it (10 m samples), none shorter than PIECE_M / 2.
        let mut hills = flat.clone();
        for row in 0..hills.rows {
            for col in 0..hills.cols {
                hills.heights_m[row * hills.cols + col] = 50.0 + 40.0 * (col as f32 * 0.7).sin();
            }
        }
        let run = line(&hills);
        assert!(run.len() > 10, "{} points", run.len());
        for w in run.windows(2) {
            let (p, q) = (w[0], w[1]);
            let len = (q[0] - p[0]).hypot(q[1] - p[1]);
            assert!(len >= PIECE_M / 2.0, "a {len} m piece");
            for k in 0..=(len / 10.0) as usize {
                let t = k as f32 * 10.0 / len;
                let at = [p[0] + (q[0] - p[0]) * t, p[1]];
                let chord = ground(&hills, p) + (ground(&hills, q) - ground(&hills, p)) * t;
                let off = (ground(&hills, at) - chord).abs();
                assert!(
                    off <= FOLLOW_TOLERANCE_M + 0.01 || len <= PIECE_M,
                    "{off:.1} m off at {at:?}"
                );
            }
        }
        // Continuing segments share their joint: one strip of 3 points.
        let segs: Vec<Segment> = vec![([0.0, 0.0], [30.0, 0.0]), ([30.0, 0.0], [30.0, 30.0])];
        let mesh = ribbon_mesh(&flat, &[(&segs, theme::BORDER_FOCUS)]).expect("mesh");
        assert_eq!(mesh.count_vertices(), 6);
        assert_eq!(mesh.indices().map(|i| i.len()), Some(12));
    }

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
        // Joints shared: at most two vertices per segment end and cut.
        let pieces: usize = outline
            .iter()
            .map(|(p, q)| ((q[0] - p[0]).hypot(q[1] - p[1]) / PIECE_M).ceil() as usize)
            .sum();
        assert!(
            mesh.count_vertices() <= 2 * (pieces + outline.len()),
            "{} vertices for {} segments",
            mesh.count_vertices(),
            outline.len()
        );
        assert!(ribbon_mesh(&city.terrain, &[(&[], theme::BORDER_FOCUS)]).is_none());
        assert!(area_outline(&city, Area::City).0.is_empty());
    }
}
