//! citytwin: a GPU-rendered big-screen cockpit for a city operations centre.
//!
//! | I want to change …                               | go to                         |
//! |--------------------------------------------------|-------------------------------|
//! | a domain type (building, risk level, region)     | [`model`]                     |
//! | the case workflow (dispatch → close, escalation) | [`model::Case`]               |
//! | dispatch rules (departments, deadlines)          | [`backend::dispatch`], `scenes/dispatch_rules.ron` |
//! | reading a data file, its errors                  | [`config`]                    |
//! | KPIs (live counts, `citytwin kpi` report)         | [`model::KpiTable`], [`kpi_report`] |
//! | lon/lat → metres, GCJ-02, footprint meshing      | [`geo`], [`geo::mesh`]        |
//! | the demo city (terrain, rivers, districts)       | [`geo::demo`], `scenes/demo_chongqing.ron` |
//! | GeoJSON / GeoTIFF import                         | [`geo::geojson`], [`geo::dem`], [`geo::assemble`] |
//! | how live state is applied (snapshots, deltas)    | [`live`], [`cockpit::state`]  |
//! | where data comes from (live link, recording), the one ingest | [`cockpit::stream`] |
//! | the clock (live / play / pause / seek), timeline | [`cockpit::time`], [`cockpit::ui::timeline`] |
//! | recordings (MCAP writer, indexed reader, clips)  | [`recording`]                 |
//! | dates in China Standard Time                     | [`time`]                      |
//! | why the backend refused a command                | [`protocol::Refusal`]         |
//! | the wire format (frames, messages, errors)       | [`protocol`]                  |
//! | rules (pressure → level + SMS), resume window    | [`backend`]                   |
//! | landslide levels, forecast, plan, evacuation     | [`backend::rules::landslide`], [`backend::rules::forecast`] |
//! | hazard bodies (model, demo placement, CSV series) | [`model::Hazard`], `geo::demo`, [`geo::series`] |
//! | simulated slopes and field units                 | [`backend::hazard_sim`], `scenes/scenario_*.ron` |
//! | hazard bodies on the GPU, their card             | [`cockpit::hazards`], `shaders/hazards.wgsl`, [`cockpit::ui::hazard_card`] |
//! | cameras (model, camera files)                    | [`model::Camera`], [`geo::cameras`], `scenes/cameras_demo.ron` |
//! | decoding streams, the watchdog, the demo's clip   | [`video`]                     |
//! | the video wall, tiles on the GPU                 | [`cockpit::video`], `shaders/video.wgsl`, [`cockpit::ui::video_wall`] |
//! | building colours on the GPU                      | [`cockpit::city::buildings`], `shaders/buildings.wgsl` |
//! | terrain and water look                           | [`cockpit::city::terrain`], `shaders/terrain.wgsl` |
//! | imagery base maps (GeoTIFF, MBTiles) on the terrain | [`geo::imagery`], [`cockpit::imagery`] |
//! | camera controls, fly-to                          | [`cockpit::camera`]           |
//! | click → building                                 | [`cockpit::picking`]          |
//! | panels, colours, fonts                           | [`cockpit::ui`], [`cockpit::theme`] |
//! | headless rendering to PNG                        | [`cockpit::headless`]         |
//! | the command line                                 | [`cli`]                       |
//! | benchmarks                                       | [`bench`]                     |

pub mod backend;
pub mod bench;
pub mod cli;
pub mod cockpit;
pub mod config;
pub mod geo;
pub mod kpi_report;
pub mod live;
pub mod model;
pub mod protocol;
pub mod recording;
pub mod time;
pub mod video;
