//! Digital elevation models from single-band GeoTIFFs (EPSG:4326, int16 or
//! float32, optional GDAL nodata), sampled bilinearly in lon/lat.

use std::path::Path;

use tiff::decoder::{Decoder, DecodingResult};
use tiff::tags::Tag;

use super::LocalFrame;
use crate::model::Terrain;

#[derive(Debug, thiserror::Error)]
pub enum DemError {
    #[error("cannot read DEM {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("DEM {path} is not a readable TIFF: {reason}")]
    Tiff { path: String, reason: String },
    #[error("DEM {path} is not a usable GeoTIFF: {reason}")]
    Georef { path: String, reason: String },
    #[error("DEM {path}: sample type {found} is not supported (int16, int32 or float32)")]
    SampleType { path: String, found: String },
}

/// A north-up elevation raster in WGS84 degrees.
#[derive(Clone, Debug)]
pub struct Dem {
    pub cols: usize,
    pub rows: usize,
    /// Longitude of the west edge of column 0.
    pub west_lon: f64,
    /// Latitude of the north edge of row 0.
    pub north_lat: f64,
    /// Pixel size in degrees (positive).
    pub pixel_deg: [f64; 2],
    pub heights_m: Vec<f32>,
    pub nodata: Option<f32>,
}

impl Dem {
    pub fn load(path: &Path) -> Result<Dem, DemError> {
        let name = path.display().to_string();
        let file = std::fs::File::open(path).map_err(|source| DemError::Io {
            path: name.clone(),
            source,
        })?;
        let tiff_err = |e: tiff::TiffError| DemError::Tiff {
            path: name.clone(),
            reason: e.to_string(),
        };
        let georef = |reason: String| DemError::Georef {
            path: name.clone(),
            reason,
        };
        let mut decoder = Decoder::new(std::io::BufReader::new(file)).map_err(tiff_err)?;
        let (cols, rows) = decoder.dimensions().map_err(tiff_err)?;

        let geo = super::geotiff::read_georef(&mut decoder, &[super::geotiff::RasterCrs::LonLat])
            .map_err(georef)?;
        let nodata = decoder
            .find_tag(Tag::GdalNodata)
            .map_err(tiff_err)?
            .and_then(|v| v.into_string().ok())
            .and_then(|s| s.trim_matches(char::from(0)).trim().parse::<f32>().ok());

        let heights_m: Vec<f32> = match decoder.read_image().map_err(tiff_err)? {
            DecodingResult::I16(v) => v.into_iter().map(f32::from).collect(),
            DecodingResult::I32(v) => v.into_iter().map(|x| x as f32).collect(),
            DecodingResult::U16(v) => v.into_iter().map(f32::from).collect(),
            DecodingResult::F32(v) => v,
            other => {
                let found = format!("{other:?}")
                    .chars()
                    .take_while(|c| *c != '(')
                    .collect();
                return Err(DemError::SampleType { path: name, found });
            }
        };
        let (cols, rows) = (cols as usize, rows as usize);
        // Terrain needs cells: at least 2×2 samples.
        if cols < 2 || rows < 2 {
            return Err(georef(format!(
                "raster is {cols}×{rows} pixels, a terrain needs at least 2×2"
            )));
        }
        if heights_m.len() != cols * rows {
            return Err(DemError::SampleType {
                path: name,
                found: format!(
                    "{} samples for {cols}×{rows} (multi-band?)",
                    heights_m.len()
                ),
            });
        }
        Ok(Dem {
            cols,
            rows,
            west_lon: geo.origin[0],
            north_lat: geo.origin[1],
            pixel_deg: geo.pixel,
            heights_m,
            nodata,
        })
    }

