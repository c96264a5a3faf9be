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
use crate::gather::first_where;

/// How far across an edge the two sides are looked for: wider than a network's blend.
pub const WINDOW_RADIUS_PX: usize = 4;
/// Nearest over farthest inverse depth in the window above which it holds an edge.
pub const STEP_RATIO: f32 = 1.1;
/// Within this share of the step from one side's inverse depth, a pixel belongs to that side.
pub const SIDE_SHARE: f32 = 0.1;
/// A blended pixel's nearer and farther neighbours differ from it by at least this share.
pub const SLOPE_SHARE: f32 = 0.02;
/// A blend ends within a network's few pixels, a plane goes on. The span of inverse depth along
/// the line down a pixel's slope, this far each way, holds the whole of a blend up to 7 px wide...
pub const WIDE_RADIUS_PX: usize = 6;
/// ...so this far each way a blended pixel's span grows by less than CONTAINED_GROWTH; a
/// plane's grows by 9/6 (less where the frame's edge cuts the line).
pub const WIDER_RADIUS_PX: usize = 9;
pub const CONTAINED_GROWTH: f32 = 1.15;
/// A near pixel looks like the far side when its colour is within this share of the window's
/// colour contrast (its distance to the near colour most unlike it) of a far pixel's colour.
pub const FAR_LOOK_SHARE: f32 = 0.1;
/// Below this colour contrast (in cube roots of linear light) the sides cannot be told apart.
pub const MIN_CONTRAST: f32 = 0.05;
/// Two sides of one material (an arm over its sleeve, leaf over leaf) match in colour pixel by
/// pixel wherever they are textured. A near pixel's match with the far side is evidence of a
/// fattened band only where the sides' mean colours lie apart by more than this share of the far
/// side's own spread (squared distances: the far pixels' variance about their mean)...
pub const SEPARATION_SHARE: f32 = 0.25;
/// ...the sides' pixels taken this far around it: past a fattened band (a few pixels) into the
/// object's own colour, and enough of them that a texture's means are steady.
pub const SIDES_RADIUS_PX: usize = 6;
/// A thin ridge is looked for along profiles this far each way: its structure (up to a few
/// pixels) and a network's blend on both sides of it (up to 7 px) fit between the ends.
pub const RIDGE_RADIUS_PX: usize = 6;
/// Within this share of a ridge's span of inverse depth a pixel is at its top, or (its two
/// ends) at the profile's far side, whose depth they then give.
pub const RIDGE_LEVEL_SHARE: f32 = 0.05;
/// A thin structure blended by a network keeps a top of at most this many pixels along its
/// profile (a 1 px hair blended over 7 px leaves a plateau 7 px wide)...
pub const MAX_BLENDED_TOP_PX: usize = 7;
/// ...and its depth spreads over at least this many pixels of it; exact depth of a hair
/// sampled at pixel centres is near in a pixel or two and far beside them.
pub const MIN_BLEND_PX: usize = 5;
/// A profile's ends lie below this share of its span above its least inverse depth: at its far
/// side, or where structures are dense, on a neighbour's blend.
pub const DENSE_END_SHARE: f32 = 0.5;
/// A ridge's top whose inverse depth is shared (within this share) by more than a quarter of
/// the ridge's window is a surface's depth, not a blend's crest over a thin structure.
pub const SURFACE_SHARE: f32 = 0.02;
/// A blended line's ridge goes on at least this far along the line both ways (a corner's
/// top, no wider than MAX_BLENDED_TOP_PX across, ends within this of its tip), and does not
/// run into a nearer surface there (a corner's top runs into its own surface).
pub const ALONG_REACH_PX: usize = 4;
/// The structure's own colour is the one least like the far side's within this radius.
pub const STRUCTURE_COLOUR_RADIUS_PX: usize = 4;
/// Below this linear-light distance from the far side a structure's colour cannot be told.
pub const MIN_LINEAR_CONTRAST: f32 = 0.02;
/// A ridge is blended when its top holds less than this share of the near depth its mass
/// gives (exact depth holds all of it)...
pub const BLENDED_SHARE: f32 = 0.5;
/// ...and that depth is believed up to this share beyond the nearest depth of the whole map
/// (clamped to it). A fattened ridge, near depth over a band of far colour, has several times
/// the mass its colour accounts for.
pub const PLAUSIBLE_OVERSHOOT: f32 = 1.5;
/// A pixel of a ridge's profile shows its structure when its colour is at least this share of
/// the way from the far side's to the structure's.
pub const COVERED_SHARE: f32 = 0.5;
/// How far from a ridge's top along its profile a pixel may show its structure, for the top to
/// lie between two that do.
pub const COVERED_REACH_PX: usize = 3;
/// A pixel partly covered by a thin structure takes the structure's depth from this share of
/// the way to its colour (instead of COVERED_SHARE) where the far side around it is smooth.
pub const MIXED_SHARE: f32 = 0.25;
/// Linear light at or above this, in any channel, is taken as clipped (the photo's white).
pub const CLIPPED_LINEAR: f32 = 0.99;

/// `depth` (metres, row-major, `width` wide) with its edges made to agree with the photo's
/// `colour` (3 values per pixel, cube roots of linear light: distance is about what the eye
/// sees): `lift_thin_ridges`, `snap_blended_bands` on its result, then `trim_fattened_bands`.
/// `nearest_m` is the nearest depth of the whole map (`depth` may be a strip of it), or None
/// for the nearest in `depth`.
pub fn sharpen_depth_edges(
    colour: &[f32],
    depth: &[f32],
    width: usize,
    nearest_m: Option<f32>,
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
    if let Some(index) = first_where(depth, |z| !(z.is_finite() && z > 0.0)) {
        return Err(DofError::BadDepth {
            x: index % width,
            y: index / width,
            value: depth[index],
        });
    }
    let nearest_m =
        nearest_m.unwrap_or_else(|| depth.iter().copied().fold(f32::INFINITY, f32::min));
    let lifted = lift_thin_ridges(colour, depth, width, 1.0 / nearest_m);
    // Each step changes the map it is given in place: a map's pages are not touched afresh.
    let snapped = snap_blended_bands(&Edges::new(colour, &lifted, width), lifted);
    Ok(trim_fattened_bands(
        &Edges::new(colour, &snapped, width),
        snapped,
    ))
}

/// The four directions a ridge's profile is read along: across rows, columns and diagonals.
const DIRECTIONS: [(isize, isize); 4] = [(1, 0), (0, 1), (1, 1), (1, -1)];
/// The direction square to each (a line crossed by one runs along the other).
const ALONG: [usize; 4] = [1, 0, 3, 2];

/// The top of a thin ridge of blended depth, with the near depth that its mass gives.
#[derive(Clone, Copy)]
struct Ridge {
    x: usize,
    inverse: f32,
    direction: usize,
    /// The linear-light distance from the far side's colour from which a pixel shows the
    /// structure, and takes the estimate.
    shown: f32,
    /// The inverse depth above which a pixel is on the ridge: its far ends' plus the level.
    floor: f32,
}

