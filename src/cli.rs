//! The command line: `citytwin [run]`, `render`, `bench`. Parsing lives here
//! so tests can drive it; `main.rs` only calls [`main_with`].

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use bevy::math::{UVec2, Vec3};
use clap::{Args, Parser, Subcommand};

use std::time::Duration;

use crate::backend::engine::Engine;
use crate::backend::scenario::Scenario;
use crate::backend::server::{BackendThread, Server, ServerConfig};
use crate::backend::tokens::{Grant, Tokens};
use crate::cockpit::app::{CityStart, RunOptions, default_view, run_window, run_window_loading};
use crate::cockpit::camera::OrbitCamera;
use crate::cockpit::drill::area_of_scope;
use crate::cockpit::link::{LinkConfig, spawn_link};
use crate::cockpit::load::{CityLoad, LoadReporter, Loaded};
use crate::cockpit::stream::replay::ReplaySource;
use crate::cockpit::time::{MarksLoader, TimeControl};
use crate::cockpit::ui::Lang;
use crate::geo::assemble::{city_from_dem, city_from_import};
use crate::geo::dem::Dem;
use crate::geo::demo::{self, DemoScene};
use crate::geo::geojson::{Crs, ImportOptions, import_file};
use crate::geo::series::{bodies_for_series, readings_for};
use crate::geo::{LocalFrame, world_from_local};
use crate::model::City;
use crate::protocol::{Role, Scope};

#[derive(Parser, Debug)]
#[command(
    name = "citytwin",
    version,
    about = "城市运行数字孪生一屏总览 — a city operations cockpit"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Subcommand, Debug)]
// Parsed once at start-up: the size of a variant does not matter.
#[allow(clippy::large_enum_variant)]
pub enum Command {
    /// Open the cockpit window (the default).
    Run(RunArgs),
    /// Render the city headless (no window, no X server) to a PNG.
    Render(RenderArgs),
    /// Run the backend alone: sessions, rules, store, scenario, recording.
    Serve(ServeArgs),
    /// Open the cockpit on a recording (timeline, seek, play), inspect it
    /// (--info), or cut a self-contained clip out of it (`replay clip`).
    Replay(ReplayArgs),
    /// Run a scenario fast-forwarded (not in real time) into a recording.
    Record(RecordArgs),
    /// The KPI table (received, closed, closure and on-time rates) from a
    /// database's case journal, for any past moment.
    Kpi(KpiArgs),
    /// Present a briefing (汇报演示): the audience window shows the steps,
    /// a presenter window the notes; clicker keys drive it. With --export,
    /// render every step headless to PNG instead.
    Present(PresentArgs),
    /// Print performance figures.
    #[command(subcommand)]
    Bench(crate::bench::BenchCommand),
}

#[derive(Args, Debug, Clone)]
pub struct PresentArgs {
    /// The briefing (RON, see scenes/briefing_demo.ron); hot-reloaded.
    #[arg(value_name = "FILE.ron")]
    pub briefing: PathBuf,
    /// Render every step to DIR/step_NN.png and DIR/index.png, then exit.
    #[arg(long, value_name = "DIR")]
    pub export: Option<PathBuf>,
    /// Size of the exported pictures.
    #[arg(long, default_value = "1280x720", value_parser = parse_size)]
    pub export_size: UVec2,
    #[command(flatten)]
    pub run: RunArgs,
}

/// Which city to show.
#[derive(Args, Debug, Clone, Default)]
pub struct DataArgs {
    /// Demo-city recipe (default: the embedded scenes/demo_chongqing.ron).
    #[arg(long, value_name = "FILE.ron")]
    pub scene: Option<PathBuf>,
    /// Real buildings (GeoJSON Polygon/MultiPolygon) instead of the demo.
    #[arg(long, value_name = "FILE.geojson")]
    pub buildings: Option<PathBuf>,
    /// An OpenStreetMap extract (.osm.pbf, as Geofabrik serves them)
    /// instead of the demo: its buildings, administrative boundaries (as
    /// districts and streets, unless --districts is given) and water.
    #[arg(long, value_name = "FILE.osm.pbf", conflicts_with = "buildings")]
    pub osm: Option<PathBuf>,
    /// The admin_level of --osm's districts and streets: "6,8" (China's
    /// 区 and 街道), "10" (districts only), or "auto": the coarsest level
    /// that splits the buildings into two or more areas, and the next finer.
    #[arg(long, value_name = "D[,S]|auto", default_value = "auto")]
    pub admin_levels: crate::geo::osm::AdminLevels,
    /// Terrain from a single-band GeoTIFF in EPSG:4326.
    #[arg(long, value_name = "FILE.tif")]
    pub dem: Option<PathBuf>,
    /// A base map draped on the terrain: an RGB(A) GeoTIFF (EPSG:4326 or
    /// EPSG:3857, 8-bit) or an MBTiles raster tile set (PNG/JPEG tiles,
    /// read by zoom as the camera moves). On its own (no --buildings,
    /// --osm, --dem or --scene) it opens over flat ground.
    #[arg(long, value_name = "FILE.tif|FILE.mbtiles")]
    pub imagery: Option<PathBuf>,
    /// Refuse data that would only be warned about (a DEM that misses the
    /// buildings, imagery that misses the city).
    #[arg(long)]
    pub strict: bool,
    /// Relief K times as high (flat-looking terrain); buildings stay on the
    /// ground.
    #[arg(long, value_name = "K", value_parser = parse_exaggeration)]
    pub exaggerate: Option<f32>,
    /// Coordinate system of --buildings and --hazards (and of --districts
    /// and --streets unless --boundary-crs says otherwise); --osm is
    /// always WGS84.
    #[arg(long, value_enum, default_value_t = Crs::Wgs84)]
    pub crs: Crs,
    /// District (区) boundaries: GeoJSON polygons with a code and a name
    /// (adcode/code/id and name, as in DataV GeoAtlas files). Each building
    /// goes to the one that holds it; drill-down, --area, KPIs and scopes
    /// follow.
    #[arg(long, value_name = "FILE.geojson")]
    pub districts: Option<PathBuf>,
    /// Street (街道) boundaries, read the same way; each street goes to the
    /// district its parent code (DataV's parent.adcode) names, else to the
    /// one that holds it. Needs --districts.
    #[arg(long, value_name = "FILE.geojson", requires = "districts")]
    pub streets: Option<PathBuf>,
    /// The property holding an area's code when none of adcode, code, id
    /// does.
    #[arg(long, value_name = "KEY")]
    pub boundary_code_key: Option<String>,
    /// The property holding an area's name when none of name, name:zh,
    /// NAME does.
    #[arg(long, value_name = "KEY")]
    pub boundary_name_key: Option<String>,
    /// Coordinate system of --districts and --streets (default: --crs).
    #[arg(long, value_enum, value_name = "CRS")]
    pub boundary_crs: Option<Crs>,
    /// Height of imported buildings without height or levels.
    #[arg(long, default_value_t = crate::geo::geojson::DEFAULT_HEIGHT_M, value_name = "M")]
    pub default_height: f32,
    /// Extra attribution to show (e.g. "ASTER GDEM © METI/NASA").
    #[arg(long, value_name = "TEXT")]
    pub attribution: Vec<String>,
    /// Hazard bodies (GeoJSON Polygons; properties name, type, thickness_m,
    /// code, threat_zone, residents, points), in the --crs of the buildings.
    #[arg(long, value_name = "FILE.geojson")]
    pub hazards: Option<PathBuf>,
    /// A monitoring series (CSV). When none of its points is one of the
    /// city's, a body is made for each of its sites (so a real series can
    /// be looked at on its own); `serve` plays it in as live readings.
    #[arg(long, value_name = "FILE.csv")]
    pub readings: Option<PathBuf>,
    /// Cameras (RON, see scenes/cameras_demo.ron): position, heading, field
    /// of view, kind and stream URL. The embedded demo has its own.
    #[arg(long, value_name = "FILE.ron")]
    pub cameras: Option<PathBuf>,
}

