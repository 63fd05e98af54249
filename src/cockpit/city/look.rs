//! How the city is drawn for a command hall: light that shows form, low
//! risk levels muted toward the ground (the "risk focus"), halos around
//! 较大/重大 buildings, a sky gradient. One [`Look`] resource; the legend's
//! control and briefing steps change it with [`SetLook`].

use bevy::asset::{RenderAssetUsages, uuid_handle};
use bevy::camera::visibility::NoFrustumCulling;
use bevy::mesh::{Indices, MeshVertexAttribute, PrimitiveTopology};
use bevy::prelude::*;
use bevy::render::render_resource::{AsBindGroup, ShaderType, VertexFormat};
use serde::{Deserialize, Serialize};

use crate::cockpit::state::{CityData, CityState};
use crate::cockpit::theme;
use crate::geo::mesh::HaloMesh;
use crate::model::RiskLevel;

pub const HALO_SHADER: Handle<Shader> = uuid_handle!("3f7c1a92-58d4-4e0b-b6a1-7d2e9c4f1b03");
pub const SKY_SHADER: Handle<Shader> = uuid_handle!("3f7c1a92-58d4-4e0b-b6a1-7d2e9c4f1b04");

/// Per halo vertex: the direction it is pushed outward on the screen.
pub const ATTRIBUTE_OUTWARD: MeshVertexAttribute =
    MeshVertexAttribute::new("HaloOutward", 0x00C1_7721, VertexFormat::Float32x3);

/// Width of a halo on the screen, whatever the distance (physical pixels).
pub const HALO_PX: f32 = 3.0;
/// Width of the roof-edge line (pixels of height on the screen).
pub const ROOF_EDGE_PX: f32 = 1.5;

/// How the city is drawn.
#[derive(Resource, Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Look {
    /// 0: all five levels equally bright … 1: only 较大/重大 in colour
    /// (低/较低 muted first, 一般 in the upper half of the range).
    pub risk_focus: f32,
    /// Light that shows form (sun, sky and ground ambient, the wall's foot,
    /// the roof edge). Off: round 1's flat lambert look, kept so
    /// `bench render` can print both.
    pub form: bool,
    /// Halos around 较大/重大 buildings.
    pub halos: bool,
}

/// The risk focus a cockpit opens with: low levels muted, 一般 visible.
pub const DEFAULT_RISK_FOCUS: f32 = 0.6;

impl Default for Look {
    fn default() -> Self {
        Look {
            risk_focus: DEFAULT_RISK_FOCUS,
            form: true,
            halos: true,
        }
    }
}

impl Look {
    /// Round 1's look: flat shading, all levels equal, no halos.
    pub fn flat() -> Look {
        Look {
            risk_focus: 0.0,
            form: false,
            halos: false,
        }
    }

    /// The same look with the risk focus set (clamped to 0‥1).
    pub fn with_focus(self, risk_focus: f32) -> Look {
        Look {
            risk_focus: if risk_focus.is_finite() {
                risk_focus.clamp(0.0, 1.0)
            } else {
                DEFAULT_RISK_FOCUS
            },
            ..self
        }
    }

    /// The `look` words of the buildings' uniform.
    pub fn words(&self) -> Vec4 {
        Vec4::new(
            self.risk_focus,
            if self.form { 1.0 } else { 0.0 },
            ROOF_EDGE_PX,
            0.0,
        )
    }
}

/// Change the look (the legend's risk-focus control, a briefing step).
#[derive(Message, Debug, Clone, Copy, PartialEq)]
pub struct SetLook(pub Look);

pub(super) fn apply_look(mut requests: MessageReader<SetLook>, mut look: ResMut<Look>) {
    if let Some(SetLook(next)) = requests.read().last().copied()
        && *look != next
    {
        *look = next;
    }
}

