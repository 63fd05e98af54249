//! `citytwin bench render`: frame time with the whole city in view, for the
//! demo and a real 41k-footprint file, as a ratio to the bare reference;
//! load time (file → GPU); CPU cost of recolouring 1 / 1,000 / all buildings.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use bevy::camera::{CameraProjection, PerspectiveProjection};
use bevy::math::UVec2;
use clap::Args;

use super::reference::{RefVertex, ReferenceRenderer};
use super::{Common, median_p95};
use crate::cli::{DataArgs, load_city, parse_size};
use crate::cockpit::camera::OrbitCamera;
use crate::cockpit::city::TILE_SIZE_M;
use crate::cockpit::city::buildings::{BuildingLod, TileLevel};
use crate::cockpit::city::look::{Look, SetLook};
use crate::cockpit::city::terrain::{TerrainLod, grid_indices};
use crate::cockpit::headless::HeadlessCity;
use crate::cockpit::state::CityState;
use crate::cockpit::ui::theme;
use crate::geo::mesh::build_tiles;
use crate::model::{BuildingId, City, RiskLevel};
use bevy::prelude::{Visibility, With};

#[derive(Args, Debug, Clone)]
pub struct RenderBenchArgs {
    #[command(flatten)]
    pub common: Common,
    /// Frame size.
    #[arg(long, default_value = "1280x720", value_parser = parse_size)]
    pub size: UVec2,
    /// Real buildings to measure besides the demo (default: moscow_41k from
    /// $CITYTWIN_SHARED_DATA or ../shared/data, when present).
    #[arg(long, value_name = "FILE.geojson")]
    pub buildings: Option<PathBuf>,
    /// Only the demo city.
    #[arg(long)]
    pub demo_only: bool,
    /// Instead: a generated city of this many buildings (blocks of boxes
    /// on a 40 m grid, through the importer as a file would go), measured
    /// whole-city and at street level.
    #[arg(long, value_name = "N")]
    pub buildings_count: Option<usize>,
}

/// `count` box footprints on a 40 m grid around Chongqing's centre, as the
/// importer would have read them (heights 6–120 m, one in 30 tall).
pub fn generated_report(count: usize) -> crate::geo::geojson::ImportReport {
    use crate::geo::geojson::{ImportReport, ImportedBuilding};
    let side = (count as f64).sqrt().ceil() as usize;
    let frame = crate::geo::LocalFrame::new(106.55, 29.56);
    let spacing = 40.0f32;
    let half = side as f32 * spacing / 2.0;
    let mut rng = crate::geo::rng::Rng::new(0x1_000_000);
    let buildings = (0..count)
        .map(|i| {
            let (col, row) = ((i % side) as f32, (i / side) as f32);
            let (w, d) = (rng.range(10.0, 30.0), rng.range(10.0, 30.0));
            let x = col * spacing - half + rng.range(0.0, spacing - w);
            let y = row * spacing - half + rng.range(0.0, spacing - d);
            let ring: Vec<(f64, f64)> = [[x, y], [x + w, y], [x + w, y + d], [x, y + d], [x, y]]
                .iter()
                .map(|p| {
                    let [lon, lat] = frame.to_lon_lat(*p);
                    (lon, lat)
                })
                .collect();
            let tall = rng.below(30) == 0;
            ImportedBuilding::measured(
                i,
                geo_types::Polygon::new(geo_types::LineString::from(ring), Vec::new()),
                if tall {
                    rng.range(60.0, 120.0)
                } else {
                    rng.range(6.0, 36.0)
                },
            )
        })
        .collect();
    ImportReport {
        buildings,
        skipped: Vec::new(),
        features: count,
        height_notes: Default::default(),
    }
}

