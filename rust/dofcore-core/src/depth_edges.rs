//! Depth edges as a network draws them, made sharp again by the photo (docs/model.md 2.4).
//!
//! A depth network blends depth across a discontinuity over a few pixels; a pixel in that band
//! has the depth of neither side and would be blurred as if it floated between them. It also
//! fattens near objects by a few pixels: a band of the far surface with the near depth, which
//! would stay sharp around a sharp subject (or spread a blurred foreground too far). The photo's
//! edge is sharp: blended pixels take the depth of the side whose colour they match, and a band
//! of near pixels that shows the far side's colour takes the far side's depth.

use rayon::prelude::*;

use crate::error::DofError;

/// How far across an edge the two sides are looked for: wider than a network's blend.
pub const WINDOW_RADIUS_PX: usize = 4;
/// Nearest over farthest inverse depth in the window above which it holds an edge.
pub const STEP_RATIO: f32 = 1.1;
/// Within this share of the step from one side's inverse depth, a pixel belongs to that side.
pub const SIDE_SHARE: f32 = 0.1;
/// A blended pixel's nearer and farther neighbours differ from it by at least this share.
pub const SLOPE_SHARE: f32 = 0.02;
/// A blend ends within a network's few pixels, a plane goes on. The span of inverse depth within
/// this radius of any pixel of a blend up to 7 px wide holds the whole blend...
pub const WIDE_RADIUS_PX: usize = 6;
/// ...so within this radius a blended pixel's span grows by less than CONTAINED_GROWTH; a
/// plane's grows by 9/6 (less where the frame's edge cuts the windows).
pub const WIDER_RADIUS_PX: usize = 9;
pub const CONTAINED_GROWTH: f32 = 1.15;
/// A near pixel looks like the far side when its colour is within this share of the window's
/// colour contrast (its distance to the near colour most unlike it) of a far pixel's colour.
pub const FAR_LOOK_SHARE: f32 = 0.1;
/// Below this colour contrast (in cube roots of linear light) the sides cannot be told apart.
pub const MIN_CONTRAST: f32 = 0.05;

/// `depth` (metres, row-major, `width` wide) with its edges made to agree with the photo's
/// `colour` (3 values per pixel, in a space where distance is about what the eye sees):
/// `snap_blended_bands`, then `trim_fattened_bands` on its result.
pub fn sharpen_depth_edges(
    colour: &[f32],
    depth: &[f32],
    width: usize,
) -> Result<Vec<f32>, DofError> {
    let height = depth.len().checked_div(width).unwrap_or(0);
    let shape = format!("{height} x {width}");
    if width == 0 || depth.len() != width * height || depth.is_empty() {
        return Err(DofError::Shape {
            what: "depth",
            got: depth.len(),
            expected: width * height.max(1),
            shape,
        });
    }
    if colour.len() != depth.len() * 3 {
        return Err(DofError::Shape {
            what: "colour",
            got: colour.len(),
            expected: depth.len() * 3,
            shape: shape + " x 3",
        });
    }
    if let Some(index) = depth.iter().position(|z| !(z.is_finite() && *z > 0.0)) {
        return Err(DofError::BadDepth {
            x: index % width,
            y: index / width,
            value: depth[index],
        });
    }
    let snapped = snap_blended_bands(&Edges::new(colour, depth, width));
    Ok(trim_fattened_bands(&Edges::new(colour, &snapped, width)))
}

