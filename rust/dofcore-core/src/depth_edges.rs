//! Depth edges as a network draws them, made sharp again by the photo (docs/model.md 2.4).
//!
//! A depth network blends depth across a discontinuity over a few pixels; a pixel in that band
//! has the depth of neither side and would be blurred as if it floated between them. The photo's
//! edge is sharp: each such pixel takes the depth of the side whose colour it matches.

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

/// `depth` (metres, row-major, `width` wide) with each pixel of a blended edge band snapped to
/// the near or the far side of its window: the side holding the pixel of nearest `colour`
/// (3 values per pixel, in a space where distance is about what the eye sees). Pixels already on
/// a side, and windows without an edge, keep their depth.
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
    let inverse: Vec<f32> = depth.par_iter().map(|z| 1.0 / z).collect();
    let r = WINDOW_RADIUS_PX;
    let (near, far) = (
        window_extreme(&inverse, width, r, f32::max),
        window_extreme(&inverse, width, r, f32::min),
    );
    let mut sharpened = depth.to_vec();
    // Rows one by one: the undecided pixels are often all in a few of them.
    sharpened
        .par_chunks_exact_mut(width)
        .enumerate()
        .with_max_len(1)
        .for_each(|(y, row)| {
            for (x, out) in row.iter_mut().enumerate() {
                let i = y * width + x;
                let (q, step) = (inverse[i], near[i] - far[i]);
                let margin = SIDE_SHARE * step;
                let slope = SLOPE_SHARE * step;
                // A blend is a slope between the window's two sides: a nearer and a farther
                // neighbour. A pixel of a third surface between the two (a subject between a
                // foreground and the background) has its own neighbours.
                let undecided = near[i] > far[i] * STEP_RATIO
                    && q < near[i] - margin
                    && q > far[i] + margin
                    && {
                        // The 3 x 3 neighbours, only for the few pixels that get this far.
                        let (mut above, mut below) = (q, q);
                        for sy in y.saturating_sub(1)..=(y + 1).min(height - 1) {
                            for sx in x.saturating_sub(1)..=(x + 1).min(width - 1) {
                                above = above.max(inverse[sy * width + sx]);
                                below = below.min(inverse[sy * width + sx]);
                            }
                        }
                        above > q + slope && below < q - slope
                    };
                if undecided {
                    let own = &colour[i * 3..i * 3 + 3];
                    let (mut closest_near, mut closest_far) = (f32::INFINITY, f32::INFINITY);
                    for sy in y.saturating_sub(r)..=(y + r).min(height - 1) {
                        // The image continues as its edge beyond it: clamped columns repeat.
                        for dx in -(r as isize)..=r as isize {
                            let sx = (x as isize + dx).clamp(0, width as isize - 1) as usize;
                            let j = sy * width + sx;
                            let distance: f32 = own
                                .iter()
                                .zip(&colour[j * 3..j * 3 + 3])
                                .map(|(a, b)| (b - a) * (b - a))
                                .sum();
                            if inverse[j] >= near[i] - margin {
                                closest_near = closest_near.min(distance);
                            }
                            if inverse[j] <= far[i] + margin {
                                closest_far = closest_far.min(distance);
                            }
                        }
                    }
                    let side = if closest_near <= closest_far {
                        near[i]
                    } else {
                        far[i]
                    };
                    *out = 1.0 / side;
                }
            }
        });
    Ok(sharpened)
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
        .for_each(|(out, row)| {
            for (x, value) in out.iter_mut().enumerate() {
                let span = &row[x.saturating_sub(radius)..=(x + radius).min(width - 1)];
                *value = span.iter().copied().reduce(pick).unwrap_or(row[x]);
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
