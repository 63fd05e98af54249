// The sky: one triangle covering the screen at the far plane (depth 0 with
// bevy's reverse Z), coloured by the elevation of the view ray — the haze
// the fog fades into at the horizon, darkening to the zenith.
#import bevy_pbr::mesh_view_bindings::view

struct SkyParams {
    horizon: vec4<f32>,
    zenith: vec4<f32>,
}

@group(#{MATERIAL_BIND_GROUP}) @binding(0) var<uniform> params: SkyParams;

struct Vertex {
    // Clip-space x, y of the covering triangle.
    @location(0) position: vec3<f32>,
}

struct VertexOutput {
    @builtin(position) clip_position: vec4<f32>,
}

@vertex
fn vertex(in: Vertex) -> VertexOutput {
    var out: VertexOutput;
    out.clip_position = vec4<f32>(in.position.xy, 0.0, 1.0);
    return out;
}

@fragment
fn fragment(in: VertexOutput) -> @location(0) vec4<f32> {
    let uv = (in.clip_position.xy - view.viewport.xy) / view.viewport.zw;
    let ndc = vec2<f32>(uv.x * 2.0 - 1.0, 1.0 - uv.y * 2.0);
    let near = view.world_from_clip * vec4<f32>(ndc, 1.0, 1.0);
    let ray = normalize(near.xyz / near.w - view.world_position);
    let t = smoothstep(-0.02, 0.5, ray.y);
    return vec4<f32>(mix(params.horizon.rgb, params.zenith.rgb, sqrt(t)), 1.0);
}
