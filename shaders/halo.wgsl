// Halos around 较大/重大 buildings: per building an oriented box, drawn from
// the inside (front faces culled) and pushed outward on the screen by a fixed
// number of pixels, so a bright rim a few pixels wide surrounds the building
// at any distance. Boxes of other levels collapse to nothing in the vertex
// stage; the level comes from the same state buffer as the buildings'.
#import bevy_pbr::mesh_functions::get_world_from_local
#import bevy_pbr::mesh_view_bindings::view
#import bevy_pbr::view_transformations::position_world_to_clip

struct HaloParams {
    // Linear RGB of the halo of 重大 and of 较大.
    colors: array<vec4<f32>, 2>,
    fog_color: vec4<f32>,
    // x: width (px); y: fog density per metre; z: 1 = halos on.
    halo: vec4<f32>,
    // The drilled-into area (as the buildings'): no halo outside it.
    focus: vec4<u32>,
}

@group(#{MATERIAL_BIND_GROUP}) @binding(0) var<uniform> params: HaloParams;
@group(#{MATERIAL_BIND_GROUP}) @binding(1) var<storage, read> states: array<u32>;
@group(#{MATERIAL_BIND_GROUP}) @binding(2) var<storage, read> areas: array<u32>;

const LEVEL_MASK: u32 = 7u;
const DIMMED_BIT: u32 = 32u;

struct Vertex {
    @builtin(instance_index) instance_index: u32,
    @location(0) position: vec3<f32>,
    @location(1) outward: vec3<f32>,
    @location(2) building_id: u32,
}

struct VertexOutput {
    @builtin(position) clip_position: vec4<f32>,
    @location(0) world_position: vec3<f32>,
    @location(1) @interpolate(flat) level: u32,
}

fn in_focus(area: u32) -> bool {
    if params.focus.x == 1u && (area & 0xffffu) != params.focus.y {
        return false;
    }
    if params.focus.x == 2u && (area >> 16u) != params.focus.z {
        return false;
    }
    return true;
}

// The unit direction on the screen (pixels) in which `world` moves along `d`.
fn screen_direction(world: vec3<f32>, clip: vec4<f32>, d: vec3<f32>, size: vec2<f32>) -> vec2<f32> {
    let tip = position_world_to_clip(world + d);
    let dir = (tip.xy / tip.w - clip.xy / clip.w) * size;
    let len = length(dir);
    if len < 1e-6 || tip.w <= 0.0 {
        return vec2<f32>(0.0);
    }
    return dir / len;
}

@vertex
fn vertex(in: Vertex) -> VertexOutput {
    var out: VertexOutput;
    let state = states[in.building_id];
    let level = state & LEVEL_MASK;
    out.level = level;
    let world_from_local = get_world_from_local(in.instance_index);
    let world = (world_from_local * vec4<f32>(in.position, 1.0)).xyz;
    out.world_position = world;
    let dimmed = (state & DIMMED_BIT) != 0u;
    if level > 1u || dimmed || params.halo.z < 0.5 || !in_focus(areas[in.building_id]) {
        // Outside the clip volume: the triangle is dropped before rasterising.
        out.clip_position = vec4<f32>(-2.0, -2.0, 0.5, 1.0);
        return out;
    }
    var clip = position_world_to_clip(world);
    let outward = (world_from_local * vec4<f32>(in.outward, 0.0)).xyz;
    let size = view.viewport.zw;
    // Each part of the outward direction (across the footprint, up or
    // down) moves the corner by the halo's width on the screen.
    let across = screen_direction(world, clip, vec3<f32>(outward.x, 0.0, outward.z) * 0.05, size);
    let vertical = screen_direction(world, clip, vec3<f32>(0.0, outward.y, 0.0), size);
    if clip.w > 0.0 {
        let offset = (across + vertical) * params.halo.x * 2.0 / size;
        clip = vec4<f32>(clip.xy + offset * clip.w, clip.zw);
    }
    out.clip_position = clip;
    return out;
}

@fragment
fn fragment(in: VertexOutput) -> @location(0) vec4<f32> {
    let color = params.colors[min(in.level, 1u)].rgb;
    let distance = length(in.world_position - view.world_position);
    let fog = 1.0 - exp(-pow(distance * params.halo.y, 2.0));
    return vec4<f32>(mix(color, params.fog_color.rgb, fog), 1.0);
}
