//! Buildings on the GPU: one entity per tile mesh, one storage buffer of
//! per-building state words. A level change rewrites that buffer only — no
//! mesh rebuild, no material swap (swaps would break batching).

use bevy::asset::{RenderAssetUsages, uuid_handle};
use bevy::camera::primitives::Aabb;
use bevy::camera::visibility::{RenderLayers, VisibilityRange};
use bevy::mesh::{Indices, MeshVertexAttribute, PrimitiveTopology};
use bevy::prelude::*;
use bevy::render::render_resource::{AsBindGroup, ShaderType, VertexFormat};
use bevy::render::storage::ShaderBuffer;

use super::look::{HaloMaterial, HaloParams, Look};
use crate::cockpit::drill::Drill;
use crate::cockpit::state::CityState;
use crate::cockpit::theme;
use crate::geo::mesh::{FAR_TOLERANCE_M, ROOFS_MIN_WALL_M, TileMesh};
use crate::geo::raster::TileRaster;
use crate::model::{Area, City, RiskLevel};

pub const BUILDINGS_SHADER: Handle<Shader> = uuid_handle!("5b0c3f0e-3a51-4d7c-9d36-6c1f0e6c2a01");

/// Per-vertex building id: indexes the state buffer.
pub const ATTRIBUTE_BUILDING_ID: MeshVertexAttribute =
    MeshVertexAttribute::new("BuildingId", 0x00C1_7719, VertexFormat::Uint32);

/// Per-vertex (metres above the base, building height).
pub const ATTRIBUTE_WALL: MeshVertexAttribute =
    MeshVertexAttribute::new("BuildingWall", 0x00C1_7722, VertexFormat::Float32x2);

/// Pulse rate of alarmed buildings (rad/s): about one flash a second.
const ALARM_PULSE_RAD_PER_S: f32 = 6.0;

#[derive(Clone, Copy, Debug, ShaderType)]
pub struct BuildingParams {
    pub palette: [Vec4; 5],
    pub selected_color: Vec4,
    pub alarm_color: Vec4,
    pub fog_color: Vec4,
    pub sun: Vec4,
    pub fog: Vec4,
    /// x: 0 whole city, 1 district `y`, 2 street `z` (see [`focus_words`]).
    pub focus: UVec4,
    pub sky: Vec4,
    pub ground: Vec4,
    pub mute: Vec4,
    /// See [`Look::words`].
    pub look: Vec4,
}

/// The focus uniform for an area.
pub fn focus_words(area: Area) -> UVec4 {
    match area {
        Area::City => UVec4::ZERO,
        Area::District(d) => UVec4::new(1, u32::from(d.0), 0, 0),
        Area::Street(d, s) => UVec4::new(2, u32::from(d.0), u32::from(s.0), 0),
    }
}

/// Per building: district index | street index << 16 (static).
pub fn area_words(city: &City) -> Vec<u8> {
    let mut out = Vec::with_capacity(city.buildings.len().max(1) * 4);
    for b in &city.buildings {
        let word = u32::from(b.district.0) | (u32::from(b.street.0) << 16);
        out.extend_from_slice(&word.to_le_bytes());
    }
    if out.is_empty() {
        out.extend_from_slice(&0u32.to_le_bytes());
    }
    out
}

impl BuildingParams {
    pub fn from_theme(look: &Look, fog: f32) -> BuildingParams {
        BuildingParams {
            palette: RiskLevel::ALL.map(|l| theme::risk_color(l).linear()),
            selected_color: theme::SELECTED.linear(),
            alarm_color: theme::ALARM_FLASH.linear(),
            fog_color: theme::HAZE.linear(),
            sun: theme::sun_direction().extend(0.38),
            fog: Vec4::new(fog, ALARM_PULSE_RAD_PER_S, 0.0, 0.0),
            focus: UVec4::ZERO,
            sky: theme::SKY_AMBIENT.extend(1.0),
            ground: theme::GROUND_AMBIENT.extend(1.0),
            mute: theme::MUTED_BUILDING.linear(),
            look: look.words(),
        }
    }
}

#[derive(Asset, TypePath, AsBindGroup, Debug, Clone)]
pub struct BuildingMaterial {
    #[uniform(0)]
    pub params: BuildingParams,
    #[storage(1, read_only)]
    pub states: Handle<ShaderBuffer>,
    #[storage(2, read_only)]
    pub areas: Handle<ShaderBuffer>,
}

