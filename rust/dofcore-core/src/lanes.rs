//! The gather's inner loop: the sixteen pixels of a tile side by side, one per lane, each
//! source offset (dx, dy) once for all of them. Every lane does the same sums in the same order,
//! so the vectors the compiler makes of them (AVX-512, AVX2, or none) give the same result to
//! the bit (docs/performance.md).

use std::sync::OnceLock;

use crate::aperture::coverage;
use crate::gather::{Layer, Sources, SAME_SURFACE_TOLERANCE_PX};

/// Pixels gathered side by side: a tile's width.
pub(crate) const LANES: usize = 16;

/// The vector code this CPU runs.
#[derive(Clone, Copy)]
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
pub(crate) enum Vectors {
    Avx512,
    Avx2,
    /// What the compiler makes of the lanes for the baseline CPU.
    None,
}

/// Asked of the CPU once. `DOFCORE_NO_SIMD=1` makes the lanes compile for the baseline CPU, as on
/// a CPU without AVX2 (or not x86-64): tests/test_reliability.py renders both ways and compares.
pub(crate) fn vectors() -> Vectors {
    static CHOICE: OnceLock<Vectors> = OnceLock::new();
    *CHOICE.get_or_init(|| {
        if std::env::var_os("DOFCORE_NO_SIMD").is_some_and(|value| value != "0") {
            return Vectors::None;
        }
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                return Vectors::Avx512;
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                return Vectors::Avx2;
            }
        }
        Vectors::None
    })
}

/// The centres of a tile's pixels, one per lane: signed CoC, its surface's slope per cell,
/// kernel radius (cells), 1 / kernel area. Zero in the lanes of pixels not gathered.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Centres {
    pub coc: [f32; LANES],
    pub slope_x: [f32; LANES],
    pub slope_y: [f32; LANES],
    pub radius: [f32; LANES],
    pub inverse_area: [f32; LANES],
}

/// One row of sources around a tile, channel by channel: `LANES + 2 * span` of them, the first
/// `span` columns left of the tile's first pixel.
#[derive(Debug, Default)]
pub(crate) struct Row {
    pub coc: Vec<f32>,
    pub inverse_area: Vec<f32>,
    pub mass: Vec<f32>,
    pub red: Vec<f32>,
    pub green: Vec<f32>,
    pub blue: Vec<f32>,
}

impl Row {
    /// The `LANES + extra` sources of row y of `sources` from column `from` on (1 / kernel area
    /// from `inverse_area`); outside the frame the scene continues as its edge pixels.
    pub fn fill(
        &mut self,
        sources: Sources<'_>,
        inverse_area: &[f32],
        y: usize,
        from: isize,
        extra: usize,
    ) {
        let (width, count) = (sources.width, LANES + extra);
        let weighted = !sources.mass.is_empty();
        for values in [
            &mut self.coc,
            &mut self.inverse_area,
            &mut self.mass,
            &mut self.red,
            &mut self.green,
            &mut self.blue,
        ] {
            values.resize(count, 0.0);
        }
        let row = y * width;
        // Inside the frame (most rows): copied as they lie.
        if from >= 0 && from as usize + count <= width {
            let sources_from = row + from as usize;
            let columns = sources_from..sources_from + count;
            self.coc.copy_from_slice(&sources.coc[columns.clone()]);
            self.inverse_area
                .copy_from_slice(&inverse_area[columns.clone()]);
            if weighted {
                self.mass.copy_from_slice(&sources.mass[columns.clone()]);
            }
            let rgb = sources.rgb[3 * columns.start..3 * columns.end].chunks_exact(3);
            for (k, colour) in rgb.enumerate() {
                self.red[k] = colour[0];
                self.green[k] = colour[1];
                self.blue[k] = colour[2];
            }
            return;
        }
        for k in 0..count {
            let source = row + (from + k as isize).clamp(0, width as isize - 1) as usize;
            self.coc[k] = sources.coc[source];
            self.inverse_area[k] = inverse_area[source];
            if weighted {
                self.mass[k] = sources.mass[source];
            }
            self.red[k] = sources.rgb[3 * source];
            self.green[k] = sources.rgb[3 * source + 1];
            self.blue[k] = sources.rgb[3 * source + 2];
        }
    }
}