/// Where the camera looks.
#[derive(Args, Debug, Clone, Default)]
pub struct ViewArgs {
    /// Point to look at, WGS84 degrees.
    #[arg(long, value_name = "LON,LAT", value_parser = parse_lon_lat)]
    pub look_at: Option<[f64; 2]>,
    /// Camera distance from that point, metres.
    #[arg(long, value_name = "M")]
    pub distance: Option<f32>,
    /// Angle below the horizon, degrees (90 = straight down).
    #[arg(long, value_name = "DEG")]
    pub pitch: Option<f32>,
    /// Compass direction the camera faces, degrees (0 = north).
    #[arg(long, value_name = "DEG")]
    pub heading: Option<f32>,
}

#[derive(Args, Debug, Clone)]
pub struct RunArgs {
    #[command(flatten)]
    pub data: DataArgs,
    #[command(flatten)]
    pub view: ViewArgs,
    #[command(flatten)]
    pub window: WindowArgs,
    /// Select the building with this fire code (or the hazard body with
    /// this code, opening its card) at start.
    #[arg(long, value_name = "CODE")]
    pub select: Option<String>,
    /// Start drilled into a district (its code, e.g. 500103) or a street
    /// (500103/解放碑街道).
    #[arg(long, value_name = "DISTRICT[/STREET]")]
    pub area: Option<String>,
    /// Connect to a running backend instead of starting one in the cockpit.
    #[arg(long, value_name = "HOST:PORT")]
    pub connect: Option<String>,
    /// Access token for --connect.
    #[arg(long, value_name = "TOKEN", requires = "connect")]
    pub token: Option<String>,
    /// Record the session (the timeline's history) to this MCAP file
    /// (default: a new file under the user's data directory).
    #[arg(long, value_name = "FILE.mcap")]
    pub record: Option<PathBuf>,
    /// Do not record the session (the timeline then has no history).
    #[arg(long, conflicts_with = "record")]
    pub no_record: bool,
    /// Embedded backend: its SQLite database (default: in memory).
    #[arg(long, value_name = "FILE.db", conflicts_with = "connect")]
    pub db: Option<PathBuf>,
    /// Embedded backend: scenario (default: the embedded scenes/scenario_demo.ron).
    #[arg(long, value_name = "FILE.ron", conflicts_with = "connect")]
    pub scenario: Option<PathBuf>,
    /// No backend at all: the static city with its base levels.
    #[arg(long, conflicts_with_all = ["connect", "db", "scenario"])]
    pub offline: bool,
}

#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:7878")]
    pub listen: std::net::SocketAddr,
    /// SQLite database (created and seeded if missing).
    #[arg(long, default_value = "city.db", value_name = "FILE.db")]
    pub db: PathBuf,
    /// Scenario to simulate (default: the embedded scenes/scenario_demo.ron).
    #[arg(long, value_name = "FILE.ron")]
    pub scenario: Option<PathBuf>,
    /// Simulate nothing: state changes only through commands.
    #[arg(long, conflicts_with = "scenario")]
    pub no_scenario: bool,
    /// How many times real time `--readings` plays (86400: a day a second).
    #[arg(long, default_value_t = 86_400.0)]
    pub speed: f64,
    /// Tokens: TOML with [[token]] name, token, role (viewer|dispatcher), scope.
    #[arg(long, value_name = "FILE.toml")]
    pub token_file: PathBuf,
    /// Record the stream to an MCAP file.
    #[arg(long, value_name = "FILE.mcap")]
    pub record: Option<PathBuf>,
    /// Seconds between heartbeats.
    #[arg(long, default_value_t = 2.0)]
    pub heartbeat_secs: f64,
}

#[derive(Args, Debug, Clone)]
pub struct KpiArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// The backend's SQLite database.
    #[arg(long, value_name = "FILE.db")]
    pub db: PathBuf,
    /// The moment, China Standard Time (default: everything journaled).
    #[arg(long, value_name = "YYYY-MM-DDTHH:MM", value_parser = crate::time::parse_cst)]
    pub at: Option<i64>,
    /// A district code: that district and its streets.
    #[arg(long, value_name = "CODE")]
    pub scope: Option<String>,
    /// CSV instead of a table.
    #[arg(long)]
    pub csv: bool,
}

#[derive(Args, Debug, Clone)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ReplayArgs {
    #[command(subcommand)]
    pub action: Option<ReplayAction>,
    /// The recording (MCAP).
    pub file: Option<PathBuf>,
    /// Print its time span, message counts, snapshots and any damage.
    #[arg(long)]
    pub info: bool,
    /// Start at this moment (China Standard Time) instead of the beginning.
    #[arg(long, value_name = "YYYY-MM-DDTHH:MM", value_parser = crate::time::parse_cst)]
    pub at: Option<i64>,
    /// Select a building (fire code) or a hazard body (its code) at start.
    #[arg(long, value_name = "CODE")]
    pub select: Option<String>,
    #[command(flatten)]
    pub data: DataArgs,
    #[command(flatten)]
    pub view: ViewArgs,
    #[command(flatten)]
    pub window: WindowArgs,
}

#[derive(Subcommand, Debug, Clone)]
pub enum ReplayAction {
    /// Write a self-contained recording of a time range: the state at
    /// --from, then everything up to --to.
    Clip(ClipArgs),
}

