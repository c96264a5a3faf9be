//! The fast quality level (docs/model.md 8): the gather of docs/model.md 5, each pixel computed
//! at the resolution its own blur needs, and very blurred light brought in from coarser levels.
//!
//! Blur radii are cut into bands: band 0 below 4T/3, band b >= 1 from T 2^b to T 2^(b+1) pixels
//! (band 1 from 4T/3), where T is `min_radius`. A pixel of band L is gathered on level L, the
//! photo averaged over 2^L x 2^L cells, where its kernel is T to 2T cells wide (2T/3 to 2T on
//! level 1); that gather takes the sources of bands up to L + 1 with the model's groups. Sources
//! of band L + 2 and above are at least twice as blurred as the pixel, so the model puts them in
//! front of it or behind it by the sign of their CoC alone, with their own kernel's weight: their
//! light is a smooth field, splatted on their own band's level and interpolated. Levels above 0
//! are interpolated to the photo's pixels from the cells whose CoC is nearest each pixel's, so
//! light does not cross depth edges.
//! A cell across a depth edge holds two populations of sources; lights (bright or small) enter
//! the levels capped and each pixel gathers their excess exactly (`Bright`).

use rayon::prelude::*;

use crate::aperture::{coverage, Aperture, KernelTable};
use crate::error::DofError;
use crate::gather::{
    checked_pool, composite, group_factors, radius, rows_where, run, Gather, Image, Layer, Sources,
    SAME_SURFACE_TOLERANCE_PX,
};
use crate::memory::release_freed_memory;

/// The fast level's T: a pixel is gathered where its kernel is 5 to 10 cells wide (from 3.3 on
/// level 1; level 0 is the photo). Kernel rims (but the lights', gathered apart) are anti-aliased
/// over a cell, so T sets how sharp they stay. The gathers' cost grows about as T^3, but the passes
/// over every pixel around them do not: T 6 -> 5 saves about 12 % of the engine's time on the
/// benchmark scene, and keeps 45 dB of the exact level on it and on 640 random scenes
/// (docs/performance.md).
pub const DEFAULT_MIN_RADIUS: f32 = 5.0;

/// Render like `gather::render_linear`, coarse where the blur is large. `min_radius` (T, in
/// pixels, at least 1) sets the quality: larger is slower and closer to the exact gather.
pub fn render_pyramid(
    image: Image<'_>,
    coc: &[f32],
    aperture: &Aperture,
    threads: usize,
    min_radius: f32,
) -> Result<Vec<f32>, DofError> {
    if !(min_radius >= 1.0 && min_radius.is_finite()) {
        return Err(DofError::NotPositive {
            what: "minimum gather radius (>= 1)",
            value: f64::from(min_radius),
        });
    }
    let (pool, max_radius) = checked_pool(image, coc, threads)?;
    release_freed_memory();
    Ok(pool.install(|| Pyramid::new(image, coc, aperture, min_radius, max_radius).render()))
}

/// The coarsest level keeps at least this many cells across the frame's shorter side: a level
/// needs cells enough to tell the frame's shapes apart.
const MIN_CELLS_ACROSS: usize = 16;

/// Band of a blur radius r (pixels): 0 below 4T/3, else b >= 1 with T 2^b <= r < T 2^(b+1), band
/// 1 from 4T/3. Level 0 gathers at full resolution, at a cost growing as r^2, so band 1 also takes
/// the radii from 4T/3 to 2T, on level 1 with kernels 2T/3 to T cells wide (docs/performance.md).
fn band(radius: f32, t: f32) -> usize {
    if radius < 4.0 / 3.0 * t {
        return 0;
    }
    let mut band = 1;
    while radius >= t * (1u64 << (band + 1)) as f32 {
        band += 1;
    }
    band
}

/// Sources of radius below this many pixels are gathered on level `level`.
fn gathered_below(level: usize, t: f32) -> f32 {
    t * (1u64 << (level + 2)) as f32
}

/// A level's grid of cells, `scale` pixels wide, with a ring of one cell around the frame that
/// holds the frame's edge pixels: the gather repeats the outermost cells beyond the frame, and
/// the model continues the scene beyond it as its edge pixels (docs/model.md 5.1).
#[derive(Debug, Clone, Copy)]
struct Grid {
    /// Cells across and down, the ring included.
    width: usize,
    height: usize,
    scale: usize,
}

impl Grid {
    fn new(image: Image<'_>, level: usize) -> Self {
        let scale = 1 << level;
        Self {
            width: image.width.div_ceil(scale) + 2,
            height: image.height.div_ceil(scale) + 2,
            scale,
        }
    }

    fn cells(&self) -> usize {
        self.width * self.height
    }

    fn in_frame(&self, x: usize, y: usize) -> bool {
        (1..self.width - 1).contains(&x) && (1..self.height - 1).contains(&y)
    }

    /// Where cell `cell` (an index into the grid, ring included) is centred in the photo.
    fn centre(&self, cell: usize) -> [f32; 2] {
        let scale = self.scale as f32;
        let (x, y) = (cell % self.width, cell / self.width);
        [(x as f32 - 0.5) * scale, (y as f32 - 0.5) * scale]
    }

    /// The four cells in the frame around the photo position (x, y) (pixel centres at +0.5)
    /// with their bilinear weights; outside their centres the outermost cells take the weight.
    fn bilinear(&self, x: f32, y: f32) -> [(usize, f32); 4] {
        let scale = self.scale as f32;
        let axis = |position: f32, cells: usize| {
            let inside = cells - 2;
            let u = (position / scale - 0.5).clamp(0.0, (inside - 1) as f32);
            let first = (u as usize).min(inside.saturating_sub(2));
            let second = (first + 1).min(inside - 1);
            (first + 1, second + 1, u - first as f32)
        };
        let (x0, x1, fx) = axis(x, self.width);
        let (y0, y1, fy) = axis(y, self.height);
        [
            (y0 * self.width + x0, (1.0 - fx) * (1.0 - fy)),
            (y0 * self.width + x1, fx * (1.0 - fy)),
            (y1 * self.width + x0, (1.0 - fx) * fy),
            (y1 * self.width + x1, fx * fy),
        ]
    }

    /// The photo's pixels in cell (cx, cy), as rows and columns: a block inside the frame, the
    /// edge pixels beside it on the ring.
    fn block(&self, image: Image<'_>, cx: usize, cy: usize) -> [std::ops::Range<usize>; 2] {
        let scale = self.scale;
        let span = |cell: usize, cells: usize, size: usize| {
            if cell == 0 {
                0..1
            } else if cell == cells - 1 {
                size - 1..size
            } else {
                (cell - 1) * scale..(cell * scale).min(size)
            }
        };
        [
            span(cy, self.height, image.height),
            span(cx, self.width, image.width),
        ]
    }
}

/// Light sources averaged over the cells of a level: mean colour, mean signed CoC (pixels of
/// the photo), the share of the cell's pixels they stand for, and (sources that are gathered)
/// their pixels' mean surface slope, per cell.
#[derive(Debug, Default)]
struct CellSources {
    rgb: Vec<f32>,
    coc: Vec<f32>,
    mass: Vec<f32>,
    slopes: Vec<[f32; 2]>,
}

impl CellSources {
    fn with_cells(cells: usize, sloped: bool) -> Self {
        Self {
            rgb: vec![0.0; cells * 3],
            coc: vec![0.0; cells],
            mass: vec![0.0; cells],
            slopes: vec![[0.0; 2]; if sloped { cells } else { 0 }],
        }
    }

    /// Its rows of `width` cells, to be written one by one.
    fn rows_mut(&mut self, width: usize) -> impl Iterator<Item = CellRow<'_>> {
        let mut slopes = self.slopes.chunks_mut(width);
        self.rgb
            .chunks_mut(3 * width)
            .zip(self.coc.chunks_mut(width))
            .zip(self.mass.chunks_mut(width))
            .map(move |((rgb, coc), mass)| CellRow {
                rgb,
                coc,
                mass,
                // Splat sources keep no slopes.
                slopes: slopes.next().unwrap_or_default(),
            })
    }

    fn view(&self, grid: Grid) -> Sources<'_> {
        Sources {
            rgb: &self.rgb,
            coc: &self.coc,
            mass: &self.mass,
            slopes: &self.slopes,
            width: grid.width,
            height: grid.height,
            scale: grid.scale as f32,
        }
    }
}

/// A row of a level's cells of one kind, being written.
struct CellRow<'a> {
    rgb: &'a mut [f32],
    coc: &'a mut [f32],
    mass: &'a mut [f32],
    slopes: &'a mut [[f32; 2]],
}

impl CellRow<'_> {
    /// Cell x as the mean of the pixels in `sum`, and their share of the cell's `all` pixels.
    /// A cell without such pixels keeps its zeros.
    fn store(&mut self, x: usize, sum: &Sum, all: usize, scale: f32) {
        if sum.count == 0 {
            return;
        }
        let n = sum.count as f32;
        for (out, total) in self.rgb[3 * x..3 * x + 3].iter_mut().zip(sum.rgb) {
            *out = total / n;
        }
        self.coc[x] = sum.coc / n;
        self.mass[x] = n / all as f32;
        if let Some(slope) = self.slopes.get_mut(x) {
            *slope = sum.slope.map(|s| s * scale / n);
        }
    }
}

/// Running sums of a cell's pixels of one kind.
#[derive(Debug, Default, Clone, Copy)]
struct Sum {
    rgb: [f32; 3],
    coc: f32,
    /// Of the pixels' surface slopes (gathered sources only).
    slope: [f32; 2],
    count: u32,
}

