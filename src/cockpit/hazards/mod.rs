//! Geohazard bodies in 3D: one static mesh per batch (translucent zones and
//! volumes, opaque outlines, pins, arrows and building rings; see
//! `geo::hazard_mesh` and shaders/hazards.wgsl). The warning level of each
//! body and the displacement arrow of each point live in storage buffers
//! written from [`CityState`] — a level change or a reading rewrites bytes,
//! never a mesh.

use bevy::asset::{RenderAssetUsages, uuid_handle};
use bevy::camera::visibility::NoFrustumCulling;
use bevy::mesh::{MeshVertexAttribute, PrimitiveTopology};
use bevy::prelude::*;
use bevy::render::render_resource::{AsBindGroup, ShaderType, VertexFormat};
use bevy::render::storage::ShaderBuffer;

use super::schedule::AppSystems;
use super::state::{CityData, CityState};
use super::theme;
use crate::geo::hazard_mesh::{self, MeshData, PIN_HEIGHT_M, Pin, arrow_world};
use crate::model::{HazardId, Sample, WarningLevel};

pub const HAZARDS_SHADER: Handle<Shader> = uuid_handle!("3f6b1c2e-8a4d-4e1f-9b7a-5c2d1e0f6a31");

/// Per vertex: (body, part | global point index << 8).
pub const ATTRIBUTE_HAZARD_IDS: MeshVertexAttribute =
    MeshVertexAttribute::new("HazardIds", 0x00C1_7730, VertexFormat::Uint32x2);

/// Template sizes hold at this camera distance and grow beyond it.
pub const SIZE_DISTANCE_M: f32 = 3_000.0;
const PULSE_RAD_PER_S: f32 = 5.0;
const ZONE_ALPHA: f32 = 0.30;
const VOLUME_ALPHA: f32 = 0.55;
const SELECTED_BIT: u32 = 1 << 8;
const FAILED_BIT: u32 = 1 << 9;

#[derive(Clone, Copy, Debug, ShaderType)]
pub struct HazardParams {
    pub palette: [Vec4; 5],
    pub selected_color: Vec4,
    pub fog_color: Vec4,
    pub motion: Vec4,
    pub shape: Vec4,
}

impl HazardParams {
    pub fn from_theme(translucent: bool, fog: f32) -> HazardParams {
        HazardParams {
            palette: WarningLevel::ALL.map(|l| theme::warning_color(l).linear()),
            selected_color: theme::SELECTED.linear(),
            fog_color: theme::HAZE.linear(),
            motion: Vec4::new(
                PULSE_RAD_PER_S,
                SIZE_DISTANCE_M,
                fog,
                f32::from(u8::from(translucent)),
            ),
            shape: Vec4::new(PIN_HEIGHT_M, ZONE_ALPHA, VOLUME_ALPHA, 0.0),
        }
    }
}

#[derive(Asset, TypePath, AsBindGroup, Debug, Clone)]
pub struct HazardMaterial {
    #[uniform(0)]
    pub params: HazardParams,
    #[storage(1, read_only)]
    pub bodies: Handle<ShaderBuffer>,
    #[storage(2, read_only)]
    pub points: Handle<ShaderBuffer>,
    pub translucent: bool,
}

impl bevy::pbr::Material for HazardMaterial {
    fn vertex_shader() -> bevy::shader::ShaderRef {
        HAZARDS_SHADER.into()
    }

    fn fragment_shader() -> bevy::shader::ShaderRef {
        HAZARDS_SHADER.into()
    }

    fn alpha_mode(&self) -> AlphaMode {
        if self.translucent {
            AlphaMode::Blend
        } else {
            AlphaMode::Opaque
        }
    }

    fn enable_prepass() -> bool {
        false
    }

    fn enable_shadows() -> bool {
        false
    }