/// The running sums of a tile's pixels: [near, surface, behind][red, green, blue, weight], one
/// lane per pixel.
pub(crate) type Sums = [[[f32; LANES]; 4]; 3];

/// Add `part` to `sums`, lane by lane.
#[inline(always)]
pub(crate) fn add(sums: &mut Sums, part: &Sums) {
    for (total, part) in sums.iter_mut().flatten().zip(part.iter().flatten()) {
        for (t, p) in total.iter_mut().zip(part) {
            *t += p;
        }
    }
}

/// Lane `lane`'s groups (near, surface, behind).
pub(crate) fn layers(sums: &Sums, lane: usize) -> [Layer; 3] {
    sums.map(|[red, green, blue, weight]| Layer {
        colour: [red[lane], green[lane], blue[lane]],
        weight: weight[lane],
    })
}

/// What the sources of one row share: the row's offset `dy` from the centres, and for each
/// offset dx = -span..=span (k = dx + span) the aperture norm seen in front of the focus,
/// rho(dx, dy) = `front[k]`, and behind it, rho(-dx, -dy) = `back_reversed[2 span - k]`; the
/// kernel radius per unit of CoC.
pub(crate) struct Norms<'a> {
    pub dy: f32,
    pub front: &'a [f32],
    pub back_reversed: &'a [f32],
    pub radius_per_coc: f32,
}

/// The sources of one row: source k + l of `row` is seen by lane l at dx = k - span. WEIGHTED:
/// the sources carry a mass. Written from docs/model.md 5 for one source and one pixel; the
/// compiler makes vectors of the lanes. Inlined into functions compiled for each CPU's vectors.
#[inline(always)]
pub(crate) fn add_row<const WEIGHTED: bool>(
    sums: &mut Sums,
    row: &Row,
    centres: &Centres,
    norms: &Norms,
) {
    let Norms {
        dy,
        front,
        back_reversed,
        radius_per_coc,
    } = *norms;
    let offsets = front.len();
    let last = offsets - 1;
    assert!(
        back_reversed.len() == offsets
            && [
                &row.coc,
                &row.inverse_area,
                &row.mass,
                &row.red,
                &row.green,
                &row.blue
            ]
            .iter()
            .all(|values| values.len() >= last + LANES)
    );
    let span = (last / 2) as f32;
    // The centre's surface along this row (docs/model.md 5.2).
    let row_expected: [f32; LANES] =
        std::array::from_fn(|l| centres.coc[l] + centres.slope_y[l] * dy);
    // The row summed on its own, then added: a pixel's sum of thousands of sources, one at a
    // time in one lane, would round off far more.
    let mut totals = Sums::default();
    for k in 0..offsets {
        let lanes = |values: &[f32]| -> [f32; LANES] {
            values[k..k + LANES].try_into().expect("LANES values")
        };
        let (coc, inverse_area, red, green, blue) = (
            lanes(&row.coc),
            lanes(&row.inverse_area),
            lanes(&row.red),
            lanes(&row.green),
            lanes(&row.blue),
        );
        // Without a mass every source counts whole (a product with 1 is exact, and compiled away).
        let mass = if WEIGHTED {
            lanes(&row.mass)
        } else {
            [1.0; LANES]
        };
        let (rho_front, rho_back) = (front[k], back_reversed[last - k]);
        let dx = k as f32 - span;
        for l in 0..LANES {
            let c = coc[l];
            let expected = row_expected[l] + centres.slope_x[l] * dx;
            let near = c < expected - SAME_SURFACE_TOLERANCE_PX;
            let behind = c > expected + SAME_SURFACE_TOLERANCE_PX;
            let source_radius = c.abs() * radius_per_coc;
            let rho = if c < 0.0 { rho_front } else { rho_back };
            // Seen through the gaps of the centre's surface, the wider kernel's weight.
            let (radius, area) = if behind {
                (
                    larger(centres.radius[l], source_radius),
                    smaller(centres.inverse_area[l], inverse_area[l]),
                )
            } else {
                (source_radius, inverse_area[l])
            };
            let weight = coverage(radius, rho) * area * mass[l];
            let groups = [near, !(near || behind), behind];
            for (group, member) in totals.iter_mut().zip(groups) {
                let w = if member { weight } else { 0.0 };
                group[0][l] += w * red[l];
                group[1][l] += w * green[l];
                group[2][l] += w * blue[l];
                group[3][l] += w;
            }
        }
    }
    add(sums, &totals);
}

