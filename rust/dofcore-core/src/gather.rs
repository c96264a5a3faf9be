//! The occlusion-aware gather of docs/model.md: every output pixel collects the light of the
//! neighbours whose kernel covers it, in three depth groups relative to the pixel itself.

use std::ops::Range;
use std::sync::{Arc, Mutex, PoisonError};

use rayon::prelude::*;

use crate::aperture::{Aperture, KernelTable};
use crate::error::DofError;
use crate::lanes;
use crate::memory::release_freed_memory;

/// Samples whose signed CoC is within this many pixels of what the centre's surface would have
/// there belong to that surface; nearer ones occlude it, farther ones are seen only where it
/// leaves gaps.
pub const SAME_SURFACE_TOLERANCE_PX: f32 = 1.0;

/// A CoC slope steeper than this (pixels of CoC per pixel) is no surface's but a depth edge
/// blended into a ramp: the slope is taken as 0 (docs/model.md 5.2).
pub const MAX_SURFACE_SLOPE: f32 = 1.0;

/// Largest blur diameter the engine accepts; the kernel table grows with its square.
pub const MAX_BLUR_DIAMETER_PX: usize = 4096;

/// More worker threads than this is a mistake, not a machine: refused rather than spawned.
pub const MAX_THREADS: usize = 1024;

/// Side of the square tiles over which the search window is bounded: a row of a tile is
/// gathered in one set of lanes, a pixel each.
const TILE: usize = lanes::LANES;

/// A linear-light RGB image, row-major and interleaved (height x width x 3).
#[derive(Debug, Clone, Copy)]
pub struct Image<'a> {
    pub rgb: &'a [f32],
    pub width: usize,
    pub height: usize,
}

/// Render the depth of field of `image`, given each pixel's signed CoC diameter in pixels.
/// `threads == 0` uses every core. The result does not depend on the thread count.
pub fn render_linear(
    image: Image<'_>,
    coc: &[f32],
    aperture: &Aperture,
    threads: usize,
) -> Result<Vec<f32>, DofError> {
    let (pool, max_radius) = checked_pool(image, coc, threads)?;
    release_freed_memory();
    Ok(pool.install(|| {
        let kernels = KernelTable::new(aperture, max_radius);
        let gather = Gather::new(
            Sources::pixels(image, coc),
            &kernels,
            f32::INFINITY,
            0..image.height,
        );
        let mut out = vec![0.0f32; image.width * image.height * 3];
        gather.run(
            &mut out,
            |_, _| true,
            |_, _, [near, surface, behind]| composite(&near, &surface, &behind),
        );
        out
    }))
}

/// Check what every engine is given, and make its thread pool; also returns the largest blur
/// radius.
pub(crate) fn checked_pool(
    image: Image<'_>,
    coc: &[f32],
    threads: usize,
) -> Result<(Arc<rayon::ThreadPool>, f32), DofError> {
    let Image { width, height, .. } = image;
    let shape = format!("{height} x {width}");
    if width == 0 || height == 0 {
        return Err(DofError::Shape {
            what: "image",
            got: 0,
            expected: 1,
            shape,
        });
    }
    if image.rgb.len() != width * height * 3 {
        return Err(DofError::Shape {
            what: "image",
            got: image.rgb.len(),
            expected: width * height * 3,
            shape: shape + " x 3",
        });
    }
    if coc.len() != width * height {
        return Err(DofError::Shape {
            what: "circle of confusion map",
            got: coc.len(),
            expected: width * height,
            shape,
        });
    }
    // The values are read on the pool's threads (one pass each, without a branch per value).
    let pool = thread_pool(threads)?;
    let (bad_light, bad_coc, max_radius) = pool.install(|| {
        (
            first_where(image.rgb, |v| !(v.is_finite() && v >= 0.0)),
            first_where(coc, |c| !c.is_finite()),
            coc.par_chunks(VALUES_PER_TASK)
                .map(|chunk| {
                    chunk.iter().fold(0.0f32, |m, &c| {
                        let r = radius(c);
                        if r > m {
                            r
                        } else {
                            m
                        }
                    })
                })
                .reduce(|| 0.0, f32::max),
        )
    });
    if let Some(index) = bad_light {
        return Err(DofError::BadLight {
            x: index / 3 % width,
            y: index / 3 / width,
            value: image.rgb[index],
        });
    }
    if let Some(index) = bad_coc {
        return Err(DofError::BadCoc {
            x: index % width,
            y: index / width,
            value: coc[index],
        });
    }
    let diameter = 2.0 * f64::from(max_radius);
    if diameter > MAX_BLUR_DIAMETER_PX as f64 {
        return Err(DofError::BlurTooLarge {
            diameter,
            limit: MAX_BLUR_DIAMETER_PX,
        });
    }
    Ok((pool, max_radius))
}

/// Values per task of the checks and of the CoC map: enough that handing them out costs nothing.
pub(crate) const VALUES_PER_TASK: usize = 1 << 16;

/// The index of the first value for which `bad` holds: each task's values tested without a
/// branch (so in vectors), and searched only where one is bad.
pub(crate) fn first_where(values: &[f32], bad: impl Fn(f32) -> bool + Sync) -> Option<usize> {
    values
        .par_chunks(VALUES_PER_TASK)
        .enumerate()
        .find_first(|(_, chunk)| chunk.iter().fold(false, |any, &v| any | bad(v)))
        .and_then(|(k, chunk)| {
            let at = chunk.iter().position(|&v| bad(v))?;
            Some(k * VALUES_PER_TASK + at)
        })
}

/// Pools kept for the next call, the most recently used last.
const KEPT_POOLS: usize = 4;