    fn specialize(
        _pipeline: &bevy::pbr::MaterialPipeline,
        descriptor: &mut bevy::render::render_resource::RenderPipelineDescriptor,
        layout: &bevy::mesh::MeshVertexBufferLayoutRef,
        _key: bevy::pbr::MaterialPipelineKey<Self>,
    ) -> Result<(), bevy::render::render_resource::SpecializedMeshPipelineError> {
        let attributes = [
            Mesh::ATTRIBUTE_POSITION.at_shader_location(0),
            Mesh::ATTRIBUTE_NORMAL.at_shader_location(1),
            ATTRIBUTE_HAZARD_IDS.at_shader_location(2),
        ];
        descriptor.vertex.buffers = vec![layout.0.get_layout(&attributes)?];
        // Skirts and ribbons are seen from both sides.
        descriptor.primitive.cull_mode = None;
        Ok(())
    }
}

pub(super) fn plugin(app: &mut App) {
    let mut shaders = app.world_mut().resource_mut::<Assets<Shader>>();
    if let Err(e) = shaders.insert(
        HAZARDS_SHADER.id(),
        Shader::from_wgsl(
            include_str!("../../../shaders/hazards.wgsl"),
            "shaders/hazards.wgsl",
        ),
    ) {
        error!("cannot register shaders/hazards.wgsl: {e}");
    }
    app.add_plugins(MaterialPlugin::<HazardMaterial>::default())
        .add_systems(crate::cockpit::schedule::CityArrived, spawn_hazards)
        .add_systems(Update, sync_hazard_buffers.in_set(AppSystems::SyncScene));
}

/// The pins (for picking) and the GPU buffers with what they last held.
#[derive(Resource)]
pub struct HazardLayer {
    pub pins: Vec<Pin>,
    pub bodies: Handle<ShaderBuffer>,
    pub points: Handle<ShaderBuffer>,
    /// (body statuses, selection, samples) revisions last packed.
    synced: Option<(u64, u64, u64)>,
    scratch: Vec<u8>,
}

fn mesh_of(data: &MeshData) -> Mesh {
    Mesh::new(
        PrimitiveTopology::TriangleList,
        RenderAssetUsages::RENDER_WORLD,
    )
    .with_inserted_attribute(Mesh::ATTRIBUTE_POSITION, data.positions.clone())
    .with_inserted_attribute(Mesh::ATTRIBUTE_NORMAL, data.normals.clone())
    .with_inserted_attribute(ATTRIBUTE_HAZARD_IDS, data.ids.clone())
}

fn spawn_hazards(
    mut commands: Commands,
    city: Res<CityData>,
    state: Res<CityState>,
    mut meshes: ResMut<Assets<Mesh>>,
    mut buffers: ResMut<Assets<ShaderBuffer>>,
    mut materials: ResMut<Assets<HazardMaterial>>,
) {
    if city.hazards.is_empty() {
        return;
    }
    let started = std::time::Instant::now();
    let built = hazard_mesh::build(&city);
    for (code, reason) in &built.problems {
        warn!("hazard {code}: its outline cannot be filled ({reason}); drawn as an outline only");
    }
    let mut scratch = Vec::new();
    pack_bodies(&state, &mut scratch);
    let bodies = buffers.add(ShaderBuffer::new(&scratch, RenderAssetUsages::default()));
    pack_points(&state, &built.pins, &mut scratch);
    let points = buffers.add(ShaderBuffer::new(&scratch, RenderAssetUsages::default()));
    for (data, translucent, name) in [
        (&built.opaque, false, "hazard outlines and pins"),
        (&built.translucent, true, "hazard zones and volumes"),
    ] {
        if data.is_empty() {
            continue;
        }
        commands.spawn((
            Name::new(name),
            Mesh3d(meshes.add(mesh_of(data))),
            MeshMaterial3d(materials.add(HazardMaterial {
                params: HazardParams::from_theme(translucent, crate::cockpit::city::fog_for(&city)),
                bodies: bodies.clone(),
                points: points.clone(),
                translucent,
            })),
            Transform::IDENTITY,
            // Templates are grown by the shader: the mesh's bounds are not.
            NoFrustumCulling,
        ));
    }
    info!(
        "hazards meshed: {} bodies, {} points, {} + {} vertices, {:.0} ms",
        city.hazards.len(),
        built.pins.len(),
        built.opaque.len(),
        built.translucent.len(),
        started.elapsed().as_secs_f64() * 1e3
    );
    commands.insert_resource(HazardLayer {
        pins: built.pins,
        bodies,
        points,
        synced: Some(revisions(&state)),
        scratch,
    });
}