/// f32::max without its NaN case (there are none here): one vector instruction.
#[inline(always)]
fn larger(a: f32, b: f32) -> f32 {
    if a > b {
        a
    } else {
        b
    }
}

#[inline(always)]
fn smaller(a: f32, b: f32) -> f32 {
    if a < b {
        a
    } else {
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic jumble: sources nearer, farther and on the surfaces of sloped and flat
    /// centres, some of no mass, norms on both sides of the kernels' rims.
    fn jumble(span: usize) -> (Row, Centres, Vec<f32>, Vec<f32>) {
        let wave = |k: usize, a: f32, b: f32| a + b * ((k as f32 * 0.37).sin() + 1.0);
        let count = LANES + 2 * span;
        let row = Row {
            coc: (0..count)
                .map(|k| match k % 3 {
                    0 => wave(k, 2.5, 0.4),
                    _ => wave(k * 7, -30.0, 35.0),
                })
                .collect(),
            inverse_area: (0..count).map(|k| wave(k, 0.001, 0.02)).collect(),
            mass: (0..count)
                .map(|k| wave(k * 3, -0.2, 0.6).max(0.0))
                .collect(),
            red: (0..count).map(|k| wave(k * 5, 0.0, 2.0)).collect(),
            green: (0..count).map(|k| wave(k * 11, 0.0, 2.0)).collect(),
            blue: (0..count).map(|k| wave(k * 17, 0.0, 2.0)).collect(),
        };
        let centres = Centres {
            coc: std::array::from_fn(|l| wave(l * 19, -8.0, 8.0)),
            slope_x: std::array::from_fn(|l| if l % 2 == 0 { 0.0 } else { wave(l, -0.8, 0.8) }),
            slope_y: std::array::from_fn(|l| if l % 4 == 0 { 0.0 } else { wave(l, -0.5, 0.5) }),
            radius: std::array::from_fn(|l| wave(l * 23, 0.0, 4.0)),
            inverse_area: std::array::from_fn(|l| wave(l * 29, 0.002, 0.01)),
        };
        let front = (0..=2 * span)
            .map(|k| wave(k * 13, 0.0, span as f32))
            .collect();
        let back_reversed = (0..=2 * span)
            .map(|k| wave(k * 31, 0.0, span as f32))
            .collect();
        (row, centres, front, back_reversed)
    }

    type AddRows = fn(&mut Sums, &[(Row, Centres, Vec<f32>, Vec<f32>)]);

    /// The rows added into one set of sums, as a tile's gather adds them (rows at dy = 0, 1, ...).
    #[inline(always)]
    fn add_rows(sums: &mut Sums, rows: &[(Row, Centres, Vec<f32>, Vec<f32>)]) {
        for (dy, (row, centres, front, back_reversed)) in rows.iter().enumerate() {
            let norms = Norms {
                dy: dy as f32,
                front,
                back_reversed,
                radius_per_coc: 0.5,
            };
            add_row::<true>(sums, row, centres, &norms);
        }
    }

    /// Every version this CPU runs: the baseline's first.
    fn implementations() -> Vec<AddRows> {
        let mut found: Vec<AddRows> = vec![add_rows];
        #[cfg(target_arch = "x86_64")]
        {
            #[target_feature(enable = "avx2")]
            unsafe fn avx2(sums: &mut Sums, rows: &[(Row, Centres, Vec<f32>, Vec<f32>)]) {
                add_rows(sums, rows)
            }
            #[target_feature(enable = "avx2,avx512f")]
            unsafe fn avx512(sums: &mut Sums, rows: &[(Row, Centres, Vec<f32>, Vec<f32>)]) {
                add_rows(sums, rows)
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: checked just above.
                found.push(|sums, rows| unsafe { avx2(sums, rows) });
            }
            if std::arch::is_x86_feature_detected!("avx512f") {
                // SAFETY: checked just above.
                found.push(|sums, rows| unsafe { avx512(sums, rows) });
            }
        }
        found
    }

    /// docs/model.md 5 for one pixel (lane) and one source, in double precision.
    fn one_by_one(rows: &[(Row, Centres, Vec<f32>, Vec<f32>)], lane: usize) -> [[f64; 4]; 3] {
        let mut sums = [[0.0f64; 4]; 3];
        for (dy, (row, centres, front, back_reversed)) in rows.iter().enumerate() {
            let span = (front.len() / 2) as isize;
            for (k, dx) in (-span..=span).enumerate() {
                let source = k + lane;
                let c = row.coc[source];
                let expected = centres.coc[lane]
                    + centres.slope_y[lane] * dy as f32
                    + centres.slope_x[lane] * dx as f32;
                let group = if c < expected - SAME_SURFACE_TOLERANCE_PX {
                    0
                } else if c > expected + SAME_SURFACE_TOLERANCE_PX {
                    2
                } else {
                    1
                };
                let source_radius = f64::from(c.abs() * 0.5);
                let rho = f64::from(if c < 0.0 {
                    front[k]
                } else {
                    back_reversed[2 * span as usize - k]
                });
                let (radius, area) = if group == 2 {
                    (
                        source_radius.max(f64::from(centres.radius[lane])),
                        row.inverse_area[source].min(centres.inverse_area[lane]),
                    )
                } else {
                    (source_radius, row.inverse_area[source])
                };
                let weight = (radius + 0.5 - rho).clamp(0.0, 1.0)
                    * f64::from(area)
                    * f64::from(row.mass[source]);
                let colour = [row.red[source], row.green[source], row.blue[source], 1.0];
                for (total, value) in sums[group].iter_mut().zip(colour) {
                    *total += weight * f64::from(value);
                }
            }
        }
        sums
    }

    #[test]
    fn every_cpus_lanes_sum_to_the_bit_what_one_source_at_a_time_does_to_rounding() {
        let rows: Vec<_> = [0, 3, 9, 24].map(jumble).into_iter().collect();
        let mut baseline = Sums::default();
        add_rows(&mut baseline, &rows);
        for lane in 0..LANES {
            let expected = one_by_one(&rows, lane);
            for (group, want) in layers(&baseline, lane).iter().zip(expected) {
                let got = group.colour.iter().chain([&group.weight]);
                for (&g, w) in got.zip(want) {
                    assert!(
                        (f64::from(g) - w).abs() <= 1e-5 * w.abs().max(1.0),
                        "{g} vs {w}"
                    );
                }
            }
        }
        // Every group is summed in some lane.
        assert!((0..3).all(|group| baseline[group][3].iter().any(|&w| w > 0.0)));
        for add in implementations() {
            let mut sums = Sums::default();
            add(&mut sums, &rows);
            assert_eq!(
                sums.map(|g| g.map(|c| c.map(f32::to_bits))),
                baseline.map(|g| g.map(|c| c.map(f32::to_bits)))
            );
        }
    }
}
