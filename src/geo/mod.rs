//! Geography: WGS84/GCJ-02 → local metres, footprints → meshes, terrain
//! sampling, GeoJSON/GeoTIFF import and the demo-city generator.

pub mod area_grid;
pub mod assemble;
pub mod boundaries;
pub mod cameras;
pub mod dem;
pub mod demo;
pub mod frame;
pub mod gcj02;
pub mod geojson;
pub mod geotiff;
pub mod hazard_mesh;
pub mod hazards;
pub mod imagery;
pub mod mesh;
pub mod osm;
pub mod outline;
pub mod parallel;
pub mod raster;
pub mod rng;
pub mod series;

pub use frame::LocalFrame;

/// World space used by the renderer: x east, y up, z south (right-handed, Y up).
pub fn world_from_local(east_north: [f32; 2], up: f32) -> [f32; 3] {
    [east_north[0], up, -east_north[1]]
}

/// Inverse of [`world_from_local`] for the horizontal part.
pub fn local_from_world(world: [f32; 3]) -> [f32; 2] {
    [world[0], -world[2]]
}