#[derive(Args, Debug, Clone)]
pub struct ClipArgs {
    /// The source recording.
    pub file: PathBuf,
    #[arg(long, value_name = "YYYY-MM-DDTHH:MM", value_parser = crate::time::parse_cst)]
    pub from: i64,
    #[arg(long, value_name = "YYYY-MM-DDTHH:MM", value_parser = crate::time::parse_cst)]
    pub to: i64,
    #[arg(long, value_name = "FILE.mcap")]
    pub out: PathBuf,
    #[command(flatten)]
    pub data: DataArgs,
}

/// Window options shared by `run` and `replay`.
#[derive(Args, Debug, Clone)]
pub struct WindowArgs {
    /// Window size in pixels.
    #[arg(long, default_value = "1600x900", value_parser = parse_size)]
    pub size: UVec2,
    /// Interface language.
    #[arg(long, value_enum, default_value_t = Lang::Zh)]
    pub lang: Lang,
    /// Extra scale of all panels, on top of the automatic wall scale
    /// (window height / 1080: 2× on a 3840×2160 or 7680×2160 wall).
    #[arg(long, default_value_t = 1.0)]
    pub ui_scale: f32,
    /// Save a screenshot of the window to FILE.png after a few frames and exit.
    #[arg(long, value_name = "FILE.png")]
    pub screenshot: Option<PathBuf>,
    /// Frames to wait before the screenshot.
    #[arg(long, value_name = "N", default_value_t = 45, requires = "screenshot")]
    pub screenshot_frames: u32,
    /// Hardware video decoding (ffmpeg's -hwaccel: vaapi, cuda, qsv …) on a
    /// wall machine with a GPU; software decoding without it.
    #[arg(long, value_name = "NAME")]
    pub hwaccel: Option<String>,
    /// Open the video wall at start with N×N tiles (1–4).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(1..=4))]
    pub video_wall: Option<u8>,
    /// Open the windows of this wall file (e.g. scenes/wall_demo.ron)
    /// instead of one: one state, one stream, one clock.
    #[arg(long, value_name = "FILE.ron")]
    pub wall: Option<PathBuf>,
}

/// Reads and checks `--wall` before anything starts.
fn wall_setup(w: &WindowArgs) -> anyhow::Result<Option<crate::cockpit::wall::WallSetup>> {
    let Some(path) = &w.wall else {
        return Ok(None);
    };
    let wall = crate::model::wall::Wall::load(path)?;
    Ok(Some(crate::cockpit::wall::WallSetup {
        path: path.display().to_string(),
        wall,
        operator_view: None,
    }))
}

#[derive(Args, Debug, Clone)]
pub struct RecordArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Scenario to simulate (default: the embedded scenes/scenario_demo.ron).
    #[arg(long, value_name = "FILE.ron")]
    pub scenario: Option<PathBuf>,
    /// Stream hours to simulate.
    #[arg(long, default_value_t = 24.0)]
    pub hours: f64,
    /// The recording to write.
    #[arg(long, value_name = "FILE.mcap")]
    pub out: PathBuf,
    /// Keep the backend's journal in this SQLite file (default: in memory).
    #[arg(long, value_name = "FILE.db")]
    pub db: Option<PathBuf>,
}

#[derive(Args, Debug, Clone)]
pub struct RenderArgs {
    #[command(flatten)]
    pub data: DataArgs,
    #[command(flatten)]
    pub view: ViewArgs,
    /// Output PNG.
    #[arg(long, value_name = "FILE.png")]
    pub out: PathBuf,
    /// Image size in pixels.
    #[arg(long, default_value = "1920x1080", value_parser = parse_size)]
    pub size: UVec2,
    /// Render the city as it was in this recording …
    #[arg(long, value_name = "FILE.mcap", requires = "at")]
    pub recording: Option<PathBuf>,
    /// … at this moment (China Standard Time).
    #[arg(long, value_name = "YYYY-MM-DDTHH:MM", value_parser = crate::time::parse_cst, requires = "recording")]
    pub at: Option<i64>,
    /// Drilled into a district (its code) or a street (500103/解放碑街道),
    /// as an operator sees it: framed (unless the view is given), the
    /// rest dimmed.
    #[arg(long, value_name = "DISTRICT[/STREET]")]
    pub area: Option<String>,
}

fn parse_exaggeration(text: &str) -> Result<f32, String> {
    let k: f32 = text
        .trim()
        .parse()
        .map_err(|e| format!("--exaggerate {text:?}: {e}"))?;
    if !(0.1..=20.0).contains(&k) {
        return Err(format!("--exaggerate {k} is not between 0.1 and 20"));
    }
    Ok(k)
}

pub fn parse_size(text: &str) -> Result<UVec2, String> {
    let (w, h) = text
        .split_once(['x', 'X'])
        .ok_or_else(|| format!("size {text:?} should look like 1920x1080"))?;
    let parse = |s: &str| {
        s.trim()
            .parse::<u32>()
            .map_err(|e| format!("size {text:?}: {e}"))
    };
    let size = UVec2::new(parse(w)?, parse(h)?);
    if size.x == 0 || size.y == 0 || size.x > 16384 || size.y > 16384 {
        return Err(format!("size {text:?} must be between 1x1 and 16384x16384"));
    }
    Ok(size)
}

pub fn parse_lon_lat(text: &str) -> Result<[f64; 2], String> {
    let (lon, lat) = text
        .split_once(',')
        .ok_or_else(|| format!("{text:?} should look like 106.5858,29.5647 (lon,lat)"))?;
    let lon: f64 = lon
        .trim()
        .parse()
        .map_err(|e| format!("longitude {lon:?}: {e}"))?;
    let lat: f64 = lat
        .trim()
        .parse()
        .map_err(|e| format!("latitude {lat:?}: {e}"))?;
    if !(-180.0..=180.0).contains(&lon) || !(-90.0..=90.0).contains(&lat) {
        return Err(format!("{text:?} is not a lon,lat in degrees"));
    }
    Ok([lon, lat])
}

/// The city a scenario names (`scene: Some("demo_wushan.ron")`, relative to
/// the scenario file) when the command line names none.
pub fn scenario_scene(
    data: &DataArgs,
    scenario: Option<&std::path::Path>,
) -> anyhow::Result<DataArgs> {
    let mut data = data.clone();
    if let Some(path) = scenario
        && data.scene.is_none()
        && data.buildings.is_none()
        && data.osm.is_none()
        && data.dem.is_none()
        && let Some(scene) = Scenario::load(path)?.scene
    {
        let dir = path.parent().unwrap_or(std::path::Path::new("."));
        data.scene = Some(dir.join(scene));
    }
    Ok(data)
}