impl Sum {
    fn add(&mut self, rgb: &[f32], coc: f32) {
        for (total, value) in self.rgb.iter_mut().zip(rgb) {
            *total += value;
        }
        self.coc += coc;
        self.count += 1;
    }

    fn add_sloped(&mut self, rgb: &[f32], coc: f32, [slope_x, slope_y]: [f32; 2]) {
        self.add(rgb, coc);
        self.slope[0] += slope_x;
        self.slope[1] += slope_y;
    }
}

/// A level's cells, from one pass over the photo: the sources it gathers (bands up to
/// level + 1) in two populations, its own band's sources in front of and behind the focus (for
/// the splat), and which cells hold a pixel of its band.
///
/// A cell across a depth edge holds two surfaces; averaged into one, they would make a third at
/// their mean CoC that is nowhere in the scene. So where a cell's CoC spans more than a pixel, and
/// either more than a quarter of its largest or as a step (each CoC near one end of the span, which
/// the gather tells apart however close), its pixels are split at the middle of that span:
/// `gathered[0]` holds the lower CoCs (all of them elsewhere), `gathered[1]` the higher.
struct LevelSources {
    gathered: [CellSources; 2],
    /// Levels 2 and up; dropped once splatted.
    splat: Option<[CellSources; 2]>,
    holds_band: Vec<bool>,
}

/// What the levels are made from: the photo, its CoC and band map; the lights, whose excess over
/// their cap is gathered apart (`Bright`).
#[derive(Clone, Copy)]
struct Pixels<'a> {
    image: Image<'a>,
    coc: &'a [f32],
    bands: &'a [u8],
    lights: Option<&'a Bright<'a>>,
}

impl LevelSources {
    fn new(pixels: &Pixels<'_>, grid: Grid, level: usize) -> Self {
        let cells = grid.cells();
        let mut out = Self {
            gathered: [
                CellSources::with_cells(cells, true),
                CellSources::with_cells(cells, true),
            ],
            splat: (level >= 2).then(|| {
                [
                    CellSources::with_cells(cells, false),
                    CellSources::with_cells(cells, false),
                ]
            }),
            holds_band: vec![false; cells],
        };
        out.add_cells(pixels, grid, level);
        out
    }

    /// Sum each cell of the level, and write it where it is summed: a row of cells per task.
    fn add_cells(&mut self, pixels: &Pixels<'_>, grid: Grid, level: usize) {
        let width = grid.width;
        let [low, high] = &mut self.gathered;
        let mut splat = self
            .splat
            .as_mut()
            .map(|[near, far]| near.rows_mut(width).zip(far.rows_mut(width)));
        let rows: Vec<_> = low
            .rows_mut(width)
            .zip(high.rows_mut(width))
            .zip(self.holds_band.chunks_mut(width))
            .map(|(gathered, holds)| (gathered, splat.as_mut().and_then(Iterator::next), holds))
            .collect();
        let scale = grid.scale as f32;
        let (image, photo) = (pixels.image, Sources::pixels(pixels.image, pixels.coc));
        rows.into_par_iter().enumerate().for_each_init(
            Vec::new,
            |slopes, (y, ((mut low, mut high), mut splat, holds))| {
                // The slopes of the pixels of this row of cells, each computed once here.
                let [pixel_rows, _] = grid.block(image, 0, y);
                slopes.resize(pixel_rows.len() * image.width, [0.0; 2]);
                for (py, out) in pixel_rows.clone().zip(slopes.chunks_exact_mut(image.width)) {
                    photo.pixel_slopes_of_row(py, out);
                }
                for (x, holds) in holds.iter_mut().enumerate() {
                    // [gathered low, front, back, gathered high].
                    let (sums, all) = Self::cell_sums(pixels, slopes, grid, level, x, y);
                    low.store(x, &sums[0], all, scale);
                    high.store(x, &sums[3], all, scale);
                    if let Some((near, far)) = &mut splat {
                        near.store(x, &sums[1], all, scale);
                        far.store(x, &sums[2], all, scale);
                    }
                    *holds = sums[1].count + sums[2].count > 0;
                }
            },
        );
    }

    /// Cell (cx, cy)'s sums of its pixels, [gathered low, front, back, gathered high], and its
    /// pixel count; `slopes` holds its pixels' slopes, row by row from its first row.
    fn cell_sums(
        pixels: &Pixels<'_>,
        slopes: &[[f32; 2]],
        grid: Grid,
        level: usize,
        cx: usize,
        cy: usize,
    ) -> ([Sum; 4], usize) {
        let Pixels {
            image,
            coc,
            bands,
            lights,
        } = *pixels;
        let [rows, columns] = grid.block(image, cx, cy);
        let row = |y: usize| y * image.width + columns.start..y * image.width + columns.end;
        let (mut low, mut high) = (f32::INFINITY, f32::NEG_INFINITY);
        for y in rows.clone() {
            for (&c, &band) in coc[row(y)].iter().zip(&bands[row(y)]) {
                if usize::from(band) <= level + 1 {
                    (low, high) = (low.min(c), high.max(c));
                }
            }
        }
        // Split at the middle of the span where it is wide, or at a step: the block's
        // CoCs each within a quarter of the span of its low or its high end, and those
        // around it not running on past them (as a slope's would; a third surface
        // beside the block may lie between them).
        let span = high - low;
        let middle = 0.5 * (low + high);
        let step = || {
            let around = |range: &std::ops::Range<usize>, size: usize| {
                range.start.saturating_sub(1)..(range.end + 1).min(size)
            };
            around(&rows, image.height).all(|y| {
                let pixels = around(&columns, image.width);
                let indices = y * image.width + pixels.start..y * image.width + pixels.end;
                pixels
                    .zip(&coc[indices.clone()])
                    .zip(&bands[indices])
                    .all(|((x, &c), &band)| {
                        // How far outside the span c lies (negative: inside).
                        let outside = (c - middle).abs() - 0.5 * span;
                        let in_block = rows.contains(&y) && columns.contains(&x);
                        usize::from(band) > level + 1
                            || outside <= 0.25 * span && (!in_block || outside >= -0.25 * span)
                    })
            })
        };
        let split = if span > 1.0 && (span > 0.25 * low.abs().max(high.abs()) || step()) {
            middle
        } else {
            f32::INFINITY
        };
        let mut sums = [Sum::default(); 4];
        for y in rows.clone() {
            let pixels = row(y);
            let rgb = image.rgb[3 * pixels.start..3 * pixels.end].chunks_exact(3);
            let pixels = columns
                .clone()
                .zip(&coc[pixels.clone()])
                .zip(&bands[pixels]);
            for (((x, &c), &band), rgb) in pixels.zip(rgb) {
                let band = usize::from(band);
                // What the levels hold: a light's brightest channel at its cap.
                let rgb = &match lights.and_then(|lights| lights.cap_of(image, x, y)) {
                    Some(cap) => held(rgb, cap),
                    None => [rgb[0], rgb[1], rgb[2]],
                };
                // Constant indices keep the sums in registers.
                if band <= level + 1 {
                    // A cell's surface slope is its pixels' mean: its neighbour cells may be
                    // other surfaces.
                    let slope = slopes[(y - rows.start) * image.width + x];
                    if c <= split {
                        sums[0].add_sloped(rgb, c, slope);
                    } else {
                        sums[3].add_sloped(rgb, c, slope);
                    }
                }
                if band == level {
                    if c < 0.0 {
                        sums[1].add(rgb, c);
                    } else {
                        sums[2].add(rgb, c);
                    }
                }
            }
        }
        (sums, rows.len() * columns.len())
    }
}

/// Near and behind light of the sources far blurrier than a pixel, per cell of a level:
/// premultiplied colour and weight of each.
type Far = [Layer; 2];

fn add_far(total: &mut Far, part: &Far, share: f32) {
    for (layer, other) in total.iter_mut().zip(part) {
        for (c, o) in layer.colour.iter_mut().zip(other.colour) {
            *c += share * o;
        }
        layer.weight += share * other.weight;
    }
}

struct Pyramid<'a> {
    image: Image<'a>,
    coc: &'a [f32],
    t: f32,
    /// The coarsest level: the band of the most blurred pixel, or fewer where the frame is
    /// small. Bands above it are gathered on it, with kernels wider than 2T cells.
    top: usize,
    kernels: KernelTable,
    /// For the pixels gathered exactly.
    full_kernels: KernelTable,
}

impl<'a> Pyramid<'a> {
    fn new(image: Image<'a>, coc: &'a [f32], aperture: &Aperture, t: f32, max_radius: f32) -> Self {
        let mut top = band(max_radius, t);
        while top > 0 && image.width.min(image.height) >> top < MIN_CELLS_ACROSS {
            top -= 1;
        }
        // No level below the top gathers a kernel wider than 4T cells, but where there is no
        // level 2 to splat on, level 0 gathers every source.
        let widest = if top < 2 {
            max_radius
        } else {
            max_radius
                .min(4.0 * t)
                .max(max_radius / (1u64 << top) as f32)
        };
        let kernels = KernelTable::new(aperture, widest + 1.0);
        Self {
            image,
            coc,
            t,
            top,
            kernels,
            full_kernels: KernelTable::new(aperture, max_radius),
        }
    }

    fn band(&self, radius: f32) -> usize {
        band(radius, self.t).min(self.top)
    }

    fn grid(&self, level: usize) -> Grid {
        Grid::new(self.image, level)
    }

