//! Click → building: a ray against the tile geometry on the CPU (the same
//! triangles the GPU draws), tiles tested nearest-first by bounding box.

use bevy::prelude::*;
use bevy::window::PrimaryWindow;

use super::city::CityTiles;
use super::city::markers::{MarkerLayer, pick_marker};
use super::hub_view::SelectCase;
use super::state::SelectBuilding;
use crate::geo::mesh::TileMesh;
use crate::model::BuildingId;

/// A click is a press and release within this many logical pixels.
const CLICK_SLOP_PX: f32 = 5.0;

/// Ray entry distance into an axis-aligned box, if it hits.
fn ray_aabb(origin: Vec3, dir: Vec3, min: Vec3, max: Vec3) -> Option<f32> {
    let inv = dir.recip();
    let t0 = (min - origin) * inv;
    let t1 = (max - origin) * inv;
    let near = t0.min(t1).max_element();
    let far = t0.max(t1).min_element();
    (far >= near.max(0.0)).then_some(near.max(0.0))
}

/// Möller–Trumbore; returns the distance along the ray.
fn ray_triangle(origin: Vec3, dir: Vec3, a: Vec3, b: Vec3, c: Vec3) -> Option<f32> {
    let e1 = b - a;
    let e2 = c - a;
    let p = dir.cross(e2);
    let det = e1.dot(p);
    if det.abs() < 1e-9 {
        return None;
    }
    let inv = 1.0 / det;
    let s = origin - a;
    let u = s.dot(p) * inv;
    if !(0.0..=1.0).contains(&u) {
        return None;
    }
    let q = s.cross(e1);
    let v = dir.dot(q) * inv;
    if v < 0.0 || u + v > 1.0 {
        return None;
    }
    let t = e2.dot(q) * inv;
    (t > 0.0).then_some(t)
}

/// The nearest building hit by the ray, with its distance.
pub fn pick(tiles: &[TileMesh], ray: Ray3d) -> Option<(BuildingId, f32)> {
    let (origin, dir) = (ray.origin, *ray.direction);
    let mut candidates: Vec<(f32, &TileMesh)> = tiles
        .iter()
        .filter_map(|t| {
            ray_aabb(origin, dir, Vec3::from(t.aabb_min), Vec3::from(t.aabb_max)).map(|d| (d, t))
        })
        .collect();
    candidates.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut best: Option<(BuildingId, f32)> = None;
    for (entry, tile) in candidates {
        if best.is_some_and(|(_, d)| entry > d) {
            break;
        }
        for tri in tile.indices.chunks_exact(3) {
            let [a, b, c] = [0, 1, 2].map(|k| Vec3::from(tile.positions[tri[k] as usize]));
            if let Some(t) = ray_triangle(origin, dir, a, b, c)
                && best.is_none_or(|(_, d)| t < d)
            {
                best = Some((BuildingId(tile.building_ids[tri[0] as usize]), t));
            }
        }
    }
    best
}

/// The building under a viewport position of a camera.
pub fn pick_at_viewport(
    tiles: &[TileMesh],
    camera: &Camera,
    camera_transform: &GlobalTransform,
    viewport_px: Vec2,
) -> Option<BuildingId> {
    let ray = camera
        .viewport_to_world(camera_transform, viewport_px)
        .ok()?;
    pick(tiles, ray).map(|(id, _)| id)
}

/// How near (px) a click must land to an event marker's head to pick it.
const MARKER_PICK_PX: f32 = 16.0;