/// The districts and streets an OSM extract brings, at the chosen levels,
/// and its water areas.
struct OsmAreas {
    districts: Option<crate::geo::boundaries::BoundaryReport>,
    streets: Option<crate::geo::boundaries::BoundaryReport>,
    water: Vec<Vec<Vec<[f64; 2]>>>,
}

/// Reads `--osm`: a progress line on the terminal while it decodes, then
/// what it held, what was skipped and why, and the levels chosen.
fn load_osm(
    data: &DataArgs,
    dem: Option<&Dem>,
    report: &LoadReporter,
) -> anyhow::Result<(City, OsmAreas)> {
    use std::io::{IsTerminal, Write};
    let path = data.osm.as_deref().context("no --osm")?;
    let options = crate::geo::osm::OsmOptions {
        buildings: ImportOptions {
            crs: Crs::Wgs84,
            default_height_m: data.default_height,
        },
        admin_levels: data.admin_levels,
    };
    let terminal = std::io::stderr().is_terminal();
    let started = std::time::Instant::now();
    let mut last_stage = "";
    let mut progress = |p: crate::geo::osm::Progress| {
        report.report(
            "读取 OpenStreetMap",
            &format!("reading {}: {}", path.display(), p.stage),
            p.done as u64,
            p.total as u64,
            format!(
                "{} nodes · {} ways · {} relations",
                p.nodes, p.ways, p.relations
            ),
        );
        if terminal {
            let width = 24;
            let filled = (p.done * width).checked_div(p.total).unwrap_or(width);
            eprint!(
                "\r{} [{}{}] {}/{} · {} nodes · {} ways · {} relations  ",
                p.stage,
                "█".repeat(filled),
                "·".repeat(width - filled),
                p.done,
                p.total,
                p.nodes,
                p.ways,
                p.relations
            );
            let _ = std::io::stderr().flush();
        } else if p.stage != last_stage {
            eprintln!("{}: {} …", path.display(), p.stage);
        }
        last_stage = p.stage;
    };
    let import = crate::geo::osm::import_osm(path, &options, &mut progress)?;
    if terminal {
        eprintln!();
    }
    let c = &import.counts;
    eprintln!(
        "{}: {} nodes, {} ways, {} relations in {} blobs ({:.1} s): {} buildings ({} ways, {} \
         relations; {} with height or levels), {} water areas, administrative boundaries \
         complete/found per level: {}",
        path.display(),
        c.nodes,
        c.ways,
        c.relations,
        c.blobs,
        started.elapsed().as_secs_f64(),
        import.buildings.features,
        c.building_ways,
        c.building_relations,
        c.with_height_or_levels,
        c.water_areas,
        c.admin_relations
            .iter()
            .map(|(l, n)| format!("{l}: {}/{n}", c.admin_complete.get(l).unwrap_or(&0)))
            .collect::<Vec<_>>()
            .join(", ")
    );
    for (reason, (n, first)) in &c.skipped {
        eprintln!(
            "note: {}: {n} skipped — {reason} (first: {first})",
            path.display()
        );
    }
    for line in import
        .buildings
        .height_summary(options.buildings.default_height_m)
    {
        eprintln!("note: {}: {line}", path.display());
    }
    if let Some(level) = import.district_level {
        eprintln!(
            "{}: districts from admin_level {level}{}",
            path.display(),
            import
                .street_level
                .map(|s| format!(", streets from admin_level {s}"))
                .unwrap_or_default()
        );
    }
    let name = path
        .file_name()
        .and_then(|s| s.to_str())
        .map_or("osm", |s| s.trim_end_matches(".osm.pbf"))
        .to_owned();
    let city = city_from_import(&import.buildings, dem, &name);
    let (districts, streets) = import.area_reports();
    Ok((
        city,
        OsmAreas {
            districts,
            streets,
            water: import.water,
        },
    ))
}

/// Reads `--districts` (and `--streets`) and puts the city's buildings in
/// them, printing what was skipped, repaired and fallen back on.
fn apply_boundary_files(
    city: &mut City,
    dem: Option<&Dem>,
    data: &DataArgs,
    districts_path: &std::path::Path,
) -> anyhow::Result<()> {
    use crate::geo::boundaries::{
        BoundaryOptions, BoundaryReport, apply_boundaries, import_boundaries,
    };
    let options = BoundaryOptions {
        crs: data.boundary_crs.unwrap_or(data.crs),
        code_key: data.boundary_code_key.clone(),
        name_key: data.boundary_name_key.clone(),
    };
    let print = |report: &BoundaryReport| {
        for s in &report.skipped {
            eprintln!(
                "warning: {}: feature {} skipped: {}",
                report.path, s.index, s.reason
            );
        }
        for line in &report.repaired {
            eprintln!("note: {}: {line}", report.path);
        }
    };
    let districts = import_boundaries(districts_path, &options)?;
    print(&districts);
    let streets = data
        .streets
        .as_deref()
        .map(|p| import_boundaries(p, &options))
        .transpose()?;
    if let Some(streets) = &streets {
        print(streets);
    }
    let assignment = apply_boundaries(city, dem, &districts, streets.as_ref());
    for line in assignment.notes(city.buildings.len()) {
        eprintln!("note: {line}");
    }
    eprintln!(
        "{}: {} districts, {} streets, {} buildings placed",
        districts_path.display(),
        city.districts.len(),
        city.streets.len(),
        city.buildings.len()
    );
    if data.strict && assignment.outside > 0 {
        bail!(
            "{} buildings lie in no district of {} (--strict)",
            assignment.outside,
            districts_path.display()
        );
    }
    Ok(())
}

/// Loads the city the data arguments describe, reporting skipped features.
pub fn load_city(data: &DataArgs) -> anyhow::Result<City> {
    load_city_reporting(data, &LoadReporter::none())
}