lean_material!(
    BuildingMaterial,
    BUILDINGS_SHADER,
    [
        Mesh::ATTRIBUTE_POSITION,
        ATTRIBUTE_BUILDING_ID,
        ATTRIBUTE_WALL
    ]
);

/// Where a tile's raster lies (see [`crate::geo::raster::TileRaster`]).
#[derive(Clone, Copy, Debug, ShaderType)]
pub struct RasterParams {
    /// xy: texel (0, 0)'s south-west corner (local metres); z: texel side.
    pub origin: Vec4,
    /// xy: texels east, north.
    pub size: UVec4,
}

/// The roofs level's flat part of one tile: the building material's
/// bindings and look, plus the tile's grid of building ids.
#[derive(Asset, TypePath, AsBindGroup, Debug, Clone)]
pub struct RasterMaterial {
    #[uniform(0)]
    pub params: BuildingParams,
    #[storage(1, read_only)]
    pub states: Handle<ShaderBuffer>,
    #[storage(2, read_only)]
    pub areas: Handle<ShaderBuffer>,
    #[uniform(3)]
    pub raster: RasterParams,
    #[storage(4, read_only)]
    pub ids: Handle<ShaderBuffer>,
}

lean_material!(
    RasterMaterial,
    BUILDINGS_SHADER,
    [Mesh::ATTRIBUTE_POSITION],
    cull = Back,
    entry = ("raster_vertex", "raster_fragment")
);

/// The state buffer and the revision of [`CityState`] it holds.
#[derive(Resource)]
pub struct BuildingStateBuffer {
    pub handle: Handle<ShaderBuffer>,
    pub material: Handle<BuildingMaterial>,
    pub halo: Handle<HaloMaterial>,
    /// One per tile with a raster (its own ids, the shared look).
    pub rasters: Vec<Handle<RasterMaterial>>,
    pub synced_revision: (u64, u64),
    scratch: Vec<u8>,
}

/// The render layer of the buildings drawn at the shared drill level:
/// every city camera sees it, except one with its own [`ViewArea`].
pub const SHARED_BUILDINGS_LAYER: usize = 1;

/// The layers a city camera sees: everything (layer 0) and the buildings
/// at the shared drill level.
pub fn city_layers() -> RenderLayers {
    RenderLayers::from_layers(&[0, SHARED_BUILDINGS_LAYER])
}

/// A camera with its own drill level (a wall window's): the buildings
/// outside this area dim in its picture only.
#[derive(Component, Debug, Clone, Copy, PartialEq, Eq)]
pub struct ViewArea(pub Area);

/// Marks the tile copies drawn for one [`ViewArea`] camera.
#[derive(Component, Debug, Clone, Copy)]
pub struct ViewCopy;

/// The buildings of one view with its own area: copies of the tile
/// entities on their own render layer, sharing the meshes and the state
/// buffer, with their own materials (their own focus uniform).
#[derive(Debug)]
pub struct ViewBuildings {
    pub camera: Entity,
    pub area: Area,
    pub layer: usize,
    material: Handle<BuildingMaterial>,
    halo: Handle<HaloMaterial>,
    rasters: Vec<Handle<RasterMaterial>>,
    entities: Vec<Entity>,
}

/// Every view with its own area.
#[derive(Resource, Default, Debug)]
pub struct ViewBuildingSets(pub Vec<ViewBuildings>);

