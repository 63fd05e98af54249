//! Video tiles on the GPU. Each frame the wall lists the streams its tiles
//! show ([`ShownStreams`], extracted to the render world); the render world
//! keeps three R8 textures per stream (Y full size, U and V half size),
//! rewritten in place when the stream's slot has a newer frame, and egui
//! draws each tile with a paint callback ([`TilePaint`]) that converts YUV
//! → RGB in shaders/video.wgsl. A stream no tile shows loses its textures.

use std::collections::HashMap;
use std::sync::Arc;

use bevy::asset::uuid_handle;
use bevy::prelude::*;
use bevy::render::extract_resource::{ExtractResource, ExtractResourcePlugin};
use bevy::render::render_phase::TrackedRenderPass;
use bevy::render::render_resource::binding_types::{sampler, texture_2d, uniform_buffer};
use bevy::render::render_resource::*;
use bevy::render::renderer::{RenderDevice, RenderQueue};
use bevy::render::sync_world::RenderEntity;
use bevy::render::{Render, RenderApp, RenderStartup, RenderSystems};
use bevy_egui::egui;
use bevy_egui::render::{EguiBevyPaintCallback, EguiBevyPaintCallbackImpl, EguiPipelineKey};

use crate::video::{Stream, StreamRequest};

pub const VIDEO_SHADER: Handle<Shader> = uuid_handle!("7c1d9e2a-4b3f-4a8e-9d6c-1f2e3a4b5c6d");

/// The streams tiles show this frame, with how bright to draw them.
#[derive(Resource, Clone, Default, ExtractResource)]
pub struct ShownStreams(pub Vec<(Arc<Stream>, f32)>);

/// What the shader is told per tile.
#[derive(Clone, Copy, Debug, ShaderType)]
struct VideoParams {
    matrix: Vec4,
}

/// BT.709 for HD sources, BT.601 for SD (the usual default when a stream
/// does not say), limited range.
fn params_for(stream: &Stream, brightness: f32) -> VideoParams {
    let hd = stream.input().is_some_and(|i| i.height >= 720);
    let (kr, kb) = if hd { (0.2126, 0.0722) } else { (0.299, 0.114) };
    VideoParams {
        matrix: Vec4::new(kr, kb, 1.0, brightness),
    }
}

#[derive(Resource)]
struct VideoPipeline {
    layout: BindGroupLayoutDescriptor,
    sampler: Sampler,
}

fn init_pipeline(mut commands: Commands, device: Res<RenderDevice>) {
    commands.insert_resource(VideoPipeline::new(&device));
}

impl VideoPipeline {
    fn new(device: &RenderDevice) -> Self {
        let layout = BindGroupLayoutDescriptor::new(
            "video_tile",
            &BindGroupLayoutEntries::sequential(
                ShaderStages::FRAGMENT,
                (
                    texture_2d(TextureSampleType::Float { filterable: true }),
                    texture_2d(TextureSampleType::Float { filterable: true }),
                    texture_2d(TextureSampleType::Float { filterable: true }),
                    sampler(SamplerBindingType::Filtering),
                    uniform_buffer::<VideoParams>(false),
                ),
            ),
        );
        let sampler = device.create_sampler(&SamplerDescriptor {
            label: Some("video_tile"),
            mag_filter: FilterMode::Linear,
            min_filter: FilterMode::Linear,
            address_mode_u: AddressMode::ClampToEdge,
            address_mode_v: AddressMode::ClampToEdge,
            ..default()
        });
        VideoPipeline { layout, sampler }
    }
}

impl SpecializedRenderPipeline for VideoPipeline {
    type Key = EguiPipelineKey;

    fn specialize(&self, key: Self::Key) -> RenderPipelineDescriptor {
        // sRGB and float targets take linear values; plain unorm, encoded.
        let linear = key.target_format.is_srgb()
            || matches!(
                key.target_format,
                TextureFormat::Rgba16Float | TextureFormat::Rgba32Float
            );
        RenderPipelineDescriptor {
            label: Some("video_tile".into()),
            layout: vec![self.layout.clone()],
            immediate_size: 0,
            vertex: VertexState {
                shader: VIDEO_SHADER,
                shader_defs: vec![],
                entry_point: Some("vertex".into()),
                buffers: vec![],
            },
            primitive: PrimitiveState {
                topology: PrimitiveTopology::TriangleStrip,
                ..default()
            },
            depth_stencil: None,
            multisample: MultisampleState::default(),
            fragment: Some(FragmentState {
                shader: VIDEO_SHADER,
                shader_defs: vec![],
                entry_point: Some(
                    if linear {
                        "fragment_linear"
                    } else {
                        "fragment_gamma"
                    }
                    .into(),
                ),
                targets: vec![Some(ColorTargetState {
                    format: key.target_format,
                    blend: None,
                    write_mask: ColorWrites::ALL,
                })],
            }),
            zero_initialize_workgroup_memory: false,
        }
    }
}