/// Left click (not a drag, not on a panel) selects the event marker under
/// the cursor, else the building, or clears the selection on empty ground.
#[allow(clippy::too_many_arguments)]
pub fn click_to_select(
    buttons: Res<ButtonInput<MouseButton>>,
    window: Single<&Window, With<PrimaryWindow>>,
    cameras: Query<(&Camera, &GlobalTransform), super::camera::MainViewFilter>,
    tiles: Option<Res<CityTiles>>,
    markers: Option<Res<MarkerLayer>>,
    ui_has_pointer: Option<Res<super::ui::UiHasPointer>>,
    mut pressed_at: Local<Option<Vec2>>,
    mut select: MessageWriter<SelectBuilding>,
    mut select_case: MessageWriter<SelectCase>,
    hazards: Option<Res<super::hazards::HazardLayer>>,
    city: Res<super::state::CityData>,
    mut select_hazard: MessageWriter<super::state::SelectHazard>,
) {
    let cursor = window.cursor_position();
    if buttons.just_pressed(MouseButton::Left) {
        *pressed_at = cursor.filter(|_| ui_has_pointer.as_ref().is_none_or(|u| !u.pointer));
    }
    if !buttons.just_released(MouseButton::Left) {
        return;
    }
    let (Some(start), Some(end), Some(tiles)) = (pressed_at.take(), cursor, tiles) else {
        return;
    };
    if start.distance(end) > CLICK_SLOP_PX {
        return;
    }
    let Ok((camera, transform)) = cameras.single() else {
        return;
    };
    if let Some(case) = markers
        .as_ref()
        .and_then(|m| pick_marker(m, camera, transform, end, MARKER_PICK_PX))
    {
        select_case.write(SelectCase(Some(case)));
        return;
    }
    if let Some((hazard, point)) = hazards
        .as_ref()
        .and_then(|h| super::hazards::pick_pin(h, camera, transform, end, MARKER_PICK_PX))
    {
        select_hazard.write(super::state::SelectHazard(Some((hazard, Some(point)))));
        return;
    }
    let building = pick_at_viewport(&tiles.0, camera, transform, end);
    if building.is_none()
        && let Ok(ray) = camera.viewport_to_world(transform, end)
        && let Some(hazard) = pick_body(&city, ray)
    {
        select_hazard.write(super::state::SelectHazard(Some((hazard, None))));
        return;
    }
    select.write(SelectBuilding(building));
}

/// The hazard body whose outline the ray meets first, at its volume's
/// mid-height above its mean ground.
pub fn pick_body(city: &crate::model::City, ray: Ray3d) -> Option<crate::model::HazardId> {
    let mut best: Option<(f32, crate::model::HazardId)> = None;
    for h in &city.hazards {
        let n = h.body_m.len().max(1) as f32;
        let ground = h
            .body_m
            .iter()
            .map(|p| city.terrain.height_at(*p))
            .sum::<f32>()
            / n;
        let y = ground + h.thickness_m * 0.5;
        if ray.direction.y.abs() < 1e-6 {
            continue;
        }
        let t = (y - ray.origin.y) / ray.direction.y;
        if t <= 0.0 {
            continue;
        }
        let p = ray.origin + *ray.direction * t;
        let local = crate::geo::local_from_world(p.to_array());
        if crate::model::ring_contains(&h.body_m, local) && best.is_none_or(|(d, _)| t < d) {
            best = Some((t, h.id));
        }
    }
    best.map(|(_, id)| id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geo::mesh::append_building;
    use crate::geo::mesh::tests::test_building;
    use crate::model::Building;

    fn tower(id: u32, x: f32, height_m: f32) -> Building {
        let mut b = test_building(
            id,
            vec![[x, 0.0], [x + 20.0, 0.0], [x + 20.0, 20.0], [x, 20.0]],
        );
        b.base_elevation_m = 0.0;
        b.height_m = height_m;
        b
    }

    #[test]
    fn ray_hits_the_nearest_building_and_misses_empty_ground() {
        let mut tile = TileMesh::default();
        append_building(&mut tile, &tower(1, 0.0, 50.0)).expect("mesh");
        append_building(&mut tile, &tower(2, 100.0, 80.0)).expect("mesh");
        tile.aabb_min = [-1.0, -1.0, -21.0];
        tile.aabb_max = [121.0, 81.0, 1.0];
        let tiles = vec![tile];
        let down = |x: f32| Ray3d::new(Vec3::new(x, 500.0, -10.0), Dir3::NEG_Y);
        assert_eq!(pick(&tiles, down(10.0)).map(|h| h.0), Some(BuildingId(1)));
        let (id, distance) = pick(&tiles, down(110.0)).expect("hits tower 2");
        assert_eq!(id, BuildingId(2));
        assert!((distance - 420.0).abs() < 1e-3);
        assert_eq!(pick(&tiles, down(60.0)), None);
        // A horizontal ray from the west hits tower 1's wall first.
        let east = Ray3d::new(Vec3::new(-50.0, 20.0, -10.0), Dir3::X);
        assert_eq!(pick(&tiles, east).map(|h| h.0), Some(BuildingId(1)));
    }
}
