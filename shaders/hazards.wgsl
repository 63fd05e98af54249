// Geohazard bodies: one static mesh of every body's parts (threat zone and
// body draped on the terrain, the volume's top and skirt, the outline, the
// monitoring pins and their displacement arrows, rings round threatened
// buildings). Each vertex names its body, its part and its point; the
// colour comes from one storage buffer of per-body words (warning level +
// flags) and the arrows from one buffer of per-point vectors, so a level
// change or a new reading rewrites a buffer, never the mesh.
#import bevy_pbr::mesh_view_bindings::{view, globals}
#import bevy_pbr::view_transformations::position_world_to_clip

struct HazardParams {
    // Linear RGB per warning level: quiet, 注意, 警示, 警戒, 警报.
    palette: array<vec4<f32>, 5>,
    selected_color: vec4<f32>,
    fog_color: vec4<f32>,
    // x: pulse rate (rad/s); y: distance at which templates have their size
    // (m); z: fog density per metre; w: 1 for the translucent batch.
    motion: vec4<f32>,
    // x: pin height (m); y: alpha of the zone; z: alpha of the volume.
    shape: vec4<f32>,
}

@group(#{MATERIAL_BIND_GROUP}) @binding(0) var<uniform> params: HazardParams;
// Per body: bits 0..2 level, bit 8 selected, bit 9 failed.
@group(#{MATERIAL_BIND_GROUP}) @binding(1) var<storage, read> bodies: array<u32>;
// Per monitoring point (global index): xyz arrow (world, m, exaggerated);
// w: 1 when the point is selected.
@group(#{MATERIAL_BIND_GROUP}) @binding(2) var<storage, read> points: array<vec4<f32>>;

const LEVEL_MASK: u32 = 7u;
const SELECTED_BIT: u32 = 256u;
const FAILED_BIT: u32 = 512u;

const PART_ZONE: u32 = 0u;
const PART_TOP: u32 = 1u;
const PART_SKIRT: u32 = 2u;
const PART_OUTLINE: u32 = 3u;
const PART_PIN: u32 = 4u;
const PART_ARROW: u32 = 5u;
const PART_RING: u32 = 6u;

struct Vertex {
    // Lit parts: the world position. Template parts (outline, pin, arrow,
    // ring): the anchor the template grows from.
    @location(0) position: vec3<f32>,
    // Lit parts: the normal. Template parts: the offset at template size
    // (arrows: x along the arrow 0..1, y up, z across).
    @location(1) normal: vec3<f32>,
    // x: body; y: part | global point index << 8.
    @location(2) ids: vec2<u32>,
}

struct VertexOutput {
    @builtin(position) clip_position: vec4<f32>,
    @location(0) color: vec4<f32>,
    @location(1) world_position: vec3<f32>,
}

@vertex
fn vertex(in: Vertex) -> VertexOutput {
    var out: VertexOutput;
    let word = bodies[in.ids.x];
    let part = in.ids.y & 255u;
    let point = in.ids.y >> 8u;
    let level = min(word & LEVEL_MASK, 4u);
    let distance = length(in.position - view.world_position);
    let grow = clamp(distance / params.motion.y, 0.4, 8.0);
    var world = in.position;
    var shade = 1.0;
    var alpha = 1.0;
    if part == PART_ZONE || part == PART_TOP || part == PART_SKIRT {
        shade = 0.6 + 0.4 * max(dot(normalize(in.normal), normalize(vec3<f32>(0.4, 0.8, 0.3))), 0.0);
        alpha = params.shape.y;
        if part != PART_ZONE {
            alpha = params.shape.z;
        }
    } else if part == PART_ARROW {
        let p = points[point];
        let head = in.position + vec3<f32>(0.0, params.shape.x * grow, 0.0);
        let along = p.xyz;
        let len = max(length(along), 1e-3);
        let dir = along / len;
        var across = cross(dir, vec3<f32>(0.0, 1.0, 0.0));
        if length(across) < 1e-3 {
            across = vec3<f32>(1.0, 0.0, 0.0);
        }
        across = normalize(across);
        world = head + along * in.normal.x + (vec3<f32>(0.0, in.normal.y, 0.0) + across * in.normal.z) * grow;
        shade = 1.25;
    } else {
        world = in.position + in.normal * grow;
        if part == PART_PIN {
            shade = 0.8 + 0.2 * in.normal.y / max(params.shape.x, 1.0);
        }
    }
    var color = params.palette[level].rgb * shade;
    if level >= 3u && part != PART_SKIRT {
        // 警戒 and 警报 pulse.
        let pulse = 0.5 + 0.5 * sin(globals.time * params.motion.x);
        color = mix(color, vec3<f32>(1.0, 1.0, 1.0), 0.35 * pulse);
    }
    if (word & FAILED_BIT) != 0u {
        color = color * 0.35;
    }
    let selected = (word & SELECTED_BIT) != 0u;
    if selected && (part == PART_OUTLINE || part == PART_TOP) {
        color = mix(color, params.selected_color.rgb, 0.5);
    }
    if (part == PART_PIN || part == PART_ARROW) && points[point].w > 0.5 {
        color = mix(color, params.selected_color.rgb, 0.6);
    }
    out.world_position = world;
    out.clip_position = position_world_to_clip(world);
    out.color = vec4<f32>(color, alpha);
    return out;
}

@fragment
fn fragment(in: VertexOutput) -> @location(0) vec4<f32> {
    let distance = length(in.world_position - view.world_position);
    let fog = 1.0 - exp(-pow(distance * params.motion.z * 0.5, 2.0));
    return vec4<f32>(mix(in.color.rgb, params.fog_color.rgb, fog), in.color.a);
}
