//! Event markers in 3D: one batched mesh of marker templates (a beam and a
//! diamond head) whose vertices name a slot; one storage buffer holds each
//! slot's place, severity colour and flags (see shaders/markers.wgsl). The
//! markers follow the hub's rows (area and filters); an update rewrites the
//! buffer only, and the mesh is rebuilt only when the slots run out.

use bevy::asset::{RenderAssetUsages, uuid_handle};
use bevy::camera::visibility::NoFrustumCulling;
use bevy::mesh::{MeshVertexAttribute, PrimitiveTopology};
use bevy::prelude::*;
use bevy::render::render_resource::{AsBindGroup, ShaderType, VertexFormat};
use bevy::render::storage::ShaderBuffer;

use crate::cockpit::hub_view::HubView;
use crate::cockpit::state::{CityData, CityState};
use crate::cockpit::theme;
use crate::geo::world_from_local;
use crate::model::{BuildingId, CaseId};

pub const MARKERS_SHADER: Handle<Shader> = uuid_handle!("9d7e2a51-6c0b-4b8e-a1f3-2e5d8c7b4a90");

/// Per vertex: (slot, 1 for the head / 0 for the beam).
pub const ATTRIBUTE_MARKER_SLOT: MeshVertexAttribute =
    MeshVertexAttribute::new("MarkerSlot", 0x00C1_7720, VertexFormat::Uint32x2);

/// Template sizes (m) at [`SIZE_DISTANCE_M`] from the camera.
pub const HEAD_Y_M: f32 = 220.0;
const HEAD_RADIUS_M: f32 = 48.0;
const BEAM_HALF_WIDTH_M: f32 = 8.0;
/// Camera distance at which a marker has its template size; it grows
/// farther out so it stays a few pixels wide over the whole city.
pub const SIZE_DISTANCE_M: f32 = 4_000.0;
const PULSE_RAD_PER_S: f32 = 4.0;
const OVERDUE_PULSE_RAD_PER_S: f32 = 10.0;
/// Fewest slots allocated; capacity doubles when exceeded.
const MIN_SLOTS: usize = 256;

const FLAG_OVERDUE: u32 = 1;
const FLAG_SELECTED: u32 = 2;

#[derive(Clone, Copy, Debug, ShaderType)]
pub struct MarkerParams {
    pub fog_color: Vec4,
    pub selected_color: Vec4,
    pub motion: Vec4,
    pub shape: Vec4,
}

impl MarkerParams {
    pub fn from_theme(fog: f32) -> MarkerParams {
        MarkerParams {
            fog_color: theme::HAZE.linear(),
            selected_color: theme::SELECTED.linear(),
            motion: Vec4::new(
                PULSE_RAD_PER_S,
                OVERDUE_PULSE_RAD_PER_S,
                SIZE_DISTANCE_M,
                fog,
            ),
            shape: Vec4::new(HEAD_Y_M, 0.0, 0.0, 0.0),
        }
    }
}

#[derive(Asset, TypePath, AsBindGroup, Debug, Clone)]
pub struct MarkerMaterial {
    #[uniform(0)]
    pub params: MarkerParams,
    #[storage(1, read_only)]
    pub markers: Handle<ShaderBuffer>,
}

lean_material!(
    MarkerMaterial,
    MARKERS_SHADER,
    [
        Mesh::ATTRIBUTE_POSITION,
        Mesh::ATTRIBUTE_NORMAL,
        ATTRIBUTE_MARKER_SLOT
    ]
);