/// Gives each new [`ViewArea`] camera its own copy of the building tiles
/// (own layer, own materials); a camera gone takes its copies with it.
#[allow(clippy::type_complexity, clippy::too_many_arguments)]
pub fn spawn_view_buildings(
    mut commands: Commands,
    buffer: Option<Res<BuildingStateBuffer>>,
    mut sets: ResMut<ViewBuildingSets>,
    cameras: Query<(Entity, &ViewArea)>,
    tiles: Query<
        (
            &Mesh3d,
            &Aabb,
            Has<MeshMaterial3d<BuildingMaterial>>,
            Option<&MeshMaterial3d<RasterMaterial>>,
            Option<(&TileLevel, &VisibilityRange)>,
            Has<CoversFar>,
        ),
        (
            Without<ViewCopy>,
            Or<(
                With<MeshMaterial3d<BuildingMaterial>>,
                With<MeshMaterial3d<RasterMaterial>>,
                With<MeshMaterial3d<HaloMaterial>>,
            )>,
        ),
    >,
    mut materials: ResMut<Assets<BuildingMaterial>>,
    mut rasters: ResMut<Assets<RasterMaterial>>,
    mut halos: ResMut<Assets<HaloMaterial>>,
) {
    let Some(buffer) = buffer else {
        return;
    };
    sets.0.retain(|set| {
        let alive = cameras.contains(set.camera);
        if !alive {
            for e in &set.entities {
                commands.entity(*e).try_despawn();
            }
        }
        alive
    });
    for (camera, area) in &cameras {
        if sets.0.iter().any(|s| s.camera == camera) {
            continue;
        }
        let (Some(main), Some(main_halo)) = (
            materials.get(&buffer.material).cloned(),
            halos.get(&buffer.halo).cloned(),
        ) else {
            continue;
        };
        let layer = (SHARED_BUILDINGS_LAYER + 1..)
            .find(|l| sets.0.iter().all(|s| s.layer != *l))
            .unwrap_or(SHARED_BUILDINGS_LAYER + 1);
        let words = focus_words(area.0);
        let material = materials.add(BuildingMaterial {
            params: BuildingParams {
                focus: words,
                ..main.params
            },
            ..main
        });
        let halo = halos.add(HaloMaterial {
            params: HaloParams {
                focus: words,
                ..main_halo.params
            },
            ..main_halo
        });
        let mut entities = Vec::new();
        let mut view_rasters = Vec::new();
        for (mesh, aabb, is_tile, raster, level, covers_far) in &tiles {
            let mut copy = commands.spawn((
                Name::new("view buildings"),
                mesh.clone(),
                *aabb,
                Transform::IDENTITY,
                RenderLayers::layer(layer),
                ViewCopy,
            ));
            if let Some((level, range)) = level {
                copy.insert((*level, range.clone()));
            }
            if covers_far {
                copy.insert(CoversFar);
            }
            if is_tile {
                copy.insert(MeshMaterial3d(material.clone()));
            } else if let Some(raster) = raster {
                // The tile's own ids, the view's focus.
                let Some(main) = rasters.get(&raster.0).cloned() else {
                    continue;
                };
                let own = rasters.add(RasterMaterial {
                    params: BuildingParams {
                        focus: words,
                        ..main.params
                    },
                    ..main
                });
                copy.insert(MeshMaterial3d(own.clone()));
                view_rasters.push(own);
            } else {
                copy.insert(MeshMaterial3d(halo.clone()));
            }
            entities.push(copy.id());
        }
        commands
            .entity(camera)
            .insert(RenderLayers::from_layers(&[0, layer]));
        sets.0.push(ViewBuildings {
            camera,
            area: area.0,
            layer,
            material,
            halo,
            rasters: view_rasters,
            entities,
        });
    }
}

/// Which level of detail a building-tile entity draws.
#[derive(Component, Debug, Clone, Copy, PartialEq, Eq)]
pub enum TileLevel {
    /// Every footprint as it is.
    Near,
    /// Simplified footprints on shared corners ([`crate::geo::mesh::append_building_far`]).
    Far,
    /// The buildings tall enough for their walls to show
    /// ([`crate::geo::mesh::append_building_roofs`]), the others flat from
    /// the tile's raster ([`RasterMaterial`]): two entities.
    Roofs,
}

/// Where a tile switches from its near to its far level: chosen by screen
/// size. The far level strays at most [`FAR_TOLERANCE_M`] from the real
/// footprints; it is drawn once that is under [`LOD_PIXEL_BUDGET`] pixels
/// for the tile's nearest building on a [`LOD_REFERENCE_HEIGHT_PX`]-pixel
/// screen (45° field of view).
#[derive(Resource, Debug, Clone, Copy, PartialEq)]
pub struct BuildingLod {
    /// Distance from the camera to a tile's centre (m) beyond which its far
    /// level is drawn; `f32::INFINITY` draws every tile near.
    pub switch_m: f32,
    /// … and beyond which its roofs level is (walls lower than
    /// [`ROOFS_MIN_WALL_M`] under [`ROOFS_PIXEL_BUDGET`] pixels high for its
    /// nearest building).
    pub roofs_m: f32,
}

pub const LOD_PIXEL_BUDGET: f32 = 0.75;
/// The roofs level leaves out walls under this many pixels high (and
/// draws those buildings flat, their roofs at most half that off).
pub const ROOFS_PIXEL_BUDGET: f32 = 2.0;
pub const LOD_REFERENCE_HEIGHT_PX: f32 = 1080.0;