/// [`load_city`], telling `report` its stage (a window's progress line).
pub fn load_city_reporting(data: &DataArgs, report: &LoadReporter) -> anyhow::Result<City> {
    if let Some(path) = &data.dem {
        report.report(
            "读取高程",
            &format!("reading the DEM {}", path.display()),
            0,
            0,
            String::new(),
        );
    }
    let dem = data
        .dem
        .as_deref()
        .map(Dem::load)
        .transpose()
        .context("loading the DEM")?;
    // Header and metadata only: the cockpit's imagery thread reads the pixels.
    let imagery = data
        .imagery
        .as_deref()
        .map(crate::geo::imagery::Imagery::probe)
        .transpose()
        .context("loading the imagery")?;
    let mut osm_areas = None;
    let mut city = match (&data.buildings, &dem) {
        _ if data.osm.is_some() => {
            let (city, areas) = load_osm(data, dem.as_ref(), report)?;
            osm_areas = Some(areas);
            city
        }
        (Some(path), dem) => {
            let options = ImportOptions {
                crs: data.crs,
                default_height_m: data.default_height,
            };
            report.report(
                "读取建筑",
                &format!("reading buildings {}", path.display()),
                0,
                0,
                String::new(),
            );
            let imported = import_file(path, &options)?;
            report.report(
                "组装城市",
                "assembling the city",
                0,
                0,
                format!("{} buildings", imported.buildings.len()),
            );
            if let (Some(dem), Some(dem_path)) = (dem.as_ref(), data.dem.as_ref())
                && let Some(problem) = crate::geo::assemble::dem_coverage_problem(
                    dem,
                    &dem_path.display().to_string(),
                    &imported,
                )
            {
                if data.strict {
                    bail!("{problem} (--strict)");
                }
                eprintln!("warning: {problem}");
            }
            if !imported.skipped.is_empty() {
                eprintln!(
                    "warning: {}: skipped {} of {} features",
                    path.display(),
                    imported.skipped.len(),
                    imported.features
                );
                for s in imported.skipped.iter().take(5) {
                    eprintln!("  feature {}: {}", s.index, s.reason);
                }
            }
            for line in imported.height_summary(options.default_height_m) {
                eprintln!("note: {}: {line}", path.display());
            }
            let name = path
                .file_stem()
                .map_or_else(|| "import".to_owned(), |s| s.to_string_lossy().into_owned());
            city_from_import(&imported, dem.as_ref(), &name)
        }
        (None, Some(dem)) => {
            let name = data
                .dem
                .as_ref()
                .and_then(|p| p.file_stem())
                .map_or_else(|| "dem".to_owned(), |s| s.to_string_lossy().into_owned());
            city_from_dem(dem, &name)
        }
        (None, None)
            if data.scene.is_none()
                && let (Some((imagery, _)), Some(path)) = (&imagery, &data.imagery) =>
        {
            let name = path.file_stem().map_or_else(
                || "imagery".to_owned(),
                |s| s.to_string_lossy().into_owned(),
            );
            crate::geo::assemble::city_from_extent(imagery.bounds_lon_lat, &name)
        }
        (None, None) => {
            report.report(
                "生成示例城市",
                "generating the demo city",
                0,
                0,
                String::new(),
            );
            let scene = match &data.scene {
                Some(path) => DemoScene::load(path)?,
                None => DemoScene::embedded()?,
            };
            demo::generate(&scene)
        }
    };
    city.attributions.extend(data.attribution.iter().cloned());
    let water = osm_areas.as_mut().map(|a| std::mem::take(&mut a.water));
    match (&data.districts, osm_areas) {
        (Some(path), _) => apply_boundary_files(&mut city, dem.as_ref(), data, path)?,
        (
            None,
            Some(OsmAreas {
                districts: Some(districts),
                streets,
                ..
            }),
        ) => {
            let assignment = crate::geo::boundaries::apply_boundaries(
                &mut city,
                dem.as_ref(),
                &districts,
                streets.as_ref(),
            );
            for line in assignment.notes(city.buildings.len()) {
                eprintln!("note: {line}");
            }
            eprintln!(
                "{}: {} districts, {} streets",
                districts.path,
                city.districts.len(),
                city.streets.len()
            );
        }
        (
            None,
            Some(OsmAreas {
                districts: None, ..
            }),
        ) => eprintln!(
            "note: no administrative boundary of the extract holds its buildings: one area \
             around them (--districts FILE for boundaries of your own)"
        ),
        (None, None) => {}
    }
    // After the ground has its final extent.
    if let Some(water) = water {
        crate::geo::assemble::carve_water(&mut city, &water);
    }
    if let Some((imagery, attribution)) = imagery {
        attach_imagery(&mut city, imagery, attribution, data.strict)?;
    }
    // Before hazards are placed: they stand on the relief as shown.
    if let Some(k) = data.exaggerate {
        crate::geo::assemble::exaggerate_relief(&mut city, k);
    }
    if let Some(path) = &data.hazards {
        let report = crate::geo::hazards::import_hazards(path, &mut city, data.crs == Crs::Gcj02)?;
        for (index, reason) in &report.skipped {
            eprintln!(
                "warning: {}: feature {index} skipped: {reason}",
                path.display()
            );
        }
        eprintln!(
            "{}: {} hazard bodies ({} skipped)",
            path.display(),
            report.added.len(),
            report.skipped.len()
        );
    }
    match &data.cameras {
        Some(path) => city.cameras = crate::geo::cameras::load_cameras(path, &city)?,
        None if data.scene.is_none()
            && data.buildings.is_none()
            && data.osm.is_none()
            && data.dem.is_none()
            && data.imagery.is_none() =>
        {
            city.cameras = crate::geo::cameras::parse_cameras(
                crate::geo::cameras::EMBEDDED_DEMO_CAMERAS,
                "<embedded cameras_demo.ron>",
                &city,
            )?;
        }
        None => {}
    }
    if let Some(path) = &data.readings {
        let series = read_series(path)?;
        let (matched, _) = readings_for(&series, &city);
        if matched.is_empty() {
            let made = bodies_for_series(&series, &mut city);
            eprintln!(
                "{}: none of its points is on a body of this city: made {} bod{} named after its sites",
                path.display(),
                made.len(),
                if made.len() == 1 { "y" } else { "ies" }
            );
        }
    }
    Ok(city)
}

/// Records the opened imagery on the city (the cockpit reads it from
/// there), with its attribution, and says what it is and whether it misses
/// the city.
fn attach_imagery(
    city: &mut City,
    imagery: crate::model::ImageryRef,
    attribution: Option<String>,
    strict: bool,
) -> anyhow::Result<()> {
    let name = imagery.path.display().to_string();
    if let Some(problem) =
        crate::geo::assemble::imagery_coverage_problem(imagery.bounds_lon_lat, &name, city)
    {
        if strict {
            bail!("{problem} (--strict)");
        }
        eprintln!("warning: {problem}");
    }
    match attribution {
        Some(text) => city.attributions.push(text),
        None => eprintln!(
            "note: imagery {name} names no attribution in its metadata; give it with --attribution \"…\""
        ),
    }
    eprintln!(
        "imagery {name}: {}, {:.2} m per pixel at its finest",
        imagery.summary, imagery.finest_m_per_px
    );
    city.imagery = Some(imagery);
    Ok(())
}

/// Reads a monitoring series, naming every bad row (and skipping it).
fn read_series(path: &std::path::Path) -> anyhow::Result<crate::geo::series::Series> {
    let series = crate::geo::series::Series::read(path)?;
    for p in series.problems.iter().take(20) {
        eprintln!("warning: {}: {p} (skipped)", path.display());
    }
    if series.problems.len() > 20 {
        eprintln!(
            "warning: {}: … and {} more bad rows skipped",
            path.display(),
            series.problems.len() - 20
        );
    }
    Ok(series)
}

