// Event markers: one mesh of marker templates (a beam up from the roof and a
// diamond on top) whose vertices carry a slot number; each slot's place,
// size, colour and flags come from one storage buffer, so the markers of
// 10,000 open events are one draw and an update rewrites only that buffer.
// Heads pulse while their case is open (faster when overdue); markers grow
// with camera distance so they stay visible over the whole city.
#import bevy_pbr::mesh_view_bindings::{view, globals}
#import bevy_pbr::view_transformations::position_world_to_clip

struct MarkerParams {
    fog_color: vec4<f32>,
    selected_color: vec4<f32>,
    // x: pulse rate (rad/s); y: overdue pulse rate; z: distance at which a
    // marker has its template size (m); w: fog density per metre.
    motion: vec4<f32>,
    // x: height of the head's centre in the template (m).
    shape: vec4<f32>,
}

struct Marker {
    // xyz: roof-top position (world); w: 0 = empty slot, else 1.
    place: vec4<f32>,
    // rgb: severity colour (linear); w: flags (1 overdue, 2 selected).
    color: vec4<f32>,
}

@group(#{MATERIAL_BIND_GROUP}) @binding(0) var<uniform> params: MarkerParams;
@group(#{MATERIAL_BIND_GROUP}) @binding(1) var<storage, read> markers: array<Marker>;

const OVERDUE: u32 = 1u;
const SELECTED: u32 = 2u;

struct Vertex {
    // Template offset (m); y above the roof.
    @location(0) position: vec3<f32>,
    @location(1) normal: vec3<f32>,
    // x: marker slot; y: 1 for the pulsing head, 0 for the beam.
    @location(2) slot: vec2<u32>,
}

struct VertexOutput {
    @builtin(position) clip_position: vec4<f32>,
    @location(0) color: vec3<f32>,
    @location(1) world_position: vec3<f32>,
}

@vertex
fn vertex(in: Vertex) -> VertexOutput {
    var out: VertexOutput;
    let m = markers[in.slot.x];
    let flags = u32(m.color.w);
    let distance = length(m.place.xyz - view.world_position);
    let grow = clamp(distance / params.motion.z, 0.4, 6.0) * m.place.w;
    var offset = in.position * grow;
    var shade = 0.55 + 0.45 * max(dot(in.normal, normalize(vec3<f32>(0.4, 0.8, 0.3))), 0.0);
    if in.slot.y == 1u {
        var rate = params.motion.x;
        if (flags & OVERDUE) != 0u {
            rate = params.motion.y;
        }
        let pulse = 0.5 + 0.5 * sin(globals.time * rate + f32(in.slot.x) * 0.7);
        // The head swells around its own centre, at the top of the beam.
        let head = vec3<f32>(0.0, params.shape.x * grow, 0.0);
        offset = head + (offset - head) * (1.0 + 0.45 * pulse);
        shade = shade + 0.35 * pulse;
    }
    let world = m.place.xyz + offset;
    out.world_position = world;
    out.clip_position = position_world_to_clip(world);
    var color = m.color.rgb * shade;
    if (flags & SELECTED) != 0u {
        color = mix(color, params.selected_color.rgb, 0.5);
    }
    out.color = color;
    return out;
}

@fragment
fn fragment(in: VertexOutput) -> @location(0) vec4<f32> {
    let distance = length(in.world_position - view.world_position);
    // Markers cut through the fog more than buildings do: half the density.
    let fog = 1.0 - exp(-pow(distance * params.motion.w * 0.5, 2.0));
    return vec4<f32>(mix(in.color, params.fog_color.rgb, fog), 1.0);
}