/// Thin structures (hair, twigs) given back the depth that a network's blend spread over the
/// far side around them. A blend moves inverse depth without creating it: across a ridge whose
/// two ends are far, the excess of inverse depth over the ends, summed, is the structure's
/// near-minus-far inverse depth times its width, and the photo gives that width as the summed
/// coverage of the structure's colour (linear light mixes linearly). Where structures are dense
/// and an end lies on a neighbour's blend, the far side's depth is the window's farthest. Along
/// the direction that crosses the ridge most squarely (least coverage), a ridge's top whose
/// inverse depth holds under BLENDED_SHARE of that estimate is blended, and the pixels of its
/// profile that show the structure take the estimate. Exact depth holds the whole of it and is
/// left alone.
fn lift_thin_ridges(colour: &[f32], depth: &[f32], width: usize, nearest: f32) -> Vec<f32> {
    let height = depth.len() / width;
    let inverse: Vec<f32> = depth.par_iter().map(|z| 1.0 / z).collect();
    // Linear light, from the cube roots; computed where asked (few pixels are), not stored.
    let linear = |i: usize| {
        let c = &colour[3 * i..3 * i + 3];
        [c[0] * c[0] * c[0], c[1] * c[1] * c[1], c[2] * c[2] * c[2]]
    };
    // The pixel (dx, dy) from (x, y), and the one `steps` steps of (dx, dy) from it; beyond the
    // image's sides the image continues as its edge.
    let offset = |x: usize, y: usize, dx: isize, dy: isize| {
        let sx = (x as isize + dx).clamp(0, width as isize - 1) as usize;
        let sy = (y as isize + dy).clamp(0, height as isize - 1) as usize;
        sy * width + sx
    };
    let at = |x, y, steps: isize, (dx, dy): (isize, isize)| offset(x, y, steps * dx, steps * dy);
    let radius = RIDGE_RADIUS_PX as isize;
    // The colours of a profile's two ends, and a pixel's distance from the nearer of them.
    let ends_of = |x, y, step| {
        [
            linear(at(x, y, -radius, step)),
            linear(at(x, y, radius, step)),
        ]
    };
    let from_ends = |i: usize, ends: &[[f32; 3]; 2]| {
        let own = linear(i);
        ends.iter()
            .map(|end| {
                own.iter()
                    .zip(end)
                    .map(|(a, b)| (a - b) * (a - b))
                    .sum::<f32>()
            })
            .fold(f32::INFINITY, f32::min)
            .sqrt()
    };
    // Without a step within a profile's reach there is no ridge: most pixels end there.
    let (near, far) = window_extremes(&inverse, width, RIDGE_RADIUS_PX);
    let ridge_at = |x: usize, y: usize| -> Option<Ridge> {
        let (i, q) = (y * width + x, inverse[y * width + x]);
        if near[i] <= far[i] * STEP_RATIO {
            return None;
        }
        let window_far = far[i];
        // A profile's extremes are within the window's, so a pixel of it above this puts the
        // top's level above q: q is no top. (A fifth over the level, clear of rounding.)
        let above_the_top = q + 1.2 * RIDGE_LEVEL_SHARE * (near[i] - window_far);
        // (coverage, ridge) along the direction crossing it most squarely.
        let mut best: Option<(f32, Ridge)> = None;
        'directions: for (direction, &step) in DIRECTIONS.iter().enumerate() {
            let profile = || (-radius..=radius).map(|k| inverse[at(x, y, k, step)]);
            // From q outwards: on most profiles that are no ridge, a nearer pixel comes soon.
            let (mut far, mut top) = (q, q);
            for k in 1..=radius {
                for v in [inverse[at(x, y, -k, step)], inverse[at(x, y, k, step)]] {
                    if v > above_the_top {
                        continue 'directions;
                    }
                    (far, top) = (smaller(far, v), larger(top, v));
                }
            }
            let ends = [
                inverse[at(x, y, -radius, step)],
                inverse[at(x, y, radius, step)],
            ];
            let level = RIDGE_LEVEL_SHARE * (top - far);
            if q < top - level || top <= far * STEP_RATIO {
                continue;
            }
            // Where structures are dense an end may sit on a neighbour's blend instead: in the
            // lower half of the ridge (an end in the upper half is on the top's own plateau),
            // past a dip where the neighbour's blend rises again, or on a shoulder of it below
            // a top that is a blend's crest. An end down the ridge's own slope below a top of a
            // surface's depth is a surface's blended corner, not a thin structure crossed.
            let ends_far = ends.iter().all(|&e| e <= far + level);
            if ends
                .iter()
                .any(|&end| end > far + DENSE_END_SHARE * (top - far))
            {
                continue;
            }
            let far_or_past_a_dip = |side: isize, end: f32| {
                let dip = (0..radius)
                    .map(|k| inverse[at(x, y, side * k, step)])
                    .fold(f32::INFINITY, f32::min);
                end <= far + level || end > dip + level
            };
            // `value` is a surface's depth when more than a quarter of the window around (x, y)
            // moved by (dx, dy) shares it.
            let surface_at = |dx: isize, dy: isize, value: f32| {
                let shared = (-radius..=radius)
                    .flat_map(|sy| (-radius..=radius).map(move |sx| offset(x, y, dx + sx, dy + sy)))
                    .filter(|&j| (inverse[j] - value).abs() <= SURFACE_SHARE * value)
                    .count();
                let window = (2 * RIDGE_RADIUS_PX + 1).pow(2);
                4 * shared > window
            };
            let ends_down_its_slope =
                !(far_or_past_a_dip(-1, ends[0]) && far_or_past_a_dip(1, ends[1]));
            if ends_down_its_slope && surface_at(0, 0, top) {
                continue;
            }
            // A blend spreads a thin structure over at most a blend's width: a wider top is a
            // surface of its own (exact depth), or a fattened one.
            if profile().filter(|&v| v >= top - level).count() > MAX_BLENDED_TOP_PX {
                continue;
            }
            // Above this a pixel is of the ridge's depth, not the far side's.
            let on_ridge = far + level;
            // A blend spreads a structure's depth over a few pixels each way: a ridge narrower
            // than that is a structure's own depth (where the structure is thinner than the
            // pixels that sampled its depth, its coverage is less than its mass).
            let on_ridge_towards = |side: isize| {
                (1..=radius)
                    .take_while(|&k| inverse[at(x, y, side * k, step)] > on_ridge)
                    .count()
            };
            if 1 + on_ridge_towards(-1) + on_ridge_towards(1) < MIN_BLEND_PX {
                continue;
            }
            // A line goes on along itself both ways; a surface's corner, as thin as a line near
            // its tip across the diagonal out of it, ends a few pixels along that diagonal one
            // way, and runs into the surface the other way.
            let (along_x, along_y) = DIRECTIONS[ALONG[direction]];
            let reach = ALONG_REACH_PX as isize;
            if [-reach, reach].iter().any(|&k| {
                let v = inverse[at(x, y, k, (along_x, along_y))];
                v <= on_ridge || (v > top + level && surface_at(k * along_x, k * along_y, v))
            }) {
                continue;
            }
            let colours = ends_of(x, y, step);
            let r = STRUCTURE_COLOUR_RADIUS_PX as isize;
            // Only pixels of this ridge's depth may give its colour, not a nearer object's.
            let (contrast, structure) = (-r..=r)
                .flat_map(|sy| (-r..=r).map(move |sx| offset(x, y, sx, sy)))
                .filter(|&j| inverse[j] > on_ridge && inverse[j] <= top + level)
                .map(|j| (from_ends(j, &colours), j))
                .fold(
                    (0.0f32, i),
                    |best, next| if next.0 > best.0 { next } else { best },
                );
            // The top shows the structure, or lies between two pixels that show it (where two
            // structures' blends overlap, the top is between them): a top of the far side's
            // colour with the structure on one side only (an end that shows the structure, a
            // pixel that the depth's sample missed) tells nothing of it. A structure at the
            // photo's white (a small light) has lost its linear value to clipping, so its
            // coverage cannot be measured.
            let shows =
                |k: isize| from_ends(at(x, y, k, step), &colours) >= COVERED_SHARE * contrast;
            let reach = COVERED_REACH_PX as isize;
            let shown = shows(0) || ((1..=reach).any(|k| shows(-k)) && (1..=reach).any(shows));
            if contrast < MIN_LINEAR_CONTRAST
                || !shown
                || linear(structure).iter().any(|&v| v >= CLIPPED_LINEAR)
            {
                continue;
            }
            let coverage: f32 = (-radius..=radius)
                .map(|k| from_ends(at(x, y, k, step), &colours).min(contrast) / contrast)
                .sum();
            // The far side's depth: the ends', or where they are not far, the window's farthest.
            let far_end = if ends_far {
                0.5 * (ends[0] + ends[1])
            } else {
                window_far
            };
            let mass: f32 = profile().map(|v| v - far_end).sum();
            let estimate = far_end + mass / coverage;
            let blended = q - far_end < BLENDED_SHARE * (estimate - far_end);
            let plausible = estimate - far_end < PLAUSIBLE_OVERSHOOT * (nearest - far_end);
            if blended && plausible && best.is_none_or(|(least, _)| coverage < least) {
                let inverse = estimate.min(nearest);
                // A pixel a share `a` covered by the structure, rendered at its depth, keeps
                // its far part sharp where the truth blurs it: an error of about (1 - a) times
                // the far side's texture (here: its two ends' difference); at the far depth it
                // loses a * contrast. So it takes the structure's depth from a > t / (c + t),
                // and from COVERED_SHARE (most of it covered) whatever the texture.
                let texture = colours[0]
                    .iter()
                    .zip(&colours[1])
                    .map(|(a, b)| (a - b) * (a - b))
                    .sum::<f32>()
                    .sqrt();
                let share = (texture / (contrast + texture)).clamp(MIXED_SHARE, COVERED_SHARE);
                best = Some((
                    coverage,
                    Ridge {
                        x,
                        inverse,
                        direction,
                        shown: share * contrast,
                        floor: far_end + level,
                    },
                ));
            }
        }
        best.map(|(_, ridge)| ridge)
    };
    // Rows one by one: the ridges are often all in a few of them.
    let ridges: Vec<Vec<Ridge>> = (0..height)
        .into_par_iter()
        .with_max_len(1)
        .map(|y| (0..width).filter_map(|x| ridge_at(x, y)).collect())
        .collect();
    // Each pixel on the ridge within a profile's reach of its top (RIDGE_RADIUS_PX, in x and in
    // y) that shows the structure takes its estimate (the nearest, where several reach it):
    // along the structure as well as across it, since only some of a blended hair's pixels are
    // tops. A pixel of the far side's depth is not on the ridge, whatever its colour.
    let mut out = depth.to_vec();
    out.par_chunks_exact_mut(width)
        .enumerate()
        .with_max_len(1)
        .for_each(|(y, row)| {
            let rows = y.saturating_sub(RIDGE_RADIUS_PX)..(y + RIDGE_RADIUS_PX + 1).min(height);
            for (top_y, ridge) in
                rows.flat_map(|top_y| ridges[top_y].iter().map(move |r| (top_y, r)))
            {
                let colours = ends_of(ridge.x, top_y, DIRECTIONS[ridge.direction]);
                let columns = ridge.x.saturating_sub(RIDGE_RADIUS_PX)
                    ..(ridge.x + RIDGE_RADIUS_PX + 1).min(width);
                for x in columns {
                    let z = &mut row[x];
                    if ridge.inverse > 1.0 / *z
                        && 1.0 / *z > ridge.floor
                        && from_ends(y * width + x, &colours) >= ridge.shown
                    {
                        *z = 1.0 / ridge.inverse;
                    }
                }
            }
        });
    out
}