    fn render(&self) -> Vec<f32> {
        let (image, t) = (self.image, self.t);
        let bands: Vec<u8> = self
            .coc
            .par_iter()
            .map(|&c| self.band(radius(c)) as u8)
            .collect();
        // Level 0 renders band 0, and the pixels of band 1 beside it: level 1's 2-px cells
        // there hold the sharp surface too, and a blurred background read from them keeps an
        // edge of the sharp one along every hair (thin scene: 0.47 dB of the truth, quality.md).
        let on_level_0 = |x: usize, y: usize| match bands[y * image.width + x] {
            0 => true,
            1 => (y.saturating_sub(1)..(y + 2).min(image.height)).any(|ny| {
                (x.saturating_sub(1)..(x + 2).min(image.width))
                    .any(|nx| bands[ny * image.width + nx] == 0)
            }),
            _ => false,
        };
        // The lights' excess is for the pixels read from the levels, and for those of level 0
        // from the sources of band 2 and up (pixels of the levels themselves): where every pixel
        // is on level 0, it gathers every light whole, and finding them would cost a pass over
        // the frame and a visit per pixel for nothing.
        let needs_lights = (0..image.height)
            .into_par_iter()
            .any(|y| (0..image.width).any(|x| !on_level_0(x, y)));
        let bright = needs_lights
            .then(|| Bright::find(image, self.coc, &self.full_kernels))
            .flatten();
        let pixels = Pixels {
            image,
            coc: self.coc,
            bands: &bands,
            lights: bright.as_ref(),
        };
        // sources[l - 1]: level l's cells (levels 1 and up; level 0 is the photo).
        let mut sources: Vec<LevelSources> = (1..=self.top)
            .map(|level| LevelSources::new(&pixels, self.grid(level), level))
            .collect();
        // splats[b]: the light of band b's sources on level b (bands 2 and up). What is no
        // longer needed is dropped as soon as it is not: a render's memory (docs/reliability.md).
        let splats: Vec<Vec<Far>> = (0..=self.top)
            .map(
                |level| match level.checked_sub(1).and_then(|i| sources[i].splat.take()) {
                    Some(sides) => self.splat(level, &sides),
                    None => Vec::new(),
                },
            )
            .collect();
        // Each level's cells, gathered where some pixel of that band will read them; then only
        // the populations' CoCs are kept, to interpolate by.
        let levels: Vec<Level> = (1..=self.top)
            .map(|level| {
                let cells = &mut sources[level - 1];
                let gathered = self.gather_level(level, cells, &splats);
                for population in &mut cells.gathered {
                    population.rgb = Vec::new();
                    population.mass = Vec::new();
                    population.slopes = Vec::new();
                }
                gathered
            })
            .collect();

        release_freed_memory();
        let mut out = vec![0.0f32; image.width * image.height * 3];
        // Level 0 gathers bands 0 and 1: every source if there is no band 2.
        let cap = if self.top >= 2 {
            gathered_below(0, t)
        } else {
            f32::INFINITY
        };
        {
            let rows = rows_where(image.height, |y| (0..image.width).any(|x| on_level_0(x, y)));
            let gather = Gather::new(Sources::pixels(image, self.coc), &self.kernels, cap, rows);
            gather.run(
                &mut out,
                on_level_0,
                |x, y, [mut near, surface, mut behind]| {
                    let [far_near, far_behind] =
                        self.far_light(&splats, 0, x as f32 + 0.5, y as f32 + 0.5);
                    near.merge(&far_near);
                    behind.merge(&far_behind);
                    let mut colour = composite(&near, &surface, &behind);
                    if let Some(bright) = &bright {
                        // The splats held the bright sources of bands 2 and up capped.
                        let factors = group_factors(&near, &surface, &behind);
                        let coc = self.coc[y * image.width + x];
                        let view = View {
                            coc,
                            centre: [x as f32 + 0.5, y as f32 + 0.5],
                            factors,
                            share: 1.0,
                        };
                        let excess = bright.excess((x, y), &[view], cap);
                        for (c, e) in colour.iter_mut().zip(excess) {
                            *c += e;
                        }
                    }
                    colour
                },
            );
        }
        release_freed_memory();
        // Gathered exactly: pixels of a surface that no cell around them stands for (thin
        // shapes, mixed cells), and the pixels whose lights the cells' planes could misplace most.
        let mut exact = vec![false; image.width * image.height];
        let mut sensitive: Vec<(usize, Stake)> = out
            .par_chunks_exact_mut(image.width * 3)
            .zip(exact.par_chunks_exact_mut(image.width))
            .enumerate()
            .flat_map_iter(|(y, (row, exact))| {
                let mut sensitive = Vec::new();
                for ((x, pixel), exact) in row.chunks_exact_mut(3).enumerate().zip(exact) {
                    let index = y * image.width + x;
                    let level = usize::from(bands[index]);
                    if !on_level_0(x, y) {
                        let cocs = &sources[level - 1].gathered;
                        let (coc, bright) = (self.coc[index], bright.as_ref());
                        match levels[level - 1].interpolate(cocs, bright, coc, x, y) {
                            Some((colour, stake)) => {
                                pixel.copy_from_slice(&colour);
                                if stake.factor > SENSITIVE_SURFACE_FACTOR {
                                    sensitive.push((index, stake));
                                }
                            }
                            None => *exact = true,
                        }
                    }
                }
                sensitive
            })
            .collect();
        // Those seen through the largest factors first, each tier those whose lights add the
        // most first (where they go wrong, the error is of that order), while the work of
        // their kernels fits the budget.
        let tier = |stake: &Stake| stake.factor > VERY_SENSITIVE_SURFACE_FACTOR;
        sensitive.sort_unstable_by(|(_, a), (_, b)| {
            tier(b).cmp(&tier(a)).then(b.light.total_cmp(&a.light))
        });
        let mut budget = exact_work_budget(image.width * image.height);
        for (index, _) in sensitive {
            let side = 2.0 * radius(self.coc[index]).ceil() + 1.0;
            budget -= side * side;
            if budget < 0.0 {
                break;
            }
            exact[index] = true;
        }
        let rows = rows_where(image.height, |y| {
            exact[y * image.width..(y + 1) * image.width].contains(&true)
        });
        if !rows.is_empty() {
            let gather = Gather::new(
                Sources::pixels(image, self.coc),
                &self.full_kernels,
                f32::INFINITY,
                rows,
            );
            gather.run(
                &mut out,
                |x, y| exact[y * image.width + x],
                |_, _, [near, surface, behind]| composite(&near, &surface, &behind),
            );
        }
        out
    }

    /// Light of the bands from level + 2 up at photo position (x, y): each band's splat,
    /// interpolated.
    fn far_light(&self, splats: &[Vec<Far>], level: usize, x: f32, y: f32) -> Far {
        let mut total = Far::default();
        for (band, splat) in splats.iter().enumerate().skip(level + 2) {
            for (cell, share) in self.grid(band).bilinear(x, y) {
                add_far(&mut total, &splat[cell], share);
            }
        }
        total
    }

    /// The light of band `level`'s sources, splatted on that level with their own kernels: in
    /// front of the focus it is near every pixel it reaches that is at least two bands sharper,
    /// behind the focus it is behind them.
    fn splat(&self, level: usize, sides: &[CellSources; 2]) -> Vec<Far> {
        let grid = self.grid(level);
        let scale = grid.scale as f32;
        // mass / kernel area and radius in cells, per side and cell.
        let weights: Vec<Vec<(f32, f32)>> = sides
            .iter()
            .map(|side| {
                side.coc
                    .par_iter()
                    .zip(&side.mass)
                    .map(|(&c, &m)| {
                        let r = radius(c) / scale;
                        (
                            if m > 0.0 {
                                m / self.kernels.area(r) as f32
                            } else {
                                0.0
                            },
                            r,
                        )
                    })
                    .collect()
            })
            .collect();
        let widest = weights
            .iter()
            .flatten()
            .fold(0.0f32, |m, &(w, r)| if w > 0.0 { m.max(r) } else { m });
        let reach = (widest + 1.5).ceil() as isize;
        // The lit cells of each side, row by row: (column, weight, radius). Beyond the grid the
        // scene continues as its outermost cells, so those stand for every position past them.
        let (width, height) = (grid.width as isize, grid.height as isize);
        let lit: Vec<[Vec<(isize, f32, f32)>; 2]> = (0..grid.height)
            .into_par_iter()
            .map(|y| {
                [0, 1].map(|side| {
                    let row = &weights[side][y * grid.width..(y + 1) * grid.width];
                    let mut cells = Vec::new();
                    for (x, &(weight, r)) in (0..width).zip(row) {
                        if weight > 0.0 {
                            let first = if x == 0 { -reach } else { x };
                            let last = if x == width - 1 { x + reach } else { x };
                            cells.extend((first..=last).map(|at| (at, weight, r)));
                        }
                    }
                    cells
                })
            })
            .collect();
        // A scatter of the lit sources alone, a row of cells at a time: each source in reach adds
        // to the cells of the row its kernel reaches (rho is at least the Euclidean distance; one
        // cell of margin for the rounding of the norm table), its kernel seen at offset
        // source - cell = (dx, dy). Each cell sums its sources in the order a gather would.
        let h = self.kernels.half_width() as isize;
        let mut out = vec![Far::default(); grid.cells()];
        // Rows one by one: the lit sources are often all in a few of them.
        out.par_chunks_exact_mut(grid.width)
            .enumerate()
            .with_max_len(1)
            .for_each(|(y, row)| {
                for dy in -reach..=reach {
                    let source_y = (y as isize + dy).clamp(0, height - 1) as usize;
                    // The source's kernel is point-reflected in front of the focus.
                    let (rho_front, rho_behind) = (self.kernels.row(dy), self.kernels.row(-dy));
                    for (side, (layer, sources)) in
                        [0, 1].into_iter().zip(sides.iter().zip(&lit[source_y]))
                    {
                        for &(at, weight, r) in sources {
                            let extent = f64::from(r) + 1.5;
                            let span_squared = extent * extent - (dy * dy) as f64;
                            if span_squared <= 0.0 {
                                continue;
                            }
                            let span = (span_squared.sqrt() as isize).min(reach);
                            let source = source_y * grid.width + at.clamp(0, width - 1) as usize;
                            let rgb = &layer.rgb[source * 3..source * 3 + 3];
                            let columns = (-span).max(at - width + 1)..=span.min(at);
                            for dx in columns {
                                let rho = if side == 0 {
                                    rho_front[(h + dx) as usize]
                                } else {
                                    rho_behind[(h - dx) as usize]
                                };
                                row[(at - dx) as usize][side].add(rgb, coverage(r, rho) * weight);
                            }
                        }
                    }
                }
            });
        out
    }

