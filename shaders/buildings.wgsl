// Buildings: merged tile meshes whose vertices carry a building id; colour
// comes from one storage buffer of per-building state (risk level + flags),
// so recolouring never touches a mesh. Light that shows form: a sun plus a
// sky/ground ambient, a darker foot on every wall, a bright line at the roof
// edge; low risk levels muted toward the ground tone (the "risk focus");
// distance fog; buildings outside the drilled-into district or street dimmed.
#import bevy_pbr::mesh_functions::get_world_from_local
#import bevy_pbr::mesh_view_bindings::{view, globals}
#import bevy_pbr::view_transformations::position_world_to_clip

struct BuildingParams {
    // Linear RGB per level: 重大, 较大, 一般, 较低, 低.
    palette: array<vec4<f32>, 5>,
    selected_color: vec4<f32>,
    alarm_color: vec4<f32>,
    fog_color: vec4<f32>,
    // xyz: direction towards the sun; w: ambient share.
    sun: vec4<f32>,
    // x: fog density per metre; y: alarm pulse rate (rad/s).
    fog: vec4<f32>,
    // The drilled-into area: x 0 = whole city, 1 = district y, 2 = street z.
    // Buildings outside it are dimmed so the area stands out.
    focus: vec4<u32>,
    // Ambient light from the sky (above) and the ground (below), linear RGB.
    sky: vec4<f32>,
    ground: vec4<f32>,
    // The tone low levels are muted toward.
    mute: vec4<f32>,
    // x: risk focus (0 all levels equal … 1 only 较大/重大); y: 1 = light
    // that shows form, 0 = the flat look; z: roof-edge line width (px).
    look: vec4<f32>,
}

