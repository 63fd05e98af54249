// Terrain and water: per-vertex colour (elevation tint and hillshade baked on
// the CPU), a little sun, distance fog into the background colour; district
// boundaries, and the drilled-into area tinted and outlined, from a grid of
// area cells (see geo/area_grid.rs).
#import bevy_pbr::mesh_functions::get_world_from_local
#import bevy_pbr::mesh_view_bindings::view
#import bevy_pbr::view_transformations::position_world_to_clip

struct GroundParams {
    fog_color: vec4<f32>,
    // xyz: direction towards the sun; w: specular strength (water).
    sun: vec4<f32>,
    // x: fog density per metre.
    fog: vec4<f32>,
    // Area tint and boundary colour (linear).
    accent: vec4<f32>,
    // The area grid: xy local origin (east, north), z cell size (m).
    grid: vec4<f32>,
    // x columns, y rows.
    grid_size: vec4<u32>,
    // The drilled-into area: x 0 city, 1 district y, 2 street z.
    focus: vec4<u32>,
}

@group(#{MATERIAL_BIND_GROUP}) @binding(0) var<uniform> params: GroundParams;
// Per cell: district (bits 0..13) | near a district border (bit 14) | near
// any area change (bit 15) | street << 16, or 0xffffffff for no area (see
// geo/area_grid.rs).
@group(#{MATERIAL_BIND_GROUP}) @binding(1) var<storage, read> areas: array<u32>;

const NO_AREA: u32 = 0xffffffffu;
const NEAR_EDGE: u32 = 0x8000u;
const NEAR_DISTRICT_EDGE: u32 = 0x4000u;
const DISTRICT_MASK: u32 = 0x3fffu;
// Cells around a flagged one that the flag covers (EDGE_REACH).
const EDGE_REACH: f32 = 2.0;

// The area word under a world position.
fn area_at(world: vec3<f32>) -> u32 {
    let local = vec2<f32>(world.x, -world.z);
    let cell = floor((local - params.grid.xy) / params.grid.z);
    if cell.x < 0.0 || cell.y < 0.0 || cell.x >= f32(params.grid_size.x) || cell.y >= f32(params.grid_size.y) {
        return NO_AREA;
    }
    return areas[u32(cell.y) * params.grid_size.x + u32(cell.x)];
}

fn in_focus(area: u32) -> bool {
    if area == NO_AREA || params.focus.x == 0u {
        return false;
    }
    if params.focus.x == 1u {
        return (area & DISTRICT_MASK) == params.focus.y;
    }
    return (area >> 16u) == params.focus.z;
}

// Tints the drilled-into area and draws boundaries: between districts at
// city level; around the area (bright) and between its streets inside.
fn outline(color: vec3<f32>, world: vec3<f32>, distance: f32) -> vec3<f32> {
    let here = area_at(world);
    if here == NO_AREA {
        return color;
    }
    let inside = in_focus(here);
    let accent = params.accent.rgb;
    // At city level only district borders are drawn.
    var edge_flag = NEAR_EDGE;
    if params.focus.x == 0u {
        edge_flag = NEAR_DISTRICT_EDGE;
    }
    if (here & edge_flag) == 0u {
        // No boundary within reach: skip the neighbour lookups.
        if inside {
            return mix(color, accent, 0.12);
        }
        return color;
    }
    // A line a few pixels wide at any zoom, never thinner than a fifth of a
    // cell, never wider than the edge flag reaches.
    let w = min(max(params.grid.z * 0.2, distance * 0.0025), params.grid.z * (EDGE_REACH - 0.1));
    let offsets = array<vec3<f32>, 4>(
        vec3<f32>(w, 0.0, 0.0), vec3<f32>(-w, 0.0, 0.0),
        vec3<f32>(0.0, 0.0, w), vec3<f32>(0.0, 0.0, -w));
    var district_edge = false;
    var street_edge = false;
    var focus_edge = false;
    for (var i = 0u; i < 4u; i = i + 1u) {
        let there = area_at(world + offsets[i]);
        // Between two districts (the edge of the built-up land is no border).
        district_edge = district_edge || (there != NO_AREA && (there & DISTRICT_MASK) != (here & DISTRICT_MASK));
        street_edge = street_edge || (there != NO_AREA && (there >> 16u) != (here >> 16u));
        focus_edge = focus_edge || in_focus(there) != inside;
    }
    if params.focus.x == 0u {
        if district_edge {
            return mix(color, accent, 0.3);
        }
        return color;
    }
    if !inside {
        return color;
    }
    if focus_edge {
        return mix(color, accent * 1.4, 0.9);
    }
    if street_edge && params.focus.x == 1u {
        return mix(color, accent, 0.35);
    }
    return mix(color, accent, 0.12);
}

struct Vertex {
    @builtin(instance_index) instance_index: u32,
    @location(0) position: vec3<f32>,
    @location(1) color: vec4<f32>,
}

struct VertexOutput {
    @builtin(position) clip_position: vec4<f32>,
    @location(0) world_position: vec3<f32>,
    @location(1) color: vec4<f32>,
}

@vertex
fn vertex(in: Vertex) -> VertexOutput {
    var out: VertexOutput;
    let world = get_world_from_local(in.instance_index) * vec4<f32>(in.position, 1.0);
    out.world_position = world.xyz;
    out.clip_position = position_world_to_clip(world.xyz);
    out.color = in.color;
    return out;
}

@fragment
fn fragment(in: VertexOutput) -> @location(0) vec4<f32> {
    var color = in.color.rgb;
    let to_eye = normalize(view.world_position - in.world_position);
    // Water glints where the sun reflects towards the eye (flat surface, n = +y).
    let reflected = reflect(-params.sun.xyz, vec3<f32>(0.0, 1.0, 0.0));
    let glint = pow(max(dot(reflected, to_eye), 0.0), 24.0) * params.sun.w;
    color = color + vec3<f32>(glint);
    let distance = length(in.world_position - view.world_position);
    color = outline(color, in.world_position, distance);
    let fog = 1.0 - exp(-pow(distance * params.fog.x, 2.0));
    return vec4<f32>(mix(color, params.fog_color.rgb, fog), 1.0);
}