/// A tile's halo entity: its index in [`super::CityTiles`] and the
/// buildings its mesh has boxes for now.
#[derive(Component, Debug, Clone)]
pub struct HaloTile {
    pub index: usize,
    pub boxes: Vec<u32>,
}

/// Each tile's halo mesh holds boxes only for its buildings at 较大/重大
/// now: rebuilt (a few hundred boxes, the halo overlay only — building
/// meshes are never touched) when that set changes. The shader still
/// reads each box's level from the state buffer, so a building that
/// leaves the set loses its halo in the very frame its colour changes.
pub(super) fn sync_halo_boxes(
    state: Res<CityState>,
    city: Res<CityData>,
    tiles: Option<Res<super::CityTiles>>,
    mut halos: Query<(&mut HaloTile, &Mesh3d)>,
    mut meshes: ResMut<Assets<Mesh>>,
    mut synced: Local<Option<(u64, u64)>>,
) {
    let Some(tiles) = tiles else {
        return;
    };
    if *synced == Some(state.revision()) {
        return;
    }
    *synced = Some(state.revision());
    for (mut tile, mesh) in &mut halos {
        let Some(source) = tiles.0.get(tile.index) else {
            continue;
        };
        let wanted: Vec<u32> = haloed(&state, &source.buildings).map(|b| b.0).collect();
        if wanted == tile.boxes {
            continue;
        }
        let (next, boxes) = halo_boxes(&city, &state, &source.buildings);
        if let Some(mut m) = meshes.get_mut(&mesh.0) {
            *m = next;
        }
        tile.boxes = boxes;
    }
}

/// Of `buildings`, those at 较大/重大 now.
fn haloed<'a>(
    state: &'a CityState,
    buildings: &'a [crate::model::BuildingId],
) -> impl Iterator<Item = crate::model::BuildingId> + 'a {
    buildings
        .iter()
        .copied()
        .filter(|id| matches!(state.level(*id), Some(RiskLevel::Major | RiskLevel::High)))
}

/// A tile's halo mesh for its buildings at 较大/重大 now, and their ids.
pub(super) fn halo_boxes(
    city: &crate::model::City,
    state: &CityState,
    buildings: &[crate::model::BuildingId],
) -> (Mesh, Vec<u32>) {
    let ids: Vec<_> = haloed(state, buildings).collect();
    let mut halo = HaloMesh::of(ids.iter().filter_map(|id| city.building(*id)));
    if halo.indices.is_empty() {
        // A mesh needs a triangle: one of zero area draws nothing.
        halo.positions = vec![[0.0; 3]; 3];
        halo.outward = vec![[0.0; 3]; 3];
        halo.building_ids = vec![0; 3];
        halo.indices = vec![0, 1, 2];
    }
    (halo_mesh_to_bevy(&halo), ids.iter().map(|b| b.0).collect())
}

/// With halos off no halo box is drawn at all, and round 1's flat look
/// has no sky: what `bench render` compares is then round 1's work.
#[allow(clippy::type_complexity)]
pub(super) fn show_look_entities(
    look: Res<Look>,
    mut halos: Query<
        &mut Visibility,
        (
            With<MeshMaterial3d<HaloMaterial>>,
            Without<MeshMaterial3d<SkyMaterial>>,
        ),
    >,
    mut sky: Query<&mut Visibility, With<MeshMaterial3d<SkyMaterial>>>,
) {
    if !look.is_changed() {
        return;
    }
    let shown = |on: bool| {
        if on {
            Visibility::Inherited
        } else {
            Visibility::Hidden
        }
    };
    for mut v in &mut halos {
        v.set_if_neq(shown(look.halos));
    }
    for mut v in &mut sky {
        v.set_if_neq(shown(look.form));
    }
}

#[derive(Clone, Copy, Debug, ShaderType)]
pub struct HaloParams {
    pub colors: [Vec4; 2],
    pub fog_color: Vec4,
    pub halo: Vec4,
    pub focus: UVec4,
}