/// One stream's textures in the render world.
struct GpuTile {
    size: UVec2,
    planes: [Texture; 3],
    params: Buffer,
    bind_group: BindGroup,
    /// The slot sequence number last uploaded.
    seq: u64,
    /// The parameters last written to `params`.
    written: Option<Vec4>,
}

#[derive(Resource, Default)]
struct GpuTiles(HashMap<StreamRequest, GpuTile>);

/// Counts uploads and (re)allocations: proof that a tile's textures are reused.
#[derive(Resource, Clone, Copy, Default, Debug)]
pub struct VideoUploadStats {
    pub uploads: u64,
    pub allocations: u64,
}

#[derive(Resource, Clone, Default)]
pub struct SharedUploadStats(pub Arc<std::sync::Mutex<VideoUploadStats>>);

fn new_tile(
    device: &RenderDevice,
    pipeline: &VideoPipeline,
    cache: &PipelineCache,
    size: UVec2,
) -> GpuTile {
    let plane = |w: u32, h: u32, label: &'static str| {
        device.create_texture(&TextureDescriptor {
            label: Some(label),
            size: Extent3d {
                width: w,
                height: h,
                depth_or_array_layers: 1,
            },
            mip_level_count: 1,
            sample_count: 1,
            dimension: TextureDimension::D2,
            format: TextureFormat::R8Unorm,
            usage: TextureUsages::TEXTURE_BINDING | TextureUsages::COPY_DST,
            view_formats: &[],
        })
    };
    let planes = [
        plane(size.x, size.y, "video_y"),
        plane(size.x / 2, size.y / 2, "video_u"),
        plane(size.x / 2, size.y / 2, "video_v"),
    ];
    let params = device.create_buffer(&BufferDescriptor {
        label: Some("video_params"),
        size: VideoParams::min_size().get(),
        usage: BufferUsages::UNIFORM | BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    let views = planes
        .each_ref()
        .map(|t| t.create_view(&TextureViewDescriptor::default()));
    let bind_group = device.create_bind_group(
        "video_tile",
        &cache.get_bind_group_layout(&pipeline.layout),
        &BindGroupEntries::sequential((
            &views[0],
            &views[1],
            &views[2],
            &pipeline.sampler,
            params.as_entire_binding(),
        )),
    );
    GpuTile {
        size,
        planes,
        params,
        bind_group,
        seq: 0,
        written: None,
    }
}

fn write_plane(queue: &RenderQueue, texture: &Texture, data: &[u8], w: u32, h: u32) {
    queue.write_texture(
        texture.as_image_copy(),
        data,
        TexelCopyBufferLayout {
            offset: 0,
            bytes_per_row: Some(w),
            rows_per_image: Some(h),
        },
        Extent3d {
            width: w,
            height: h,
            depth_or_array_layers: 1,
        },
    );
}

#[allow(clippy::too_many_arguments)]
fn upload_frames(
    shown: Res<ShownStreams>,
    mut tiles: ResMut<GpuTiles>,
    device: Res<RenderDevice>,
    queue: Res<RenderQueue>,
    pipeline: Res<VideoPipeline>,
    cache: Res<PipelineCache>,
    stats: Res<SharedUploadStats>,
) {
    let mut counts = VideoUploadStats::default();
    tiles
        .0
        .retain(|key, _| shown.0.iter().any(|(s, _)| s.request == *key));
    for (stream, brightness) in &shown.0 {
        let Some(latest) = stream.slot.latest() else {
            continue;
        };
        let size = UVec2::new(latest.width, latest.height);
        let tile = tiles.0.entry(stream.request.clone()).or_insert_with(|| {
            counts.allocations += 1;
            new_tile(&device, &pipeline, &cache, size)
        });
        if tile.size != size {
            counts.allocations += 1;
            *tile = new_tile(&device, &pipeline, &cache, size);
        }
        // The matrix and brightness change rarely (input known, signal
        // lost): the uniform is written only then.
        let params = params_for(stream, *brightness);
        if tile.written != Some(params.matrix) {
            let mut bytes = encase::UniformBuffer::new(Vec::<u8>::new());
            if bytes.write(&params).is_ok() {
                queue.write_buffer(&tile.params, 0, bytes.as_ref());
                tile.written = Some(params.matrix);
            }
        }
        if let Some((seq, frame)) = stream.slot.newer_than(tile.seq) {
            let (w, h) = (frame.width, frame.height);
            write_plane(&queue, &tile.planes[0], frame.y(), w, h);
            write_plane(&queue, &tile.planes[1], frame.u(), w / 2, h / 2);
            write_plane(&queue, &tile.planes[2], frame.v(), w / 2, h / 2);
            tile.seq = seq;
            counts.uploads += 1;
        }
    }
    if let Ok(mut total) = stats.0.lock() {
        total.uploads += counts.uploads;
        total.allocations += counts.allocations;
    }
}

/// Draws one stream's newest frame into the tile's rectangle.
pub struct TilePaint {
    pub request: StreamRequest,
}

impl TilePaint {
    pub fn shape(rect: egui::Rect, request: StreamRequest) -> egui::Shape {
        egui::Shape::Callback(EguiBevyPaintCallback::new_paint_callback(
            rect,
            TilePaint { request },
        ))
    }
}

#[derive(Component)]
struct TilePipelineId(CachedRenderPipelineId);

impl EguiBevyPaintCallbackImpl for TilePaint {
    fn update(
        &self,
        _info: egui::PaintCallbackInfo,
        render_entity: RenderEntity,
        key: EguiPipelineKey,
        world: &mut World,
    ) {
        let id = world.resource_scope(
            |world, mut pipelines: Mut<SpecializedRenderPipelines<VideoPipeline>>| {
                let (Some(pipeline), Some(cache)) = (
                    world.get_resource::<VideoPipeline>(),
                    world.get_resource::<PipelineCache>(),
                ) else {
                    return None;
                };
                Some(pipelines.specialize(cache, pipeline, key))
            },
        );
        if let Some(id) = id {
            if let Ok(mut entity) = world.get_entity_mut(render_entity.id()) {
                entity.insert(TilePipelineId(id));
            }
            world
                .resource_mut::<PipelineCache>()
                .block_on_render_pipeline(id);
        }
    }

    fn render<'pass>(
        &self,
        _info: egui::PaintCallbackInfo,
        render_pass: &mut TrackedRenderPass<'pass>,
        render_entity: RenderEntity,
        _key: EguiPipelineKey,
        world: &'pass World,
    ) {
        let Some(pipeline) = world
            .get_entity(render_entity.id())
            .ok()
            .and_then(|e| e.get::<TilePipelineId>())
            .and_then(|id| {
                world
                    .get_resource::<PipelineCache>()?
                    .get_render_pipeline(id.0)
            })
        else {
            return;
        };
        let Some(tile) = world
            .get_resource::<GpuTiles>()
            .and_then(|t| t.0.get(&self.request))
            .filter(|t| t.seq > 0)
        else {
            return;
        };
        render_pass.set_render_pipeline(pipeline);
        render_pass.set_bind_group(0, &tile.bind_group, &[]);
        render_pass.draw(0..4, 0..1);
    }
}

pub(super) fn plugin(app: &mut App) {
    let mut shaders = app.world_mut().resource_mut::<Assets<Shader>>();
    if let Err(e) = shaders.insert(
        VIDEO_SHADER.id(),
        Shader::from_wgsl(
            include_str!("../../../shaders/video.wgsl"),
            "shaders/video.wgsl",
        ),
    ) {
        error!("cannot register shaders/video.wgsl: {e}");
    }
    let stats = SharedUploadStats::default();
    app.init_resource::<ShownStreams>()
        .insert_resource(stats.clone())
        .add_plugins(ExtractResourcePlugin::<ShownStreams>::default());
    if let Some(render) = app.get_sub_app_mut(RenderApp) {
        render
            .insert_resource(stats)
            .init_resource::<GpuTiles>()
            .init_resource::<SpecializedRenderPipelines<VideoPipeline>>()
            .add_systems(RenderStartup, init_pipeline)
            .add_systems(
                Render,
                upload_frames
                    .in_set(RenderSystems::PrepareResources)
                    .run_if(resource_exists::<VideoPipeline>),
            );
    }
}