    /// Level `level`'s cells where a pixel of its band may read them: the gather of the sources
    /// of the bands up to level + 1 (both populations), with the light of those above, around
    /// the centre of each population.
    fn gather_level(&self, level: usize, sources: &LevelSources, splats: &[Vec<Far>]) -> Level {
        let grid = self.grid(level);
        let holds = &sources.holds_band;
        // Cells holding a pixel of this band, and their neighbours (the bilinear footprint).
        let wanted = |x: usize, y: usize| {
            grid.in_frame(x, y)
                && (y.saturating_sub(1)..(y + 2).min(grid.height)).any(|ny| {
                    (x.saturating_sub(1)..(x + 2).min(grid.width))
                        .any(|nx| holds[ny * grid.width + nx])
                })
        };
        let scale = grid.scale as f32;
        let finish = |x: usize, y: usize, [mut near, surface, mut behind]: [Layer; 3]| {
            if surface.weight <= 0.0 {
                // A cell whose pixels are all far more blurred: no pixel reads it.
                return [f32::NAN; LEVEL_VALUES];
            }
            let [centre_x, centre_y] = grid.centre(y * grid.width + x);
            let [far_near, far_behind] = self.far_light(splats, level, centre_x, centre_y);
            near.merge(&far_near);
            behind.merge(&far_behind);
            let [r, g, b] = composite(&near, &surface, &behind);
            let [f_near, f_surface, f_behind] = group_factors(&near, &surface, &behind);
            [r, g, b, f_near, f_surface, f_behind]
        };
        // Only the cells some pixel reads are kept (often a narrow band of the frame); they are
        // gathered a block of rows at a time and packed.
        let mut slots = vec![UNREAD; grid.cells()];
        let mut read = 0u32;
        for (cell, slot) in slots.iter_mut().enumerate() {
            if wanted(cell % grid.width, cell / grid.width) {
                *slot = read;
                read += 1;
            }
        }
        let rows = rows_where(grid.height, |y| {
            slots[y * grid.width..(y + 1) * grid.width]
                .iter()
                .any(|&slot| slot != UNREAD)
        });
        let populations = sources.gathered.each_ref().map(|population| {
            Gather::new(
                population.view(grid),
                &self.kernels,
                f32::INFINITY,
                rows.clone(),
            )
        });
        let both = [&populations[0], &populations[1]];
        // The other population of the centre's own cell is other pixels: nearer, it covers the
        // centre's pixels only as far as its own blur reaches, not by its share of the cell (a
        // sharp edge would draw a dark halo a cell wide).
        let gathered = |centre: usize, x: usize, y: usize, mut layers: [Layer; 3]| {
            let (other, own) = (&sources.gathered[1 - centre], &sources.gathered[centre].coc);
            let cell = y * grid.width + x;
            let (c, mass) = (other.coc[cell], other.mass[cell]);
            if mass > 0.0 && c < own[cell] - SAME_SURFACE_TOLERANCE_PX {
                let r = radius(c) / scale;
                let excess =
                    (coverage(r, 0.0) - coverage(r, 0.5)) * mass / self.kernels.area(r) as f32;
                let near = &mut layers[0];
                for (total, value) in near
                    .colour
                    .iter_mut()
                    .zip(&other.rgb[cell * 3..cell * 3 + 3])
                {
                    *total = (*total - excess * value).max(0.0);
                }
                near.weight = (near.weight - excess).max(0.0);
            }
            finish(x, y, layers)
        };
        let rgb = [0, 1].map(|centre| {
            let mut packed = Vec::with_capacity(read as usize * LEVEL_VALUES);
            let mut block = Vec::new();
            for first_row in (0..grid.height).step_by(ROWS_PER_BLOCK) {
                let rows = first_row..(first_row + ROWS_PER_BLOCK).min(grid.height);
                let cells = rows.start * grid.width..rows.end * grid.width;
                if slots[cells.clone()].iter().all(|&slot| slot == UNREAD) {
                    continue;
                }
                block.clear();
                block.resize(cells.len() * LEVEL_VALUES, f32::NAN);
                run(
                    &both,
                    &populations[centre],
                    &mut block,
                    first_row,
                    wanted,
                    |x, y, layers| gathered(centre, x, y, layers),
                );
                for (values, &slot) in block.chunks_exact(LEVEL_VALUES).zip(&slots[cells]) {
                    if slot != UNREAD {
                        packed.extend_from_slice(values);
                    }
                }
            }
            packed
        });
        Level { grid, slots, rgb }
    }
}

/// Where a pixel's lights are seen through a cell's surface factor (docs/model.md 8) above this,
/// the cell's surface covers little of its aperture and the rest takes its colour: a cell's plane
/// a little off the pixel's, or a surface its populations lost, moves a light between groups
/// whose factors differ by as much. Such pixels are gathered exactly (with 4, a sliver of ground
/// 2 px wide inside a near object's rim, seen through factors of 2.9 and 3.3 beside lights on
/// that ground, came out 2.4 times the exact level's: 42.0 dB against it on a 67 x 87 frame)...
const SENSITIVE_SURFACE_FACTOR: f32 = 2.0;
/// ...those seen through a factor above this first, and in each tier those whose lights add the
/// most (ranked by the factor alone, the budget ran out on a 259 x 64 frame with 39 lights up to
/// 50 times white before a pixel twice as bright as the exact level's: 45.0 dB against the exact
/// level, 46.6 ranked by the light; ranked by the light alone from a factor of 2, the bundled
/// example at f/1.4 lost 0.8 dB)...
const VERY_SENSITIVE_SURFACE_FACTOR: f32 = 4.0;
/// ...while the squares around their kernels fit `exact_work_budget`.
///
/// What the fast level computes exactly beyond its levels (the sensitive pixels; the copies of
/// corner lights) may cost this many pixel visits per pixel of the frame, or MIN_EXACT_WORK (a
/// few ms) on small frames. 8 is about 70 ms on two threads at 1500 x 1500, scaled from a
/// render whose depth had 3 % noise per pixel: taking all of its sensitive pixels, 59 per
/// pixel, cost 0.5 s.
const EXACT_WORK_PER_PIXEL: f32 = 8.0;
const MIN_EXACT_WORK: f32 = (1 << 21) as f32;

fn exact_work_budget(pixels: usize) -> f32 {
    (EXACT_WORK_PER_PIXEL * pixels as f32).max(MIN_EXACT_WORK)
}

/// Rows of a level's cells gathered before they are packed: bounds the unpacked memory.
const ROWS_PER_BLOCK: usize = 64;
/// The slot of a cell that no pixel reads.
const UNREAD: u32 = u32::MAX;

/// Values per cell of a level's render: colour, and the composite's group factors (near,
/// surface, behind) that weigh the bright sources' excess.
const LEVEL_VALUES: usize = 6;

/// A level's render where pixels of its band read it: per population of each such cell, the
/// colour gathered around that population's centre and its group factors (NaN where none).
struct Level {
    grid: Grid,
    /// Each cell's place in `rgb`, counted in runs of LEVEL_VALUES; UNREAD where no pixel reads it.
    slots: Vec<u32>,
    rgb: [Vec<f32>; 2],
}

impl Level {
    /// A pixel's colour from the four cells around it, each through the population whose CoC is
    /// nearest the pixel's, weighted bilinearly and by how close that CoC is (so light does not
    /// cross a depth edge); None where no population is within a quarter of the pixel's CoC.
    /// Beside it, what its lights' excess stakes on the cells' planes (zero where no light
    /// reaches it).
    fn interpolate(
        &self,
        cocs: &[CellSources; 2],
        bright: Option<&Bright<'_>>,
        pixel_coc: f32,
        x: usize,
        y: usize,
    ) -> Option<([f32; 3], Stake)> {
        let tolerance = (0.25 * pixel_coc.abs()).max(1.0);
        let mut total = [0.0f32; 3];
        let mut weights = 0.0f32;
        let mut matched = false;
        // Views only for a pixel some light may reach: most have none.
        let bright = bright.filter(|bright| !bright.candidates(x, y).is_empty());
        let (mut views, mut count) = ([View::default(); 4], 0);
        for (cell, share) in self.grid.bilinear(x as f32 + 0.5, y as f32 + 0.5) {
            let slot = self.slots[cell];
            if slot == UNREAD {
                continue;
            }
            let start = slot as usize * LEVEL_VALUES;
            let values = |p: usize| &self.rgb[p][start..start + LEVEL_VALUES];
            let nearest = (0..2)
                .filter(|&p| !values(p)[0].is_nan())
                .map(|p| (((cocs[p].coc[cell] - pixel_coc) / tolerance).powi(2), p))
                .min_by(|a, b| a.0.total_cmp(&b.0));
            let Some((q, population)) = nearest else {
                continue;
            };
            matched |= q <= 1.0;
            let weight = share / (1.0 + q * q);
            let [r, g, b, near, surface, behind] =
                values(population).try_into().unwrap_or([0.0; LEVEL_VALUES]);
            for (t, v) in total.iter_mut().zip([r, g, b]) {
                *t += weight * v;
            }
            weights += weight;
            if bright.is_some() {
                // The bright sources' excess as this cell sees it: its centre's groups and their
                // factors go together.
                views[count] = View {
                    coc: cocs[population].coc[cell],
                    centre: self.grid.centre(cell),
                    factors: [near, surface, behind],
                    share: weight,
                };
                count += 1;
            }
        }
        let mut stake = Stake::default();
        if let Some(bright) = bright {
            let excess = bright.excess((x, y), &views[..count], 0.0);
            if excess.iter().any(|&e| e > 0.0) {
                stake = Stake {
                    factor: views[..count]
                        .iter()
                        .fold(0.0, |largest, view| largest.max(view.factors[1])),
                    light: brightest(&excess) / weights,
                };
            }
            for (t, e) in total.iter_mut().zip(excess) {
                *t += e;
            }
        }
        (matched && weights > 0.0).then(|| (total.map(|t| t / weights), stake))
    }
}