/// Each pixel of a blended edge band snapped to the near or the far side of its window: the side
/// holding the pixel of nearest colour. A pixel on the near side but pulled off it by the blend
/// (the band's near tail) takes the depth of the nearest pixel of that side the blend left
/// alone. Other pixels already on a side, and windows without an edge, keep their depth.
fn snap_blended_bands(edges: &Edges, depth: Vec<f32>) -> Vec<f32> {
    // The window's offsets, nearest first.
    let r = WINDOW_RADIUS_PX as isize;
    let mut nearest_first: Vec<(isize, isize)> = (-r..=r)
        .flat_map(|dy| (-r..=r).map(move |dx| (dx, dy)))
        .collect();
    nearest_first.sort_by_key(|&(dx, dy)| dx * dx + dy * dy);
    edges.map(depth, |i, x, y| {
        let q = edges.inverse[i];
        if !edges.has_edge(i) {
            return None;
        }
        let slope = SLOPE_SHARE * edges.step(i);
        // The 3 x 3 neighbours' extremes, and whether one is in the middle of the window's
        // span (a blend's): only for the few pixels that get this far.
        let neighbours = |i: usize, x: usize, y: usize| {
            let (mut above, mut below, mut blended) = (f32::MIN, f32::MAX, false);
            edges.for_window(x, y, 1, |j| {
                let v = edges.inverse[j];
                (above, below) = (above.max(v), below.min(v));
                blended |= !edges.is_near(i, v) && !edges.is_far(i, v);
            });
            (above, below, blended)
        };
        if edges.is_near(i, q) {
            // A blend's near tail: on a slope, beside the blend.
            if q >= edges.near[i] {
                return None;
            }
            let (above, below, blended) = neighbours(i, x, y);
            if above - below < slope || !blended {
                return None;
            }
            // A pixel of the near side off the slopes: what the blend left alone.
            return nearest_first.iter().find_map(|&(dx, dy)| {
                let (sx, sy) = (x as isize + dx, y as isize + dy);
                if sx < 0 || sy < 0 || sx >= edges.width as isize || sy >= edges.height as isize {
                    return None;
                }
                let (sx, sy) = (sx as usize, sy as usize);
                let j = sy * edges.width + sx;
                let v = edges.inverse[j];
                let (above, below, _) = neighbours(j, sx, sy);
                (edges.is_near(i, v) && above - below < slope).then_some(v)
            });
        }
        // A blend is a slope between the window's two sides: a nearer and a farther neighbour.
        // A pixel of a third surface between the two (a subject between a foreground and the
        // background) has its own neighbours. A plane (a floor receding) is a slope too, but
        // one that goes on down its slope past the window, whatever surface lies beside it:
        // read over the windows around it, an object beside a floor hid the floor's going on.
        let undecided = !edges.is_far(i, q)
            && {
                let line = edges.down_the_slope(x, y);
                let span = |radius: usize| {
                    let radius = radius as isize;
                    let values = (-radius..=radius).filter_map(&line);
                    values.clone().fold(q, larger) - values.fold(q, smaller)
                };
                span(WIDER_RADIUS_PX) < CONTAINED_GROWTH * span(WIDE_RADIUS_PX)
            }
            && {
                let (above, below, _) = neighbours(i, x, y);
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
/// depth, where the sides differ in colour on the whole (`Edges::sides_apart`) and such pixels
/// form a band more than a pixel deep: most of its 3 x 3 neighbours look far too, and one of
/// them has no far neighbour. A near outline of exact depth has far neighbours all along it, so
/// its anti-aliased pixels, and a hair one pixel wide, keep their depth; a textured surface whose
/// colours recur in the far side's texture matches it here and there, not in bands; one over
/// more of its own material matches it everywhere, but so does its far side on the whole.
fn trim_fattened_bands(edges: &Edges, depth: Vec<f32>) -> Vec<f32> {
    // Per pixel: the far depth it would take, and whether it is inside the band.
    let looks_far: Vec<Option<(f32, bool)>> = (0..edges.inverse.len())
        .into_par_iter()
        // A row at a time: the edges are often all in a few rows.
        .with_min_len(edges.width)
        .with_max_len(edges.width)
        .map(|i| {
            let (x, y) = (i % edges.width, i / edges.width);
            if !(edges.has_edge(i) && edges.is_near(i, edges.inverse[i])) {
                return None;
            }
            let colours = edges.window_colours(i, x, y);
            let contrast = colours.farthest_near;
            (contrast > MIN_CONTRAST * MIN_CONTRAST
                && colours.closest_far < FAR_LOOK_SHARE * FAR_LOOK_SHARE * contrast
                && edges.sides_apart(i, x, y))
            .then(|| {
                let mut inside = true;
                edges.for_window(x, y, 1, |j| inside &= !edges.is_far(i, edges.inverse[j]));
                (colours.closest_far_inverse, inside)
            })
        })
        .collect();
    edges.map(depth, |i, x, y| {
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

/// Sums over one side's pixels of a window: colour, squared colour, count.
#[derive(Default)]
struct ColourSums {
    colour: [f32; 3],
    square: f32,
    count: f32,
}

impl ColourSums {
    fn add(&mut self, colour: &[f32]) {
        for (sum, value) in self.colour.iter_mut().zip(colour) {
            *sum += value;
        }
        self.square += colour.iter().map(|v| v * v).sum::<f32>();
        self.count += 1.0;
    }

    fn mean(&self) -> [f32; 3] {
        self.colour.map(|sum| sum / self.count)
    }

    /// The mean squared distance of the colours from their mean.
    fn spread(&self) -> f32 {
        let mean = self.mean();
        (self.square / self.count - mean.iter().map(|m| m * m).sum::<f32>()).max(0.0)
    }
}

impl<'a> Edges<'a> {
    fn new(colour: &'a [f32], depth: &[f32], width: usize) -> Self {
        let inverse: Vec<f32> = depth.par_iter().map(|z| 1.0 / z).collect();
        let r = WINDOW_RADIUS_PX;
        let (near, far) = window_extremes(&inverse, width, r);
        Edges {
            colour,
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

    /// The inverse depth along the line through (x, y) down its steepest slope (of the four
    /// `DIRECTIONS`), k steps from it (None beyond the frame).
    fn down_the_slope(&self, x: usize, y: usize) -> impl Fn(isize) -> Option<f32> + '_ {
        let along = move |(dx, dy): (isize, isize), k: isize| {
            let (sx, sy) = (x as isize + k * dx, y as isize + k * dy);
            let inside =
                (0..self.width as isize).contains(&sx) && (0..self.height as isize).contains(&sy);
            inside.then(|| self.inverse[sy as usize * self.width + sx as usize])
        };
        let q = self.inverse[y * self.width + x];
        let fall = |step: (isize, isize)| {
            let length = if step.0 != 0 && step.1 != 0 {
                2f32.sqrt()
            } else {
                1.0
            };
            (along(step, 1).unwrap_or(q) - along(step, -1).unwrap_or(q)).abs() / length
        };
        let steepest = DIRECTIONS
            .into_iter()
            .max_by(|&a, &b| fall(a).total_cmp(&fall(b)))
            .unwrap_or(DIRECTIONS[0]);
        move |k| along(steepest, k)
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

    /// Whether the two sides of pixel i's edge differ in colour on the whole, not only pixel by
    /// pixel: over the pixels within SIDES_RADIUS_PX, their means lie apart by more than
    /// SEPARATION_SHARE of the far side's spread about its mean.
    fn sides_apart(&self, i: usize, x: usize, y: usize) -> bool {
        let (mut near, mut far) = (ColourSums::default(), ColourSums::default());
        self.for_window(x, y, SIDES_RADIUS_PX, |j| {
            let q = self.inverse[j];
            let colour = &self.colour[j * 3..j * 3 + 3];
            if self.is_near(i, q) {
                near.add(colour);
            } else if self.is_far(i, q) {
                far.add(colour);
            }
        });
        let (near_mean, far_mean) = (near.mean(), far.mean());
        let apart: f32 = near_mean
            .iter()
            .zip(far_mean)
            .map(|(n, f)| (n - f) * (n - f))
            .sum();
        apart > SEPARATION_SHARE * far.spread()
    }

    /// `depth`, the map these edges are of, with each pixel for which `side` gives an inverse
    /// depth changed to it (`side` reads the edges, not `depth`).
    fn map(
        &self,
        mut out: Vec<f32>,
        side: impl Fn(usize, usize, usize) -> Option<f32> + Sync,
    ) -> Vec<f32> {
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

/// Output rows of `window_extremes` done at once (each reads 2 radius more).
const EXTREME_ROWS: usize = 16;

// f32::max and min order NaNs, which costs a compare and a blend per value (the values here are
// finite: depth is checked first).
fn larger(a: f32, b: f32) -> f32 {
    if a > b {
        a
    } else {
        b
    }
}

fn smaller(a: f32, b: f32) -> f32 {
    if a < b {
        a
    } else {
        b
    }
}

/// The largest and the smallest value in the (2 radius + 1)-square around each value, the image
/// continued as its edge values (the values are finite: depth is checked first).
fn window_extremes(values: &[f32], width: usize, radius: usize) -> (Vec<f32>, Vec<f32>) {
    let height = values.len() / width;
    let window = 2 * radius + 1;
    let mut largest = vec![0.0f32; values.len()];
    let mut smallest = vec![0.0f32; values.len()];
    largest
        .par_chunks_mut(EXTREME_ROWS * width)
        .zip(smallest.par_chunks_mut(EXTREME_ROWS * width))
        .enumerate()
        .for_each(|(block, (largest, smallest))| {
            let first = block * EXTREME_ROWS;
            let rows = largest.len() / width;
            // Along each row the block reads (past the image's edges its edge values repeat),
            // then down the columns.
            let (mut padded, mut scratch) = (Vec::new(), Vec::new());
            let (mut row_largest, mut row_smallest) = (Vec::new(), Vec::new());
            for y in first as isize - radius as isize..(first + rows + radius) as isize {
                let y = y.clamp(0, height as isize - 1) as usize;
                let row = &values[y * width..(y + 1) * width];
                let pad = |padded: &mut Vec<f32>| {
                    padded.clear();
                    padded.extend(std::iter::repeat_n(row[0], radius));
                    padded.extend_from_slice(row);
                    padded.extend(std::iter::repeat_n(row[width - 1], radius));
                };
                pad(&mut padded);
                slide(&mut padded, &mut scratch, 1, window, larger);
                row_largest.extend_from_slice(&padded);
                pad(&mut padded);
                slide(&mut padded, &mut scratch, 1, window, smaller);
                row_smallest.extend_from_slice(&padded);
            }
            slide(&mut row_largest, &mut scratch, width, window, larger);
            slide(&mut row_smallest, &mut scratch, width, window, smaller);
            largest.copy_from_slice(&row_largest);
            smallest.copy_from_slice(&row_smallest);
        });
    (largest, smallest)
}

/// `values` made the `pick` (larger or smaller) of each run of `window` groups from each group
/// on (a group: `group` values, a value or a row), for the groups a whole window follows; the
/// rest is cut off. By doubling: runs of 2, 4, ... up to the largest power of two within the
/// window, then two such runs that overlap. `scratch`: a buffer to reuse.
fn slide(
    values: &mut Vec<f32>,
    scratch: &mut Vec<f32>,
    group: usize,
    window: usize,
    pick: impl Fn(f32, f32) -> f32,
) {
    let kept = values.len() + group - window * group;
    let mut step = |values: &mut Vec<f32>, shift: usize| {
        scratch.clear();
        scratch.extend(
            values
                .iter()
                .zip(&values[shift..])
                .map(|(&a, &b)| pick(a, b)),
        );
        std::mem::swap(values, scratch);
    };
    let mut run = 1;
    while 2 * run <= window {
        step(values, run * group);
        run *= 2;
    }
    step(values, (window - run) * group);
    values.truncate(kept);
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
        let sharp = sharpen_depth_edges(&colour, &depth, width, None).unwrap();
        for y in 0..9 {
            for x in 0..width {
                let expected = if x < edge { 1.0 } else { 10.0 };
                let z = sharp[y * width + x];
                assert!((z - expected).abs() < 1e-3 * expected, "({x}, {y}): {z}");
            }
        }
    }

    #[test]
    fn a_blends_near_tail_takes_the_depth_the_blend_left_alone() {
        // A receding surface (1 m at its left, 0.4 % farther per pixel) left of column 16, the
        // far side at 10 m, blended across the edge with weights 1, 2, 3, 4, 3, 2, 1: column
        // 13 is pulled a sixteenth of the step toward the far side, which the side's tenth
        // of tolerance keeps on the near side.
        let (width, height, edge) = (31, 9, 16);
        let surface = |x: usize| 1.0 - 0.004 * x as f32;
        let inverse: Vec<f32> = (0..width * height)
            .map(|i| {
                if i % width < edge {
                    surface(i % width)
                } else {
                    0.1
                }
            })
            .collect();
        let blended: Vec<f32> = (0..width * height)
            .map(|i| {
                let (x, row) = (i % width, i - i % width);
                let weighed = (-3..=3isize).map(|k| {
                    let sx = (x as isize + k).clamp(0, width as isize - 1) as usize;
                    ((4 - k.abs()) as f32, inverse[row + sx])
                });
                let (total, sum) = weighed.fold((0.0, 0.0), |(t, s), (w, q)| (t + w, s + w * q));
                total / sum
            })
            .collect();
        let colour = vec![0.5f32; width * height * 3];
        let sharpened = sharpen_depth_edges(&colour, &blended, width, None).unwrap();
        let tail = 4 * width + 13;
        assert!(
            (blended[tail] * surface(13) - 1.0).abs() > 0.05,
            "the blend's pull"
        );
        // The nearest pixel off the blend's slope is two columns in.
        let expected = 1.0 / surface(11);
        assert!(
            (sharpened[tail] / expected - 1.0).abs() < 1e-6,
            "{} m, expected {expected} m",
            sharpened[tail]
        );
    }

    #[test]
    fn a_fattened_outline_gives_its_band_back_to_the_far_side() {
        let (width, edge) = (24, 12);
        let (exact, colour) = blended_step(width, edge, 0);
        // The near depth runs 3 px into the far side's colour, as a network fattens it.
        let (fattened, _) = blended_step(width, edge + 3, 0);
        assert_eq!(
            sharpen_depth_edges(&colour, &fattened, width, None).unwrap(),
            exact
        );
    }

    /// A near disc of radius `radius` (depth 1 m) over a farther surface (1.8 m), their colours
    /// `near` and `far` (linear light), the brightness of each pixel varying by up to 30 % (a
    /// fixed pseudo-random sequence), and the colours' edge at a radius of 12 px.
    fn textured_disc(
        width: usize,
        radius: f32,
        near: [f32; 3],
        far: [f32; 3],
    ) -> (Vec<f32>, Vec<f32>) {
        let mut state = 12345u32;
        let mut colour = Vec::with_capacity(width * width * 3);
        let mut depth = Vec::with_capacity(width * width);
        for i in 0..width * width {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let shade = 0.7 + 0.6 * (state >> 8) as f32 / (1u32 << 24) as f32;
            let (x, y) = ((i % width) as f32 - 20.0, (i / width) as f32 - 20.0);
            let squared = x * x + y * y;
            let material = if squared < 144.0 { near } else { far };
            // Cube roots of linear light, as `sharpen_depth_edges` takes them.
            colour.extend(material.map(|c| (c * shade).cbrt()));
            depth.push(if squared < radius * radius { 1.0 } else { 1.8 });
        }
        (colour, depth)
    }

    #[test]
    fn an_object_over_more_of_its_own_material_keeps_its_exact_depth() {
        // Texture alone matches the far side pixel by pixel: without the sides' means apart,
        // bands of the disc's rim took the far depth (234 of its pixels).
        let (width, brown) = (40, [0.5, 0.3, 0.2]);
        let (colour, depth) = textured_disc(width, 12.0, brown, brown);
        let sharpened = sharpen_depth_edges(&colour, &depth, width, None).unwrap();
        let moved = sharpened.iter().zip(&depth).filter(|(a, b)| a != b).count();
        assert_eq!(moved, 0);
        // The same textures, the disc over a blue surface and its depth fattened by 3 px:
        // most of the band goes back to the far side.
        let (colour, fattened) = textured_disc(width, 15.0, brown, [0.2, 0.4, 0.6]);
        let (_, exact) = textured_disc(width, 12.0, brown, brown);
        let sharpened = sharpen_depth_edges(&colour, &fattened, width, None).unwrap();
        let wrong = |map: &[f32]| map.iter().zip(&exact).filter(|(a, b)| a != b).count();
        println!(
            "fattened band: {} px, after: {} px",
            wrong(&fattened),
            wrong(&sharpened)
        );
        assert!(wrong(&sharpened) * 4 < wrong(&fattened));
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
        assert_eq!(
            sharpen_depth_edges(&colour, &depth, width, None).unwrap(),
            depth
        );
    }

    /// A dark vertical line one pixel wide at 1 m (column `line`) over a light background at
    /// 10 m, 15 x 15: (exact depth, colour).
    fn thin_line(line: usize) -> (Vec<f32>, Vec<f32>) {
        let width = 15;
        let mut depth = vec![10.0f32; width * width];
        let mut colour = vec![0.8f32; width * width * 3];
        for y in 0..width {
            depth[y * width + line] = 1.0;
            colour[(y * width + line) * 3..][..3].copy_from_slice(&[0.2, 0.15, 0.1]);
        }
        (depth, colour)
    }

    /// Inverse depth averaged over the (2 radius + 1) columns around each pixel: a network's
    /// blend across a vertical structure.
    fn blended_across(depth: &[f32], width: usize, radius: usize) -> Vec<f32> {
        (0..depth.len())
            .map(|i| {
                let (x, row) = (i % width, i - i % width);
                let columns = x.saturating_sub(radius)..(x + radius + 1).min(width);
                let sum: f32 = columns.clone().map(|sx| 1.0 / depth[row + sx]).sum();
                columns.len() as f32 / sum
            })
            .collect()
    }

    #[test]
    fn a_thin_line_blended_into_the_background_gets_its_depth_back() {
        let (exact, colour) = thin_line(7);
        let blended = blended_across(&exact, 15, 3);
        assert!(
            blended[7] > 4.0,
            "the blend leaves the line at {} m",
            blended[7]
        );
        // The map holds a subject at 1 m elsewhere (a head to this hair): nothing is lifted
        // nearer than the nearest depth of the map.
        let alone = sharpen_depth_edges(&colour, &blended, 15, None).unwrap();
        assert!(alone[7] > 4.0);
        let lifted = sharpen_depth_edges(&colour, &blended, 15, Some(1.0)).unwrap();
        for (i, (&z, &given)) in lifted.iter().zip(&blended).enumerate() {
            if i % 15 == 7 {
                assert!((z - 1.0).abs() < 0.01, "line pixel {i}: {z} m");
            } else {
                // The blended far side around it is left to the snapping of blended bands,
                // which takes a plateau's pixels for a surface of their own.
                assert_eq!(z, given, "pixel {i}");
            }
        }
    }

    #[test]
    fn a_blended_line_gets_its_depth_back_to_its_end() {
        // Rows 0 to 10 of column 7 hold the line. Tops within ALONG_REACH_PX of its end are no
        // line's (it does not go on), but the tops before them reach its last pixels.
        let (width, height) = (15, 21);
        let (line, _) = thin_line(7);
        let mut exact = vec![10.0f32; width * height];
        exact[..11 * width].copy_from_slice(&line[..11 * width]);
        let mut colour = vec![0.8f32; width * height * 3];
        for y in 0..11 {
            colour[(y * width + 7) * 3..][..3].copy_from_slice(&[0.2, 0.15, 0.1]);
        }
        let blended = blended_across(&exact, width, 3);
        // The lift alone: the snapping after it would take the last pixels to the line's side.
        let lifted = lift_thin_ridges(&colour, &blended, width, 1.0);
        for y in 0..11 {
            let z = lifted[y * width + 7];
            assert!((z - 1.0).abs() < 0.01, "line pixel ({y}, 7): {z} m");
        }
    }

    #[test]
    fn a_blended_line_beside_another_gets_its_depth_back() {
        // A line at 1 m and, 8 px from it, a fainter one at 5 m, both blended over 7 px: the
        // first line's profile ends on the second's blend, past the far side between them.
        let (width, height) = (31, 15);
        let mut exact = vec![10.0f32; width * height];
        let mut colour = vec![0.8f32; width * height * 3];
        for y in 0..height {
            for (x, z, c) in [(12, 1.0, [0.2, 0.15, 0.1]), (20, 5.0, [0.5; 3])] {
                exact[y * width + x] = z;
                colour[(y * width + x) * 3..][..3].copy_from_slice(&c);
            }
        }
        let blended = blended_across(&exact, width, 3);
        assert!(
            1.0 / blended[18] > 1.05 / blended[0],
            "the end is on a blend"
        );
        let lifted = sharpen_depth_edges(&colour, &blended, width, Some(1.0)).unwrap();
        for y in 3..12 {
            let z = lifted[y * width + 12];
            assert!((z - 1.0).abs() < 0.01, "line pixel ({y}, 12): {z} m");
        }
    }

    #[test]
    fn two_blended_lines_whose_blends_overlap_between_them_get_their_depth_back() {
        // Lines at 2 m in columns 9 and 14 before 10 m, blended over 7 px: the blends overlap in
        // columns 11 and 12, the profile's top, which shows the background between the lines.
        let width = 31;
        let mut exact = vec![10.0f32; width * 15];
        let mut colour = vec![0.8f32; width * 15 * 3];
        for y in 0..15 {
            for line in [9, 14] {
                exact[y * width + line] = 2.0;
                colour[(y * width + line) * 3..][..3].copy_from_slice(&[0.2, 0.15, 0.1]);
            }
        }
        let blended = blended_across(&exact, width, 3);
        let sharpened = sharpen_depth_edges(&colour, &blended, width, Some(1.0)).unwrap();
        for y in 4..11 {
            for line in [9, 14] {
                let z = sharpened[y * width + line];
                assert!((z / 2.0 - 1.0).abs() < 0.05, "({y}, {line}): {z}");
            }
        }
    }

    #[test]
    fn a_pixel_partly_covered_by_a_blended_line_takes_its_depth_where_the_far_side_is_smooth() {
        // A line at 1 m (column 7) before 10 m, and beside it a pixel the line covers 40 %
        // (column 8), blended over 7 px; the coverage in depth as in colour. Over a smooth far side the mixed pixel renders better
        // sharp; where the far side changes colour at the line (a texture), only the line does.
        let cube = |v: f32| v * v * v;
        let (line, width) = ([0.2f32, 0.15, 0.1], 15);
        for (right, lifted) in [(0.8f32, true), (0.55, false)] {
            let (mut exact, mut colour) = thin_line(7);
            for y in 0..width {
                for x in 8..width {
                    colour[(y * width + x) * 3..][..3].copy_from_slice(&[right; 3]);
                }
                let mixed = line.map(|l| (0.6 * cube(right) + 0.4 * cube(l)).cbrt());
                colour[(y * width + 8) * 3..][..3].copy_from_slice(&mixed);
                // Its depth as a network would see it: inverse depth mixed as the colour is.
                exact[y * width + 8] = 1.0 / (0.6 * 0.1 + 0.4 * 1.0);
            }
            let blended = blended_across(&exact, width, 3);
            let sharpened = sharpen_depth_edges(&colour, &blended, width, Some(1.0)).unwrap();
            for y in 4..11 {
                let (at_line, mixed) = (sharpened[y * width + 7], sharpened[y * width + 8]);
                assert!((at_line - 1.0).abs() < 0.05, "({y}, 7): {at_line}");
                assert_eq!(
                    (mixed - 1.0).abs() < 0.05,
                    lifted,
                    "({y}, 8), far side {right}: {mixed}"
                );
            }
        }
    }

    #[test]
    fn the_far_side_beside_a_blended_line_keeps_its_depth_whatever_its_colour() {
        // Blended over 5 px, so the square around a top reaches a pixel of the background
        // beyond the blend, a speck of the line's colour.
        let (exact, mut colour) = thin_line(7);
        let speck = 7 * 15 + 10;
        colour[speck * 3..][..3].copy_from_slice(&[0.2, 0.15, 0.1]);
        let blended = blended_across(&exact, 15, 2);
        let lifted = sharpen_depth_edges(&colour, &blended, 15, Some(1.0)).unwrap();
        assert!(
            (lifted[7 * 15 + 7] - 1.0).abs() < 0.01,
            "the line: {} m",
            lifted[7 * 15 + 7]
        );
        assert_eq!(lifted[speck], blended[speck]);
    }

    #[test]
    fn a_thin_line_of_exact_or_fattened_depth_is_not_lifted_nearer() {
        let (exact, colour) = thin_line(7);
        assert_eq!(
            sharpen_depth_edges(&colour, &exact, 15, None).unwrap(),
            exact
        );
        // Fattened by 3 px each way: the ridge has seven times the mass its colour accounts
        // for, an estimate far nearer than anything in the map. The band goes back to the far
        // side instead (trim_fattened_bands), leaving the line at its depth.
        let mut fattened = exact.clone();
        for (i, z) in fattened.iter_mut().enumerate() {
            if (i % 15).abs_diff(7) <= 3 {
                *z = 1.0;
            }
        }
        let nearest = Some(1.0);
        assert_eq!(
            sharpen_depth_edges(&colour, &fattened, 15, nearest).unwrap(),
            exact
        );
    }

    #[test]
    fn a_nearer_object_beside_a_blended_line_does_not_set_the_lines_colour() {
        // A pale line at 1 m, and 4 px beside it a dark speck at 0.5 m, the nearest depth,
        // whose colour is much farther from the background's. Taken for the line's colour,
        // the speck's would undercount the line's coverage and lift it to about 0.6 m.
        let (mut exact, mut colour) = thin_line(7);
        for i in (7..15 * 15).step_by(15) {
            colour[i * 3..][..3].copy_from_slice(&[0.6; 3]);
        }
        let speck = 7 * 15 + 11;
        exact[speck] = 0.5;
        colour[speck * 3..][..3].copy_from_slice(&[0.0; 3]);
        let blended = blended_across(&exact, 15, 3);
        let lifted = sharpen_depth_edges(&colour, &blended, 15, Some(0.5)).unwrap();
        for y in 0..15 {
            let z = lifted[y * 15 + 7];
            assert!(z > 0.98 && z < 1.02, "line at row {y}: {z} m");
        }
    }

    #[test]
    fn a_fattened_light_at_the_photos_white_is_not_lifted_nearer() {
        // A string of small lights at 15 m before a sky at 40 m, fattened by 3 px each way,
        // behind a subject at 1 m: a plateau with far ends, like a blended hair. Its mass over
        // its coverage says 3 m, which is plausible, but its colour is clipped, so its
        // coverage (linear light mixing linearly) says nothing.
        let (width, line) = (15, 7);
        let mut depth = vec![40.0f32; width * width];
        let mut colour = vec![0.3f32; width * width * 3];
        for (i, z) in depth.iter_mut().enumerate() {
            if (i % width).abs_diff(line) <= 3 {
                *z = 15.0;
            }
            if i % width == line {
                colour[i * 3..][..3].copy_from_slice(&[1.0, 1.0, 1.0]);
            }
        }
        let sharpened = sharpen_depth_edges(&colour, &depth, width, Some(1.0)).unwrap();
        for y in 0..width {
            assert_eq!(sharpened[y * width + line], 15.0, "light at row {y}");
        }
    }

    /// A textured surface at 2 m where `inside` holds, before a background at 6 m. Most of
    /// its pixels are dim, near the background's colour, so their coverage of its colour
    /// undercounts its width: its mass over its coverage says about 1 m.
    fn textured_surface(
        width: usize,
        inside: impl Fn(usize, usize) -> bool,
    ) -> (Vec<f32>, Vec<f32>) {
        let mut depth = vec![6.0f32; width * width];
        let mut colour = vec![0.3f32; width * width * 3];
        for (i, z) in depth.iter_mut().enumerate() {
            let (x, y) = (i % width, i / width);
            if inside(x, y) {
                *z = 2.0;
                let shade = if (x + 2 * y) % 4 == 0 { 0.9 } else { 0.45 };
                colour[i * 3..][..3].copy_from_slice(&[shade; 3]);
            }
        }
        (depth, colour)
    }

    #[test]
    fn a_textured_band_of_exact_depth_is_not_taken_for_a_blended_ridge() {
        // A band 9 px wide, with a subject at 1 m elsewhere: a blend leaves no top that wide.
        let (depth, colour) = textured_surface(15, |x, _| (3..=11).contains(&x));
        let sharpened = sharpen_depth_edges(&colour, &depth, 15, Some(1.0)).unwrap();
        assert_eq!(sharpened, depth);
    }

    #[test]
    fn a_textured_corners_blend_is_not_lifted_nearer_than_its_surface() {
        // A board at 2 m before a wall at 6 m, its depth blended over 7 x 7. Near
        // the corner, across its diagonal, the blend is a ridge with far ends, and the board's
        // texture undercounts its coverage: the estimate lands well nearer than 2 m. Along the
        // diagonal the ridge runs into the board's own depth.
        let width = 41;
        let mut depth = vec![6.0f32; width * width];
        let mut colour = vec![0.3f32; width * width * 3];
        for (i, z) in depth.iter_mut().enumerate() {
            let (x, y) = (i % width, i / width);
            if x >= 16 && y >= 16 {
                *z = 2.0;
                let shade = 0.5 + 0.05 * ((7 * x + 13 * y) % 5) as f32;
                colour[i * 3..][..3].copy_from_slice(&[shade; 3]);
            }
        }
        let blended: Vec<f32> = (0..depth.len())
            .map(|i| {
                let (x, y) = ((i % width) as isize, (i / width) as isize);
                let clamp = |v: isize| v.clamp(0, width as isize - 1) as usize;
                let inverse: f32 = (-3..=3)
                    .flat_map(|dy| (-3..=3).map(move |dx| (clamp(x + dx), clamp(y + dy))))
                    .map(|(sx, sy)| 1.0 / depth[sy * width + sx])
                    .sum();
                49.0 / inverse
            })
            .collect();
        let sharpened = sharpen_depth_edges(&colour, &blended, width, Some(1.0)).unwrap();
        for (i, &z) in sharpened.iter().enumerate() {
            assert!(z >= 1.99, "({}, {}): {z} m", i % width, i / width);
        }
    }

    #[test]
    fn a_textured_corner_of_exact_depth_is_not_taken_for_a_blended_ridge() {
        // Near its tip a corner is as thin as a hair along the diagonal out of it, but a ridge
        // in no other direction.
        let (depth, colour) = textured_surface(15, |x, y| x <= 7 && y <= 7);
        let sharpened = sharpen_depth_edges(&colour, &depth, 15, Some(1.0)).unwrap();
        assert_eq!(sharpened, depth);
    }

    #[test]
    fn a_textured_surfaces_edge_of_exact_depth_is_not_taken_for_a_blended_ridge() {
        // Across its edge the last 7 px of the surface are a top no wider than a blend's, but
        // the profile's inner end is on that top, not on a far side or a neighbour's blend.
        let (depth, colour) = textured_surface(21, |x, _| x <= 10);
        let sharpened = sharpen_depth_edges(&colour, &depth, 21, Some(1.0)).unwrap();
        assert_eq!(sharpened, depth);
    }

    const PROFILE_WIDTH: usize = 31;
    const PROFILE_ROWS: usize = 15;

    /// A photo of a dark line down column 12 on a light ground, with depth whose inverse is
    /// `inverse_at(column)` in every row; (that depth, sharpened with the nearest at 0.5 m).
    fn line_with_profile(inverse_at: impl Fn(usize) -> f32) -> (Vec<f32>, Vec<f32>) {
        let depth: Vec<f32> = (0..PROFILE_WIDTH * PROFILE_ROWS)
            .map(|i| 1.0 / inverse_at(i % PROFILE_WIDTH))
            .collect();
        let mut colour = vec![0.8f32; depth.len() * 3];
        for y in 0..PROFILE_ROWS {
            colour[(y * PROFILE_WIDTH + 12) * 3..][..3].copy_from_slice(&[0.2, 0.15, 0.1]);
        }
        let sharpened = sharpen_depth_edges(&colour, &depth, PROFILE_WIDTH, Some(0.5)).unwrap();
        (depth, sharpened)
    }

    #[test]
    fn a_ridge_whose_end_lies_down_its_own_slope_is_not_lifted() {
        // A band of one depth (columns 9 to 15) whose right side goes on down a slope of its
        // own (a surface's blended corner seen across its diagonal looks so): the profile's
        // right end is neither far nor past a dip onto another structure's blend, and its top
        // is a surface's depth, shared by more than a quarter of the window.
        let (depth, sharpened) = line_with_profile(|x| match x {
            9..=15 => 0.3,
            16..=24 => 0.19 - 0.01 * (x - 16) as f32,
            _ => 0.1,
        });
        for y in 0..PROFILE_ROWS {
            let i = y * PROFILE_WIDTH + 12;
            assert_eq!(sharpened[i], depth[i], "line pixel ({y}, 12)");
        }
    }

    #[test]
    fn a_blended_line_whose_end_lies_on_a_neighbours_shoulder_gets_its_depth_back() {
        // A line 1 px wide at 2 m (column 12) before a background at 10 m, its inverse depth
        // blended over 7 px by a tent; right of it, a neighbour's blend holds the profile's
        // right end up (columns 15 to 18) with no dip between: not far, not past a dip, but
        // the top is a crest one pixel wide, no surface's.
        let (far, line) = (0.1f32, 0.5f32);
        let tent = [1.0, 2.0, 3.0, 4.0, 3.0, 2.0, 1.0].map(|w| w / 16.0);
        let (_, sharpened) = line_with_profile(|x| match x {
            9..=14 => far + (line - far) * tent[x - 9],
            15..=18 => far + (line - far) * tent[0],
            _ => far,
        });
        // Its mass over its width: the line's excess, and the shoulder's, which the blend moved
        // there from no structure the photo shows (0.575 for the truth's 0.5).
        for y in 4..11 {
            let lifted = 1.0 / sharpened[y * PROFILE_WIDTH + 12];
            assert!((lifted / line - 1.0).abs() < 0.2, "({y}, 12): {lifted}");
        }
    }

    #[test]
    fn flat_depth_and_steps_without_blend_are_left_alone() {
        let (width, edge) = (24, 12);
        let (depth, colour) = blended_step(width, edge, 0);
        assert_eq!(
            sharpen_depth_edges(&colour, &depth, width, None).unwrap(),
            depth
        );
        let flat = vec![3.0f32; 9 * width];
        assert_eq!(
            sharpen_depth_edges(&colour, &flat, width, None).unwrap(),
            flat
        );
    }

    #[test]
    fn a_steep_floor_beside_a_nearer_or_farther_object_keeps_its_exact_depth() {
        // A floor from 0.8 m to 8 m over 40 rows (inverse depth falls by a third over 9 rows,
        // as steeply as a blend), with an object standing in its left 12 columns. Read over the
        // windows around them, the object made the floor's pixels up to 6 px from it look like
        // a blend's, which one colour snaps to the near side: 76 of them with the object at 0.3 m.
        // The columns on either side of the step still have a nearer and a farther neighbour
        // (across the step, and along the floor), and are still taken for a blend's.
        let size = 40;
        let colour = vec![0.5f32; size * size * 3];
        for object_m in [0.3, 0.5, 1.0, 2.0, 5.0] {
            let depth: Vec<f32> = (0..size * size)
                .map(|i| match (i % size, i / size) {
                    (x, _) if x < 12 => object_m,
                    (_, y) => 1.0 / (1.25 - 1.125 * y as f32 / (size - 1) as f32),
                })
                .collect();
            let sharp = sharpen_depth_edges(&colour, &depth, size, None).unwrap();
            let moved = (0..size * size)
                .filter(|&i| i % size > 12 && sharp[i] != depth[i])
                .count();
            assert_eq!(moved, 0, "object at {object_m} m");
        }
    }

    #[test]
    fn window_extremes_are_those_of_each_square_with_the_edges_repeated() {
        // Heights below, at and above a block of rows; radii past the image's sides.
        for (width, height, radius) in [(7, 5, 2), (13, 16, 4), (9, 37, 6), (4, 3, 9), (1, 20, 1)] {
            let values: Vec<f32> = (0..width * height)
                .map(|i| ((i * 7919 % 101) as f32).sin() + 2.0)
                .collect();
            let (largest, smallest) = window_extremes(&values, width, radius);
            let values = &values;
            for y in 0..height {
                for x in 0..width {
                    let square = (-(radius as isize)..=radius as isize).flat_map(|dy| {
                        (-(radius as isize)..=radius as isize).map(move |dx| {
                            let sx = (x as isize + dx).clamp(0, width as isize - 1) as usize;
                            let sy = (y as isize + dy).clamp(0, height as isize - 1) as usize;
                            values[sy * width + sx]
                        })
                    });
                    let i = y * width + x;
                    assert_eq!(largest[i], square.clone().fold(f32::MIN, f32::max));
                    assert_eq!(smallest[i], square.fold(f32::MAX, f32::min));
                }
            }
        }
    }

    #[test]
    fn bad_input_is_an_error() {
        assert!(matches!(
            sharpen_depth_edges(&[0.0; 6], &[1.0, 0.0], 2, None),
            Err(DofError::BadDepth { x: 1, y: 0, .. })
        ));
        assert!(matches!(
            sharpen_depth_edges(&[0.0; 5], &[1.0, 1.0], 2, None),
            Err(DofError::Shape { .. })
        ));
        assert!(matches!(
            sharpen_depth_edges(&[], &[], 0, None),
            Err(DofError::Shape { .. })
        ));
    }
}
