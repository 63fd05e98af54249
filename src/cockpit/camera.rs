//! The orbit camera: focus point, distance, pitch and heading, mouse and
//! keyboard controls like any map viewer, and smooth fly-to.

use bevy::input::mouse::{AccumulatedMouseMotion, AccumulatedMouseScroll, MouseScrollUnit};
use bevy::prelude::*;

use super::schedule::AppSystems;
use super::state::CityData;
use crate::geo::{local_from_world, world_from_local};

pub(super) fn plugin(app: &mut App) {
    app.add_message::<FlyTo>().add_systems(
        Update,
        (
            fit_far_plane,
            start_fly_to,
            animate_fly_to,
            follow_ground,
            apply_orbit,
        )
            .chain()
            .in_set(AppSystems::SyncScene),
    );
}

/// The far plane of a new city camera reaches past the data however large
/// it is (at least the usual 200 km).
fn fit_far_plane(city: Res<CityData>, mut cameras: Query<&mut Projection, Added<OrbitCamera>>) {
    let far = (city.bounds.span_m() * 4.0).max(200_000.0);
    for mut projection in &mut cameras {
        if let Projection::Perspective(p) = &mut *projection
            && p.far < far
        {
            p.far = far;
        }
    }
}

pub const MIN_DISTANCE_M: f32 = 60.0;
pub const MAX_DISTANCE_M: f32 = 140_000.0;
pub const MIN_PITCH_DEG: f32 = 12.0;
pub const MAX_PITCH_DEG: f32 = 90.0;
const FLY_DURATION_S: f32 = 1.2;

/// Where the camera looks from. `heading_deg`: compass direction the camera
/// faces (0 = north, 90 = east); `pitch_deg`: angle below the horizon.
#[derive(Component, Clone, Copy, Debug, PartialEq)]
pub struct OrbitCamera {
    pub focus: Vec3,
    pub distance_m: f32,
    pub pitch_deg: f32,
    pub heading_deg: f32,
}

impl OrbitCamera {
    pub fn clamped(mut self) -> OrbitCamera {
        self.distance_m = self.distance_m.clamp(MIN_DISTANCE_M, MAX_DISTANCE_M);
        self.pitch_deg = self.pitch_deg.clamp(MIN_PITCH_DEG, MAX_PITCH_DEG);
        self.heading_deg = self.heading_deg.rem_euclid(360.0);
        self
    }

    /// Horizontal unit vector the camera faces.
    pub fn forward_ground(&self) -> Vec3 {
        let h = self.heading_deg.to_radians();
        Vec3::new(h.sin(), 0.0, -h.cos())
    }

    pub fn transform(&self) -> Transform {
        let p = self.pitch_deg.to_radians();
        let fwd = self.forward_ground();
        let look = fwd * p.cos() - Vec3::Y * p.sin();
        let up = fwd * p.sin() + Vec3::Y * p.cos();
        Transform::from_translation(self.focus - look * self.distance_m).looking_to(look, up)
    }

    /// A view of the whole `min..max` local rectangle at ground height `ground_m`.
    pub fn overview(min: [f32; 2], max: [f32; 2], ground_m: f32) -> OrbitCamera {
        let centre = [(min[0] + max[0]) / 2.0, (min[1] + max[1]) / 2.0];
        let span = (max[0] - min[0]).max(max[1] - min[1]);
        OrbitCamera {
            focus: Vec3::from(world_from_local(centre, ground_m)),
            distance_m: span * 0.95,
            pitch_deg: 52.0,
            heading_deg: 0.0,
        }
        .clamped()
    }
}

/// A wall window's own camera: it keeps its framing — the operator's
/// flights, keys and picking move only the main view.
#[derive(Component, Debug, Clone, Copy, Default)]
pub struct WallView;

/// The main view's camera (not a wall window's), for picking and labels.
pub type MainViewFilter = (With<OrbitCamera>, Without<WallView>);

/// Ask the camera to fly to a point (and optionally a distance).
#[derive(Message, Debug, Clone, Copy, PartialEq)]
pub struct FlyTo {
    pub focus: Vec3,
    pub distance_m: Option<f32>,
    /// Also turn and tilt to these (None: keep).
    pub pitch_deg: Option<f32>,
    pub heading_deg: Option<f32>,
    /// Seconds the flight takes (None: the usual 1.2 s; 0: jump).
    pub duration_s: Option<f32>,
}

impl FlyTo {
    /// Fly to `focus`, keeping the camera's angles.
    pub fn to(focus: Vec3, distance_m: Option<f32>) -> FlyTo {
        FlyTo {
            focus,
            distance_m,
            pitch_deg: None,
            heading_deg: None,
            duration_s: None,
        }
    }

