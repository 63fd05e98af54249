//! GeoTIFF georeferencing shared by DEMs and imagery: the model type and
//! EPSG code from the GeoKeyDirectory, the pixel grid from ModelPixelScale
//! and ModelTiepoint.

use std::io::{Read, Seek};

use tiff::decoder::Decoder;
use tiff::tags::Tag;

const GEO_KEY_MODEL_TYPE: u16 = 1024;
const GEO_KEY_GEOGRAPHIC_TYPE: u16 = 2048;
const GEO_KEY_PROJECTED_TYPE: u16 = 3072;
const MODEL_TYPE_PROJECTED: u16 = 1;
const MODEL_TYPE_GEOGRAPHIC: u16 = 2;
const EPSG_WGS84: u16 = 4326;
const EPSG_WEB_MERCATOR: u16 = 3857;

/// The coordinate systems a raster may come in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RasterCrs {
    /// EPSG:4326: x longitude, y latitude, degrees.
    LonLat,
    /// EPSG:3857: x, y in spherical-Mercator metres.
    WebMercator,
}

/// A north-up pixel grid: the outer corner of pixel (0, 0) and the pixel
/// size (both positive; rows run south).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GeoRef {
    pub crs: RasterCrs,
    /// x, y of the west / north edges of column 0 / row 0.
    pub origin: [f64; 2],
    pub pixel: [f64; 2],
}

/// Reads the georeferencing of the decoder's current image. `accept` is
/// the set of coordinate systems the caller can use; the reason for a
/// refusal says how to reproject.
pub fn read_georef<R: Read + Seek>(
    decoder: &mut Decoder<R>,
    accept: &[RasterCrs],
) -> Result<GeoRef, String> {
    let keys = decoder
        .find_tag_unsigned_vec::<u16>(Tag::GeoKeyDirectoryTag)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| "no GeoKeyDirectory tag".to_owned())?;
    let key = |id: u16| {
        keys.get(4..)
            .unwrap_or_default()
            .chunks_exact(4)
            .find(|k| k[0] == id && k[1] == 0)
            .map(|k| k[3])
    };
    let wanted = accept
        .iter()
        .map(|c| match c {
            RasterCrs::LonLat => "EPSG:4326",
            RasterCrs::WebMercator => "EPSG:3857",
        })
        .collect::<Vec<_>>()
        .join(" or ");
    let crs = match key(GEO_KEY_MODEL_TYPE) {
        Some(MODEL_TYPE_GEOGRAPHIC) => {
            if let Some(epsg) = key(GEO_KEY_GEOGRAPHIC_TYPE).filter(|e| *e != EPSG_WGS84) {
                return Err(format!("datum EPSG:{epsg}, expected EPSG:4326"));
            }
            RasterCrs::LonLat
        }
        Some(MODEL_TYPE_PROJECTED) => match key(GEO_KEY_PROJECTED_TYPE) {
            Some(EPSG_WEB_MERCATOR) => RasterCrs::WebMercator,
            Some(epsg) => {
                let what = match epsg {
                    32601..=32660 => format!("UTM zone {}N", epsg - 32600),
                    32701..=32760 => format!("UTM zone {}S", epsg - 32700),
                    _ => "a projected system".to_owned(),
                };
                return Err(format!(
                    "EPSG:{epsg} is {what}, which citytwin does not reproject; \
                     reproject it to {wanted} (gdalwarp -t_srs EPSG:4326 in.tif out.tif)"
                ));
            }
            None => {
                return Err(format!(
                    "a projected system without an EPSG code; reproject it to {wanted}"
                ));
            }
        },
        _ => {
            return Err(format!(
                "not in geographic coordinates; reproject it to {wanted}"
            ));
        }
    };
    if !accept.contains(&crs) {
        return Err(format!(
            "in {}; reproject it to {wanted}",
            match crs {
                RasterCrs::LonLat => "EPSG:4326",
                RasterCrs::WebMercator => "EPSG:3857",
            }
        ));
    }
    let scale = decoder
        .get_tag_f64_vec(Tag::ModelPixelScaleTag)
        .map_err(|e| format!("no ModelPixelScale tag ({e})"))?;
    let tie = decoder
        .get_tag_f64_vec(Tag::ModelTiepointTag)
        .map_err(|e| format!("no ModelTiepoint tag ({e})"))?;
    let (&[sx, sy, ..], &[ti, tj, _, tx, ty, ..]) = (scale.as_slice(), tie.as_slice()) else {
        return Err("ModelPixelScale/ModelTiepoint are too short".to_owned());
    };
    if sx <= 0.0 || sy <= 0.0 {
        return Err(format!("pixel scale ({sx}, {sy}) is not positive"));
    }
    Ok(GeoRef {
        crs,
        origin: [tx - ti * sx, ty + tj * sy],
        pixel: [sx, sy],
    })
}