/// One word per body: level, selected, failed.
pub fn pack_bodies(state: &CityState, out: &mut Vec<u8>) {
    out.clear();
    let selected = state.selected_hazard().map(|(h, _)| h);
    for (i, h) in state.hazards().iter().enumerate() {
        let mut w = h.status.level as u32;
        if selected == Some(HazardId(i as u32)) {
            w |= SELECTED_BIT;
        }
        if h.status.failed_ms.is_some() {
            w |= FAILED_BIT;
        }
        out.extend_from_slice(&w.to_le_bytes());
    }
    if out.is_empty() {
        out.extend_from_slice(&0u32.to_le_bytes());
    }
}

/// One vec4 per point: the latest displacement as an arrow, and whether the
/// point is selected.
pub fn pack_points(state: &CityState, pins: &[Pin], out: &mut Vec<u8>) {
    out.clear();
    let selected = state.selected_hazard();
    for pin in pins {
        let latest = state
            .hazard(HazardId(pin.hazard))
            .and_then(|h| h.series.get(usize::from(pin.point)))
            .and_then(|s| {
                s.iter().rev().find_map(|sample| match sample {
                    Sample::Motion { vector_mm, .. } => Some(*vector_mm),
                    Sample::Rain { .. } => None,
                })
            });
        let arrow = latest.map_or([0.0; 3], arrow_world);
        let on = selected == Some((HazardId(pin.hazard), Some(pin.point)));
        for f in [arrow[0], arrow[1], arrow[2], f32::from(u8::from(on))] {
            out.extend_from_slice(&f.to_le_bytes());
        }
    }
    if out.is_empty() {
        out.extend_from_slice(&[0u8; 16]);
    }
}

fn revisions(state: &CityState) -> (u64, u64, u64) {
    let (_, selection) = state.revision();
    (
        state.hazards_revision(),
        selection,
        state.samples_revision(),
    )
}

/// Rewrites the buffers when a body's status, a sample or the selection
/// changed.
fn sync_hazard_buffers(
    state: Res<CityState>,
    layer: Option<ResMut<HazardLayer>>,
    mut buffers: ResMut<Assets<ShaderBuffer>>,
) {
    let Some(mut layer) = layer else { return };
    let now = revisions(&state);
    if layer.synced == Some(now) {
        return;
    }
    let layer = &mut *layer;
    if layer
        .synced
        .is_none_or(|(h, s, _)| (h, s) != (now.0, now.1))
    {
        pack_bodies(&state, &mut layer.scratch);
        if let Some(mut gpu) = buffers.get_mut(&layer.bodies) {
            gpu.data = Some(layer.scratch.clone());
        }
    }
    pack_points(&state, &layer.pins, &mut layer.scratch);
    if let Some(mut gpu) = buffers.get_mut(&layer.points) {
        gpu.data = Some(layer.scratch.clone());
    }
    layer.synced = Some(now);
}

/// The pin whose head is nearest a viewport position (within `radius_px`).
pub fn pick_pin(
    layer: &HazardLayer,
    camera: &Camera,
    camera_transform: &GlobalTransform,
    viewport_px: Vec2,
    radius_px: f32,
) -> Option<(HazardId, u16)> {
    let eye = camera_transform.translation();
    let mut best: Option<(f32, (HazardId, u16))> = None;
    for pin in &layer.pins {
        let base = Vec3::from(pin.base);
        let grow = (base.distance(eye) / SIZE_DISTANCE_M).clamp(0.4, 8.0);
        for along in [0.5, 1.0] {
            let p = base + Vec3::Y * PIN_HEIGHT_M * grow * along;
            let Ok(px) = camera.world_to_viewport(camera_transform, p) else {
                continue;
            };
            let d = px.distance(viewport_px);
            if d <= radius_px && best.is_none_or(|(b, _)| d < b) {
                best = Some((d, (HazardId(pin.hazard), pin.point)));
            }
        }
    }
    best.map(|(_, p)| p)
}