/// Each pixel of a blended edge band snapped to the near or the far side of its window: the side
/// holding the pixel of nearest colour. Pixels already on a side, and windows without an edge,
/// keep their depth.
fn snap_blended_bands(edges: &Edges) -> Vec<f32> {
    let step_within = |radius: usize| {
        let near = window_extreme(&edges.inverse, edges.width, radius, f32::max);
        let far = window_extreme(&edges.inverse, edges.width, radius, f32::min);
        near.iter()
            .zip(far)
            .map(|(n, f)| n - f)
            .collect::<Vec<f32>>()
    };
    let (wide, wider) = (step_within(WIDE_RADIUS_PX), step_within(WIDER_RADIUS_PX));
    edges.map(|i, x, y| {
        let q = edges.inverse[i];
        let slope = SLOPE_SHARE * edges.step(i);
        // A blend is a slope between the window's two sides: a nearer and a farther neighbour.
        // A pixel of a third surface between the two (a subject between a foreground and the
        // background) has its own neighbours. A plane (a floor receding) is a slope too, but
        // one that goes on past the window.
        let undecided = edges.has_edge(i)
            && !edges.is_near(i, q)
            && !edges.is_far(i, q)
            && wider[i] < CONTAINED_GROWTH * wide[i]
            && {
                // The 3 x 3 neighbours, only for the few pixels that get this far.
                let (mut above, mut below) = (q, q);
                edges.for_window(x, y, 1, |j| {
                    above = above.max(edges.inverse[j]);
                    below = below.min(edges.inverse[j]);
                });
                above > q + slope && below < q - slope
            };
        undecided.then(|| {
            let colours = edges.window_colours(i, x, y);
            if colours.closest_near <= colours.closest_far {
                edges.near[i]
            } else {
                edges.far[i]
            }
        })
    })
}

/// A band of near pixels that show the far side: each near pixel of an edge whose colour is
/// within FAR_LOOK_SHARE of the window's contrast of a far pixel's colour takes that pixel's
/// depth, where such pixels form a band more than a pixel deep: most of its 3 x 3 neighbours
/// look far too, and one of them has no far neighbour. A near outline of exact depth has far
/// neighbours all along it, so its anti-aliased pixels, and a hair one pixel wide, keep their
/// depth; a textured surface whose colours recur in the far side's texture matches it here and
/// there, not in bands.
fn trim_fattened_bands(edges: &Edges) -> Vec<f32> {
    // Per pixel: the far depth it would take, and whether it is inside the band.
    let looks_far: Vec<Option<(f32, bool)>> = (0..edges.inverse.len())
        .into_par_iter()
        .with_min_len(edges.width)
        .map(|i| {
            let (x, y) = (i % edges.width, i / edges.width);
            if !(edges.has_edge(i) && edges.is_near(i, edges.inverse[i])) {
                return None;
            }
            let colours = edges.window_colours(i, x, y);
            let contrast = colours.farthest_near;
            (contrast > MIN_CONTRAST * MIN_CONTRAST
                && colours.closest_far < FAR_LOOK_SHARE * FAR_LOOK_SHARE * contrast)
                .then(|| {
                    let mut inside = true;
                    edges.for_window(x, y, 1, |j| inside &= !edges.is_far(i, edges.inverse[j]));
                    (colours.closest_far_inverse, inside)
                })
        })
        .collect();
    edges.map(|i, x, y| {
        let (inverse, _) = looks_far[i]?;
        let (mut alike, mut around, mut inside) = (0, 0, false);
        edges.for_window(x, y, 1, |j| {
            around += 1;
            if let Some((_, deep)) = looks_far[j] {
                alike += 1;
                inside |= deep;
            }
        });
        (2 * alike > around && inside).then_some(inverse)
    })
}

/// A depth map's inverse and its window extremes, beside the photo's colours.
struct Edges<'a> {
    colour: &'a [f32],
    depth: &'a [f32],
    width: usize,
    height: usize,
    inverse: Vec<f32>,
    /// Largest and smallest inverse depth in each pixel's window.
    near: Vec<f32>,
    far: Vec<f32>,
}

/// Squared colour distances from a pixel to the pixels of each side in its window.
struct WindowColours {
    closest_near: f32,
    farthest_near: f32,
    closest_far: f32,
    /// The inverse depth of the far pixel of closest colour.
    closest_far_inverse: f32,
}

impl<'a> Edges<'a> {
    fn new(colour: &'a [f32], depth: &'a [f32], width: usize) -> Self {
        let inverse: Vec<f32> = depth.par_iter().map(|z| 1.0 / z).collect();
        let r = WINDOW_RADIUS_PX;
        let near = window_extreme(&inverse, width, r, f32::max);
        let far = window_extreme(&inverse, width, r, f32::min);
        Edges {
            colour,
            depth,
            width,
            height: depth.len() / width,
            inverse,
            near,
            far,
        }
    }

