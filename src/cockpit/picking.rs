//! Click → building: a ray against the buildings themselves (footprint
//! prisms from the model, the shapes the near level draws), tiles tested
//! nearest-first by bounding box — no copy of the GPU's meshes is kept.

use bevy::prelude::*;
use bevy::window::PrimaryWindow;

use super::city::markers::{MarkerLayer, pick_marker};
use super::city::{CityTile, CityTiles};
use super::hub_view::SelectCase;
use super::state::SelectBuilding;
use crate::model::{Building, BuildingId, City};

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

/// Whether a point (local metres) lies inside a ring (even–odd).
fn inside_ring(p: [f32; 2], ring: &[[f32; 2]]) -> bool {
    let mut inside = false;
    for (i, a) in ring.iter().enumerate() {
        let b = ring[(i + 1) % ring.len()];
        if (a[1] > p[1]) != (b[1] > p[1]) {
            let x = a[0] + (p[1] - a[1]) / (b[1] - a[1]) * (b[0] - a[0]);
            if p[0] < x {
                inside = !inside;
            }
        }
    }
    inside
}

/// Where the ray first meets a building's roof or walls (its footprints
/// extruded from base to top), as a distance along the ray.
pub fn ray_building(origin: Vec3, dir: Vec3, building: &Building) -> Option<f32> {
    let (base, top) = (building.base_elevation_m, building.top_elevation_m());
    let (lo, hi) = building.footprint_bounds_all();
    // World x east, z south: the box of the whole building first.
    ray_aabb(
        origin,
        dir,
        Vec3::new(lo[0], base, -hi[1]),
        Vec3::new(hi[0], top, -lo[1]),
    )?;
    let local = |p: Vec3| [p.x, -p.z];
    let (o, d) = (local(origin), [dir.x, -dir.z]);
    let mut best: Option<f32> = None;
    let mut take = |t: f32| {
        if t > 0.0 && best.is_none_or(|b| t < b) {
            best = Some(t);
        }
    };
    if dir.y.abs() > 1e-9 {
        let t = (top - origin.y) / dir.y;
        let p = local(origin + dir * t);
        if building.rings().any(|ring| inside_ring(p, ring)) {
            take(t);
        }
    }
    for ring in building.rings() {
        for (i, a) in ring.iter().enumerate() {
            let b = ring[(i + 1) % ring.len()];
            let e = [b[0] - a[0], b[1] - a[1]];
            let den = d[0] * e[1] - d[1] * e[0];
            if den.abs() < 1e-12 {
                continue;
            }
            let w = [a[0] - o[0], a[1] - o[1]];
            // o + t·d = a + s·e
            let t = (w[0] * e[1] - w[1] * e[0]) / den;
            let s = (w[0] * d[1] - w[1] * d[0]) / den;
            let y = origin.y + dir.y * t;
            if (0.0..=1.0).contains(&s) && (base..=top).contains(&y) {
                take(t);
            }
        }
    }
    best
}

/// The nearest building hit by the ray, with its distance.
pub fn pick(city: &City, tiles: &[CityTile], ray: Ray3d) -> Option<(BuildingId, f32)> {
    let (origin, dir) = (ray.origin, *ray.direction);
    let mut candidates: Vec<(f32, &CityTile)> = tiles
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
        for id in &tile.buildings {
            if let Some(t) = city
                .building(*id)
                .and_then(|b| ray_building(origin, dir, b))
                && best.is_none_or(|(_, d)| t < d)
            {
                best = Some((*id, t));
            }
        }
    }
    best
}

/// The building under a viewport position of a camera.
pub fn pick_at_viewport(
    city: &City,
    tiles: &[CityTile],
    camera: &Camera,
    camera_transform: &GlobalTransform,
    viewport_px: Vec2,
) -> Option<BuildingId> {
    let ray = camera
        .viewport_to_world(camera_transform, viewport_px)
        .ok()?;
    pick(city, tiles, ray).map(|(id, _)| id)
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
    let building = pick_at_viewport(&city, &tiles.0, camera, transform, end);
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
    use crate::geo::mesh::tests::{L_RING, test_building};

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
        let mut city = crate::geo::assemble::city_from_extent([106.5, 29.5, 106.6, 29.6], "test");
        city.buildings = vec![tower(0, 0.0, 50.0), tower(1, 100.0, 80.0)];
        let tiles = vec![CityTile {
            key: (0, 0),
            aabb_min: [-1.0, -1.0, -21.0],
            aabb_max: [121.0, 81.0, 1.0],
            buildings: vec![BuildingId(0), BuildingId(1)],
        }];
        let down = |x: f32| Ray3d::new(Vec3::new(x, 500.0, -10.0), Dir3::NEG_Y);
        assert_eq!(
            pick(&city, &tiles, down(10.0)).map(|h| h.0),
            Some(BuildingId(0))
        );
        let (id, distance) = pick(&city, &tiles, down(110.0)).expect("hits tower 1");
        assert_eq!(id, BuildingId(1));
        assert!((distance - 420.0).abs() < 1e-3);
        assert_eq!(pick(&city, &tiles, down(60.0)), None);
        // A horizontal ray from the west hits tower 0's wall first, at x = 0.
        let east = Ray3d::new(Vec3::new(-50.0, 20.0, -10.0), Dir3::X);
        let (id, distance) = pick(&city, &tiles, east).expect("hits a wall");
        assert_eq!(id, BuildingId(0));
        assert!((distance - 50.0).abs() < 1e-3);
        // Above tower 0's roof it flies on to tower 1's wall at x = 100.
        let high = Ray3d::new(Vec3::new(-50.0, 60.0, -10.0), Dir3::X);
        let (id, distance) = pick(&city, &tiles, high).expect("hits tower 1");
        assert_eq!(id, BuildingId(1));
        assert!((distance - 150.0).abs() < 1e-3);
    }

    #[test]
    fn a_ray_into_the_notch_of_an_l_misses_it() {
        // An L (20 × 20 with the north-east quarter cut out) seen from above.
        let mut b = test_building(0, L_RING.to_vec());
        b.base_elevation_m = 0.0;
        let down = |e: f32, n: f32| Vec3::new(e, 500.0, -n);
        assert!(ray_building(down(5.0, 15.0), Vec3::NEG_Y, &b).is_some());
        assert!(ray_building(down(15.0, 5.0), Vec3::NEG_Y, &b).is_some());
        assert_eq!(ray_building(down(15.0, 15.0), Vec3::NEG_Y, &b), None);
    }
}