/// The live-readings feed of `serve --readings`, naming the points the city
/// does not have.
fn readings_feed(
    data: &DataArgs,
    city: &City,
    speed: f64,
) -> anyhow::Result<Option<crate::backend::feed::ReadingFeed>> {
    let Some(path) = &data.readings else {
        return Ok(None);
    };
    let series = read_series(path)?;
    let (readings, unmatched) = readings_for(&series, city);
    for (name, rows) in &unmatched {
        eprintln!(
            "warning: {}: point {name:?} ({rows} rows) matches no monitoring point: not played",
            path.display()
        );
    }
    if readings.is_empty() {
        bail!("{}: no reading matches a monitoring point", path.display());
    }
    eprintln!(
        "{}: {} readings play in at {speed}× real time",
        path.display(),
        readings.len()
    );
    Ok(Some(crate::backend::feed::ReadingFeed::new(
        readings, speed,
    )))
}

/// The camera the view arguments ask for, starting from the default view.
pub fn view_for(city: &City, view: &ViewArgs) -> anyhow::Result<OrbitCamera> {
    let mut orbit = default_view(city);
    if let Some([lon, lat]) = view.look_at {
        let [olon, olat] = city.bounds.origin_lon_lat;
        let local = LocalFrame::new(olon, olat).to_local(lon, lat);
        let b = &city.bounds;
        if local[0] < b.min_m[0]
            || local[0] > b.max_m[0]
            || local[1] < b.min_m[1]
            || local[1] > b.max_m[1]
        {
            bail!("--look-at {lon},{lat} is outside the loaded city");
        }
        orbit.focus = Vec3::from(world_from_local(local, city.terrain.height_at(local)));
    }
    if let Some(d) = view.distance {
        orbit.distance_m = d;
    }
    if let Some(p) = view.pitch {
        orbit.pitch_deg = p;
    }
    if let Some(h) = view.heading {
        orbit.heading_deg = h;
    }
    Ok(orbit.clamped())
}

/// An error and its causes on one line, each said once: a cause whose
/// text its context already includes ("cannot read F: No such file …")
/// is not repeated.
pub fn error_text(e: &anyhow::Error) -> String {
    let mut text = e.to_string();
    for cause in e.chain().skip(1) {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
    }
    text
}

/// `--area 500103` or `--area 500103/解放碑街道`: a district or a street.
fn parse_area(city: &City, text: &str) -> anyhow::Result<crate::model::Area> {
    let scope = match text.split_once('/') {
        Some((district, street)) => Scope::Street {
            district: district.to_owned(),
            street: street.to_owned(),
        },
        None => Scope::District(text.to_owned()),
    };
    area_of_scope(city, &scope)
        .with_context(|| format!("--area {text}: no such district or street"))
}

/// A window needs a display; without one the windowed commands stop here
/// (exit code 2) instead of inside the windowing library.
#[derive(Debug, thiserror::Error)]
#[error(
    "no display: set DISPLAY (or WAYLAND_DISPLAY), or use `citytwin render` for headless images"
)]
pub struct NoDisplay;

/// On X11/Wayland systems: is there a display to open windows on?
fn require_display() -> Result<(), NoDisplay> {
    if cfg!(all(unix, not(target_os = "macos"))) {
        let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
        if !set("DISPLAY") && !set("WAYLAND_DISPLAY") {
            return Err(NoDisplay);
        }
    }
    Ok(())
}

pub fn main_with(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        None => run(cli.run),
        Some(Command::Run(args)) => run(args),
        Some(Command::Render(args)) => render(args),
        Some(Command::Serve(args)) => serve(args),
        Some(Command::Replay(args)) => replay(args),
        Some(Command::Record(args)) => record(args),
        Some(Command::Kpi(args)) => kpi(args),
        Some(Command::Present(args)) => present(args),
        Some(Command::Bench(bench)) => crate::bench::run(bench),
    }
}

/// `--select CODE`: a building's fire code or a hazard body's code; the
/// view moves there unless the command line placed it.
fn resolve_select(
    city: &City,
    code: Option<&str>,
    args: &ViewArgs,
    view: &mut OrbitCamera,
) -> anyhow::Result<(
    Option<crate::model::BuildingId>,
    Option<crate::model::HazardId>,
)> {
    let Some(code) = code else {
        return Ok((None, None));
    };
    if let Some(b) = city.buildings.iter().find(|b| b.code == code) {
        if args.look_at.is_none() {
            view.focus = Vec3::from(world_from_local(b.centre_m(), b.base_elevation_m));
            view.distance_m = args.distance.unwrap_or((b.height_m * 5.0).max(700.0));
        }
        return Ok((Some(b.id), None));
    }
    if let Some(h) = city.hazards.iter().find(|h| h.code == code) {
        if args.look_at.is_none()
            && let Some(to) = crate::cockpit::camera::fly_to_hazard(city, h.id)
        {
            view.focus = to.focus;
            view.distance_m = args.distance.or(to.distance_m).unwrap_or(2_000.0);
        }
        return Ok((None, Some(h.id)));
    }
    bail!("--select {code}: no building has that fire code and no hazard body that code")
}

fn present(args: PresentArgs) -> anyhow::Result<()> {
    let briefing = crate::model::briefing::Briefing::load(&args.briefing)?;
    if let Some(out) = &args.export {
        let city = Arc::new(load_city(&args.run.data)?);
        crate::cockpit::presenter::export::export_deck(city, briefing, out, args.export_size)?;
        return Ok(());
    }
    run_with(args.run, Some(args.briefing))
}

fn run(args: RunArgs) -> anyhow::Result<()> {
    run_with(args, None)
}

fn run_with(args: RunArgs, briefing: Option<PathBuf>) -> anyhow::Result<()> {
    require_display()?;
    let wall = wall_setup(&args.window)?;
    let window = args.window.clone();
    // The window opens at once; the city comes from this thread.
    let load = CityLoad::spawn(move |report| load_for_window(&args, report))
        .context("starting the city-load thread")?;
    let failure = load.failure();
    run_window_loading(
        load,
        RunOptions {
            window_size: (window.size.x, window.size.y),
            ui_scale: window.ui_scale,
            lang: window.lang,
            start: CityStart::default(),
            video_wall: window.video_wall,
            hwaccel: window.hwaccel.clone(),
            // egui needs a few frames for its first pass (the CJK font atlas).
            screenshot: window
                .screenshot
                .map(|p| (p, window.screenshot_frames.max(45))),
            time: TimeControl::live(),
            marks: None,
            briefing,
            wall,
        },
    );
    match failure.take() {
        Some(message) => Err(anyhow::anyhow!(message)),
        None => Ok(()),
    }
}