/// A pool of `threads` workers (0: every core). Kept and reused, as rayon's global pool is: its
/// threads (and the malloc arenas that keep what they freed) last across calls; a pool built per
/// call made a render with two threads ~7 % slower than one in the global pool.
pub fn thread_pool(threads: usize) -> Result<Arc<rayon::ThreadPool>, DofError> {
    if threads > MAX_THREADS {
        return Err(DofError::Threads {
            threads,
            max: MAX_THREADS,
        });
    }
    static POOLS: Mutex<Vec<(usize, Arc<rayon::ThreadPool>)>> = Mutex::new(Vec::new());
    let mut pools = POOLS.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(at) = pools.iter().position(|&(count, _)| count == threads) {
        let kept = pools.remove(at);
        let pool = Arc::clone(&kept.1);
        pools.push(kept);
        return Ok(pool);
    }
    let pool = Arc::new(
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .map_err(|err| DofError::ThreadPool {
                threads,
                reason: err.to_string(),
            })?,
    );
    if pools.len() == KEPT_POOLS {
        pools.remove(0);
    }
    pools.push((threads, Arc::clone(&pool)));
    Ok(pool)
}

/// 0 where a and b differ in sign (or one is 0), else the one of smaller magnitude.
#[inline]
fn minmod(a: f32, b: f32) -> f32 {
    if (a > 0.0 && b > 0.0) || (a < 0.0 && b < 0.0) {
        if a.abs() <= b.abs() {
            a
        } else {
            b
        }
    } else {
        0.0
    }
}

/// The slope of a pixel of CoC `centre` from its neighbours in the row and the column
/// (`Sources::slope`): 0 where steeper than MAX_SURFACE_SLOPE.
#[inline]
fn pixel_slope([left, centre, right]: [f32; 3], [up, down]: [f32; 2]) -> [f32; 2] {
    let slope_x = minmod(right - centre, centre - left);
    let slope_y = minmod(down - centre, centre - up);
    if slope_x.abs().max(slope_y.abs()) > MAX_SURFACE_SLOPE {
        [0.0, 0.0]
    } else {
        [slope_x, slope_y]
    }
}

/// Kernel radius of a signed CoC diameter; computed where needed rather than stored, to keep a
/// render's memory down (docs/reliability.md).
#[inline]
pub(crate) fn radius(coc: f32) -> f32 {
    coc.abs() * 0.5
}

/// What the gather reads: a grid of light sources. The photo's pixels, or the cells of a
/// coarser level (docs/model.md 8), each `scale` pixels wide and standing for `mass` (a share
/// of its pixels; empty: all) of its area.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sources<'a> {
    pub rgb: &'a [f32],
    /// Signed CoC diameter, in pixels of the photo.
    pub coc: &'a [f32],
    pub mass: &'a [f32],
    /// A level's cells' surface slopes, per cell and axis; empty for the photo's pixels (`slope`).
    pub slopes: &'a [[f32; 2]],
    pub width: usize,
    pub height: usize,
    pub scale: f32,
}

impl<'a> Sources<'a> {
    pub fn pixels(image: Image<'a>, coc: &'a [f32]) -> Self {
        Self {
            rgb: image.rgb,
            coc,
            mass: &[],
            slopes: &[],
            width: image.width,
            height: image.height,
            scale: 1.0,
        }
    }

    /// The CoC slope of the surface at cell (x, y), per cell and axis (docs/model.md 5.2): a
    /// level's cell stores its pixels' mean; a pixel's is the minmod of the one-sided
    /// differences, the frame's edge repeated beyond it, and 0 where steeper than
    /// MAX_SURFACE_SLOPE.
    pub fn slope(&self, x: usize, y: usize) -> [f32; 2] {
        if let Some(&slope) = self.slopes.get(y * self.width + x) {
            return slope;
        }
        let at = |sx: usize, sy: usize| self.coc[sy * self.width + sx];
        pixel_slope(
            [
                at(x.saturating_sub(1), y),
                at(x, y),
                at((x + 1).min(self.width - 1), y),
            ],
            [
                at(x, y.saturating_sub(1)),
                at(x, (y + 1).min(self.height - 1)),
            ],
        )
    }

    /// `slope(x, y)` of every pixel of row y of the photo, into `out` (its width long): the
    /// pixels inside the row in one pass without the frame's clamps. The level sums read each
    /// pixel's slope on every level; this computes it once.
    pub fn pixel_slopes_of_row(&self, y: usize, out: &mut [[f32; 2]]) {
        let width = self.width;
        let row = &self.coc[y * width..(y + 1) * width];
        let above = &self.coc[y.saturating_sub(1) * width..][..width];
        let below = &self.coc[(y + 1).min(self.height - 1) * width..][..width];
        for x in [0, width - 1] {
            out[x] = self.slope(x, y);
        }
        for (x, slope) in out.iter_mut().enumerate().take(width - 1).skip(1) {
            *slope = pixel_slope([row[x - 1], row[x], row[x + 1]], [above[x], below[x]]);
        }
    }

    /// Kernel radius in cells (a multiplication: this is in the inner loop).
    #[inline]
    fn radius(&self, coc: f32) -> f32 {
        coc.abs() * (0.5 / self.scale)
    }
}

/// Per-render state shared by all rows.
pub(crate) struct Gather<'a> {
    sources: Sources<'a>,
    /// 1 / kernel area; 0 for the sources left out (radius at or above the cap).
    inverse_area: Vec<f32>,
    kernels: &'a KernelTable,
    tiles_x: usize,
    /// Search half-width of each tile: covers every kernel that can reach into it.
    tile_half_width: Vec<usize>,
    /// Largest kernel radius in each row's TILE-wide segments (row-major, tiles_x per row).
    segment_radius: Vec<f32>,
    /// The rows of the centres it may gather.
    centres: Range<usize>,
}