    /// Fly to exactly this pose in `duration_s`.
    pub fn pose(orbit: OrbitCamera, duration_s: f32) -> FlyTo {
        FlyTo {
            focus: orbit.focus,
            distance_m: Some(orbit.distance_m),
            pitch_deg: Some(orbit.pitch_deg),
            heading_deg: Some(orbit.heading_deg),
            duration_s: Some(duration_s),
        }
    }
}

/// A close view of a building (its base, a few heights away).
pub fn fly_to_building(city: &crate::model::City, id: crate::model::BuildingId) -> Option<FlyTo> {
    let b = city.building(id)?;
    Some(FlyTo::to(
        Vec3::from(world_from_local(b.centre_m(), b.base_elevation_m)),
        Some((b.height_m * 4.0).max(600.0)),
    ))
}

/// Where to look at a hazard body: its centre, from far enough to see its
/// threat zone.
pub fn fly_to_hazard(city: &crate::model::City, id: crate::model::HazardId) -> Option<FlyTo> {
    let h = city.hazard(id)?;
    let c = h.centre_m();
    let (length, width) = h.size_m();
    Some(FlyTo::to(
        Vec3::from(world_from_local(c, city.terrain.height_at(c))),
        Some((length.max(width) * 4.0).max(1_200.0)),
    ))
}

#[derive(Component, Debug, Clone, Copy)]
struct FlyAnimation {
    from: OrbitCamera,
    to: OrbitCamera,
    elapsed_s: f32,
    duration_s: f32,
}

fn start_fly_to(
    mut commands: Commands,
    mut requests: MessageReader<FlyTo>,
    cameras: Query<(Entity, &OrbitCamera), Without<WallView>>,
) {
    let Some(request) = requests.read().last().copied() else {
        return;
    };
    for (entity, orbit) in &cameras {
        fly_camera(&mut commands, entity, orbit, &request);
    }
}

/// Starts `request`'s flight on one camera (the main view's, or a wall
/// window's that follows the drill).
pub fn fly_camera(commands: &mut Commands, camera: Entity, orbit: &OrbitCamera, request: &FlyTo) {
    let to = OrbitCamera {
        focus: request.focus,
        distance_m: request.distance_m.unwrap_or(orbit.distance_m),
        pitch_deg: request.pitch_deg.unwrap_or(orbit.pitch_deg),
        heading_deg: request.heading_deg.unwrap_or(orbit.heading_deg),
    }
    .clamped();
    commands.entity(camera).insert(FlyAnimation {
        from: *orbit,
        to,
        elapsed_s: 0.0,
        duration_s: request.duration_s.unwrap_or(FLY_DURATION_S).max(0.0),
    });
}

fn animate_fly_to(
    mut commands: Commands,
    time: Res<Time>,
    mut cameras: Query<(Entity, &mut OrbitCamera, &mut FlyAnimation)>,
) {
    for (entity, mut orbit, mut fly) in &mut cameras {
        fly.elapsed_s += time.delta_secs();
        let t = if fly.duration_s > 0.0 {
            (fly.elapsed_s / fly.duration_s).clamp(0.0, 1.0)
        } else {
            1.0
        };
        let s = t * t * (3.0 - 2.0 * t);
        orbit.focus = fly.from.focus.lerp(fly.to.focus, s);
        orbit.pitch_deg = fly.from.pitch_deg + (fly.to.pitch_deg - fly.from.pitch_deg) * s;
        // Turn the short way round.
        let turn = (fly.to.heading_deg - fly.from.heading_deg + 540.0).rem_euclid(360.0) - 180.0;
        orbit.heading_deg = (fly.from.heading_deg + turn * s).rem_euclid(360.0);
        // Zoom in log space so long flights feel even.
        orbit.distance_m = (fly.from.distance_m.ln()
            + (fly.to.distance_m.ln() - fly.from.distance_m.ln()) * s)
            .exp();
        if t >= 1.0 {
            *orbit = fly.to;
            commands.entity(entity).remove::<FlyAnimation>();
        }
    }
}

/// Keeps the orbit focus on the ground as it moves over hills.
fn follow_ground(city: Res<CityData>, mut cameras: Query<&mut OrbitCamera, Without<FlyAnimation>>) {
    for mut orbit in &mut cameras {
        let ground = city
            .terrain
            .height_at(local_from_world(orbit.focus.to_array()));
        if (orbit.focus.y - ground).abs() > 0.5 {
            orbit.focus.y = ground;
        }
    }
}

fn apply_orbit(mut cameras: Query<(&OrbitCamera, &mut Transform), Changed<OrbitCamera>>) {
    for (orbit, mut transform) in &mut cameras {
        *transform = orbit.transform();
    }
}

