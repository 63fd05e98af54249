//! The 3D city: terrain, water and building tiles, and keeping the GPU state
//! buffer in step with [`CityState`](crate::cockpit::state::CityState).

/// Implements `Material` the lean way every city material shares: one WGSL
/// file for both stages, no prepass, no shadows, and exactly the given
/// vertex attributes at shader locations 0, 1, 2, … in that order.
/// `cull = Front` draws a mesh from the inside (the halos' hulls).
macro_rules! lean_material {
    ($material:ty, $shader:expr, [$($attribute:expr),+ $(,)?]) => {
        lean_material!($material, $shader, [$($attribute),+], cull = Back);
    };
    ($material:ty, $shader:expr, [$($attribute:expr),+ $(,)?], cull = $cull:ident) => {
        lean_material!($material, $shader, [$($attribute),+], cull = $cull, entry = ("vertex", "fragment"));
    };
    ($material:ty, $shader:expr, [$($attribute:expr),+ $(,)?], cull = $cull:ident, entry = ($vertex:literal, $fragment:literal)) => {
        impl bevy::pbr::Material for $material {
            fn vertex_shader() -> bevy::shader::ShaderRef {
                $shader.into()
            }

            fn fragment_shader() -> bevy::shader::ShaderRef {
                $shader.into()
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
                let attributes: Vec<_> = [$($attribute),+]
                    .iter()
                    .enumerate()
                    .map(|(location, a)| a.at_shader_location(location as u32))
                    .collect();
                descriptor.vertex.buffers = vec![layout.0.get_layout(&attributes)?];
                descriptor.vertex.entry_point = Some($vertex.into());
                if let Some(fragment) = descriptor.fragment.as_mut() {
                    fragment.entry_point = Some($fragment.into());
                }
                descriptor.primitive.cull_mode = Some(bevy::render::render_resource::Face::$cull);
                Ok(())
            }
        }
    };
}

pub mod boundaries;
pub mod buildings;
pub mod look;
pub mod markers;
pub mod terrain;

use bevy::prelude::*;
use bevy::render::storage::ShaderBuffer;

use super::schedule::{AppSystems, CityArrived};
use super::state::{CityData, CityState};
use crate::geo::mesh::{TileMesh, build_tiles};
use buildings::{BUILDINGS_SHADER, BuildingMaterial, sync_state_buffer};
use terrain::{GroundMaterial, TERRAIN_SHADER, water_mesh};

/// Side of a building tile: dense centres give 1–5k buildings per tile.
pub const TILE_SIZE_M: f32 = 3000.0;

pub(super) fn plugin(app: &mut App) {
    let mut shaders = app.world_mut().resource_mut::<Assets<Shader>>();
    for (handle, source, path) in [
        (
            &BUILDINGS_SHADER,
            include_str!("../../../shaders/buildings.wgsl"),
            "shaders/buildings.wgsl",
        ),
        (
            &TERRAIN_SHADER,
            include_str!("../../../shaders/terrain.wgsl"),
            "shaders/terrain.wgsl",
        ),
        (
            &markers::MARKERS_SHADER,
            include_str!("../../../shaders/markers.wgsl"),
            "shaders/markers.wgsl",
        ),
        (
            &boundaries::LINES_SHADER,
            include_str!("../../../shaders/lines.wgsl"),
            "shaders/lines.wgsl",
        ),
        (
            &look::HALO_SHADER,
            include_str!("../../../shaders/halo.wgsl"),
            "shaders/halo.wgsl",
        ),
        (
            &look::SKY_SHADER,
            include_str!("../../../shaders/sky.wgsl"),
            "shaders/sky.wgsl",
        ),
    ] {
        if let Err(e) = shaders.insert(handle.id(), Shader::from_wgsl(source, path)) {
            error!("cannot register {path}: {e}");
        }
    }
    app.add_plugins((
        MaterialPlugin::<BuildingMaterial>::default(),
        MaterialPlugin::<buildings::RasterMaterial>::default(),
        MaterialPlugin::<GroundMaterial>::default(),
        MaterialPlugin::<markers::MarkerMaterial>::default(),
        MaterialPlugin::<boundaries::LineMaterial>::default(),
        MaterialPlugin::<look::HaloMaterial>::default(),
        MaterialPlugin::<look::SkyMaterial>::default(),
    ))
    .init_resource::<look::Look>()
    .init_resource::<buildings::BuildingLod>()
    .init_resource::<terrain::TerrainLod>()
    .init_resource::<buildings::ViewBuildingSets>()
    .add_message::<look::SetLook>()
    .add_systems(CityArrived, spawn_city)
    .add_systems(Update, look::apply_look.in_set(AppSystems::Ingest))
    .add_systems(
        Update,
        (
            sync_state_buffer,
            (
                buildings::spawn_view_buildings,
                buildings::sync_focus,
                buildings::apply_lod,
            )
                .chain(),
            terrain::apply_terrain_lod,
            look::show_look_entities,
            look::sync_halo_boxes,
            markers::sync_markers,
            boundaries::sync_boundaries,
        )
            .in_set(AppSystems::SyncScene),
    );
}