impl<'a> Gather<'a> {
    /// Sources of radius `cap` (in cells) or more are left out: a coarser level brings them. Only
    /// centres in rows `centres` will be gathered: the sources beyond the kernels' reach of those
    /// rows are left out too, unread (often most of a level: its band is a strip of the frame).
    pub fn new(
        sources: Sources<'a>,
        kernels: &'a KernelTable,
        cap: f32,
        centres: Range<usize>,
    ) -> Self {
        let (width, height) = (sources.width, sources.height);
        let reached = centres.start.saturating_sub(kernels.half_width())
            ..(centres.end + kernels.half_width()).min(height);
        let gathered = |c: f32| {
            let r = sources.radius(c);
            if r < cap {
                r
            } else {
                -1.0
            }
        };
        let mut inverse_area = vec![0.0f32; width * height];
        inverse_area[reached.start * width..reached.end * width]
            .par_iter_mut()
            .zip(&sources.coc[reached.start * width..reached.end * width])
            .for_each(|(inverse, &c)| {
                let r = gathered(c);
                if r >= 0.0 {
                    *inverse = (1.0 / kernels.area(r)) as f32;
                }
            });
        let reach = |c: f32| gathered(c).max(0.0);
        let (tiles_x, tile_half_width) = tile_reach(sources, reached.clone(), kernels, reach);
        // A segment of cells without mass, or out of reach, has radius -1: its rows are skipped.
        let segment_radius = (0..height)
            .into_par_iter()
            .flat_map_iter(|y| {
                let row = y * width..(y + 1) * width;
                let masses = if sources.mass.is_empty() {
                    None
                } else {
                    Some(&sources.mass[row.clone()])
                };
                let coc = &sources.coc[row];
                let in_reach = reached.contains(&y);
                (0..coc.len()).step_by(TILE).map(move |first| {
                    if !in_reach {
                        return -1.0;
                    }
                    let last = (first + TILE).min(coc.len());
                    (first..last)
                        .filter(|&i| masses.is_none_or(|m| m[i] > 0.0))
                        .fold(-1.0f32, |m, i| m.max(reach(coc[i])))
                })
            })
            .collect();
        Self {
            sources,
            inverse_area,
            kernels,
            tiles_x,
            tile_half_width,
            segment_radius,
            centres,
        }
    }

    /// Gather every cell for which `wanted(x, y)` holds into `out` (3 values per cell), through
    /// `finish(x, y, [near, surface, behind])`.
    pub fn run(
        &self,
        out: &mut [f32],
        wanted: impl Fn(usize, usize) -> bool + Sync,
        finish: impl Fn(usize, usize, [Layer; 3]) -> [f32; 3] + Sync,
    ) {
        run(&[self], self, out, 0, wanted, finish);
    }

    /// The centre at cell (x, y); None where the cell holds no source.
    fn centre(&self, x: usize, y: usize) -> Option<Centre> {
        let index = y * self.sources.width + x;
        if self.sources.mass.get(index).is_some_and(|&m| m <= 0.0) {
            return None;
        }
        let coc = self.sources.coc[index];
        Some(Centre {
            coc,
            slope: self.sources.slope(x, y),
            radius: self.sources.radius(coc),
            inverse_area: self.inverse_area[index],
        })
    }

    /// For each source row y + dy (dy = -half_width..=half_width), the largest kernel radius
    /// in the columns the pixels of this TILE-wide segment of row y search, and its span.
    fn fill_row_reach(&self, y: usize, tile: usize, half_width: usize, row_reach: &mut RowReach) {
        let (width, height) = (self.sources.width, self.sources.height);
        let first = (tile * TILE).saturating_sub(half_width) / TILE;
        let last = ((tile * TILE + TILE - 1 + half_width).min(width - 1)) / TILE;
        let rows = -(half_width as isize)..=half_width as isize;
        row_reach.radius.clear();
        row_reach.radius.extend(rows.clone().map(|dy| {
            let source_y = (y as isize + dy).clamp(0, height as isize - 1) as usize;
            let segments = &self.segment_radius[source_y * self.tiles_x..][first..=last];
            segments.iter().copied().fold(-1.0f32, f32::max)
        }));
        row_reach.span.clear();
        row_reach.span.extend(
            rows.zip(&row_reach.radius)
                .map(|(dy, &radius)| row_span(radius, dy, half_width as isize)),
        );
    }

    /// The three depth groups of this grid's sources around the centres of a tile's row, one
    /// lane each. `row_reach` bounds the sources' radii row by row (-1: no source): rows and columns
    /// that no kernel reaches from there are skipped (they would add exactly zero).
    fn tile_sums(&self, tile: &Tile, row_reach: &RowReach, row: &mut lanes::Row) -> lanes::Sums {
        match lanes::vectors() {
            // SAFETY: vectors() found the instructions on this CPU.
            #[cfg(target_arch = "x86_64")]
            lanes::Vectors::Avx512 => unsafe { self.tile_sums_avx512(tile, row_reach, row) },
            // SAFETY: as above.
            #[cfg(target_arch = "x86_64")]
            lanes::Vectors::Avx2 => unsafe { self.tile_sums_avx2(tile, row_reach, row) },
            _ => self.tile_sums_with(tile, row_reach, row),
        }
    }

    /// The lanes compiled for AVX-512. SAFETY: the CPU must have AVX-512F.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,avx512f")]
    unsafe fn tile_sums_avx512(
        &self,
        tile: &Tile,
        row_reach: &RowReach,
        row: &mut lanes::Row,
    ) -> lanes::Sums {
        self.tile_sums_with(tile, row_reach, row)
    }