/// What a pixel's lights' excess stakes on the cells' planes: the largest surface factor it was
/// seen through, and the light it adds (its brightest channel).
#[derive(Debug, Default, Clone, Copy)]
struct Stake {
    factor: f32,
    light: f32,
}

/// The photo's lights: bright pixels (brightest channel above 1: clipped lights after highlight
/// recovery, or an HDR photo's lights) and small lights (a few pixels far brighter than all around
/// them: a star, a glint, a lamp on a float photo). The levels hold a light at most at a cap (1,
/// or a small light's surroundings), and each pixel gathers the excess exactly, weighed by its own
/// composite's group factors: for a fixed CoC map the model is linear in colour (docs/model.md 8),
/// and a light's disc keeps a one-pixel rim instead of one a cell wide, far brighter than anything
/// else in the error.
struct Bright<'a> {
    sources: Vec<BrightSource>,
    /// A corner light's copies over the quadrant beyond the corner: the corner's source and its
    /// steps out, (x + i step_x, y + j step_y) for 1 <= i, j <= the kernels' half-width.
    quadrants: Vec<(BrightSource, [isize; 2])>,
    /// Which pixels of the photo hold a light (their copies beyond the frame are not pixels).
    is_light: Vec<bool>,
    /// Whether small lights are among them, and the frame's corners (`cap`).
    small_lights: bool,
    corners: bool,
    /// Indices into `sources` per `tile` x `tile` block of the photo, row-major: those a kernel
    /// can reach some pixel of the block from (within the kernel table's half-width on both axes).
    tiles: Vec<Vec<u32>>,
    tiles_x: usize,
    tile: usize,
    kernels: &'a KernelTable,
    /// The photo's pixels: a pixel's surface slope is that of its CoC there (docs/model.md 5.2).
    pixels: Sources<'a>,
}

/// A bright source at (x, y) of the photo, or beyond its edge where the model repeats an edge
/// pixel (docs/model.md 5.1).
struct BrightSource {
    x: isize,
    y: isize,
    coc: f32,
    radius: f32,
    inverse_area: f32,
    excess: [f32; 3],
}

/// Least side of the blocks of pixels that list the bright sources in their reach; at least half
/// the widest kernel's, so that a source is listed in at most 6 x 6 of them.
const MIN_TILE: usize = 32;
/// More than one source in this many pixels of the scene the kernels see (the frame, and the band
/// a kernel's half-width wide beyond it where edge lights' copies are) is no scatter of lights (a
/// bright sky, an HDR photo): the levels then take them whole, unless the pixels the sources
/// reach add up to no more than MIN_EXACT_WORK (a small frame: a few ms). (Counted over the frame
/// alone, an edge light's copies tipped a small frame with lights 1 in 100 over it: 39.7 dB;
/// counted without the work, a few more lights did: 40.1 dB.) Not exact_work_budget: on a large
/// frame that is up to ~0.1 s more (1500 x 1500 with a light in 40 pixels at f/64, measured
/// before such a frame skipped the lights altogether), where the count held 45 dB.
const MAX_BRIGHT_SHARE: usize = 64;
/// A small light (a star, a glint, a lamp on a float photo): a pixel more than this many times as
/// bright as every pixel SMALL_LIGHT_REACH away (their brightest channels): a light up to that
/// many pixels across, whose disc stands out of its surroundings' blur...
const SMALL_LIGHT_CONTRAST: f32 = 4.0;
const SMALL_LIGHT_REACH: usize = 5;
/// ... and brighter than this (linear): a dim speck's disc is lost in its surroundings' blur,
/// and a dark photo's noise would make thousands of them.
const SMALL_LIGHT_FLOOR: f32 = 0.125;

/// The steps out of the frame from an edge pixel: none inside, one on an edge (two where the
/// frame is a pixel thin), and both ways at a corner.
fn outward(x: usize, y: usize, width: usize, height: usize) -> ([isize; 2], [isize; 2]) {
    let steps = |at: usize, size: usize| [-isize::from(at == 0), isize::from(at + 1 == size)];
    (steps(x, width), steps(y, height))
}

fn brightest(rgb: &[f32]) -> f32 {
    rgb[0].max(rgb[1]).max(rgb[2])
}

/// What the levels hold of a light: its colour with the brightest channel at `cap`.
fn held(rgb: &[f32], cap: f32) -> [f32; 3] {
    let scale = cap / brightest(rgb);
    [rgb[0] * scale, rgb[1] * scale, rgb[2] * scale]
}

impl<'a> Bright<'a> {
    /// The brightest channel at which the levels hold pixel (x, y), if it is a light whose excess
    /// is gathered apart: the brightest on the ring around a small light (at most 1, when
    /// `small_lights`), else 1 for a bright pixel. None for other pixels, and for the frame's
    /// corners unless `corners` (the levels then take a corner light whole). Beyond the frame's
    /// sides, an edge pixel is repeated along a line, and a corner pixel over a quadrant too:
    /// `find` adds those copies.
    fn cap(image: Image<'_>, x: usize, y: usize, small_lights: bool, corners: bool) -> Option<f32> {
        let (width, height) = (image.width, image.height);
        let at = |x: usize, y: usize| brightest(&image.rgb[(y * width + x) * 3..][..3]);
        let own = at(x, y);
        if own <= SMALL_LIGHT_FLOOR {
            return None;
        }
        // Most pixels end here: not bright, and a pixel of the ring (below) not dim enough.
        let first_on_ring = || {
            let (rx, ry) = (
                x.saturating_sub(SMALL_LIGHT_REACH),
                y.saturating_sub(SMALL_LIGHT_REACH),
            );
            SMALL_LIGHT_CONTRAST * at(rx, ry) >= own
        };
        if own <= 1.0 && (!small_lights || first_on_ring()) {
            return None;
        }
        let ([left, right], [up, down]) = outward(x, y, width, height);
        if !corners && (left != 0 || right != 0) && (up != 0 || down != 0) {
            return None;
        }
        // The ring of pixels SMALL_LIGHT_REACH away, edge pixels repeated beyond the frame (5.1);
        // None as soon as one is not SMALL_LIGHT_CONTRAST times dimmer.
        let ring = || {
            let reach = SMALL_LIGHT_REACH as isize;
            let clamp = |at: usize, step: isize, size: usize| {
                (at as isize + step).clamp(0, size as isize - 1) as usize
            };
            let mut ring = 0.0f32;
            for along in -reach..=reach {
                for [dx, dy] in [
                    [along, -reach],
                    [along, reach],
                    [-reach, along],
                    [reach, along],
                ] {
                    let value = at(clamp(x, dx, width), clamp(y, dy, height));
                    if SMALL_LIGHT_CONTRAST * value >= own {
                        return None;
                    }
                    ring = ring.max(value);
                }
            }
            Some(ring)
        };
        let cap = match small_lights.then(ring).flatten() {
            Some(ring) => ring.min(1.0),
            None => 1.0,
        };
        (own > cap).then_some(cap)
    }

    /// The cap of pixel (x, y) if it is one of the lights found (`cap` again, for those alone).
    fn cap_of(&self, image: Image<'_>, x: usize, y: usize) -> Option<f32> {
        self.is_light[y * image.width + x]
            .then(|| Self::cap(image, x, y, self.small_lights, self.corners))
            .flatten()
    }

