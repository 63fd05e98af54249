// A video tile: the decoder's Y, U and V planes (R8 textures, U and V at
// half size) converted to RGB. Drawn by an egui paint callback whose
// viewport is the tile, so the quad fills the viewport.

struct VideoParams {
    // Kr, Kb of the colour matrix: BT.601 (0.299, 0.114), BT.709 (0.2126, 0.0722).
    // z: 1 = limited range (Y 16..235, C 16..240), 0 = full range.
    // w: brightness factor (a lost stream's last frame is dimmed).
    matrix: vec4<f32>,
};

@group(0) @binding(0) var plane_y: texture_2d<f32>;
@group(0) @binding(1) var plane_u: texture_2d<f32>;
@group(0) @binding(2) var plane_v: texture_2d<f32>;
@group(0) @binding(3) var plane_sampler: sampler;
@group(0) @binding(4) var<uniform> params: VideoParams;

struct VertexOut {
    @builtin(position) position: vec4<f32>,
    @location(0) uv: vec2<f32>,
};

@vertex
fn vertex(@builtin(vertex_index) index: u32) -> VertexOut {
    // A triangle strip over the whole viewport: (0,0) (1,0) (0,1) (1,1).
    let uv = vec2<f32>(f32(index & 1u), f32(index >> 1u));
    var out: VertexOut;
    out.position = vec4<f32>(uv.x * 2.0 - 1.0, 1.0 - uv.y * 2.0, 0.0, 1.0);
    out.uv = uv;
    return out;
}

// Gamma-encoded R'G'B' of the pixel.
fn rgb_at(uv: vec2<f32>) -> vec3<f32> {
    var y = textureSample(plane_y, plane_sampler, uv).r;
    var cb = textureSample(plane_u, plane_sampler, uv).r - 0.5;
    var cr = textureSample(plane_v, plane_sampler, uv).r - 0.5;
    if params.matrix.z > 0.5 {
        y = (y - 16.0 / 255.0) * (255.0 / 219.0);
        cb = cb * (255.0 / 224.0);
        cr = cr * (255.0 / 224.0);
    }
    let kr = params.matrix.x;
    let kb = params.matrix.y;
    let kg = 1.0 - kr - kb;
    let r = y + 2.0 * (1.0 - kr) * cr;
    let b = y + 2.0 * (1.0 - kb) * cb;
    let g = (y - kr * r - kb * b) / kg;
    return clamp(vec3<f32>(r, g, b) * params.matrix.w, vec3<f32>(0.0), vec3<f32>(1.0));
}

fn linear_from_gamma(c: vec3<f32>) -> vec3<f32> {
    let low = c / 12.92;
    let high = pow((c + 0.055) / 1.055, vec3<f32>(2.4));
    return select(high, low, c <= vec3<f32>(0.04045));
}

// For sRGB and float targets: the hardware encodes, so write linear.
@fragment
fn fragment_linear(in: VertexOut) -> @location(0) vec4<f32> {
    return vec4<f32>(linear_from_gamma(rgb_at(in.uv)), 1.0);
}

// For plain unorm targets: write the encoded values as they are.
@fragment
fn fragment_gamma(in: VertexOut) -> @location(0) vec4<f32> {
    return vec4<f32>(rgb_at(in.uv), 1.0);
}