    /// The lanes compiled for AVX2. SAFETY: the CPU must have AVX2.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn tile_sums_avx2(
        &self,
        tile: &Tile,
        row_reach: &RowReach,
        row: &mut lanes::Row,
    ) -> lanes::Sums {
        self.tile_sums_with(tile, row_reach, row)
    }

    /// The sums, inlined into each CPU's version.
    #[inline(always)]
    fn tile_sums_with(
        &self,
        tile: &Tile,
        row_reach: &RowReach,
        row: &mut lanes::Row,
    ) -> lanes::Sums {
        let Sources {
            mass,
            height,
            scale,
            ..
        } = self.sources;
        let Tile {
            y,
            first,
            ref centres,
            largest_radius,
        } = *tile;
        let half_width = (row_reach.radius.len() / 2) as isize;
        let h = self.kernels.half_width() as isize;
        let mut sums = lanes::Sums::default();
        let rows = (-half_width..=half_width)
            .zip(&row_reach.radius)
            .zip(&row_reach.span);
        for ((dy, &reach), &reach_span) in rows {
            if reach < 0.0 {
                continue;
            }
            // Neither a kernel in this row nor a centre's own (the behind group's) reaches
            // further than the larger one's span (the row's, worked out once for the tile).
            let span = if largest_radius <= reach {
                reach_span
            } else {
                row_span(largest_radius, dy, half_width)
            };
            if span < 0 {
                continue;
            }
            // Outside the frame the scene continues as its edge pixels.
            let source_y = (y as isize + dy).clamp(0, height as isize - 1) as usize;
            row.fill(
                self.sources,
                &self.inverse_area,
                source_y,
                first as isize - span,
                2 * span as usize,
            );
            // The source's kernel seen at offset centre - source = (-dx, -dy); in front of the
            // focus plane the aperture image is point-reflected: rho(dx, dy) then, else
            // rho(-dx, -dy), read from the table rows of dy and -dy (the latter from the right).
            let offsets = (h - span) as usize..=(h + span) as usize;
            let norms = lanes::Norms {
                dy: dy as f32,
                front: &self.kernels.row(dy)[offsets.clone()],
                back_reversed: &self.kernels.row(-dy)[offsets],
                radius_per_coc: 0.5 / scale,
            };
            if mass.is_empty() {
                lanes::add_row::<false>(&mut sums, row, centres, &norms);
            } else {
                lanes::add_row::<true>(&mut sums, row, centres, &norms);
            }
        }
        sums
    }
}

/// The cell a gather is centred on: its signed CoC and its surface's slope of it (per cell),
/// kernel radius (cells), 1 / kernel area.
#[derive(Debug, Clone, Copy)]
struct Centre {
    coc: f32,
    slope: [f32; 2],
    radius: f32,
    inverse_area: f32,
}

/// The centres of a tile's row: row y from column `first` on, one lane each, and the largest
/// kernel radius among them.
struct Tile {
    y: usize,
    first: usize,
    centres: lanes::Centres,
    largest_radius: f32,
}

/// Gather the sources of every grid in `gathers` (all of one size) around the centres that
/// `centres` holds, for every cell where `wanted(x, y)` holds and `centres` has a source, into
/// `out` (N values per cell, its rows from `first_row` on) through
/// `finish(x, y, [near, surface, behind])`.
pub(crate) fn run<const N: usize>(
    gathers: &[&Gather<'_>],
    centres: &Gather<'_>,
    out: &mut [f32],
    first_row: usize,
    wanted: impl Fn(usize, usize) -> bool + Sync,
    finish: impl Fn(usize, usize, [Layer; 3]) -> [f32; N] + Sync,
) {
    let width = centres.sources.width;
    // Rows may be shared out one by one: the work is often all in a few of them.
    out.par_chunks_exact_mut(width * N)
        .enumerate()
        .with_max_len(1)
        .for_each(|(row_index, row)| {
            let y = first_row + row_index;
            // Each grid holds its sources within reach of these rows alone.
            if !centres.centres.contains(&y) {
                debug_assert!((0..width).all(|x| !wanted(x, y)), "row {y} wanted");
                return;
            }
            debug_assert!(gathers.iter().all(|g| g.centres.contains(&y)));
            let mut reaches = vec![RowReach::default(); gathers.len()];
            let mut sources = lanes::Row::default();
            for (tile, pixels) in row.chunks_mut(TILE * N).enumerate() {
                let first = tile * TILE;
                let count = pixels.len() / N;
                let found: [Option<Centre>; TILE] = std::array::from_fn(|i| {
                    (i < count && wanted(first + i, y))
                        .then(|| centres.centre(first + i, y))
                        .flatten()
                });
                if found.iter().all(Option::is_none) {
                    continue;
                }
                let tile_index = (y / TILE) * centres.tiles_x + tile;
                let half_width = gathers
                    .iter()
                    .map(|g| g.tile_half_width[tile_index])
                    .max()
                    .unwrap_or(0);
                for (gather, reach) in gathers.iter().zip(&mut reaches) {
                    gather.fill_row_reach(y, tile, half_width, reach);
                }
                let mut row_centres = Tile {
                    y,
                    first,
                    centres: lanes::Centres::default(),
                    largest_radius: 0.0,
                };
                for (lane, centre) in found.iter().enumerate() {
                    if let Some(centre) = centre {
                        let lane_centres = &mut row_centres.centres;
                        lane_centres.coc[lane] = centre.coc;
                        [lane_centres.slope_x[lane], lane_centres.slope_y[lane]] = centre.slope;
                        lane_centres.radius[lane] = centre.radius;
                        lane_centres.inverse_area[lane] = centre.inverse_area;
                        row_centres.largest_radius = row_centres.largest_radius.max(centre.radius);
                    }
                }
                let mut totals = lanes::Sums::default();
                for (gather, reach) in gathers.iter().zip(&reaches) {
                    let sums = gather.tile_sums(&row_centres, reach, &mut sources);
                    lanes::add(&mut totals, &sums);
                }
                for (lane, pixel) in pixels.chunks_exact_mut(N).enumerate() {
                    if found[lane].is_some() {
                        pixel.copy_from_slice(&finish(
                            first + lane,
                            y,
                            lanes::layers(&totals, lane),
                        ));
                    }
                }
            }
        });
}

/// The rows from the first to the last for which `holds` holds (empty if none).
pub(crate) fn rows_where(height: usize, holds: impl Fn(usize) -> bool + Sync) -> Range<usize> {
    let rows = || (0..height).into_par_iter();
    match (
        rows().find_first(|&y| holds(y)),
        rows().find_last(|&y| holds(y)),
    ) {
        (Some(first), Some(last)) => first..last + 1,
        _ => 0..0,
    }
}

/// The source rows around one tile of centres: each row's largest kernel radius (-1: no source),
/// and `row_span` of it.
#[derive(Debug, Default, Clone)]
pub(crate) struct RowReach {
    radius: Vec<f32>,
    span: Vec<isize>,
}

/// How many columns either way of the centre a kernel of `radius` can reach in the row `dy`
/// away, at most `half_width`; -1: none. No kernel reaches past rho = radius + 0.5, and rho is at
/// least the Euclidean distance; one pixel of margin for the rounding of the norm table. Never
/// smaller for a larger radius, so the larger of two radii has the larger span.
fn row_span(radius: f32, dy: isize, half_width: isize) -> isize {
    let extent = f64::from(radius) + 1.5;
    let span_squared = extent * extent - (dy * dy) as f64;
    if span_squared <= 0.0 {
        -1
    } else {
        (span_squared.sqrt() as isize).min(half_width)
    }
}

/// Premultiplied colour and total weight of one depth group.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Layer {
    pub colour: [f32; 3],
    pub weight: f32,
}