/// The fog density for `city`: thinned for data so large that its first
/// view is far away (see [`crate::cockpit::theme::fog_density_for_view`]).
pub fn fog_for(city: &crate::model::City) -> f32 {
    crate::cockpit::theme::fog_density_for_view(crate::cockpit::app::default_view(city).distance_m)
}

/// A building tile as picking and the halos see it: where it is and what
/// it holds. Its meshes live on the GPU only.
#[derive(Debug, Clone, PartialEq)]
pub struct CityTile {
    pub key: (i32, i32),
    pub aabb_min: [f32; 3],
    pub aabb_max: [f32; 3],
    pub buildings: Vec<crate::model::BuildingId>,
}

/// Every building tile, in the order of their entities' `BuildingTile` index.
#[derive(Resource, Default)]
pub struct CityTiles(pub Vec<CityTile>);

#[allow(clippy::too_many_arguments)]
fn spawn_city(
    mut commands: Commands,
    city: Res<CityData>,
    state: Res<CityState>,
    mut meshes: ResMut<Assets<Mesh>>,
    mut buffers: ResMut<Assets<ShaderBuffer>>,
    mut building_materials: ResMut<Assets<BuildingMaterial>>,
    mut raster_materials: ResMut<Assets<buildings::RasterMaterial>>,
    mut ground_materials: ResMut<Assets<GroundMaterial>>,
    mut marker_materials: ResMut<Assets<markers::MarkerMaterial>>,
    mut line_materials: ResMut<Assets<boundaries::LineMaterial>>,
    mut halo_materials: ResMut<Assets<look::HaloMaterial>>,
    mut sky_materials: ResMut<Assets<look::SkyMaterial>>,
    look: Res<look::Look>,
    lod: Res<buildings::BuildingLod>,
    terrain_lod: Res<terrain::TerrainLod>,
    prebuilt: Option<ResMut<crate::cockpit::load::PrebuiltTiles>>,
) {
    let started = std::time::Instant::now();
    let fog = fog_for(&city);
    // Meshed on the loading thread, or here.
    let prebuilt = prebuilt.and_then(|mut p| p.0.take());
    let meshed_here = prebuilt.is_none();
    let (tiles, errors) =
        prebuilt.unwrap_or_else(|| build_tiles(&city.buildings, TILE_SIZE_M, &city.terrain));
    for error in errors.iter().take(10) {
        warn!("skipped building: {error}");
    }
    if errors.len() > 10 {
        warn!("… and {} more buildings skipped", errors.len() - 10);
    }
    let triangles: usize = tiles.iter().map(TileMesh::triangle_count).sum();
    let tile_count = tiles.len();
    let tiles = buildings::spawn_building_tiles(
        &mut commands,
        tiles,
        &city,
        &state,
        &lod,
        &mut meshes,
        &mut buffers,
        &mut building_materials,
        &mut raster_materials,
        &mut halo_materials,
        &look,
    );
    look::spawn_sky(&mut commands, &mut meshes, &mut sky_materials);
    let ground = ground_materials.add(GroundMaterial::from_theme(
        0.0,
        city.terrain.water_level_m,
        fog,
    ));
    let terrain_triangles = terrain::spawn_terrain(
        &mut commands,
        &city.terrain,
        ground,
        *terrain_lod,
        &mut meshes,
    );
    info!("terrain: {terrain_triangles:?} triangles at its levels");
    if let Some(level) = city.terrain.water_level_m
        && let Some(water) = water_mesh(&city.terrain, level)
    {
        commands.spawn((
            Name::new("water"),
            Mesh3d(meshes.add(water)),
            MeshMaterial3d(ground_materials.add(GroundMaterial::from_theme(0.6, None, fog))),
            Transform::IDENTITY,
        ));
    }
    boundaries::spawn_boundaries(&mut commands, &city, &mut meshes, &mut line_materials);
    markers::spawn_markers(
        &mut commands,
        fog,
        &mut meshes,
        &mut buffers,
        &mut marker_materials,
    );
    info!(
        "city {}: {} buildings in {} tiles, {} triangles, {:.0} ms",
        if meshed_here {
            "meshed and spawned"
        } else {
            "spawned (meshed on the loading thread)"
        },
        city.buildings.len() - errors.len(),
        tile_count,
        triangles,
        started.elapsed().as_secs_f64() * 1e3
    );
    commands.insert_resource(CityTiles(tiles));
}