    /// None where there is no light, or too many: small lights are left whole in the levels
    /// where with them there are too many sources, and bright pixels too where even they are.
    fn find(image: Image<'a>, coc: &'a [f32], kernels: &'a KernelTable) -> Option<Self> {
        let (width, height) = (image.width, image.height);
        let margin = kernels.half_width();
        let seen = (width + 2 * margin) * (height + 2 * margin);
        // A corner light's copies within reach of the pixels around the corner: about margin^4
        // / 8 pairs, each weighed for up to 4 views (as long as a gather's pixel visit: four
        // corner lights at margin 79 took 0.29 s on two threads). Where the corners that hold a
        // light would cost more than the budget, the levels take corner lights whole: a large
        // frame's corners are a small share of it. (Counted as four, a light 9.5 times white in
        // a corner of a 112 x 185 frame, blurred to 29 px, went whole: 0.8 dark, 38.8 dB.)
        let mut frame_corners = vec![
            (0, 0),
            (width - 1, 0),
            (0, height - 1),
            (width - 1, height - 1),
        ];
        frame_corners.sort_unstable();
        frame_corners.dedup();
        let lit_corners = frame_corners
            .into_iter()
            .filter(|&(x, y)| Self::cap(image, x, y, true, true).is_some())
            .count();
        let corners =
            lit_corners as f32 * 0.5 * (margin as f32).powi(4) <= exact_work_budget(width * height);
        // The pixels of the frame within the kernels' half-width of a source at (x, y).
        let reach = |x: isize, y: isize| {
            let side = |at: isize, size: usize| {
                let (first, last) = (at - margin as isize, at + margin as isize);
                (last.min(size as isize - 1) - first.max(0) + 1).max(0) as f32
            };
            side(x, width) * side(y, height)
        };
        let (small_lights, lights, sources, quadrants) =
            [true, false].into_iter().find_map(|small_lights| {
                let lights: Vec<(usize, f32)> = (0..height)
                    .into_par_iter()
                    .flat_map_iter(|y| {
                        (0..width).filter_map(move |x| {
                            Self::cap(image, x, y, small_lights, corners)
                                .map(|cap| (y * width + x, cap))
                        })
                    })
                    .collect();
                let mut sources = Vec::with_capacity(lights.len());
                let mut quadrants = Vec::new();
                let mut work = 0.0f32;
                for &(i, cap) in &lights {
                    let (x, y) = (i % width, i / width);
                    let rgb = &image.rgb[i * 3..i * 3 + 3];
                    let held = held(rgb, cap);
                    let r = radius(coc[i]);
                    let source = |x: isize, y: isize| BrightSource {
                        x,
                        y,
                        coc: coc[i],
                        radius: r,
                        inverse_area: (1.0 / kernels.area(r)) as f32,
                        excess: [rgb[0] - held[0], rgb[1] - held[1], rgb[2] - held[2]],
                    };
                    let (x, y) = (x as isize, y as isize);
                    let first = sources.len();
                    sources.push(source(x, y));
                    // Beyond a side the pixel repeats along a line, beyond a corner over the
                    // quadrant too (5.1). A quadrant is one light continued, not a scatter of
                    // lights: one source, whose copies `excess` visits where they reach.
                    let (across, down) = outward(x as usize, y as usize, width, height);
                    let steps = across
                        .map(|dx| [dx, 0])
                        .into_iter()
                        .chain(down.map(|dy| [0, dy]));
                    for [dx, dy] in steps.filter(|&step| step != [0, 0]) {
                        sources
                            .extend((1..=margin as isize).map(|k| source(x + k * dx, y + k * dy)));
                    }
                    for step_x in across.into_iter().filter(|&step| step != 0) {
                        for step_y in down.into_iter().filter(|&step| step != 0) {
                            quadrants.push((source(x, y), [step_x, step_y]));
                        }
                    }
                    work += sources[first..]
                        .iter()
                        .map(|s| reach(s.x, s.y))
                        .sum::<f32>();
                    if sources.len() > seen / MAX_BRIGHT_SHARE && work > MIN_EXACT_WORK {
                        return None;
                    }
                }
                Some((small_lights, lights, sources, quadrants))
            })?;
        if sources.is_empty() {
            return None;
        }
        // Each source goes to the tiles within the half-width of it: every pixel it reaches
        // (the copies beyond the frame's edge are at most a half-width out).
        let tile = (margin / 2).max(MIN_TILE);
        let (half_width, tiles_x) = (margin as isize, width.div_ceil(tile));
        let mut tiles = vec![Vec::new(); tiles_x * height.div_ceil(tile)];
        let span = |at: isize, size: usize| {
            let (first, last) = (
                (at - half_width).max(0),
                (at + half_width).min(size as isize - 1),
            );
            first as usize / tile..=last as usize / tile
        };
        for (n, source) in sources.iter().enumerate() {
            for ty in span(source.y, height) {
                for tx in span(source.x, width) {
                    tiles[ty * tiles_x + tx].push(n as u32);
                }
            }
        }
        let mut is_light = vec![false; width * height];
        for &(i, _) in &lights {
            is_light[i] = true;
        }
        Some(Self {
            sources,
            quadrants,
            is_light,
            small_lights,
            corners,
            tiles,
            tiles_x,
            tile,
            kernels,
            pixels: Sources::pixels(image, coc),
        })
    }

    /// The bright sources whose kernels may reach pixel (x, y): its tile's.
    fn candidates(&self, x: usize, y: usize) -> &[u32] {
        &self.tiles[(y / self.tile) * self.tiles_x + x / self.tile]
    }

    /// The excess light of the bright sources of radius `from` and up that reach pixel (x, y),
    /// as each view sees it: a view is a centre's signed CoC, its composite's group factors and a
    /// share; each source goes to its group by the model's rule (5.2) against the view's centre,
    /// with its exact weight at the pixel. The coverage is computed once for all views.
    fn excess(&self, (x, y): (usize, usize), views: &[View], from: f32) -> [f32; 3] {
        let mut total = [0.0f32; 3];
        let candidates = self.candidates(x, y);
        if candidates.is_empty() {
            return total; // no bright source in reach
        }
        let seen = Seen {
            pixel: [x as isize, y as isize],
            views,
            widest_centre: views.iter().fold(0.0f32, |m, v| m.max(radius(v.coc))),
            slope: self.pixels.slope(x, y),
        };
        // Each view's 1 / kernel area, found when a source is behind it (two binary searches).
        let mut inverse_areas = [None::<f32>; 4];
        let mut add = |source: &BrightSource, share: f32| {
            if share > 0.0 {
                for (t, excess) in total.iter_mut().zip(source.excess) {
                    *t += share * excess;
                }
            }
        };
        for &n in candidates {
            let source = &self.sources[n as usize];
            if source.radius >= from {
                let share = self.share(source, [source.x, source.y], &seen, &mut inverse_areas);
                add(source, share);
            }
        }
        let half_width = self.kernels.half_width() as isize;
        for (source, [step_x, step_y]) in &self.quadrants {
            if source.radius < from {
                continue;
            }
            // The copies of each row within reach of the pixel (the nearest is a step out on
            // both axes from the corner).
            let reach = seen.reach(source);
            if (x as isize - source.x).abs() as f32 >= reach
                || (y as isize - source.y).abs() as f32 >= reach
            {
                continue;
            }
            let mut share = 0.0f32;
            for j in 1..=half_width {
                let at_y = source.y + j * step_y;
                let dy = (at_y - y as isize) as f32;
                if dy.abs() > reach {
                    continue;
                }
                let span = (reach * reach - dy * dy).sqrt() as isize + 1;
                let offset = (x as isize - source.x) * step_x;
                for i in (offset - span).max(1)..=(offset + span).min(half_width) {
                    let at = [source.x + i * step_x, at_y];
                    share += self.share(source, at, &seen, &mut inverse_areas);
                }
            }
            add(source, share);
        }
        total
    }

    /// The weight at the pixel of `source`'s light from `at` (itself or a copy), as the views
    /// see it; 0 out of reach.
    #[inline(always)]
    fn share(
        &self,
        source: &BrightSource,
        at: [isize; 2],
        seen: &Seen<'_>,
        inverse_areas: &mut [Option<f32>; 4],
    ) -> f32 {
        let (dx, dy) = (at[0] - seen.pixel[0], at[1] - seen.pixel[1]);
        let half_width = self.kernels.half_width() as isize;
        let reach = seen.reach(source);
        if dx.abs() > half_width
            || dy.abs() > half_width
            || (dx * dx + dy * dy) as f32 > reach * reach
        {
            return 0.0; // most of the tile's sources end here
        }
        // The source's kernel seen at the offset pixel - source: point-reflected in front of the
        // focus plane (as in the gather).
        let rho = if source.coc < 0.0 {
            self.kernels.rho(dx, dy)
        } else {
            self.kernels.rho(-dx, -dy)
        };
        let own = coverage(source.radius, rho) * source.inverse_area;
        let [slope_x, slope_y] = seen.slope;
        let source_at = [at[0] as f32 + 0.5, at[1] as f32 + 0.5];
        let mut share = 0.0f32;
        for (view, inverse_area) in seen.views.iter().zip(inverse_areas) {
            // The centre's surface at the source: its CoC, and the pixel's slope.
            let (dx, dy) = (source_at[0] - view.centre[0], source_at[1] - view.centre[1]);
            let expected = (view.coc + slope_y * dy) + slope_x * dx;
            share += view.share
                * if source.coc < expected - SAME_SURFACE_TOLERANCE_PX {
                    view.factors[0] * own
                } else if source.coc <= expected + SAME_SURFACE_TOLERANCE_PX {
                    view.factors[1] * own
                } else {
                    let centre_radius = radius(view.coc);
                    let centre_inverse_area = *inverse_area
                        .get_or_insert_with(|| (1.0 / self.kernels.area(centre_radius)) as f32);
                    let hidden = coverage(centre_radius.max(source.radius), rho)
                        * centre_inverse_area.min(source.inverse_area);
                    view.factors[2] * hidden
                };
        }
        share
    }
}

/// A pixel whose bright sources `Bright::excess` weighs: where it is, its views, the widest of
/// their kernels, and its own surface's slope (every view sees the pixel's surface, 5.2).
struct Seen<'a> {
    pixel: [isize; 2],
    views: &'a [View],
    widest_centre: f32,
    slope: [f32; 2],
}

impl Seen<'_> {
    /// No kernel here reaches past rho = radius + 0.5, and rho is at least the Euclidean
    /// distance (one pixel of margin for the table's rounding).
    fn reach(&self, source: &BrightSource) -> f32 {
        source.radius.max(self.widest_centre) + 1.5
    }
}

/// A centre through which the bright sources' excess is seen: its signed CoC and position (its
/// surface's plane, with the pixel's slope), its composite's group factors [near, surface,
/// behind], and its share of the pixel.
#[derive(Debug, Default, Clone, Copy)]
struct View {
    coc: f32,
    /// Where the centre is, in the photo (pixel centres at +0.5).
    centre: [f32; 2],
    factors: [f32; 3],
    share: f32,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gather::{red_energy_and_disc_diameter, render_linear};