impl BuildingLod {
    /// The switch for tiles of `tile_size_m`.
    pub fn for_tiles(tile_size_m: f32) -> BuildingLod {
        let px_per_m_at_1m = LOD_REFERENCE_HEIGHT_PX / (2.0 * 22.5f32.to_radians().tan());
        let half_diagonal = tile_size_m * std::f32::consts::FRAC_1_SQRT_2;
        let nearest = FAR_TOLERANCE_M * px_per_m_at_1m / LOD_PIXEL_BUDGET;
        // A wall of ROOFS_MIN_WALL_M under ROOFS_PIXEL_BUDGET pixels.
        let roofs_nearest = ROOFS_MIN_WALL_M * px_per_m_at_1m / ROOFS_PIXEL_BUDGET;
        BuildingLod {
            switch_m: nearest + half_diagonal,
            roofs_m: roofs_nearest + half_diagonal,
        }
    }

    /// Every tile at its near level (benchmarks: the full-detail frame).
    pub fn near_only() -> BuildingLod {
        BuildingLod {
            switch_m: f32::INFINITY,
            roofs_m: f32::INFINITY,
        }
    }

    /// The distances a level is drawn at; a near level that `covers_far`
    /// (its tile has no far level) is drawn up to the roofs level.
    pub fn range(&self, level: TileLevel, covers_far: bool) -> VisibilityRange {
        let switch = self.switch_m.min(f32::MAX);
        let roofs = self.roofs_m.clamp(switch, f32::MAX);
        let mut range = match level {
            TileLevel::Near if covers_far => VisibilityRange::abrupt(0.0, roofs),
            TileLevel::Near => VisibilityRange::abrupt(0.0, switch),
            TileLevel::Far => VisibilityRange::abrupt(switch, roofs),
            TileLevel::Roofs => VisibilityRange::abrupt(roofs, f32::MAX),
        };
        range.use_aabb = true;
        range
    }
}

impl Default for BuildingLod {
    fn default() -> BuildingLod {
        BuildingLod::for_tiles(super::TILE_SIZE_M)
    }
}

/// On a near-level tile entity whose tile keeps no far level (it would
/// save too little, [`crate::geo::mesh::FAR_WORTH_KEEPING`]): the near level
/// is drawn over the far level's distances too.
#[derive(Component, Debug, Clone, Copy)]
pub struct CoversFar;

/// Puts a changed [`BuildingLod`] on every tile entity (and view copy).
pub fn apply_lod(
    lod: Res<BuildingLod>,
    mut tiles: Query<(&TileLevel, Has<CoversFar>, &mut VisibilityRange)>,
) {
    if !lod.is_changed() {
        return;
    }
    for (level, covers_far, mut range) in &mut tiles {
        let wanted = lod.range(*level, covers_far);
        if *range != wanted {
            *range = wanted;
        }
    }
}

/// Marks a tile entity; `index` points into [`super::CityTiles`].
#[derive(Component, Debug, Clone, Copy)]
pub struct BuildingTile {
    pub index: usize,
}

/// A level's mesh for the GPU, nothing kept on the CPU.
pub fn tile_mesh_to_bevy(level: TileMesh) -> Mesh {
    Mesh::new(
        PrimitiveTopology::TriangleList,
        RenderAssetUsages::RENDER_WORLD,
    )
    .with_inserted_attribute(Mesh::ATTRIBUTE_POSITION, level.positions)
    .with_inserted_attribute(ATTRIBUTE_BUILDING_ID, level.building_ids)
    .with_inserted_attribute(ATTRIBUTE_WALL, level.walls)
    .with_inserted_indices(Indices::U32(level.indices))
}

pub fn tile_aabb(tile: &TileMesh) -> Aabb {
    Aabb::from_min_max(Vec3::from(tile.aabb_min), Vec3::from(tile.aabb_max))
}