/// Everything `run` does before the city can be shown, on the loading
/// thread: the city, what the command line chose in it, the buildings
/// meshed, the embedded backend and the live link.
fn load_for_window(args: &RunArgs, report: &LoadReporter) -> anyhow::Result<Loaded> {
    let data = scenario_scene(&args.data, args.scenario.as_deref())?;
    let city = load_city_reporting(&data, report)?;
    let mut view = view_for(&city, &args.view)?;
    let (select, select_hazard) =
        resolve_select(&city, args.select.as_deref(), &args.view, &mut view)?;
    let area = args
        .area
        .as_deref()
        .map(|text| parse_area(&city, text))
        .transpose()?;
    report.report(
        "划分建筑网格",
        "meshing the buildings",
        0,
        0,
        format!("{} buildings", city.buildings.len()),
    );
    let tiles = crate::geo::mesh::build_tiles(
        &city.buildings,
        crate::cockpit::city::TILE_SIZE_M,
        &city.terrain,
    );
    let city = Arc::new(city);
    let (live, backend, history) = if args.offline {
        (None, None, None)
    } else {
        report.report("启动后端", "starting the backend", 0, 0, String::new());
        let (addr, token, backend) = match &args.connect {
            Some(addr) => (addr.clone(), args.token.clone().unwrap_or_default(), None),
            None => {
                let (backend, token) = start_embedded_backend(&city, args)?;
                (backend.addr.to_string(), token, Some(backend))
            }
        };
        let history = if args.no_record {
            None
        } else {
            Some(match &args.record {
                Some(path) => path.clone(),
                None => session_recording_path()?,
            })
        };
        if let Some(path) = &history {
            println!(
                "recording this session to {} (the timeline seeks in it; --no-record to stop)",
                path.display()
            );
        }
        let link = spawn_link(LinkConfig {
            addr,
            token,
            record: history.clone().map(|p| (p, city.clone())),
        })
        .context("starting the link thread")?;
        (Some(link.into_source(history.clone())), backend, history)
    };
    let start = CityStart {
        view: Some(view),
        select,
        select_hazard,
        area,
        live,
        replay: history.map(ReplaySource::lazy),
        backend,
    };
    Ok(Loaded {
        city,
        tiles: Some(tiles),
        install: Box::new(move |world| start.install(world)),
    })
}

/// A new file for this session's recording under the user's data
/// directory (`$XDG_DATA_HOME` or `~/.local/share`)/citytwin/sessions.
fn session_recording_path() -> anyhow::Result<PathBuf> {
    let base = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .context("neither XDG_DATA_HOME nor HOME is set: pass --record FILE or --no-record")?;
    let dir = base.join("citytwin/sessions");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let stamp = crate::time::format_cst(now_ms).replace([' ', ':'], "-");
    Ok(dir.join(format!("session-{stamp}-{}.mcap", std::process::id())))
}

/// A token nobody else knows, for the cockpit's own embedded backend.
fn local_token() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let mut h = crate::geo::rng::Fnv64::default();
    h.write(&nanos.to_le_bytes());
    h.write(&std::process::id().to_le_bytes());
    format!("local-{:016x}", h.finish())
}

fn scenario_from(path: Option<&std::path::Path>) -> anyhow::Result<Scenario> {
    Ok(match path {
        Some(p) => Scenario::load(p)?,
        None => Scenario::embedded()?,
    })
}

/// The backend inside the cockpit process, on loopback, same protocol.
fn start_embedded_backend(
    city: &Arc<City>,
    args: &RunArgs,
) -> anyhow::Result<(BackendThread, String)> {
    let scenario = scenario_from(args.scenario.as_deref())?;
    let tick = Duration::from_millis(scenario.tick_ms);
    let db = args
        .db
        .as_ref()
        .map_or_else(|| ":memory:".to_owned(), |p| p.display().to_string());
    let engine = Engine::open(city.clone(), &db, Some(scenario))?;
    let token = local_token();
    let mut tokens = Tokens::default();
    tokens.insert(
        &token,
        Grant {
            name: "本机驾驶舱 / local cockpit".to_owned(),
            role: Role::Dispatcher,
            scope: Scope::City,
        },
    );
    let backend = BackendThread::spawn(
        engine,
        ServerConfig {
            listen: ([127, 0, 0, 1], 0).into(),
            tokens,
            tick,
            heartbeat: Duration::from_secs(2),
            record: None,
            feed: None,
        },
    )?;
    Ok((backend, token))
}

fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let _ = bevy::log::tracing_subscriber::fmt()
        .with_env_filter(bevy::log::tracing_subscriber::EnvFilter::new(
            "info,citytwin=info",
        ))
        .try_init();
    let data = scenario_scene(&args.data, args.scenario.as_deref())?;
    let city = Arc::new(load_city(&data)?);
    let scenario = if args.no_scenario {
        None
    } else {
        Some(scenario_from(args.scenario.as_deref())?)
    };
    let tokens = Tokens::load(&args.token_file)?;
    if tokens.is_empty() {
        bail!(
            "{} defines no tokens: nobody could connect",
            args.token_file.display()
        );
    }
    let tick = Duration::from_millis(scenario.as_ref().map_or(250, |s| s.tick_ms));
    let feed = readings_feed(&data, &city, args.speed)?;
    let engine = Engine::open(city, &args.db.display().to_string(), scenario)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("citytwin-server")
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let server = Server::start(
            engine,
            ServerConfig {
                listen: args.listen,
                tokens,
                tick,
                heartbeat: Duration::from_secs_f64(args.heartbeat_secs.max(0.1)),
                record: args.record.clone(),
                feed,
            },
        )
        .await?;
        println!(
            "citytwin serve: listening on {} (Ctrl-C to stop)",
            server.addr
        );
        tokio::signal::ctrl_c().await?;
        println!("citytwin serve: shutting down");
        server.shutdown().await;
        anyhow::Ok(())
    })
}

fn kpi(args: KpiArgs) -> anyhow::Result<()> {
    if !args.db.exists() {
        bail!("{}: no such database", args.db.display());
    }
    let city = load_city(&args.data)?;
    if let Some(code) = &args.scope
        && !city.districts.iter().any(|d| &d.code == code)
    {
        bail!("--scope {code}: no district has that code");
    }
    let store = crate::backend::store::Store::open(
        &args.db.display().to_string(),
        &city,
        &Default::default(),
    )?;
    let table = store.kpi_at(args.at.unwrap_or(i64::MAX))?;
    let rows = crate::kpi_report::rows(&city, &table, args.scope.as_deref());
    print!("{}", crate::kpi_report::render(&rows, args.csv));
    Ok(())
}