/// One marker's triangles (non-indexed): offset, normal, is-head.
fn template() -> Vec<([f32; 3], [f32; 3], u32)> {
    let mut out = Vec::new();
    // The beam: two crossed vertical quads from the roof to the head.
    let w = BEAM_HALF_WIDTH_M;
    for (dx, dz, n) in [(w, 0.0, [0.0, 0.0, 1.0]), (0.0, w, [1.0, 0.0, 0.0])] {
        let (a, b) = ([-dx, 0.0, -dz], [dx, 0.0, dz]);
        let (c, d) = ([dx, HEAD_Y_M, dz], [-dx, HEAD_Y_M, -dz]);
        for p in [a, b, c, a, c, d] {
            out.push((p, n, 0));
        }
    }
    // The head: an octahedron around the top of the beam.
    let r = HEAD_RADIUS_M;
    let top = [0.0, HEAD_Y_M + r * 1.4, 0.0];
    let bottom = [0.0, HEAD_Y_M - r * 1.4, 0.0];
    let ring = [
        [r, HEAD_Y_M, 0.0],
        [0.0, HEAD_Y_M, r],
        [-r, HEAD_Y_M, 0.0],
        [0.0, HEAD_Y_M, -r],
    ];
    for i in 0..4 {
        let (p, q) = (ring[i], ring[(i + 1) % 4]);
        for (apex, tri) in [(top, [p, top, q]), (bottom, [q, bottom, p])] {
            let n = Vec3::from(p) + Vec3::from(q) - Vec3::Y * HEAD_Y_M * 2.0
                + (Vec3::from(apex) - Vec3::Y * HEAD_Y_M);
            let n = n.normalize_or_zero().to_array();
            for v in tri {
                out.push((v, n, 1));
            }
        }
    }
    out
}

/// A mesh of `slots` marker templates.
pub fn marker_mesh(slots: usize) -> Mesh {
    let t = template();
    let mut positions = Vec::with_capacity(t.len() * slots);
    let mut normals = Vec::with_capacity(t.len() * slots);
    let mut ids = Vec::with_capacity(t.len() * slots);
    for slot in 0..slots as u32 {
        for (p, n, head) in &t {
            positions.push(*p);
            normals.push(*n);
            ids.push([slot, *head]);
        }
    }
    Mesh::new(
        PrimitiveTopology::TriangleList,
        RenderAssetUsages::RENDER_WORLD,
    )
    .with_inserted_attribute(Mesh::ATTRIBUTE_POSITION, positions)
    .with_inserted_attribute(Mesh::ATTRIBUTE_NORMAL, normals)
    .with_inserted_attribute(ATTRIBUTE_MARKER_SLOT, ids)
}

/// Where each shown marker is (for picking) and the GPU side.
#[derive(Resource)]
pub struct MarkerLayer {
    pub entity: Entity,
    pub buffer: Handle<ShaderBuffer>,
    pub mesh: Handle<Mesh>,
    pub capacity: usize,
    /// The case and roof-top position (world) of each filled slot.
    pub slots: Vec<(CaseId, BuildingId, Vec3)>,
    synced: Option<(u64, Option<CaseId>, Option<BuildingId>)>,
    scratch: Vec<u8>,
}

/// Packs the slot words: place + colour/flags, 32 bytes a slot.
pub fn pack_markers(
    slots: &[(CaseId, BuildingId, Vec3)],
    colours: impl Fn(CaseId) -> Option<(Vec4, u32)>,
    capacity: usize,
    out: &mut Vec<u8>,
) {
    out.clear();
    out.reserve(capacity * 32);
    for (case, _, place) in slots {
        let (colour, flags) = colours(*case).unwrap_or((Vec4::ZERO, 0));
        for f in [place.x, place.y, place.z, 1.0] {
            out.extend_from_slice(&f.to_le_bytes());
        }
        for f in [colour.x, colour.y, colour.z, flags as f32] {
            out.extend_from_slice(&f.to_le_bytes());
        }
    }
    out.resize(capacity.max(1) * 32, 0);
}

pub(super) fn spawn_markers(
    commands: &mut Commands,
    fog: f32,
    meshes: &mut Assets<Mesh>,
    buffers: &mut Assets<ShaderBuffer>,
    materials: &mut Assets<MarkerMaterial>,
) {
    let capacity = MIN_SLOTS;
    let bytes = vec![0u8; capacity * 32];
    let buffer = buffers.add(ShaderBuffer::new(&bytes, RenderAssetUsages::default()));
    let mesh = meshes.add(marker_mesh(capacity));
    let entity = commands
        .spawn((
            Name::new("event markers"),
            Mesh3d(mesh.clone()),
            MeshMaterial3d(materials.add(MarkerMaterial {
                params: MarkerParams::from_theme(fog),
                markers: buffer.clone(),
            })),
            Transform::IDENTITY,
            // Vertices are placed by the shader: the mesh's own bounds mean nothing.
            NoFrustumCulling,
            // Nothing to draw until there is an open case.
            Visibility::Hidden,
        ))
        .id();
    commands.insert_resource(MarkerLayer {
        entity,
        buffer,
        mesh,
        capacity,
        slots: Vec::new(),
        synced: None,
        scratch: bytes,
    });
}