/// Spawns one entity per tile and level sharing one material, and the
/// state buffer; the meshes go to the GPU, what is left of each tile is
/// returned (for picking and the halos).
#[allow(clippy::too_many_arguments)]
pub(super) fn spawn_building_tiles(
    commands: &mut Commands,
    tiles: Vec<TileMesh>,
    city: &City,
    state: &CityState,
    lod: &BuildingLod,
    meshes: &mut Assets<Mesh>,
    buffers: &mut Assets<ShaderBuffer>,
    materials: &mut Assets<BuildingMaterial>,
    rasters: &mut Assets<RasterMaterial>,
    halos: &mut Assets<HaloMaterial>,
    look: &Look,
) -> Vec<super::CityTile> {
    let fog = crate::cockpit::city::fog_for(city);
    let mut bytes = Vec::new();
    state.pack_into(&mut bytes);
    // A storage binding may not be empty: keep at least one word.
    if bytes.is_empty() {
        bytes.extend_from_slice(&0u32.to_le_bytes());
    }
    let states = buffers.add(ShaderBuffer::new(&bytes, RenderAssetUsages::default()));
    let areas = buffers.add(ShaderBuffer::new(
        &area_words(city),
        RenderAssetUsages::default(),
    ));
    let material = materials.add(BuildingMaterial {
        params: BuildingParams::from_theme(look, fog),
        states: states.clone(),
        areas: areas.clone(),
    });
    let halo = halos.add(HaloMaterial {
        params: HaloParams::from_theme(look, fog),
        states: states.clone(),
        areas: areas.clone(),
    });
    let mut kept = Vec::with_capacity(tiles.len());
    let mut raster_materials = Vec::new();
    for (index, mut tile) in tiles.into_iter().enumerate() {
        let covers_far = tile.far.is_none();
        let aabb = tile_aabb(&tile);
        let (far, roofs, raster) = (tile.far.take(), tile.roofs.take(), tile.raster.take());
        let info = super::CityTile {
            key: tile.key,
            aabb_min: tile.aabb_min,
            aabb_max: tile.aabb_max,
            buildings: std::mem::take(&mut tile.buildings),
        };
        let mut near = commands.spawn((
            Name::new(format!("buildings tile {:?}", tile.key)),
            Mesh3d(meshes.add(tile_mesh_to_bevy(tile))),
            MeshMaterial3d(material.clone()),
            aabb,
            BuildingTile { index },
            TileLevel::Near,
            lod.range(TileLevel::Near, covers_far),
            Transform::IDENTITY,
            RenderLayers::layer(SHARED_BUILDINGS_LAYER),
        ));
        if covers_far {
            near.insert(CoversFar);
        }
        for (level, mesh) in [(TileLevel::Far, far), (TileLevel::Roofs, roofs)] {
            let Some(mesh) = mesh else { continue };
            commands.spawn((
                Name::new(format!("{level:?} buildings tile {:?}", info.key)),
                Mesh3d(meshes.add(tile_mesh_to_bevy(*mesh))),
                MeshMaterial3d(material.clone()),
                // The near level's box: every level switches at one distance.
                aabb,
                level,
                lod.range(level, false),
                Transform::IDENTITY,
                RenderLayers::layer(SHARED_BUILDINGS_LAYER),
            ));
        }
        if let Some(raster) = raster {
            let TileRaster {
                origin_m,
                texel_m,
                size,
                ids,
                positions,
                indices,
                ..
            } = *raster;
            let ids: Vec<u8> = ids.iter().flat_map(|w| w.to_le_bytes()).collect();
            let own = rasters.add(RasterMaterial {
                params: BuildingParams::from_theme(look, fog),
                states: states.clone(),
                areas: areas.clone(),
                raster: RasterParams {
                    origin: Vec4::new(origin_m[0], origin_m[1], texel_m, 0.0),
                    size: UVec4::new(size[0], size[1], 0, 0),
                },
                ids: buffers.add(ShaderBuffer::new(&ids, RenderAssetUsages::RENDER_WORLD)),
            });
            let surface = Mesh::new(
                PrimitiveTopology::TriangleList,
                RenderAssetUsages::RENDER_WORLD,
            )
            .with_inserted_attribute(Mesh::ATTRIBUTE_POSITION, positions)
            .with_inserted_indices(Indices::U32(indices));
            commands.spawn((
                Name::new(format!("raster buildings tile {:?}", info.key)),
                Mesh3d(meshes.add(surface)),
                MeshMaterial3d(own.clone()),
                aabb,
                TileLevel::Roofs,
                lod.range(TileLevel::Roofs, false),
                Transform::IDENTITY,
                RenderLayers::layer(SHARED_BUILDINGS_LAYER),
            ));
            raster_materials.push(own);
        }
        let (halo_mesh, boxes) = super::look::halo_boxes(city, state, &info.buildings);
        commands.spawn((
            Name::new(format!("halos tile {:?}", info.key)),
            Mesh3d(meshes.add(halo_mesh)),
            MeshMaterial3d(halo.clone()),
            super::look::HaloTile { index, boxes },
            aabb,
            Transform::IDENTITY,
            RenderLayers::layer(SHARED_BUILDINGS_LAYER),
        ));
        kept.push(info);
    }
    commands.insert_resource(BuildingStateBuffer {
        handle: states,
        material,
        halo,
        rasters: raster_materials,
        synced_revision: state.revision(),
        scratch: bytes,
    });
    kept
}