@group(#{MATERIAL_BIND_GROUP}) @binding(0) var<uniform> params: BuildingParams;
@group(#{MATERIAL_BIND_GROUP}) @binding(1) var<storage, read> states: array<u32>;
// Per building: district index (bits 0..15) and street index (bits 16..31).
@group(#{MATERIAL_BIND_GROUP}) @binding(2) var<storage, read> areas: array<u32>;

// State word layout (see cockpit/state.rs `word`): bits 0..2 level,
// bit 3 selected, bit 4 alarm, bit 5 dimmed (a briefing highlights others).
const LEVEL_MASK: u32 = 7u;
const SELECTED_BIT: u32 = 8u;
const ALARM_BIT: u32 = 16u;
const DIMMED_BIT: u32 = 32u;

struct Vertex {
    @builtin(instance_index) instance_index: u32,
    @location(0) position: vec3<f32>,
    @location(1) building_id: u32,
    // x: metres above the building's base; y: the building's height.
    @location(2) wall: vec2<f32>,
}

struct VertexOutput {
    @builtin(position) clip_position: vec4<f32>,
    @location(0) world_position: vec3<f32>,
    // The state word; bit 31: the building lies in the focused area.
    @location(1) @interpolate(flat) state: u32,
    @location(2) wall: vec2<f32>,
}

const INSIDE_BIT: u32 = 0x80000000u;

// 1 when a building with this area word lies in the focused area.
fn in_focus(area: u32) -> u32 {
    let district = area & 0xffffu;
    let street = area >> 16u;
    if params.focus.x == 1u && district != params.focus.y {
        return 0u;
    }
    if params.focus.x == 2u && street != params.focus.z {
        return 0u;
    }
    return 1u;
}

// How far a level's colour is muted toward the ground tone: 低/较低 first,
// 一般 only in the upper half of the focus range, 较大/重大 never.
fn mute_amount(level: u32, focus: f32) -> f32 {
    if level <= 1u {
        return 0.0;
    }
    if level == 2u {
        return 0.85 * clamp((focus - 0.5) * 2.0, 0.0, 1.0);
    }
    return 0.85 * clamp(focus * 2.0, 0.0, 1.0);
}

@vertex
fn vertex(in: Vertex) -> VertexOutput {
    var out: VertexOutput;
    let world = get_world_from_local(in.instance_index) * vec4<f32>(in.position, 1.0);
    out.world_position = world.xyz;
    out.clip_position = position_world_to_clip(world.xyz);
    out.wall = in.wall;
    // At city level every building is in focus: skip the lookup.
    var inside = 1u;
    if params.focus.x != 0u {
        inside = in_focus(areas[in.building_id]);
    }
    out.state = (states[in.building_id] & ~INSIDE_BIT) | select(0u, INSIDE_BIT, inside == 1u);
    return out;
}

@fragment
fn fragment(in: VertexOutput) -> @location(0) vec4<f32> {
    // Height change per pixel, for lines a fixed number of pixels wide.
    let px_m = fwidth(in.world_position.y);
    // Every face is flat and its vertices are shared by the faces meeting
    // at a corner: the normal comes from screen derivatives, turned towards
    // the eye (back faces are culled).
    let face = normalize(cross(dpdx(in.world_position), dpdy(in.world_position)));
    let eye = view.world_position - in.world_position;
    let normal = select(-face, face, dot(face, eye) > 0.0);
    return shade(in.state, normal, in.world_position, in.wall, px_m);
}

// The colour of a building's surface: its state word (bit 31: in the
// focused area), the face's normal, where it is, (metres above the base,
// height) and metres per pixel for the roof-edge line.
fn shade(state: u32, normal: vec3<f32>, world_position: vec3<f32>, wall: vec2<f32>, px_m: f32) -> vec4<f32> {
    let level = min(state & LEVEL_MASK, 4u);
    var base = params.palette[level].rgb;
    var color: vec3<f32>;
    let lambert = max(dot(normal, params.sun.xyz), 0.0);
    if params.look.y < 0.5 {
        // The flat look: lambert plus a constant ambient, every level equal.
        if (state & SELECTED_BIT) != 0u {
            base = mix(base, params.selected_color.rgb, 0.55);
        }
        let ambient = params.sun.w;
        color = base * (ambient + (1.0 - ambient) * lambert);
    } else {
        base = mix(base, params.mute.rgb, mute_amount(level, params.look.x));
        if (state & SELECTED_BIT) != 0u {
            base = mix(base, params.selected_color.rgb, 0.55);
        }
        let up = normal.y * 0.5 + 0.5;
        let ambient = mix(params.ground.rgb, params.sky.rgb, up);
        var light = ambient + vec3<f32>(0.8 * lambert);
        let is_wall = abs(normal.y) < 0.5;
        if is_wall {
            // A soft darkening at the foot of the wall (the ground's shadow).
            let foot = clamp(wall.x / max(min(wall.y * 0.35, 18.0), 1.0), 0.0, 1.0);
            light = light * mix(0.55, 1.0, sqrt(foot));
            // The roof edge: a bright line a pixel or two wide at the top.
            let edge = min(max(px_m * params.look.z, 0.6), wall.y * 0.3);
            if wall.y - wall.x < edge {
                light = light * 1.45 + vec3<f32>(0.08);
            }
        }
        color = base * light;
        if level <= 1u {
            // 较大/重大 keep their colour even on walls facing away.
            color = max(color, base * 0.6);
        }
    }
    if (state & ALARM_BIT) != 0u {
        let pulse = 0.5 + 0.5 * sin(globals.time * params.fog.y);
        color = mix(color, params.alarm_color.rgb, 0.6 * pulse);
    }
    if (state & DIMMED_BIT) != 0u {
        // Not highlighted by the briefing step: greyed and darker.
        let grey = dot(color, vec3<f32>(0.3, 0.5, 0.2));
        color = mix(vec3<f32>(grey), color, 0.25) * 0.2;
    }
    if (state & INSIDE_BIT) == 0u {
        // Outside the drilled-into area: dark and desaturated.
        let grey = dot(color, vec3<f32>(0.3, 0.5, 0.2));
        color = mix(vec3<f32>(grey), color, 0.2) * 0.1;
    }
    let distance = length(world_position - view.world_position);
    let fog = 1.0 - exp(-pow(distance * params.fog.x, 2.0));
    return vec4<f32>(mix(color, params.fog_color.rgb, fog), 1.0);
}

// The roofs level's flat part (geo/raster.rs): a few triangles over the
// terrain per tile, each pixel's building read from a grid of ids.
struct RasterParams {
    // xy: texel (0, 0)'s south-west corner (local metres east, north);
    // z: a texel's side (m).
    origin: vec4<f32>,
    // xy: texels east, north.
    size: vec4<u32>,
}

@group(#{MATERIAL_BIND_GROUP}) @binding(3) var<uniform> raster: RasterParams;
// Row-major from the south: building id + 1, 0 where there is none.
@group(#{MATERIAL_BIND_GROUP}) @binding(4) var<storage, read> raster_ids: array<u32>;

struct RasterVertex {
    @builtin(instance_index) instance_index: u32,
    @location(0) position: vec3<f32>,
}

struct RasterOutput {
    @builtin(position) clip_position: vec4<f32>,
    @location(0) world_position: vec3<f32>,
}

@vertex
fn raster_vertex(in: RasterVertex) -> RasterOutput {
    var out: RasterOutput;
    let world = get_world_from_local(in.instance_index) * vec4<f32>(in.position, 1.0);
    out.world_position = world.xyz;
    out.clip_position = position_world_to_clip(world.xyz);
    return out;
}

@fragment
fn raster_fragment(in: RasterOutput) -> @location(0) vec4<f32> {
    // World x east, z south.
    let local = vec2<f32>(in.world_position.x, -in.world_position.z);
    let texel = floor((local - raster.origin.xy) / raster.origin.z);
    if texel.x < 0.0 || texel.y < 0.0 || texel.x >= f32(raster.size.x) || texel.y >= f32(raster.size.y) {
        discard;
    }
    let word = raster_ids[u32(texel.y) * raster.size.x + u32(texel.x)];
    if word == 0u {
        discard;
    }
    let id = word - 1u;
    var inside = 1u;
    if params.focus.x != 0u {
        inside = in_focus(areas[id]);
    }
    let state = (states[id] & ~INSIDE_BIT) | select(0u, INSIDE_BIT, inside == 1u);
    // A roof: facing up, no walls.
    return shade(state, vec3<f32>(0.0, 1.0, 0.0), in.world_position, vec2<f32>(1.0, 1.0), 0.0);
}