    fn step(&self, i: usize) -> f32 {
        self.near[i] - self.far[i]
    }

    fn has_edge(&self, i: usize) -> bool {
        self.near[i] > self.far[i] * STEP_RATIO
    }

    /// Whether inverse depth `q` is on the near side of pixel `i`'s window.
    fn is_near(&self, i: usize, q: f32) -> bool {
        q >= self.near[i] - SIDE_SHARE * self.step(i)
    }

    fn is_far(&self, i: usize, q: f32) -> bool {
        q <= self.far[i] + SIDE_SHARE * self.step(i)
    }

    /// Calls `visit` with each pixel of the (2 radius + 1)-square around (x, y); beyond the
    /// image's sides the image continues as its edge (clamped columns repeat).
    fn for_window(&self, x: usize, y: usize, radius: usize, mut visit: impl FnMut(usize)) {
        let last_row = (y + radius).min(self.height - 1);
        for sy in y.saturating_sub(radius)..=last_row {
            for dx in -(radius as isize)..=radius as isize {
                let sx = (x as isize + dx).clamp(0, self.width as isize - 1) as usize;
                visit(sy * self.width + sx);
            }
        }
    }

    fn window_colours(&self, i: usize, x: usize, y: usize) -> WindowColours {
        let own = &self.colour[i * 3..i * 3 + 3];
        let mut colours = WindowColours {
            closest_near: f32::INFINITY,
            farthest_near: 0.0,
            closest_far: f32::INFINITY,
            closest_far_inverse: self.far[i],
        };
        self.for_window(x, y, WINDOW_RADIUS_PX, |j| {
            let distance: f32 = own
                .iter()
                .zip(&self.colour[j * 3..j * 3 + 3])
                .map(|(a, b)| (b - a) * (b - a))
                .sum();
            let q = self.inverse[j];
            if self.is_near(i, q) {
                colours.closest_near = colours.closest_near.min(distance);
                colours.farthest_near = colours.farthest_near.max(distance);
            }
            if self.is_far(i, q) && distance < colours.closest_far {
                colours.closest_far = distance;
                colours.closest_far_inverse = q;
            }
        });
        colours
    }

    /// The depth map with each pixel for which `side` gives an inverse depth changed to it.
    fn map(&self, side: impl Fn(usize, usize, usize) -> Option<f32> + Sync) -> Vec<f32> {
        let mut out = self.depth.to_vec();
        // Rows one by one: the pixels to change are often all in a few of them.
        out.par_chunks_exact_mut(self.width)
            .enumerate()
            .with_max_len(1)
            .for_each(|(y, row)| {
                for (x, out) in row.iter_mut().enumerate() {
                    if let Some(q) = side(y * self.width + x, x, y) {
                        *out = 1.0 / q;
                    }
                }
            });
        out
    }
}