/// Copies [`CityState`] into the GPU state buffer when it changed.
pub fn sync_state_buffer(
    state: Res<CityState>,
    buffer: Option<ResMut<BuildingStateBuffer>>,
    mut buffers: ResMut<Assets<ShaderBuffer>>,
) {
    let Some(mut buffer) = buffer else { return };
    if buffer.synced_revision == state.revision() || state.is_empty() {
        return;
    }
    let buffer = &mut *buffer;
    state.pack_into(&mut buffer.scratch);
    if let Some(mut gpu) = buffers.get_mut(&buffer.handle) {
        match gpu.data.as_mut() {
            Some(data) if data.len() == buffer.scratch.len() => {
                data.copy_from_slice(&buffer.scratch)
            }
            _ => gpu.data = Some(buffer.scratch.clone()),
        }
    }
    buffer.synced_revision = state.revision();
}

/// A material that draws buildings with the shared [`BuildingParams`].
trait WithBuildingParams: Asset {
    fn params(&self) -> &BuildingParams;
    fn params_mut(&mut self) -> &mut BuildingParams;
}

impl WithBuildingParams for BuildingMaterial {
    fn params(&self) -> &BuildingParams {
        &self.params
    }
    fn params_mut(&mut self) -> &mut BuildingParams {
        &mut self.params
    }
}

impl WithBuildingParams for RasterMaterial {
    fn params(&self) -> &BuildingParams {
        &self.params
    }
    fn params_mut(&mut self) -> &mut BuildingParams {
        &mut self.params
    }
}

/// Sets a building material's focus and look, writing it only when they
/// change (a write re-uploads the uniform).
fn refocus<M: WithBuildingParams>(
    assets: &mut Assets<M>,
    handle: &Handle<M>,
    focus: UVec4,
    look: Vec4,
) {
    if assets
        .get(handle)
        .is_some_and(|m| m.params().focus != focus || m.params().look != look)
        && let Some(mut material) = assets.get_mut(handle)
    {
        let params = material.params_mut();
        params.focus = focus;
        params.look = look;
    }
}

/// Dims the buildings outside the drilled-into area (a [`ViewArea`]
/// camera's own area in its picture) and follows the [`Look`]: uniforms
/// are written only when they change.
#[allow(clippy::too_many_arguments)]
pub fn sync_focus(
    drill: Option<Res<Drill>>,
    look: Res<Look>,
    buffer: Option<Res<BuildingStateBuffer>>,
    mut sets: ResMut<ViewBuildingSets>,
    views: Query<&ViewArea>,
    mut materials: ResMut<Assets<BuildingMaterial>>,
    mut rasters: ResMut<Assets<RasterMaterial>>,
    mut halos: ResMut<Assets<HaloMaterial>>,
) {
    let Some(buffer) = buffer else {
        return;
    };
    let shared = drill.map_or(Area::City, |d| d.at);
    for set in &mut sets.0 {
        if let Ok(area) = views.get(set.camera) {
            set.area = area.0;
        }
    }
    let targets = std::iter::once((shared, &buffer.material, &buffer.halo, &buffer.rasters)).chain(
        sets.0
            .iter()
            .map(|s| (s.area, &s.material, &s.halo, &s.rasters)),
    );
    let look_words = look.words();
    let halo_on = if look.halos { 1.0 } else { 0.0 };
    for (area, material, halo, tile_rasters) in targets {
        let words = focus_words(area);
        for raster in tile_rasters {
            refocus(&mut rasters, raster, words, look_words);
        }
        refocus(&mut materials, material, words, look_words);
        if halos
            .get(halo)
            .is_some_and(|m| m.params.focus != words || m.params.halo.z != halo_on)
            && let Some(mut halo) = halos.get_mut(halo)
        {
            halo.params.focus = words;
            halo.params.halo.z = halo_on;
        }
    }
}
