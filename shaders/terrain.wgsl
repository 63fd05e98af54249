// Terrain and water: per-vertex colour (elevation tint and hillshade baked on
// the CPU), a little sun, a shoreline where land meets water, distance fog
// into the haze.
#import bevy_pbr::mesh_functions::get_world_from_local
#import bevy_pbr::mesh_view_bindings::view
#import bevy_pbr::view_transformations::position_world_to_clip

struct GroundParams {
    fog_color: vec4<f32>,
    // xyz: direction towards the sun; w: specular strength (water).
    sun: vec4<f32>,
    // x: fog density per metre.
    fog: vec4<f32>,
    // x: water level (m); y: 1 = draw the shoreline; z: its width (px).
    shore: vec4<f32>,
    shore_color: vec4<f32>,
    // World rectangles (x west, z north, x east, z south) of the imagery
    // layers; imagery_on.x / .y = 1 when the base / detail layer is there.
    imagery_base: vec4<f32>,
    imagery_detail: vec4<f32>,
    imagery_on: vec4<f32>,
}

@group(#{MATERIAL_BIND_GROUP}) @binding(0) var<uniform> params: GroundParams;
@group(#{MATERIAL_BIND_GROUP}) @binding(1) var base_texture: texture_2d<f32>;
@group(#{MATERIAL_BIND_GROUP}) @binding(2) var base_sampler: sampler;
@group(#{MATERIAL_BIND_GROUP}) @binding(3) var detail_texture: texture_2d<f32>;
@group(#{MATERIAL_BIND_GROUP}) @binding(4) var detail_sampler: sampler;

// An imagery layer's colour at a world position; alpha 0 outside its
// rectangle (and where the source has no pixels).
fn imagery_at(rect: vec4<f32>, world: vec3<f32>, t: texture_2d<f32>, s: sampler) -> vec4<f32> {
    let uv = (world.xz - rect.xy) / (rect.zw - rect.xy);
    let inside = all(uv >= vec2<f32>(0.0)) && all(uv <= vec2<f32>(1.0));
    let texel = textureSampleLevel(t, s, uv, 0.0);
    return select(vec4<f32>(0.0), texel, inside);
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
    // The imagery base map replaces the tint where it has pixels.
    if params.imagery_on.x > 0.5 {
        let base = imagery_at(params.imagery_base, in.world_position, base_texture, base_sampler);
        color = mix(color, base.rgb, base.a);
    }
    if params.imagery_on.y > 0.5 {
        let detail = imagery_at(params.imagery_detail, in.world_position, detail_texture, detail_sampler);
        color = mix(color, detail.rgb, detail.a);
    }
    // The shoreline: land just above the water, a line a couple of pixels
    // wide at any distance (the height change per pixel sets the band).
    let px_m = fwidth(in.world_position.y);
    let above = in.world_position.y - params.shore.x;
    if params.shore.y > 0.5 && above >= 0.0 && above < max(px_m * params.shore.z, 0.5) {
        color = params.shore_color.rgb;
    }
    let to_eye = normalize(view.world_position - in.world_position);
    // Water glints where the sun reflects towards the eye (flat surface, n = +y).
    let reflected = reflect(-params.sun.xyz, vec3<f32>(0.0, 1.0, 0.0));
    let glint = pow(max(dot(reflected, to_eye), 0.0), 24.0) * params.sun.w;
    color = color + vec3<f32>(glint);
    let distance = length(in.world_position - view.world_position);
    let fog = 1.0 - exp(-pow(distance * params.fog.x, 2.0));
    return vec4<f32>(mix(color, params.fog_color.rgb, fog), 1.0);
}