impl HaloParams {
    pub fn from_theme(look: &Look, fog: f32) -> HaloParams {
        HaloParams {
            colors: [RiskLevel::Major, RiskLevel::High].map(|l| theme::halo_color(l).linear()),
            fog_color: theme::HAZE.linear(),
            halo: Vec4::new(HALO_PX, fog, if look.halos { 1.0 } else { 0.0 }, 0.0),
            focus: UVec4::ZERO,
        }
    }
}

#[derive(Asset, TypePath, AsBindGroup, Debug, Clone)]
pub struct HaloMaterial {
    #[uniform(0)]
    pub params: HaloParams,
    #[storage(1, read_only)]
    pub states: Handle<bevy::render::storage::ShaderBuffer>,
    #[storage(2, read_only)]
    pub areas: Handle<bevy::render::storage::ShaderBuffer>,
}

lean_material!(
    HaloMaterial,
    HALO_SHADER,
    [
        Mesh::ATTRIBUTE_POSITION,
        ATTRIBUTE_OUTWARD,
        super::buildings::ATTRIBUTE_BUILDING_ID
    ],
    cull = Front
);

pub fn halo_mesh_to_bevy(halo: &HaloMesh) -> Mesh {
    Mesh::new(
        PrimitiveTopology::TriangleList,
        RenderAssetUsages::RENDER_WORLD,
    )
    .with_inserted_attribute(Mesh::ATTRIBUTE_POSITION, halo.positions.clone())
    .with_inserted_attribute(ATTRIBUTE_OUTWARD, halo.outward.clone())
    .with_inserted_attribute(
        super::buildings::ATTRIBUTE_BUILDING_ID,
        halo.building_ids.clone(),
    )
    .with_inserted_indices(Indices::U32(halo.indices.clone()))
}

#[derive(Clone, Copy, Debug, ShaderType)]
pub struct SkyParams {
    pub horizon: Vec4,
    pub zenith: Vec4,
}

#[derive(Asset, TypePath, AsBindGroup, Debug, Clone)]
pub struct SkyMaterial {
    #[uniform(0)]
    pub params: SkyParams,
}

lean_material!(SkyMaterial, SKY_SHADER, [Mesh::ATTRIBUTE_POSITION]);

/// The sky: one triangle covering the clip rectangle (drawn at the far
/// plane by its shader, never culled).
pub(super) fn spawn_sky(
    commands: &mut Commands,
    meshes: &mut Assets<Mesh>,
    materials: &mut Assets<SkyMaterial>,
) {
    let mesh = Mesh::new(
        PrimitiveTopology::TriangleList,
        RenderAssetUsages::RENDER_WORLD,
    )
    .with_inserted_attribute(
        Mesh::ATTRIBUTE_POSITION,
        vec![[-1.0f32, -1.0, 0.0], [3.0, -1.0, 0.0], [-1.0, 3.0, 0.0]],
    )
    .with_inserted_indices(Indices::U32(vec![0, 1, 2]));
    commands.spawn((
        Name::new("sky"),
        Mesh3d(meshes.add(mesh)),
        MeshMaterial3d(materials.add(SkyMaterial {
            params: SkyParams {
                horizon: theme::HAZE.linear(),
                zenith: theme::ZENITH.linear(),
            },
        })),
        NoFrustumCulling,
        Transform::IDENTITY,
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn focus_is_clamped_and_a_bad_value_falls_back_to_the_default() {
        assert_eq!(Look::default().with_focus(2.0).risk_focus, 1.0);
        assert_eq!(Look::default().with_focus(-1.0).risk_focus, 0.0);
        assert_eq!(
            Look::default().with_focus(f32::NAN).risk_focus,
            DEFAULT_RISK_FOCUS
        );
        assert_eq!(Look::flat().words().y, 0.0);
        assert_eq!(Look::default().words().y, 1.0);
    }
}