fn replay(args: ReplayArgs) -> anyhow::Result<()> {
    if let Some(ReplayAction::Clip(clip)) = args.action {
        return replay_clip(clip);
    }
    let Some(file) = args.file else {
        bail!("which recording? citytwin replay FILE.mcap (or replay clip …)");
    };
    if args.info {
        return replay_info(&file);
    }
    require_display()?;
    let city = Arc::new(load_city(&args.data)?);
    let source = ReplaySource::open(file.clone())?;
    let Some(span) = source.span() else {
        bail!("{}: the recording holds no stream", file.display());
    };
    let recording = source.cursor().map(|c| c.recording());
    if let Some(r) = recording
        && !r.is_complete()
    {
        eprintln!(
            "warning: {} was cut short: it ends at {} (read to its last complete chunk)",
            file.display(),
            crate::time::format_cst(span.1)
        );
    }
    let mut time = TimeControl::replay(span);
    if let Some(at) = args.at {
        time.apply(crate::cockpit::time::TimeControlCommand::Seek(at));
    }
    let mut view = view_for(&city, &args.view)?;
    let (select, select_hazard) =
        resolve_select(&city, args.select.as_deref(), &args.view, &mut view)?;
    let w = &args.window;
    run_window(
        city.clone(),
        RunOptions {
            window_size: (w.size.x, w.size.y),
            ui_scale: w.ui_scale,
            lang: w.lang,
            start: CityStart {
                view: Some(view),
                select,
                select_hazard,
                replay: Some(source),
                ..CityStart::default()
            },
            video_wall: w.video_wall,
            hwaccel: w.hwaccel.clone(),
            screenshot: w
                .screenshot
                .clone()
                .map(|p| (p, w.screenshot_frames.max(45))),
            time,
            marks: Some(MarksLoader::spawn(file).context("starting the timeline marks thread")?),
            briefing: None,
            wall: wall_setup(w)?,
        },
    );
    Ok(())
}

fn replay_info(file: &std::path::Path) -> anyhow::Result<()> {
    let mut recording = crate::recording::Recording::open(file)?;
    // Read every chunk once, so damage is found and named.
    for i in 0..recording.chunks().len() {
        let _ = recording.read_chunk(i);
    }
    let info = recording.info()?;
    let span = |t: Option<i64>| t.map_or_else(|| "—".to_owned(), crate::time::format_cst);
    println!("recording: {}", file.display());
    println!(
        "complete:  {}",
        if info.complete {
            "yes".to_owned()
        } else {
            format!(
                "no — cut short; read to its last complete chunk, which ends at {}",
                span(info.end_ms)
            )
        }
    );
    println!("start:     {} (CST)", span(info.start_ms));
    println!("end:       {} (CST)", span(info.end_ms));
    if let (Some(a), Some(b)) = (info.start_ms, info.end_ms) {
        println!(
            "span:      {:.1} min of stream time",
            (b - a) as f64 / 60_000.0
        );
    }
    println!(
        "size:      {:.2} MB in {} chunks",
        info.bytes as f64 / 1e6,
        info.chunks
    );
    println!("snapshots: {}", info.snapshots);
    for (topic, count) in &info.counts {
        println!("  {topic:<24} {count}");
    }
    for p in &info.problems {
        eprintln!("error: {}", p.message);
    }
    Ok(())
}

fn replay_clip(args: ClipArgs) -> anyhow::Result<()> {
    let city = load_city(&args.data)?;
    let report = crate::recording::clip(&args.file, &city, args.from, args.to, &args.out)?;
    for p in &report.problems {
        eprintln!("error: {}", p.message);
    }
    if report.skipped > 0 {
        eprintln!(
            "warning: {} deltas after a corrupt chunk were skipped (the clip resumes at the next snapshot)",
            report.skipped
        );
    }
    println!(
        "wrote {}: {} – {} (CST), {} messages",
        args.out.display(),
        crate::time::format_cst(args.from),
        crate::time::format_cst(args.to),
        report.messages
    );
    Ok(())
}

/// `citytwin record`: the scenario fast-forwarded into a recording.
fn record(args: RecordArgs) -> anyhow::Result<()> {
    let data = scenario_scene(&args.data, args.scenario.as_deref())?;
    let city = Arc::new(load_city(&data)?);
    let scenario = scenario_from(args.scenario.as_deref())?;
    let db = args
        .db
        .as_ref()
        .map_or_else(|| ":memory:".to_owned(), |p| p.display().to_string());
    let started = std::time::Instant::now();
    let engine = Engine::open(city, &db, Some(scenario))?;
    let report = crate::backend::fast_forward::record(engine, args.hours, &args.out)?;
    println!(
        "wrote {}: {} – {} (CST), {} deltas, {} snapshots, {} cases opened, {:.2} MB in {:.1} s",
        args.out.display(),
        crate::time::format_cst(report.start_ms),
        crate::time::format_cst(report.end_ms),
        report.deltas,
        report.snapshots,
        report.cases_opened,
        report.bytes as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn render(args: RenderArgs) -> anyhow::Result<()> {
    let city = load_city(&args.data)?;
    let mut view = view_for(&city, &args.view)?;
    let area = args
        .area
        .as_deref()
        .map(|text| parse_area(&city, text))
        .transpose()?;
    let placed = args.view.look_at.is_some() || args.view.distance.is_some();
    if let (Some(area), false) = (area, placed) {
        let index = crate::cockpit::drill::AreaIndex::new(&city);
        let to = crate::cockpit::drill::fly_to_area(&city, Some(&index), area);
        view.focus = to.focus;
        view.distance_m = to.distance_m.unwrap_or(view.distance_m);
        view = view.clamped();
    }
    let replay = match (&args.recording, args.at) {
        (Some(file), Some(at)) => Some((ReplaySource::open(file.clone())?, at)),
        _ => None,
    };
    let mut headless =
        crate::cockpit::headless::HeadlessCity::new(Arc::new(city), view, args.size, true);
    if let Some((source, at)) = replay {
        headless.replay(source, at);
        if let Some(problem) = headless.replay_problems().last() {
            bail!("{problem}");
        }
    }
    if let Some(area) = area {
        // The operator's path: the drill message, then its frame.
        headless
            .app()
            .world_mut()
            .write_message(crate::cockpit::drill::DrillTo(area));
        headless.update();
        headless.set_view(view);
        headless.update();
    }
    let image = headless.capture()?;
    image
        .save(&args.out)
        .with_context(|| format!("writing {}", args.out.display()))?;
    println!(
        "wrote {} ({}x{})",
        args.out.display(),
        args.size.x,
        args.size.y
    );
    Ok(())
}