    /// How much of the lon/lat rectangle `[west, south, east, north]` this
    /// DEM covers (0 … 1, by area in degrees).
    pub fn coverage_of(&self, area: [f64; 4]) -> f64 {
        let d = self.bounds();
        let w = (area[2].min(d[2]) - area[0].max(d[0])).max(0.0);
        let h = (area[3].min(d[3]) - area[1].max(d[1])).max(0.0);
        let total = (area[2] - area[0]) * (area[3] - area[1]);
        if total <= 0.0 {
            // A point (one tiny building): in or out.
            let inside = (d[0]..=d[2]).contains(&area[0]) && (d[1]..=d[3]).contains(&area[1]);
            return if inside { 1.0 } else { 0.0 };
        }
        (w * h / total).clamp(0.0, 1.0)
    }

    /// (west, south, east, north) in degrees.
    pub fn bounds(&self) -> [f64; 4] {
        [
            self.west_lon,
            self.north_lat - self.rows as f64 * self.pixel_deg[1],
            self.west_lon + self.cols as f64 * self.pixel_deg[0],
            self.north_lat,
        ]
    }

    /// Elevation of pixel (row, col), or None for nodata / outside.
    pub fn pixel(&self, row: usize, col: usize) -> Option<f32> {
        if row >= self.rows || col >= self.cols {
            return None;
        }
        let v = self.heights_m[row * self.cols + col];
        (Some(v) != self.nodata && v.is_finite()).then_some(v)
    }

    /// Bilinear elevation between pixel centres; None outside the raster or
    /// where a neighbour is nodata.
    pub fn sample(&self, lon: f64, lat: f64) -> Option<f32> {
        let fx = (lon - self.west_lon) / self.pixel_deg[0] - 0.5;
        let fy = (self.north_lat - lat) / self.pixel_deg[1] - 0.5;
        if fx < -0.5 || fy < -0.5 || fx > self.cols as f64 - 0.5 || fy > self.rows as f64 - 0.5 {
            return None;
        }
        let (fx, fy) = (
            fx.clamp(0.0, (self.cols - 1) as f64),
            fy.clamp(0.0, (self.rows - 1) as f64),
        );
        let (c0, r0) = (fx.floor() as usize, fy.floor() as usize);
        let (c1, r1) = ((c0 + 1).min(self.cols - 1), (r0 + 1).min(self.rows - 1));
        let (tx, ty) = ((fx - c0 as f64) as f32, (fy - r0 as f64) as f32);
        let top = self.pixel(r0, c0)? * (1.0 - tx) + self.pixel(r0, c1)? * tx;
        let bottom = self.pixel(r1, c0)? * (1.0 - tx) + self.pixel(r1, c1)? * tx;
        Some(top * (1.0 - ty) + bottom * ty)
    }

    /// Resamples the DEM onto a local grid covering `min..max` metres with at
    /// most `max_cells` cells per side. Nodata and outside become the lowest
    /// valid elevation.
    pub fn to_terrain(
        &self,
        frame: &LocalFrame,
        min: [f32; 2],
        max: [f32; 2],
        max_cells: usize,
    ) -> Terrain {
        let extent = (max[0] - min[0]).max(max[1] - min[1]).max(1.0);
        let native_m = (self.pixel_deg[1] * 111_000.0) as f32;
        let cell_m = (extent / max_cells as f32).max(native_m);
        let cols = ((max[0] - min[0]) / cell_m).ceil() as usize + 1;
        let rows = ((max[1] - min[1]) / cell_m).ceil() as usize + 1;
        let floor = self
            .heights_m
            .iter()
            .copied()
            .filter(|v| Some(*v) != self.nodata && v.is_finite())
            .fold(f32::INFINITY, f32::min);
        let floor = if floor.is_finite() { floor } else { 0.0 };
        let mut heights = Vec::with_capacity(cols * rows);
        for row in 0..rows {
            for col in 0..cols {
                let p = [min[0] + col as f32 * cell_m, min[1] + row as f32 * cell_m];
                let [lon, lat] = frame.to_lon_lat(p);
                heights.push(self.sample(lon, lat).unwrap_or(floor));
            }
        }
        Terrain {
            origin_m: min,
            cell_m,
            cols,
            rows,
            heights_m: heights,
            water_level_m: None,
        }
    }
}