impl Layer {
    #[inline]
    pub fn add(&mut self, colour: &[f32], weight: f32) {
        self.colour[0] += weight * colour[0];
        self.colour[1] += weight * colour[1];
        self.colour[2] += weight * colour[2];
        self.weight += weight;
    }

    pub fn merge(&mut self, other: &Layer) {
        for (total, part) in self.colour.iter_mut().zip(other.colour) {
            *total += part;
        }
        self.weight += other.weight;
    }
}

/// Nearer samples over the centre's surface, whose gap shows what is behind it (docs/model.md,
/// 5.3): the behind group fills as much of the gap as it covers, with its own mean colour; the
/// rest of the gap is hidden in the photo and takes the surface's mean colour.
pub(crate) fn composite(near: &Layer, surface: &Layer, behind: &Layer) -> [f32; 3] {
    let factors = group_factors(near, surface, behind);
    let mut out = [0.0; 3];
    for (channel, value) in out.iter_mut().enumerate() {
        *value = [near, surface, behind]
            .iter()
            .zip(factors)
            .map(|(layer, factor)| factor * layer.colour[channel])
            .sum();
    }
    out
}

/// The composite is linear in the groups' colours: out = sum over groups of factor x colour,
/// the factors set by the groups' weights alone. [near, surface, behind].
pub(crate) fn group_factors(near: &Layer, surface: &Layer, behind: &Layer) -> [f32; 3] {
    // A layer covers at most the whole aperture (Layer::clamped).
    let near_scale = 1.0 / near.weight.max(1.0);
    let surface_scale = 1.0 / surface.weight.max(1.0);
    let (near_weight, surface_weight) = (near.weight.min(1.0), surface.weight.min(1.0));
    let gap = 1.0 - surface_weight;
    let seen_behind = behind.weight.min(gap);
    let behind_share = if behind.weight > 0.0 {
        seen_behind / behind.weight
    } else {
        0.0
    };
    // The surface always holds the centre itself, so its weight is positive.
    let surface_share = 1.0 + (gap - seen_behind) / surface_weight;
    let through_near = 1.0 - near_weight;
    [
        near_scale,
        through_near * surface_scale * surface_share,
        through_near * behind_share,
    ]
}

/// Search half-width per tile: the largest kernel (plus anti-aliasing band) of any tile that
/// comes near enough to reach it, of the sources in `rows`. Returns (tiles across, half-widths).
fn tile_reach(
    sources: Sources<'_>,
    rows: Range<usize>,
    kernels: &KernelTable,
    reach: impl Fn(f32) -> f32 + Sync,
) -> (usize, Vec<usize>) {
    let (width, height) = (sources.width, sources.height);
    let tiles_x = width.div_ceil(TILE);
    let tiles_y = height.div_ceil(TILE);
    // Each row of tiles apart: this runs for every pixel of every gather. Rows out of `rows`
    // hold no source.
    let tile_max: Vec<f32> = sources
        .coc
        .par_chunks(width * TILE)
        .enumerate()
        .flat_map_iter(|(ty, tile_rows)| {
            let mut row_max = vec![0.0f32; tiles_x];
            let first = ty * TILE;
            for (y, row) in (first..).zip(tile_rows.chunks_exact(width)) {
                if !rows.contains(&y) {
                    continue;
                }
                for (max, pixels) in row_max.iter_mut().zip(row.chunks(TILE)) {
                    *max = pixels.iter().fold(*max, |m, &c| m.max(reach(c)));
                }
            }
            row_max
        })
        .collect();
    let reach_tiles = kernels.half_width().div_ceil(TILE) + 1;
    // Pixels of tiles `steps` apart are at least this far apart along that axis.
    let gap = |steps: usize| {
        if steps == 0 {
            0
        } else {
            (steps - 1) * TILE + 1
        }
    };
    let half_widths = (0..tiles_x * tiles_y)
        .into_par_iter()
        .map(|tile| {
            let (ty, tx) = (tile / tiles_x, tile % tiles_x);
            let mut reach = tile_max[tile];
            for oy in ty.saturating_sub(reach_tiles)..(ty + reach_tiles + 1).min(tiles_y) {
                for ox in tx.saturating_sub(reach_tiles)..(tx + reach_tiles + 1).min(tiles_x) {
                    let other = tile_max[oy * tiles_x + ox];
                    let distance = gap(ty.abs_diff(oy)).max(gap(tx.abs_diff(ox)));
                    if distance as f32 <= other + 0.5 {
                        reach = reach.max(other);
                    }
                }
            }
            ((f64::from(reach) + 0.5).ceil() as usize).min(kernels.half_width())
        })
        .collect();
    (tiles_x, half_widths)
}

