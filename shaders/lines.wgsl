// Boundary lines on the ground: ribbons along cell edges of the area grid,
// widened in the vertex shader with the distance to the camera so they stay
// a couple of pixels wide from a street to the whole city. Vertex colour,
// lighter fog than the ground so they read through the haze.
#import bevy_pbr::mesh_functions::get_world_from_local
#import bevy_pbr::mesh_view_bindings::view
#import bevy_pbr::view_transformations::position_world_to_clip

struct LineParams {
    fog_color: vec4<f32>,
    // x: half-width per metre of camera distance; y, z: least and most
    // half-width (m); w: fog density per metre.
    width: vec4<f32>,
}

@group(#{MATERIAL_BIND_GROUP}) @binding(0) var<uniform> params: LineParams;

struct Vertex {
    @builtin(instance_index) instance_index: u32,
    // A point on the boundary.
    @location(0) position: vec3<f32>,
    // Which way (and how far, in half-widths) this corner lies from it.
    @location(1) normal: vec3<f32>,
    @location(2) color: vec4<f32>,
}

struct VertexOutput {
    @builtin(position) clip_position: vec4<f32>,
    @location(0) world_position: vec3<f32>,
    @location(1) color: vec4<f32>,
}

@vertex
fn vertex(in: Vertex) -> VertexOutput {
    var out: VertexOutput;
    let centre = (get_world_from_local(in.instance_index) * vec4<f32>(in.position, 1.0)).xyz;
    let distance = length(centre - view.world_position);
    let half = clamp(distance * params.width.x, params.width.y, params.width.z);
    let world = centre + in.normal * half;
    out.world_position = world;
    out.clip_position = position_world_to_clip(world);
    out.color = in.color;
    return out;
}

@fragment
fn fragment(in: VertexOutput) -> @location(0) vec4<f32> {
    let distance = length(in.world_position - view.world_position);
    let fog = 1.0 - exp(-pow(distance * params.width.w * 0.5, 2.0));
    return vec4<f32>(mix(in.color.rgb, params.fog_color.rgb, fog), 1.0);
}