    fn render(
        width: usize,
        rgb: &[f32],
        coc: &[f32],
        aperture: &Aperture,
        threads: usize,
    ) -> Vec<f32> {
        let image = Image {
            rgb,
            width,
            height: coc.len() / width,
        };
        render_pyramid(image, coc, aperture, threads, DEFAULT_MIN_RADIUS).unwrap()
    }

    /// `Bright::cap` as its comment defines it, with no shortcut.
    fn cap_by_definition(
        image: Image<'_>,
        x: usize,
        y: usize,
        small: bool,
        corners: bool,
    ) -> Option<f32> {
        let (width, height) = (image.width, image.height);
        let at = |x: isize, y: isize| {
            let (x, y) = (
                x.clamp(0, width as isize - 1),
                y.clamp(0, height as isize - 1),
            );
            brightest(&image.rgb[(y as usize * width + x as usize) * 3..][..3])
        };
        let (x, y) = (x as isize, y as isize);
        let own = at(x, y);
        let corner = (x == 0 || x + 1 == width as isize) && (y == 0 || y + 1 == height as isize);
        if own <= SMALL_LIGHT_FLOOR || corner && !corners {
            return None;
        }
        let reach = SMALL_LIGHT_REACH as isize;
        let ring: Vec<f32> = (-reach..=reach)
            .flat_map(|dy| (-reach..=reach).map(move |dx| (dx, dy)))
            .filter(|&(dx, dy)| dx.abs().max(dy.abs()) == reach)
            .map(|(dx, dy)| at(x + dx, y + dy))
            .collect();
        let is_small = small && ring.iter().all(|&v| SMALL_LIGHT_CONTRAST * v < own);
        let cap = if is_small {
            ring.iter().fold(0.0f32, |m, &v| m.max(v)).min(1.0)
        } else {
            1.0
        };
        (own > cap).then_some(cap)
    }