/// `pick` (max or min) over the (2 radius + 1)-square around each value, the image continued as
/// its edge values; separably.
fn window_extreme(
    values: &[f32],
    width: usize,
    radius: usize,
    pick: impl Fn(f32, f32) -> f32 + Copy + Sync,
) -> Vec<f32> {
    let height = values.len() / width;
    let mut rows = vec![0.0f32; values.len()];
    rows.par_chunks_exact_mut(width)
        .zip(values.par_chunks_exact(width))
        .for_each_init(Vec::new, |padded, (out, row)| {
            // The row with its edge values repeated, so that each offset is one pass over
            // contiguous values (which the compiler vectorises).
            padded.clear();
            padded.extend(std::iter::repeat_n(row[0], radius));
            padded.extend_from_slice(row);
            padded.extend(std::iter::repeat_n(row[width - 1], radius));
            out.copy_from_slice(&padded[..width]);
            for offset in 1..=2 * radius {
                for (value, &other) in out.iter_mut().zip(&padded[offset..offset + width]) {
                    *value = pick(*value, other);
                }
            }
        });
    let mut out = vec![0.0f32; values.len()];
    out.par_chunks_exact_mut(width)
        .enumerate()
        .for_each(|(y, out)| {
            let first = y.saturating_sub(radius);
            let last = (y + radius).min(height - 1);
            out.copy_from_slice(&rows[first * width..(first + 1) * width]);
            for source in rows[(first + 1) * width..(last + 1) * width].chunks_exact(width) {
                for (value, &other) in out.iter_mut().zip(source) {
                    *value = pick(*value, other);
                }
            }
        });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A step from 1 m (left) to 10 m (right), blended over `blend` pixels (0: a hard step), in
    /// a photo whose colour steps at column `edge`: (depth, colour).
    fn blended_step(width: usize, edge: usize, blend: usize) -> (Vec<f32>, Vec<f32>) {
        let mut depth = Vec::new();
        let mut colour = Vec::new();
        for _ in 0..9 {
            for x in 0..width {
                let t = if blend == 0 {
                    f32::from(u8::from(x >= edge))
                } else {
                    ((x as f32 - (edge as f32 - blend as f32 / 2.0)) / blend as f32).clamp(0.0, 1.0)
                };
                depth.push(1.0 / (1.0 + (0.1 - 1.0) * t));
                colour.extend_from_slice(if x < edge {
                    &[0.9, 0.2, 0.2]
                } else {
                    &[0.2, 0.3, 0.8]
                });
            }
        }
        (depth, colour)
    }

    #[test]
    fn a_blended_edge_snaps_to_the_side_of_each_pixels_colour() {
        let (width, edge) = (24, 12);
        let (depth, colour) = blended_step(width, edge, 5);
        let sharp = sharpen_depth_edges(&colour, &depth, width).unwrap();
        for y in 0..9 {
            for x in 0..width {
                let expected = if x < edge { 1.0 } else { 10.0 };
                let z = sharp[y * width + x];
                assert!((z - expected).abs() < 1e-3 * expected, "({x}, {y}): {z}");
            }
        }
    }

    #[test]
    fn a_fattened_outline_gives_its_band_back_to_the_far_side() {
        let (width, edge) = (24, 12);
        let (exact, colour) = blended_step(width, edge, 0);
        // The near depth runs 3 px into the far side's colour, as a network fattens it.
        let (fattened, _) = blended_step(width, edge + 3, 0);
        assert_eq!(
            sharpen_depth_edges(&colour, &fattened, width).unwrap(),
            exact
        );
    }

    #[test]
    fn a_faint_line_one_pixel_wide_keeps_its_exact_depth() {
        // A hair at 1 m over a 10 m background, beside a near subject of another colour: the
        // line shows the background's colour but for a tenth of the contrast, and has the far
        // side on both sides of it, as an anti-aliased outline does.
        let (width, line) = (24, 12);
        let (mut depth, mut colour) = blended_step(width, 9, 0);
        for y in 0..9 {
            let i = y * width + line;
            depth[i] = 1.0;
            for c in 0..3 {
                let (far, near) = (colour[(i + 1) * 3 + c], colour[y * width * 3 + c]);
                colour[i * 3 + c] = far + 0.1 * (near - far);
            }
        }
        assert_eq!(sharpen_depth_edges(&colour, &depth, width).unwrap(), depth);
    }

    #[test]
    fn flat_depth_and_steps_without_blend_are_left_alone() {
        let (width, edge) = (24, 12);
        let (depth, colour) = blended_step(width, edge, 0);
        assert_eq!(sharpen_depth_edges(&colour, &depth, width).unwrap(), depth);
        let flat = vec![3.0f32; 9 * width];
        assert_eq!(sharpen_depth_edges(&colour, &flat, width).unwrap(), flat);
    }

    #[test]
    fn bad_input_is_an_error() {
        assert!(matches!(
            sharpen_depth_edges(&[0.0; 6], &[1.0, 0.0], 2),
            Err(DofError::BadDepth { x: 1, y: 0, .. })
        ));
        assert!(matches!(
            sharpen_depth_edges(&[0.0; 5], &[1.0, 1.0], 2),
            Err(DofError::Shape { .. })
        ));
        assert!(matches!(
            sharpen_depth_edges(&[], &[], 0),
            Err(DofError::Shape { .. })
        ));
    }
}