/// Refills the marker buffer when the hub's rows or the selection change;
/// with no marker to show, the batch is not drawn at all.
#[allow(clippy::too_many_arguments)]
pub fn sync_markers(
    mut commands: Commands,
    view: Res<HubView>,
    state: Res<CityState>,
    time: Res<crate::cockpit::time::TimeControl>,
    city: Res<CityData>,
    layer: Option<ResMut<MarkerLayer>>,
    mut buffers: ResMut<Assets<ShaderBuffer>>,
    mut meshes: ResMut<Assets<Mesh>>,
) {
    let Some(mut layer) = layer else { return };
    let key = (view.revision, view.selected, state.selected());
    if layer.synced == Some(key) {
        return;
    }
    layer.synced = Some(key);
    let now_ms = time.shown_ms(state.last_time_ms());
    let layer = &mut *layer;
    layer.slots.clear();
    for case in view.cases(&state) {
        let Some(b) = case.building.and_then(|b| city.building(b)) else {
            continue;
        };
        let top = world_from_local(b.centre_m(), b.base_elevation_m + b.height_m);
        layer.slots.push((case.id, b.id, Vec3::from(top)));
    }
    commands
        .entity(layer.entity)
        .insert(if layer.slots.is_empty() {
            Visibility::Hidden
        } else {
            Visibility::Inherited
        });
    if layer.slots.len() > layer.capacity {
        layer.capacity = layer.slots.len().next_power_of_two();
        if let Some(mut mesh) = meshes.get_mut(&layer.mesh) {
            *mesh = marker_mesh(layer.capacity);
        }
    }
    let selected_building = state.selected();
    pack_markers(
        &layer.slots,
        |id| {
            let case = state.open_case(id)?;
            let mut flags = 0;
            if case.is_late(now_ms) {
                flags |= FLAG_OVERDUE;
            }
            if view.selected == Some(id)
                || (case.building.is_some() && case.building == selected_building)
            {
                flags |= FLAG_SELECTED;
            }
            Some((theme::risk_color(case.severity).linear(), flags))
        },
        layer.capacity,
        &mut layer.scratch,
    );
    if let Some(mut gpu) = buffers.get_mut(&layer.buffer) {
        gpu.data = Some(layer.scratch.clone());
    }
}

/// The marker whose head is nearest a viewport position (within `radius_px`).
pub fn pick_marker(
    layer: &MarkerLayer,
    camera: &Camera,
    camera_transform: &GlobalTransform,
    viewport_px: Vec2,
    radius_px: f32,
) -> Option<CaseId> {
    let eye = camera_transform.translation();
    let mut best: Option<(f32, CaseId)> = None;
    for (case, _, place) in &layer.slots {
        let grow = (place.distance(eye) / SIZE_DISTANCE_M).clamp(0.4, 6.0);
        let head = *place + Vec3::Y * HEAD_Y_M * grow;
        let Ok(px) = camera.world_to_viewport(camera_transform, head) else {
            continue;
        };
        let d = px.distance(viewport_px);
        if d <= radius_px && best.is_none_or(|(b, _)| d < b) {
            best = Some((d, *case));
        }
    }
    best.map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_pack_place_colour_and_flags_and_pad_to_capacity() {
        let slots = vec![
            (CaseId(7), BuildingId(1), Vec3::new(1.0, 2.0, 3.0)),
            (CaseId(9), BuildingId(2), Vec3::new(4.0, 5.0, 6.0)),
        ];
        let mut out = Vec::new();
        pack_markers(
            &slots,
            |id| {
                Some((
                    Vec4::new(0.5, 0.25, 0.0, 1.0),
                    if id.0 == 9 { 3 } else { 0 },
                ))
            },
            4,
            &mut out,
        );
        assert_eq!(out.len(), 4 * 32);
        let f = |i: usize| {
            f32::from_le_bytes([out[i * 4], out[i * 4 + 1], out[i * 4 + 2], out[i * 4 + 3]])
        };
        assert_eq!([f(8), f(9), f(10), f(11)], [4.0, 5.0, 6.0, 1.0]);
        assert_eq!(f(15), 3.0, "flags of the second slot");
        assert_eq!(f(16 + 3), 0.0, "an empty slot has w = 0 (collapsed)");
        let mesh = marker_mesh(3);
        assert_eq!(mesh.count_vertices(), 3 * template().len());
    }
}