    #[test]
    fn each_pixels_light_cap_is_the_definitions() {
        // Dim and grey ground, a few bright pixels, and lights 2 to 40 times white.
        let mut state = 12345u64;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 40) as f32 / (1u64 << 24) as f32
        };
        let mut lights = 0;
        for (width, height) in [(31, 23), (7, 12), (1, 9), (12, 1)] {
            let rgb: Vec<f32> = (0..width * height)
                .flat_map(|_| {
                    let brightest = match next() {
                        u if u < 0.03 => 2.0 + 38.0 * next(),
                        u if u < 0.035 => 1.0 + next(),
                        u if u < 0.8 => 0.1 * next(),
                        _ => next(),
                    };
                    [brightest, brightest * next(), brightest * next()]
                })
                .collect();
            let image = Image {
                rgb: &rgb,
                width,
                height,
            };
            for small in [true, false] {
                for corners in [true, false] {
                    for y in 0..height {
                        for x in 0..width {
                            let cap = Bright::cap(image, x, y, small, corners);
                            assert_eq!(
                                cap,
                                cap_by_definition(image, x, y, small, corners),
                                "{x} {y}"
                            );
                            lights += usize::from(cap.is_some_and(|c| c < 1.0));
                        }
                    }
                }
            }
        }
        assert!(lights > 4, "{lights} small lights");
    }

    /// A square image rendered by the exact level and by the fast one (circle, 2 threads).
    fn exact_and_fast(size: usize, rgb: &[f32], coc: &[f32]) -> (Vec<f32>, Vec<f32>) {
        let image = Image {
            rgb,
            width: size,
            height: size,
        };
        let exact = render_linear(image, coc, &Aperture::CIRCLE, 2).unwrap();
        (exact, render(size, rgb, coc, &Aperture::CIRCLE, 2))
    }

    /// `exact_and_fast`, asserting that no value differs by `tolerance` or more.
    fn exact_and_fast_within(
        size: usize,
        rgb: &[f32],
        coc: &[f32],
        tolerance: f32,
    ) -> (Vec<f32>, Vec<f32>) {
        let (exact, fast) = exact_and_fast(size, rgb, coc);
        let worst = largest_difference(&exact, &fast);
        assert!(
            worst < tolerance,
            "largest difference from the exact level: {worst}"
        );
        (exact, fast)
    }

    fn largest_difference(exact: &[f32], fast: &[f32]) -> f32 {
        exact
            .iter()
            .zip(fast)
            .fold(0.0f32, |m, (a, b)| m.max((a - b).abs()))
    }

    /// CoC of a ground plane seen from above: from `near` at the top row to `far` at the bottom.
    fn ramp(width: usize, height: usize, near: f32, far: f32) -> Vec<f32> {
        (0..width * height)
            .map(|i| near + (far - near) * (i / width) as f32 / (height - 1) as f32)
            .collect()
    }

    #[test]
    fn flat_colour_stays_flat_for_any_coc() {
        let (width, height, colour) = (97, 61, [0.2f32, 0.5, 0.9]);
        let mut coc = ramp(width, height, -70.0, 50.0);
        for (i, c) in coc.iter_mut().enumerate() {
            if (i * 7919) % 5 == 0 {
                *c = -*c * 0.3;
            }
        }
        let rgb = colour.repeat(width * height);
        for aperture in [Aperture::CIRCLE, Aperture::new(5, 0.4, 0.2).unwrap()] {
            for rendered in render(width, &rgb, &coc, &aperture, 2).chunks_exact(3) {
                for (value, expected) in rendered.iter().zip(colour) {
                    assert!((value - expected).abs() < 1e-5, "{rendered:?}");
                }
            }
        }
    }

    #[test]
    fn small_blur_is_rendered_exactly() {
        // Below 4T/3 pixels of radius every pixel is on level 0 and nothing is far blurrier.
        let (width, height) = (40, 30);
        let coc = ramp(width, height, -15.0, 15.0);
        let rgb: Vec<f32> = (0..width * height * 3)
            .map(|i| ((i * 37) % 101) as f32 / 100.0)
            .collect();
        let image = Image {
            rgb: &rgb,
            width,
            height,
        };
        let exact = render_linear(image, &coc, &Aperture::CIRCLE, 2).unwrap();
        assert_eq!(render(width, &rgb, &coc, &Aperture::CIRCLE, 2), exact);
    }

    #[test]
    fn point_light_keeps_its_energy_and_its_disc() {
        let (size, diameter) = (161, 72.0);
        let mut rgb = vec![0.0f32; size * size * 3];
        rgb[(80 * size + 80) * 3] = 1000.0;
        let coc = vec![diameter; size * size];
        let out = render(size, &rgb, &coc, &Aperture::CIRCLE, 2);
        let (energy, measured) = red_energy_and_disc_diameter(&out);
        assert!((energy - 1000.0).abs() < 0.5, "energy {energy}");
        assert!(
            (measured - diameter).abs() < 2.0,
            "disc diameter {measured}"
        );
    }

    /// Asserts that the fast level renders a textured background blurred to `diameter` px, with
    /// clipped lights expanded far above white at `lights` (x, y), within `tolerance` of the
    /// exact level.
    fn assert_lights_render_within(lights: &[(usize, usize)], diameter: f32, tolerance: f32) {
        let size = 161;
        let mut rgb: Vec<f32> = (0..size * size * 3)
            .map(|i| ((i * 37) % 101) as f32 / 200.0)
            .collect();
        for &(x, y) in lights {
            rgb[(y * size + x) * 3..][..3].copy_from_slice(&[900.0, 600.0, 300.0]);
        }
        let coc = vec![diameter; size * size];
        exact_and_fast_within(size, &rgb, &coc, tolerance);
    }

    #[test]
    fn a_bright_lights_disc_is_the_exact_levels_to_its_rim() {
        // The light is gathered apart, with its exact coverage (a rim a pixel wide). It adds
        // 900 / K(36) = 0.22 in red inside its disc; a rim a cell wide would miss by about half
        // of that.
        assert_lights_render_within(&[(80, 80)], 72.0, 0.02);
    }

    #[test]
    fn a_bright_light_on_the_frames_edge_is_the_exact_levels_to_its_rim() {
        // The model repeats an edge pixel beyond the frame: a light there is a line of lights
        // going out of it, each with its own exact rim.
        assert_lights_render_within(&[(80, 160), (0, 40)], 72.0, 0.02);
    }

    #[test]
    fn a_bright_light_in_a_corner_is_the_exact_levels_to_its_rim() {
        // Beyond a corner the model repeats the corner pixel over a quadrant: a light there is
        // a quadrant of lights, each with its own exact rim (35.4 off when the levels held them
        // whole). The levels hold the quadrant at 1, a bright area whose rim is a cell wide:
        // 0.030 off with lights of 1 alone. Blurred to 48 px, four corners fit the budget.
        assert_lights_render_within(&[(0, 0), (160, 160)], 48.0, 0.05);
    }

    #[test]
    fn a_light_in_one_corner_is_the_exact_levels_where_four_would_not_fit_the_budget() {
        // Blurred to 76 px, the copies of four corner lights would be about 4.6 M pairs, more
        // than the budget; those of the one corner that holds a light, 1.2 M, fit.
        assert_lights_render_within(&[(0, 0)], 76.0, 0.05);
    }

    #[test]
    fn a_light_every_6_px_with_little_blur_is_the_exact_levels_to_its_rim() {
        // 729 lights, one in 36 pixels: more than one in 64 of the scene the kernels see, but
        // each reaches at most 25 x 25 pixels, 0.46 M pixel visits in all, within the budget
        // (3.57 off when the levels took them whole, 0.005 now).
        let lights: Vec<(usize, usize)> = (0..27)
            .flat_map(|y| (0..27).map(move |x| (2 + 6 * x, 2 + 6 * y)))
            .collect();
        assert_lights_render_within(&lights, 24.0, 0.02);
    }

    #[test]
    fn a_light_every_8_px_is_the_exact_levels_to_its_rim() {
        // 402 lights, two of them on the edge: with their copies beyond the frame, 476 sources,
        // one in 54 pixels of the frame but one in 116 of the scene the kernels see (the frame
        // and the band beyond it that the copies fill): a scatter of lights, each gathered
        // apart with its exact rim.
        let mut lights: Vec<(usize, usize)> = (0..20)
            .flat_map(|y| (0..20).map(move |x| (4 + 8 * x, 4 + 8 * y)))
            .collect();
        lights.extend([(80, 160), (0, 40)]);
        assert_lights_render_within(&lights, 72.0, 0.02);
    }

    /// Asserts that the fast level renders square `lights` (x, y, side, value) of CoC `light` on a
    /// dim flat background of CoC `background` (which the levels render exactly) as the exact
    /// level does, to `tolerance` in every value and in energy (relative).
    fn assert_small_lights_render_exactly(
        lights: &[(usize, usize, usize, f32)],
        light: f32,
        background: f32,
        tolerance: f32,
    ) {
        let size = 121;
        let mut rgb = vec![0.01f32; size * size * 3];
        let mut coc = vec![background; size * size];
        for &(x, y, side, value) in lights {
            for y in y..y + side {
                for x in x..x + side {
                    rgb[(y * size + x) * 3..][..3].copy_from_slice(&[value, 0.5 * value, value]);
                    coc[y * size + x] = light;
                }
            }
        }
        let (exact, fast) = exact_and_fast_within(size, &rgb, &coc, tolerance);
        let energy = |out: &[f32]| out.iter().map(|&v| f64::from(v)).sum::<f64>();
        let off = (energy(&fast) / energy(&exact) - 1.0) as f32;
        assert!(off.abs() < tolerance, "energy off by {off}");
    }

    #[test]
    fn small_lights_discs_are_the_exact_levels_to_their_rims() {
        // Not bright (white at most), but far brighter than around them: a point of white, a
        // 3 x 3 glint, a 5 x 5 lamp. Their excess over the dim background is gathered apart;
        // in the levels their polygon's rim would be a cell wide (40 % of the disc's level a
        // pixel outside it). What the levels hold of them is their hue at the background's
        // level, green half of it: a dip of 0.005 in green over 35 pixels, whose disc (1.4e-4
        // deep) has a rim a cell wide on level 2 (off by 2.1e-5 at T = 5, 9.4e-6 at T = 6).
        let lights = [(20, 20, 1, 1.0), (60, 30, 3, 0.6), (40, 80, 5, 0.3)];
        assert_small_lights_render_exactly(&lights, 40.0, 40.0, 5e-5);
    }

    #[test]
    fn a_small_light_a_step_nearer_than_its_wall_is_the_exact_levels() {
        // A 5 x 5 lamp 2 px of CoC nearer than the wall around it: a cell over its edge is
        // split into lamp and wall at a step however small, else one population at their
        // mean CoC weighed the lamp's light as neither (1 % more energy).
        assert_small_lights_render_exactly(&[(58, 58, 5, 4.0)], 22.0, 24.0, 1e-4);
    }

    #[test]
    fn a_strip_of_sloped_ground_between_other_surfaces_sees_lights_as_the_exact_level() {
        // Ground blurred to 60 px and more, sloping 0.5 px of CoC per px down the image, with a
        // far band over it and a sharp subject below it: between them a strip of ground 8 px
        // high (two rows of level 2's cells), and lights expanded to 16. The strip's cells have
        // other surfaces above and below them: a slope read from those was 0, so their plane
        // (5.2) held the strip alone, whose small coverage scaled up the lights' excess (0.08
        // too bright in the strip, 0.1 below the subject).
        let size = 128;
        let mut coc: Vec<f32> = (0..size * size)
            .map(|i| 60.0 + 0.5 * (i / size) as f32)
            .collect();
        coc[20 * size..36 * size].fill(100.0);
        for y in 44..70 {
            coc[y * size + 16..y * size + 112].fill(0.0);
        }
        let mut rgb: Vec<f32> = (0..size * size * 3)
            .map(|i| ((i * 37) % 101) as f32 / 400.0 + 0.05)
            .collect();
        for (x, y) in [(40, 39), (30, 80), (100, 90), (70, 10), (90, 41)] {
            rgb[(y * size + x) * 3..][..3].fill(16.0);
        }
        exact_and_fast_within(size, &rgb, &coc, 0.05);
    }

    #[test]
    fn a_light_seen_through_a_gap_is_the_exact_levels() {
        // A near object blurred to 240 px over a strip of ground 2 px high, sloping 0.1 px of
        // CoC per px across, in front of a far band; 6 px below the strip one pixel of the
        // ground shows through the far band, with a light 28 times white on it. Level 2's cells
        // hold the strip with the near object and the far band, three surfaces as two, so the
        // light's cell saw no ground around it: the light alone, a sixteenth of its cell, was its
        // surface, and the hidden rest of its aperture took the light's colour (a surface factor
        // of 424). Its pixel came out 5.2 too bright.
        let size = 128;
        let ground = |x: usize| 55.0 + 0.1 * (x as f32 - 64.0);
        let mut coc = vec![87.0f32; size * size];
        coc[..49 * size].fill(-240.0);
        for y in 49..51 {
            for x in 0..size {
                coc[y * size + x] = ground(x);
            }
        }
        let light = 57 * size + 42;
        coc[light] = ground(42);
        let mut rgb = vec![0.2f32; size * size * 3];
        rgb[light * 3..light * 3 + 3].fill(28.0);
        exact_and_fast_within(size, &rgb, &coc, 0.05);
    }

    #[test]
    fn sharp_subject_stays_sharp_under_a_blurred_background() {
        // A sharp square in front of a background blurred to 60 px: no background light on it.
        let (size, mut coc) = (120, vec![60.0f32; 120 * 120]);
        let mut rgb = [0.0f32, 1.0, 0.0].repeat(size * size);
        for y in 40..80 {
            for x in 40..80 {
                coc[y * size + x] = 0.0;
                rgb[(y * size + x) * 3..][..3].copy_from_slice(&[1.0, 0.0, 0.0]);
            }
        }
        let out = render(size, &rgb, &coc, &Aperture::CIRCLE, 2);
        for y in 40..80 {
            for x in 40..80 {
                assert_eq!(&out[(y * size + x) * 3..][..3], &[1.0, 0.0, 0.0]);
            }
        }
    }

    #[test]
    fn a_blurred_background_beside_a_hair_is_the_exact_levels() {
        // A sharp dark line one pixel wide over a textured background blurred to 30 px (band 1):
        // the background beside it is not read from level 1's cells, which hold the line too.
        let (size, line) = (96, 47);
        let mut coc = vec![30.0f32; size * size];
        let mut rgb: Vec<f32> = (0..size * size * 3)
            .map(|i| 0.3 + 0.6 * (((i / 3) % size / 5 + (i / 3) / size / 7 + i % 3) % 2) as f32)
            .collect();
        for y in 0..size {
            coc[y * size + line] = 0.0;
            rgb[(y * size + line) * 3..][..3].copy_from_slice(&[0.02, 0.01, 0.0]);
        }
        let (exact, fast) = exact_and_fast(size, &rgb, &coc);
        for y in 20..size - 20 {
            for x in [line - 1, line + 1] {
                for c in 0..3 {
                    let (e, f) = (exact[(y * size + x) * 3 + c], fast[(y * size + x) * 3 + c]);
                    assert!((e - f).abs() < 1e-4, "({x}, {y}) channel {c}: {f} vs {e}");
                }
            }
        }
    }

    #[test]
    fn a_small_frame_with_large_blur_is_the_exact_levels() {
        // A frame under 64 px across has no level 2 to splat on: level 0 gathers every
        // source, a near wall blurred to 40 px included, with the kernels of that radius.
        let size = 48;
        let mut coc = vec![0.5f32; size * size];
        let mut rgb: Vec<f32> = (0..size * size * 3)
            .map(|i| 0.2 + 0.6 * (((i / 3) % size / 3 + (i / 3) / size / 4 + i % 3) % 2) as f32)
            .collect();
        for y in 0..size {
            coc[y * size + 24..(y + 1) * size].fill(-80.0);
            rgb[(y * size + 24) * 3..(y + 1) * size * 3].fill(0.0);
        }
        exact_and_fast_within(size, &rgb, &coc, 1e-2);
    }

    #[test]
    fn result_does_not_depend_on_thread_count() {
        let (width, height) = (90, 70);
        let coc = ramp(width, height, -80.0, 40.0);
        let rgb: Vec<f32> = (0..width * height * 3)
            .map(|i| ((i * 31) % 17) as f32 / 17.0)
            .collect();
        let hexagon = Aperture::new(6, 0.1, 0.3).unwrap();
        assert_eq!(
            render(width, &rgb, &coc, &hexagon, 1),
            render(width, &rgb, &coc, &hexagon, 3)
        );
    }

    #[test]
    fn a_minimum_radius_below_one_pixel_is_refused() {
        let image = Image {
            rgb: &[0.5; 12],
            width: 2,
            height: 2,
        };
        for t in [0.5, 0.0, -1.0, f32::NAN, f32::INFINITY] {
            assert!(matches!(
                render_pyramid(image, &[0.0; 4], &Aperture::CIRCLE, 1, t),
                Err(DofError::NotPositive { .. })
            ));
        }
    }
}