/// Mouse: left-drag pans, right-drag (or Ctrl+left) orbits, wheel zooms.
/// Keyboard: arrows/WASD pan, Q/E turn, R/F tilt. Skipped while egui has the
/// pointer or keyboard.
#[allow(clippy::too_many_arguments)]
pub fn orbit_controls(
    buttons: Res<ButtonInput<MouseButton>>,
    keys: Res<ButtonInput<KeyCode>>,
    motion: Res<AccumulatedMouseMotion>,
    scroll: Res<AccumulatedMouseScroll>,
    time: Res<Time>,
    ui_has_pointer: Option<Res<super::ui::UiHasPointer>>,
    presenter: Option<Res<super::presenter::Presenter>>,
    wall: Option<Res<super::wall::WallLayout>>,
    primary: Query<&Window, With<bevy::window::PrimaryWindow>>,
    mut cameras: Query<&mut OrbitCamera, Without<WallView>>,
) {
    let (pointer_free, keyboard_free) =
        ui_has_pointer.map_or((true, true), |u| (!u.pointer, !u.keyboard));
    // Input is global across windows: on a wall the main view moves only
    // for the pointer over, and the keys typed into, the operator's window.
    let primary = primary.single().ok();
    let pointer_free = pointer_free && primary.is_none_or(|w| w.cursor_position().is_some());
    let keyboard_free = keyboard_free && (wall.is_none() || primary.is_some_and(|w| w.focused));
    // A presenter's clicker keys (arrows, PageUp/Down) drive the briefing.
    let keyboard_free = keyboard_free && !presenter.is_some_and(|p| p.presenting);
    let Ok(mut orbit) = cameras.single_mut() else {
        return;
    };
    let mut next = *orbit;
    let ctrl = keys.pressed(KeyCode::ControlLeft) || keys.pressed(KeyCode::ControlRight);
    let delta = motion.delta;
    if pointer_free && delta != Vec2::ZERO {
        let rotating =
            buttons.pressed(MouseButton::Right) || (ctrl && buttons.pressed(MouseButton::Left));
        if rotating {
            next.heading_deg -= delta.x * 0.25;
            next.pitch_deg += delta.y * 0.2;
        } else if buttons.pressed(MouseButton::Left) {
            let right = next.forward_ground().cross(Vec3::Y);
            let metres_per_px = next.distance_m * 0.0011;
            next.focus += (-right * delta.x + next.forward_ground() * delta.y) * metres_per_px;
        }
    }
    if pointer_free && scroll.delta.y != 0.0 {
        let lines = match scroll.unit {
            MouseScrollUnit::Line => scroll.delta.y,
            MouseScrollUnit::Pixel => scroll.delta.y / 40.0,
        };
        next.distance_m *= 0.85_f32.powf(lines);
    }
    if keyboard_free {
        let dt = time.delta_secs();
        let pan = next.distance_m * 0.8 * dt;
        let fwd = next.forward_ground();
        let right = fwd.cross(Vec3::Y);
        for (codes, dir) in [
            ([KeyCode::KeyW, KeyCode::ArrowUp], fwd),
            ([KeyCode::KeyS, KeyCode::ArrowDown], -fwd),
            ([KeyCode::KeyD, KeyCode::ArrowRight], right),
            ([KeyCode::KeyA, KeyCode::ArrowLeft], -right),
        ] {
            if keys.any_pressed(codes) {
                next.focus += dir * pan;
            }
        }
        if keys.pressed(KeyCode::KeyQ) {
            next.heading_deg -= 60.0 * dt;
        }
        if keys.pressed(KeyCode::KeyE) {
            next.heading_deg += 60.0 * dt;
        }
        if keys.pressed(KeyCode::KeyR) {
            next.pitch_deg += 40.0 * dt;
        }
        if keys.pressed(KeyCode::KeyF) {
            next.pitch_deg -= 40.0 * dt;
        }
    }
    let next = next.clamped();
    if next != *orbit {
        *orbit = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transform_looks_at_the_focus_from_the_right_side() {
        let orbit = OrbitCamera {
            focus: Vec3::new(100.0, 0.0, -200.0),
            distance_m: 1000.0,
            pitch_deg: 45.0,
            heading_deg: 0.0,
        };
        let t = orbit.transform();
        // Facing north (−z), so the camera sits south (+z) of and above the focus.
        assert!(t.translation.z > orbit.focus.z + 600.0);
        assert!(t.translation.y > 600.0);
        let forward = t.forward();
        let to_focus = (orbit.focus - t.translation).normalize();
        assert!(forward.dot(to_focus) > 0.9999);
        // Straight down still has a well-defined up (north).
        let down = OrbitCamera {
            pitch_deg: 90.0,
            ..orbit
        }
        .transform();
        assert!(down.forward().dot(Vec3::NEG_Y) > 0.9999);
        assert!(down.up().dot(Vec3::NEG_Z) > 0.9999);
    }
}