/// A point light's render: its total red light, and the diameter of the disc lit above half its
/// peak.
#[cfg(test)]
pub(crate) fn red_energy_and_disc_diameter(out: &[f32]) -> (f32, f32) {
    let energy: f32 = out.chunks_exact(3).map(|p| p[0]).sum();
    let peak = out.chunks_exact(3).map(|p| p[0]).fold(0.0, f32::max);
    let lit = out.chunks_exact(3).filter(|p| p[0] > 0.5 * peak).count() as f32;
    (energy, (4.0 * lit / std::f32::consts::PI).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Scene {
        width: usize,
        height: usize,
        rgb: Vec<f32>,
        coc: Vec<f32>,
    }

    impl Scene {
        fn flat(width: usize, height: usize, colour: [f32; 3], coc: f32) -> Self {
            Scene {
                width,
                height,
                rgb: colour.repeat(width * height),
                coc: vec![coc; width * height],
            }
        }

        fn set(&mut self, x: usize, y: usize, colour: [f32; 3], coc: f32) {
            let i = y * self.width + x;
            self.rgb[i * 3..i * 3 + 3].copy_from_slice(&colour);
            self.coc[i] = coc;
        }

        fn render(&self, aperture: &Aperture, threads: usize) -> Vec<f32> {
            let image = Image {
                rgb: &self.rgb,
                width: self.width,
                height: self.height,
            };
            render_linear(image, &self.coc, aperture, threads).unwrap()
        }
    }

    fn pixel(out: &[f32], width: usize, x: usize, y: usize) -> [f32; 3] {
        let i = (y * width + x) * 3;
        [out[i], out[i + 1], out[i + 2]]
    }

    #[test]
    fn flat_colour_stays_flat_for_any_coc() {
        let colour = [0.2, 0.5, 0.9];
        let mut scene = Scene::flat(23, 17, colour, 0.0);
        for (i, c) in scene.coc.iter_mut().enumerate() {
            *c = ((i * 7919) % 23) as f32 - 11.0;
        }
        for aperture in [Aperture::CIRCLE, Aperture::new(5, 0.4, 0.2).unwrap()] {
            for rendered in scene.render(&aperture, 2).chunks_exact(3) {
                for (value, expected) in rendered.iter().zip(colour) {
                    assert!((value - expected).abs() < 1e-5, "{rendered:?}");
                }
            }
        }
    }

    #[test]
    fn sharp_pixels_pass_through() {
        let mut scene = Scene::flat(8, 8, [0.1, 0.2, 0.3], 0.4);
        scene.set(3, 4, [0.9, 0.0, 0.5], -0.4);
        let out = scene.render(&Aperture::CIRCLE, 1);
        for (a, b) in out.iter().zip(&scene.rgb) {
            assert!((a - b).abs() < 1e-6);
        }
    }

    #[test]
    fn point_light_spreads_into_a_disc_of_its_coc_with_its_energy() {
        let (size, diameter) = (41, 16.0);
        let mut scene = Scene::flat(size, size, [0.0; 3], diameter);
        scene.set(20, 20, [100.0, 50.0, 25.0], diameter);
        let (energy, measured) = red_energy_and_disc_diameter(&scene.render(&Aperture::CIRCLE, 2));
        assert!((energy - 100.0).abs() < 1e-3, "energy {energy}");
        assert!(
            (measured - diameter).abs() < 1.0,
            "disc diameter {measured}"
        );
    }

    #[test]
    fn sharp_subject_takes_no_colour_from_blurred_background() {
        // Left half: sharp red subject; right half: green background far behind.
        let mut scene = Scene::flat(32, 12, [0.0, 1.0, 0.0], 20.0);
        for y in 0..12 {
            for x in 0..16 {
                scene.set(x, y, [1.0, 0.0, 0.0], 0.0);
            }
        }
        let out = scene.render(&Aperture::CIRCLE, 2);
        for y in 0..12 {
            assert_eq!(pixel(&out, 32, 15, y), [1.0, 0.0, 0.0]);
        }
    }

    #[test]
    fn blurred_foreground_spreads_over_sharp_subject_out_to_its_radius() {
        // Left: blue foreground (CoC -12 px); right: sharp white subject.
        let (width, height) = (48, 16);
        let mut scene = Scene::flat(width, height, [1.0; 3], 0.0);
        for y in 0..height {
            for x in 0..24 {
                scene.set(x, y, [0.0, 0.0, 1.0], -12.0);
            }
        }
        let out = scene.render(&Aperture::CIRCLE, 2);
        let red = |x| pixel(&out, width, x, 8)[0];
        // Just beside the edge about half the aperture sees the foreground; beyond 6.5 px none.
        assert!((red(24) - 0.55).abs() < 0.1, "{}", red(24));
        assert!(red(24) < red(26) && red(26) < red(28) && red(28) < 1.0);
        assert_eq!(red(31), 1.0);
    }

    #[test]
    fn a_surface_slope_is_its_planes_and_zero_at_steps_ridges_and_ramps() {
        // CoC rising 0.5 px per column, a step of 20 px, a one-pixel ridge and a ramp steeper
        // than MAX_SURFACE_SLOPE; one row, so the vertical slope is 0 (the frame's edge repeats).
        let coc = [
            10.0, 10.5, 11.0, 11.5, 31.5, 32.0, 40.0, 32.0, 32.5, 35.0, 37.5, 40.0,
        ];
        let rgb = vec![0.0; coc.len() * 3];
        let image = Image {
            rgb: &rgb,
            width: coc.len(),
            height: 1,
        };
        let sources = Sources::pixels(image, &coc);
        let slopes: Vec<f32> = (0..coc.len()).map(|x| sources.slope(x, 0)[0]).collect();
        // Each side of the step keeps its plane's slope (the smaller difference); the ridge
        // and its neighbours see differences of both signs; the ramp (2.5 px per px) is cut.
        assert_eq!(
            slopes,
            [0.0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.0, 0.0, 0.5, 0.0, 0.0, 0.0]
        );
        assert!((0..coc.len()).all(|x| sources.slope(x, 0)[1] == 0.0));
    }

    #[test]
    fn a_rows_pixel_slopes_are_each_pixels_slope_to_the_bit() {
        // Frames down to 1 px across: the row's two edge pixels may be one.
        for (width, height) in [(9, 7), (2, 3), (1, 4), (5, 1)] {
            // Gentle slopes of both signs on both axes, and a few steeper than MAX_SURFACE_SLOPE.
            let coc: Vec<f32> = (0..width * height)
                .map(|i| {
                    let (x, y) = ((i % width) as f32, (i / width) as f32);
                    0.3 * x - 0.2 * y + 0.6 * (1.7 * x + 0.9 * y).sin()
                })
                .collect();
            let rgb = vec![0.0; coc.len() * 3];
            let image = Image {
                rgb: &rgb,
                width,
                height,
            };
            let sources = Sources::pixels(image, &coc);
            let mut row = vec![[f32::NAN; 2]; width];
            let mut sloped = [false; 2];
            for y in 0..height {
                sources.pixel_slopes_of_row(y, &mut row);
                for (x, slope) in row.iter().enumerate() {
                    let expected = sources.slope(x, y);
                    assert_eq!(
                        slope.map(f32::to_bits),
                        expected.map(f32::to_bits),
                        "({x}, {y})"
                    );
                    sloped[0] |= slope[0] != 0.0;
                    sloped[1] |= slope[1] != 0.0;
                }
            }
            // Zeros alone would not tell the axes or their signs apart.
            assert!(
                width < 3 || height < 3 || sloped == [true; 2],
                "{width} x {height}"
            );
        }
    }

    #[test]
    fn result_does_not_depend_on_thread_count() {
        let mut scene = Scene::flat(37, 29, [0.3, 0.3, 0.3], 0.0);
        for i in 0..37 * 29 {
            scene.rgb[i * 3] = (i % 13) as f32 / 13.0;
            scene.coc[i] = ((i * 31) % 17) as f32 - 8.0;
        }
        let hexagon = Aperture::new(6, 0.1, 0.3).unwrap();
        assert_eq!(scene.render(&hexagon, 1), scene.render(&hexagon, 2));
    }

    #[test]
    fn a_gather_for_some_rows_gives_them_what_a_gather_for_all_does_to_the_bit() {
        let (width, height) = (41, 90);
        let mut scene = Scene::flat(width, height, [0.3, 0.3, 0.3], 0.0);
        for i in 0..width * height {
            scene.rgb[i * 3 + 1] = (i % 11) as f32 / 11.0;
            // Blur up to 40 px across, both signs: kernels reach 20 rows.
            scene.coc[i] = ((i * 37) % 81) as f32 - 40.0;
        }
        let image = Image {
            rgb: &scene.rgb,
            width,
            height,
        };
        let kernels = KernelTable::new(&Aperture::CIRCLE, 20.0);
        let render = |rows: Range<usize>, centres: Range<usize>| {
            let gather = Gather::new(
                Sources::pixels(image, &scene.coc),
                &kernels,
                f32::INFINITY,
                rows,
            );
            let mut out = vec![0.0f32; width * height * 3];
            gather.run(
                &mut out,
                |_, y| centres.contains(&y),
                |_, _, [near, surface, behind]| composite(&near, &surface, &behind),
            );
            out
        };
        for centres in [30..45, 0..1, 70..90] {
            let all = render(0..height, centres.clone());
            assert!(all.iter().any(|&v| v != 0.0));
            assert_eq!(render(centres.clone(), centres.clone()), all, "{centres:?}");
        }
    }

    #[test]
    fn a_pool_of_each_thread_count_is_kept_for_the_next_calls() {
        // Other tests run beside this one and ask for pools too, of 0 to 3 threads.
        let five = thread_pool(5).unwrap();
        assert_eq!(five.current_num_threads(), 5);
        assert!(Arc::ptr_eq(&five, &thread_pool(5).unwrap()));
        // Only the last KEPT_POOLS counts asked for are kept.
        for threads in 6..6 + KEPT_POOLS {
            thread_pool(threads).unwrap();
        }
        assert!(!Arc::ptr_eq(&five, &thread_pool(5).unwrap()));
    }

    #[test]
    fn odd_polygon_is_point_reflected_in_front_of_focus() {
        let size = 31;
        let triangle = Aperture::new(3, 0.5 * std::f64::consts::PI, 0.0).unwrap();
        let light = |coc: f32| {
            let mut scene = Scene::flat(size, size, [0.0; 3], coc);
            scene.set(15, 15, [1.0; 3], coc);
            scene.render(&triangle, 1)
        };
        let (behind, front) = (light(14.0), light(-14.0));
        for y in 0..size {
            for x in 0..size {
                let mirrored = pixel(&front, size, size - 1 - x, size - 1 - y)[0];
                assert!((pixel(&behind, size, x, y)[0] - mirrored).abs() < 1e-7);
            }
        }
        // A triangle pointing up: more light above the centre than below it, behind the focus.
        assert!(pixel(&behind, size, 15, 10)[0] > 0.0 && pixel(&behind, size, 15, 21)[0] == 0.0);
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        let image = Image {
            rgb: &[0.0; 12],
            width: 2,
            height: 2,
        };
        assert!(matches!(
            render_linear(image, &[0.0; 3], &Aperture::CIRCLE, 1),
            Err(DofError::Shape { .. })
        ));
        assert!(matches!(
            render_linear(image, &[0.0, f32::NAN, 0.0, 0.0], &Aperture::CIRCLE, 1),
            Err(DofError::BadCoc { x: 1, y: 0, .. })
        ));
        assert!(matches!(
            render_linear(image, &[1e5; 4], &Aperture::CIRCLE, 1),
            Err(DofError::BlurTooLarge { .. })
        ));
        assert!(matches!(
            render_linear(image, &[0.0; 4], &Aperture::CIRCLE, MAX_THREADS + 1),
            Err(DofError::Threads { .. })
        ));
        let mut rgb = [0.5f32; 12];
        rgb[10] = f32::INFINITY;
        rgb[4] = -1.0;
        let image = Image { rgb: &rgb, ..image };
        assert!(matches!(
            render_linear(image, &[0.0; 4], &Aperture::CIRCLE, 1),
            Err(DofError::BadLight { x: 1, y: 0, .. })
        ));
        // The first bad value is named when the checks run in several tasks (of 65536 values),
        // on any thread count: here in one task and in a later one.
        let (width, height) = (300, 300);
        let mut rgb = vec![0.5f32; width * height * 3];
        (rgb[3 * 70_001 + 1], rgb[3 * 89_000]) = (-1.0, f32::NAN);
        let mut coc = vec![0.0f32; width * height];
        (coc[65_000], coc[66_000]) = (f32::INFINITY, f32::NAN);
        for threads in [1, 2] {
            let image = Image {
                rgb: &rgb,
                width,
                height,
            };
            assert!(matches!(
                render_linear(image, &coc, &Aperture::CIRCLE, threads),
                Err(DofError::BadLight { x: 101, y: 233, .. })
            ));
            let clean = vec![0.5f32; width * height * 3];
            let image = Image {
                rgb: &clean,
                ..image
            };
            assert!(matches!(
                render_linear(image, &coc, &Aperture::CIRCLE, threads),
                Err(DofError::BadCoc { x: 200, y: 216, .. })
            ));
        }
    }

    mod fuzz {
        use super::super::*;
        use crate::aperture::coverage;
        use proptest::prelude::*;
        use proptest::test_runner::{TestCaseError, TestRunner};

        const CASES: u32 = 400;

        fn apertures() -> impl Strategy<Value = Aperture> {
            prop_oneof![
                Just(Aperture::CIRCLE),
                (3u32..=12, -7.0f64..7.0, 0.0f64..=1.0).prop_map(
                    |(blades, rotation, curvature)| Aperture::new(blades, rotation, curvature)
                        .unwrap()
                ),
            ]
        }

        /// A small frame: light from black to far above white, blur up to 60 px either side of
        /// the focus, often wider than the frame itself.
        fn scenes() -> impl Strategy<Value = (usize, usize, Vec<f32>, Vec<f32>)> {
            (1usize..12, 1usize..12).prop_flat_map(|(width, height)| {
                let pixels = width * height;
                (
                    Just(width),
                    Just(height),
                    proptest::collection::vec(
                        prop_oneof![Just(0.0f32), 0.0f32..1.0, 1.0f32..100.0],
                        pixels * 3,
                    ),
                    proptest::collection::vec(
                        prop_oneof![Just(0.0f32), -60.0f32..60.0, -2.0f32..2.0],
                        pixels,
                    ),
                )
            })
        }

        /// Run `property` on CASES inputs from `strategy` (shrinking any failure), and say how
        /// many it tried: `cargo test -- --show-output` prints the count.
        fn fuzz<S: Strategy>(
            name: &str,
            strategy: S,
            property: impl Fn(S::Value) -> Result<(), TestCaseError>,
        ) {
            let tried = std::cell::Cell::new(0u32);
            let mut runner = TestRunner::new(ProptestConfig::with_cases(CASES));
            let outcome = runner.run(&strategy, |input| {
                tried.set(tried.get() + 1);
                property(input)
            });
            println!("fuzz: {} inputs tried: {name}", tried.get());
            if let Err(failure) = outcome {
                panic!("{name}: {failure}");
            }
        }

        /// Every output is a weighted mean of input light: finite, within each channel's range,
        /// and the same for every thread count; at the exact level and the fast one (with its
        /// minimum radius T from 1 px, every level in use, to the default).
        #[test]
        fn render_is_a_convex_mix_of_its_input_for_any_thread_count() {
            let levels = prop_oneof![
                Just(None),
                Just(Some(1.0f32)),
                Just(Some(2.5)),
                Just(Some(crate::DEFAULT_MIN_RADIUS))
            ];
            let inputs = (scenes(), apertures(), 2usize..4, levels);
            fuzz(
                "render (exact and fast): finite, convex, 1 vs 2-3 threads",
                inputs,
                |((width, height, rgb, coc), aperture, threads, level)| {
                    let image = Image {
                        rgb: &rgb,
                        width,
                        height,
                    };
                    let render = |threads| match level {
                        None => render_linear(image, &coc, &aperture, threads).unwrap(),
                        Some(t) => {
                            crate::render_pyramid(image, &coc, &aperture, threads, t).unwrap()
                        }
                    };
                    let one = render(1);
                    prop_assert_eq!(&one, &render(threads));
                    for channel in 0..3 {
                        let values = rgb.iter().skip(channel).step_by(3);
                        let low = values.clone().copied().fold(f32::INFINITY, f32::min);
                        let high = values.copied().fold(0.0f32, f32::max);
                        for &v in one.iter().skip(channel).step_by(3) {
                            prop_assert!(v.is_finite());
                            prop_assert!(
                                v >= low - 1e-5 * high && v <= high * (1.0 + 1e-5),
                                "{v} outside [{low}, {high}]"
                            );
                        }
                    }
                    Ok(())
                },
            );
        }

        /// The table's exact kernel area is the sum of the coverages it stands for.
        #[test]
        fn kernel_area_is_the_sum_of_its_coverages() {
            fuzz(
                "kernel area = sum of coverages",
                (apertures(), 0.0f32..40.0),
                |(aperture, radius)| {
                    let table = KernelTable::new(&aperture, radius);
                    let h = table.half_width() as isize;
                    let mut sum = 0.0f64;
                    for dy in -h..=h {
                        for dx in -h..=h {
                            let c = coverage(radius, table.rho(dx, dy));
                            prop_assert!((0.0..=1.0).contains(&c));
                            sum += f64::from(c);
                        }
                    }
                    prop_assert!(
                        (table.area(radius) - sum).abs() <= 1e-6 * sum.max(1.0),
                        "{} vs {sum}",
                        table.area(radius)
                    );
                    // The centre (rho = 0) is always at least half covered: no division by zero.
                    prop_assert!(table.area(radius) >= 0.5);
                    Ok(())
                },
            );
        }

        /// A row's span covers every offset a kernel of its radius reaches (rho = radius + 0.5,
        /// at least the Euclidean distance), and the span of the larger of two radii is the
        /// larger span: a gather may take the tile's span wherever its centre's radius is not
        /// larger.
        #[test]
        fn a_rows_span_covers_its_kernels_reach() {
            fuzz(
                "row span",
                (0.0f32..200.0, 0.0f32..200.0, -250isize..250, 0isize..250),
                |(radius, other, dy, half_width)| {
                    let span = row_span(radius, dy, half_width);
                    let reach = f64::from(radius) + 0.5;
                    for dx in 0..=half_width {
                        if ((dx * dx + dy * dy) as f64).sqrt() <= reach {
                            prop_assert!(dx <= span, "dx {dx} beyond span {span}");
                        }
                    }
                    prop_assert_eq!(
                        row_span(radius.max(other), dy, half_width),
                        span.max(row_span(other, dy, half_width))
                    );
                    Ok(())
                },
            );
        }
    }
}
