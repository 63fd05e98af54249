// The bare reference for `citytwin bench render`: the same triangles as the
// cockpit, flat colour, depth test, nothing else. The limit of this machine.

struct Uniforms {
    clip_from_world: mat4x4<f32>,
}

@group(0) @binding(0) var<uniform> uniforms: Uniforms;

struct VertexOutput {
    @builtin(position) clip_position: vec4<f32>,
    @location(0) color: vec4<f32>,
}

@vertex
fn vs(@location(0) position: vec3<f32>, @location(1) color: vec4<f32>) -> VertexOutput {
    var out: VertexOutput;
    out.clip_position = uniforms.clip_from_world * vec4<f32>(position, 1.0);
    out.color = color;
    return out;
}

@fragment
fn fs(in: VertexOutput) -> @location(0) vec4<f32> {
    return in.color;
}