fn shared_moscow() -> Option<PathBuf> {
    let root = std::env::var_os("CITYTWIN_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("../shared/data"));
    let path = root.join("buildings/moscow_41k.geojson");
    path.exists().then_some(path)
}

pub fn run(args: &RenderBenchArgs) -> anyhow::Result<()> {
    println!(
        "citytwin bench render — {}x{}, {} frames",
        args.size.x, args.size.y, args.common.frames
    );
    if let Some(count) = args.buildings_count {
        return bench_generated(count, args);
    }
    bench_dataset("demo (embedded Chongqing)", &DataArgs::default(), args)?;
    if !args.demo_only {
        match args.buildings.clone().or_else(shared_moscow) {
            Some(path) => {
                let data = DataArgs {
                    buildings: Some(path.clone()),
                    // As `run` does (the derived Default would be 0 m).
                    default_height: crate::geo::geojson::DEFAULT_HEIGHT_M,
                    ..DataArgs::default()
                };
                bench_dataset(&path.display().to_string(), &data, args)?;
            }
            None => println!(
                "(no moscow_41k.geojson found: set CITYTWIN_SHARED_DATA or pass --buildings)"
            ),
        }
    }
    Ok(())
}

/// The generated city: load, whole-city and street-level frames, memory,
/// recolouring — beside the goals.
fn bench_generated(count: usize, args: &RenderBenchArgs) -> anyhow::Result<()> {
    println!("\n== generated city, {count} buildings");
    let t_load = Instant::now();
    let report = generated_report(count);
    let gen_ms = ms(t_load);
    let t_city = Instant::now();
    let city = Arc::new(crate::geo::assemble::city_from_import(
        &report,
        None,
        "generated",
    ));
    drop(report);
    let city_ms = ms(t_city);
    let view = whole_city_view(&city);
    let (mut headless, gpu_ms) = first_frame(&city, view, args.size);
    println!(
        "load: {:.0} ms (goal ≤ 10,000) = {gen_ms:.0} ms generating footprints + {city_ms:.0} ms footprints → city + {gpu_ms:.0} ms mesh, upload, first frame",
        ms(t_load)
    );
    println!(
        "resident memory: {:.0} MB (goal ≤ 2,048)",
        super::rss_mb("self")
    );
    let street = OrbitCamera {
        focus: bevy::math::Vec3::ZERO,
        distance_m: 600.0,
        pitch_deg: 45.0,
        heading_deg: 30.0,
    };
    for (name, v) in [("whole city", view), ("street level", street)] {
        headless.set_view(v);
        let mut frames = timed_frames(&mut headless, args.common.frames);
        let (median, p95) = median_p95(&mut frames);
        println!(
            "{name}: median {median:.1} ms = {:.1} fps (goal ≥ 5), p95 {p95:.1} ms",
            1e3 / median
        );
    }
    recolour_costs(&city, args.common.frames.max(20));
    Ok(())
}

/// The view every `bench render` figure is taken from: the whole city,
/// 60° down.
pub fn whole_city_view(city: &City) -> OrbitCamera {
    let b = &city.bounds;
    OrbitCamera {
        pitch_deg: 60.0,
        ..OrbitCamera::overview(b.min_m, b.max_m, city.terrain.height_at([0.0, 0.0]))
    }
}

/// The headless cockpit on `city` and the time to its first frame (mesh,
/// upload, render).
fn first_frame(city: &Arc<City>, view: OrbitCamera, size: UVec2) -> (HeadlessCity, f64) {
    let t = Instant::now();
    let headless = HeadlessCity::new(city.clone(), view, size, false);
    headless.wait_for_gpu();
    (headless, ms(t))
}

/// From the file to the first frame with the city in it, the way
/// `citytwin run` goes: the app starts at once while the `city-load`
/// thread reads the city and meshes its buildings, then the city arrives
/// in the whole-city view.
/// Returns (to the first frame, to the loading thread's end) in ms.
fn first_frame_as_run(data: &DataArgs, size: UVec2) -> anyhow::Result<(f64, f64)> {
    let t = Instant::now();
    let data = data.clone();
    let thread_ms = Arc::new(std::sync::Mutex::new(0.0));
    let thread_done = thread_ms.clone();
    let load = crate::cockpit::load::CityLoad::spawn(move |_| {
        let city = load_city(&data)?;
        let tiles = build_tiles(&city.buildings, TILE_SIZE_M, &city.terrain);
        if let Ok(mut done) = thread_done.lock() {
            *done = ms(t);
        }
        let view = whole_city_view(&city);
        Ok(crate::cockpit::load::Loaded {
            city: Arc::new(city),
            tiles: Some(tiles),
            install: Box::new(move |world| {
                let mut cameras = world.query::<&mut OrbitCamera>();
                for mut camera in cameras.iter_mut(world) {
                    *camera = view;
                }
            }),
        })
    })?;
    let placeholder = OrbitCamera {
        focus: bevy::math::Vec3::ZERO,
        distance_m: 1000.0,
        pitch_deg: 45.0,
        heading_deg: 0.0,
    };
    let mut headless = HeadlessCity::loading(load, placeholder, size, false);
    headless.wait_for_city(std::time::Duration::from_secs(600))?;
    let total = ms(t);
    let thread = thread_ms.lock().map_or(0.0, |m| *m);
    Ok((total, thread))
}

/// Two frames to settle, then `count` timed ones (GPU work included).
fn timed_frames(headless: &mut HeadlessCity, count: usize) -> Vec<f64> {
    for _ in 0..2 {
        headless.update();
    }
    headless.wait_for_gpu();
    (0..count)
        .map(|_| {
            let t = Instant::now();
            headless.update();
            headless.wait_for_gpu();
            ms(t)
        })
        .collect()
}

fn ms(start: Instant) -> f64 {
    start.elapsed().as_secs_f64() * 1e3
}

fn bench_dataset(name: &str, data: &DataArgs, args: &RenderBenchArgs) -> anyhow::Result<()> {
    println!("\n== {name}");
    let (windowed_ms, thread_ms) = first_frame_as_run(data, args.size)?;
    let t_load = Instant::now();
    let city = Arc::new(load_city(data)?);
    let parse_ms = ms(t_load);
    let rss_city = super::rss_mb("self");
    let view = whole_city_view(&city);
    // Where the file → city time goes: the GeoJSON alone (read, split,
    // features parsed on every core), the rest is assembling the city.
    let geojson_ms = match &data.buildings {
        Some(path) if data.osm.is_none() => {
            let t = Instant::now();
            let options = crate::geo::geojson::ImportOptions {
                crs: data.crs,
                default_height_m: data.default_height,
            };
            crate::geo::geojson::import_file(path, &options)?;
            Some(ms(t))
        }
        _ => None,
    };
    let (mut headless, gpu_ms) = first_frame(&city, view, args.size);
    println!(
        "load: file → first frame {windowed_ms:.0} ms as `run` does it (the app starting while the city-load thread reads and meshes: city read and meshed at {thread_ms:.0} ms, then scene, upload and frame); one after the other {:.0} ms = {parse_ms:.0} ms file → city + {gpu_ms:.0} ms app, mesh, upload, first frame ({} buildings)",
        parse_ms + gpu_ms,
        city.buildings.len()
    );
    let t = Instant::now();
    let (tiles, _) = build_tiles(&city.buildings, TILE_SIZE_M, &city.terrain);
    println!(
        "  meshing every level of {} tiles (near, far, roofs, raster) takes {:.0} ms of it ({} cores)",
        tiles.len(),
        ms(t),
        std::thread::available_parallelism().map_or(1, usize::from)
    );
    drop(tiles);
    if let Some(geojson_ms) = geojson_ms {
        println!(
            "  file → city: {geojson_ms:.0} ms reading and parsing the GeoJSON ({} cores), {:.0} ms assembling the city (frame, terrain, codes, outlines)",
            std::thread::available_parallelism().map_or(1, usize::from),
            parse_ms - geojson_ms
        );
    }
    println!(
        "resident memory: {rss_city:.0} MB with the city loaded, {:.0} MB after the first frame (bevy, the Vulkan driver, meshes — on lavapipe GPU buffers are host memory too)",
        super::rss_mb("self")
    );

    // Frame time with the whole city in view; GPU work included. The look
    // of the wall (form, risk focus, halos, sky) against round 1's flat
    // look, alternating in blocks so drift hits both alike.
    let mut frames = Vec::with_capacity(args.common.frames);
    let mut flat_frames = Vec::with_capacity(args.common.frames);
    let mut no_halo_frames = Vec::with_capacity(args.common.frames);
    let block = 5.min(args.common.frames.max(1));
    let no_halos = Look {
        halos: false,
        ..Look::default()
    };
    while frames.len() < args.common.frames {
        for (look, out) in [
            (Look::default(), &mut frames),
            (no_halos, &mut no_halo_frames),
            (Look::flat(), &mut flat_frames),
        ] {
            headless.app().world_mut().write_message(SetLook(look));
            for _ in 0..2 {
                headless.update();
            }
            headless.wait_for_gpu();
            for _ in 0..block {
                let t = Instant::now();
                headless.update();
                headless.wait_for_gpu();
                out.push(ms(t));
            }
        }
    }
    let (median, p95) = median_p95(&mut frames);
    let (flat_median, flat_p95) = median_p95(&mut flat_frames);
    let (no_halo_median, _) = median_p95(&mut no_halo_frames);
    println!("cockpit frame: median {median:.1} ms, p95 {p95:.1} ms (the wall's look)");
    println!(
        "round-1 flat look: median {flat_median:.1} ms, p95 {flat_p95:.1} ms → the look costs {:+.1} % (budget +10 %)",
        (median / flat_median - 1.0) * 100.0
    );
    println!(
        "  of which halos {:+.1} % (the look without them: median {no_halo_median:.1} ms), light, focus and sky {:+.1} %",
        (median - no_halo_median) / flat_median * 100.0,
        (no_halo_median / flat_median - 1.0) * 100.0
    );

    // The same view with every tile at its near level: what LOD saves.
    headless
        .app()
        .world_mut()
        .write_message(SetLook(Look::default()));
    let set_full_detail = |headless: &mut HeadlessCity, full_detail: bool| {
        let world = headless.app().world_mut();
        world.insert_resource(if full_detail {
            BuildingLod::near_only()
        } else {
            BuildingLod::default()
        });
        world.insert_resource(TerrainLod { full_detail });
    };
    set_full_detail(&mut headless, true);
    let mut full_frames = timed_frames(&mut headless, args.common.frames);
    set_full_detail(&mut headless, false);
    let (full_median, full_p95) = median_p95(&mut full_frames);
    let [near_tris, far_tris, roofs_tris, raster_tris] = level_triangles(&city);
    let lod = BuildingLod::default();
    println!(
        "full detail (every tile near, {near_tris} building triangles; the terrain at full resolution): median {full_median:.1} ms, p95 {full_p95:.1} ms → LOD/full = {:.2}× (goal ≤ 0.5; far level {far_tris} triangles from {:.0} m, roofs level {roofs_tris} + {raster_tris} raster surface from {:.0} m)",
        median / full_median,
        lod.switch_m,
        lod.roofs_m
    );

    // The rest of the frame: every building level hidden.
    let no_buildings = without_buildings(&mut headless, args.common.frames);
    println!(
        "without buildings (terrain, water, lines, sky, halos, post): median {no_buildings:.1} ms → buildings cost {:.1} ms of the cockpit frame, {:.1} ms at full detail",
        median - no_buildings,
        full_median - no_buildings
    );

    // … and where it goes: each part hidden in turn.
    let parts: Vec<String> = FRAME_PARTS
        .iter()
        .map(|(label, prefix)| {
            let without = without_named(&mut headless, prefix, args.common.frames);
            format!("{label} {:.1}", median - without)
        })
        .collect();
    println!(
        "  each part's cost (ms, the frame without it): {}",
        parts.join(", ")
    );

    let reference = reference_frame_ms(&city, &view, args)?;
    if let Some((ref_median, ref_p95, triangles)) = reference {
        println!(
            "bare wgpu reference ({triangles} triangles, all full): median {ref_median:.1} ms, p95 {ref_p95:.1} ms → cockpit/reference = {:.2}× (goal ≤ 1.0), full detail/reference = {:.2}×",
            median / ref_median,
            full_median / ref_median
        );
    }

    recolour_costs(&city, args.common.frames.max(20));
    Ok(())
}

/// The median frame with every building tile hidden (then shown again).
fn without_buildings(headless: &mut HeadlessCity, count: usize) -> f64 {
    let set = |headless: &mut HeadlessCity, visibility: Visibility| {
        let world = headless.app().world_mut();
        let mut tiles = world.query_filtered::<&mut Visibility, With<TileLevel>>();
        for mut v in tiles.iter_mut(world) {
            *v = visibility;
        }
    };
    set(headless, Visibility::Hidden);
    let mut frames = timed_frames(headless, count);
    set(headless, Visibility::Inherited);
    median_p95(&mut frames).0
}

/// What the frame draws besides the buildings: a label and the start of
/// the entities' names.
const FRAME_PARTS: [(&str, &str); 7] = [
    ("terrain", "terrain"),
    ("water", "water"),
    ("district borders", "district borders"),
    ("area outline", "area outline"),
    ("sky", "sky"),
    ("halos", "halos tile"),
    ("event markers", "event markers"),
];

/// The median frame with the entities whose name starts with `prefix`
/// hidden (then shown again).
fn without_named(headless: &mut HeadlessCity, prefix: &str, count: usize) -> f64 {
    let set = |headless: &mut HeadlessCity, visibility: Visibility| {
        let world = headless.app().world_mut();
        let mut q = world.query::<(&bevy::prelude::Name, &mut Visibility)>();
        for (name, mut v) in q.iter_mut(world) {
            if name.as_str().starts_with(prefix) {
                *v = visibility;
            }
        }
    };
    set(headless, Visibility::Hidden);
    let mut frames = timed_frames(headless, count);
    set(headless, Visibility::Inherited);
    median_p95(&mut frames).0
}

/// Building triangles at the near, far and roofs levels, and of the
/// roofs level's raster surfaces.
fn level_triangles(city: &City) -> [usize; 4] {
    let (tiles, _) = build_tiles(&city.buildings, TILE_SIZE_M, &city.terrain);
    let count =
        |m: &Option<Box<crate::geo::mesh::TileMesh>>| m.as_ref().map_or(0, |m| m.triangle_count());
    tiles.iter().fold([0; 4], |[near, far, roofs, raster], t| {
        [
            near + t.triangle_count(),
            far + count(&t.far),
            roofs + count(&t.roofs),
            raster + t.raster.as_ref().map_or(0, |r| r.triangle_count()),
        ]
    })
}

fn reference_frame_ms(
    city: &City,
    view: &OrbitCamera,
    args: &RenderBenchArgs,
) -> anyhow::Result<Option<(f64, f64, usize)>> {
    let (tiles, _) = build_tiles(&city.buildings, TILE_SIZE_M, &city.terrain);
    let state = CityState::new(city);
    let mut vertices = Vec::new();
    let mut indices = Vec::new();
    for tile in &tiles {
        let base = vertices.len() as u32;
        for (p, id) in tile.positions.iter().zip(&tile.building_ids) {
            let level = state.level(BuildingId(*id)).unwrap_or(RiskLevel::Low);
            let c = theme::risk_color(level).linear();
            vertices.push(RefVertex {
                position: *p,
                color: c.to_array(),
            });
        }
        indices.extend(tile.indices.iter().map(|i| base + i));
    }
    // The terrain grid, as the cockpit draws it.
    let t = &city.terrain;
    let base = vertices.len() as u32;
    let ground = theme::TERRAIN_MID.linear().to_array();
    for row in 0..t.rows {
        for col in 0..t.cols {
            let local = [
                t.origin_m[0] + col as f32 * t.cell_m,
                t.origin_m[1] + row as f32 * t.cell_m,
            ];
            vertices.push(RefVertex {
                position: crate::geo::world_from_local(local, t.height_at_cell(col, row)),
                color: ground,
            });
        }
    }
    // The same triangles as the cockpit's terrain mesh.
    indices.extend(grid_indices(t.cols, t.rows).into_iter().map(|i| base + i));
    let projection = PerspectiveProjection {
        fov: 45f32.to_radians(),
        near: 10.0,
        far: 200_000.0,
        aspect_ratio: args.size.x as f32 / args.size.y as f32,
        ..Default::default()
    };
    let world_from_view = view.transform().to_matrix();
    let clip_from_world = projection.get_clip_from_view() * world_from_view.inverse();
    let renderer = match ReferenceRenderer::new(
        &vertices,
        &indices,
        clip_from_world,
        args.size.x,
        args.size.y,
    ) {
        Ok(r) => r,
        Err(e) => {
            println!("bare wgpu reference unavailable: {e:#}");
            return Ok(None);
        }
    };
    let bg = theme::BACKGROUND.linear();
    let clear = [f64::from(bg.x), f64::from(bg.y), f64::from(bg.z)];
    for _ in 0..3 {
        renderer.frame(clear);
    }
    let mut frames = Vec::with_capacity(args.common.frames);
    for _ in 0..args.common.frames {
        let t = Instant::now();
        renderer.frame(clear);
        frames.push(ms(t));
    }
    let (median, p95) = median_p95(&mut frames);
    println!("reference adapter: {}", renderer.adapter_name);
    Ok(Some((median, p95, indices.len() / 3)))
}

/// CPU work of a recolour: the state change plus packing the GPU words (what
/// the sync system does before the upload).
fn recolour_costs(city: &City, reps: usize) {
    let mut state = CityState::new(city);
    let mut packed = Vec::new();
    let n = city.buildings.len();
    for count in [1, 1_000, n] {
        if count > n {
            continue;
        }
        let mut samples = Vec::with_capacity(reps);
        for rep in 0..reps {
            let level = RiskLevel::ALL[rep % 5];
            let t = Instant::now();
            state.set_levels((0..count as u32).map(|i| (BuildingId(i), level)));
            state.pack_into(&mut packed);
            samples.push(ms(t));
        }
        let (median, p95) = median_p95(&mut samples);
        println!(
            "recolour {count:>6} buildings: median {median:.3} ms, p95 {p95:.3} ms CPU (state + GPU words)"
        );
    }
}
