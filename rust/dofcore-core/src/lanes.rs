//! The gather's inner loop over one row of sources inside the frame, sixteen sources at a time
//! in AVX-512 vectors or eight in AVX2's: each source's group and weight without a branch, into
//! sums that run on over all the rows of a gather (docs/performance.md). Where the CPU has
//! neither, the scalar loop of `Gather::layers_of` does all the sources.

use std::sync::OnceLock;

use crate::gather::Layer;

/// One row's sources inside the frame, at offsets `dx0`, `dx0 + 1`, ... from the centre.
#[derive(Clone, Copy)]
pub(crate) struct Span<'a> {
    pub coc: &'a [f32],
    pub inverse_area: &'a [f32],
    pub mass: &'a [f32],
    /// Interleaved RGB, three values per source.
    pub rgb: &'a [f32],
    /// The norm of each offset seen in front of the focus, in the sources' order.
    pub front: &'a [f32],
    /// The same seen behind it, in reverse order (the table row of -dy read from the right).
    pub back_reversed: &'a [f32],
}

/// What is the same for every source of the row: the centre's surface along it (its CoC at
/// `dx0` and slope per pixel), and its kernel.
#[derive(Clone, Copy)]
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
pub(crate) struct Centre {
    pub dx0: f32,
    pub expected: f32,
    pub slope_x: f32,
    pub radius_per_coc: f32,
    pub radius: f32,
    pub inverse_area: f32,
}

/// The vector code this CPU runs.
#[derive(Clone, Copy)]
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
pub(crate) enum Vectors {
    /// Sixteen sources at a time (AVX-512F).
    Avx512,
    Avx2,
    /// The scalar loop does all the sources.
    None,
}

/// Asked of the CPU once. `DOFCORE_NO_SIMD=1` turns the vectors off, as on a CPU without AVX2 (or
/// not x86-64): tests/test_reliability.py renders both ways and compares.
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

/// The running sums of one gather's sources, over all its rows: kept in vector registers until
/// the gather ends, since a row of the fast level's short kernels is a few vectors long and
/// summing its lanes at the end of every row cost as much as the row.
pub(crate) trait RowSums: Default {
    /// Add the sources of `span` as the scalar loop would, summed in another order; returns how
    /// many were added (all of them, or 0 without vectors).
    /// SAFETY: the CPU must have the vector instructions of the implementation.
    unsafe fn add<const SLOPED: bool>(&mut self, span: &Span, centre: &Centre) -> usize;
    /// Add the sums to `layers` (near, surface, behind).
    /// SAFETY: as for `add`.
    unsafe fn finish(self, layers: &mut [Layer; 3]);
}

/// No vectors: the scalar loop adds every source.
#[derive(Default)]
pub(crate) struct Scalar;

impl RowSums for Scalar {
    #[inline(always)]
    unsafe fn add<const SLOPED: bool>(&mut self, _: &Span, _: &Centre) -> usize {
        0
    }
    #[inline(always)]
    unsafe fn finish(self, _: &mut [Layer; 3]) {}
}

#[cfg(target_arch = "x86_64")]
pub(crate) use avx2::Sums as Avx2Sums;

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    use super::{Centre, Span};
    use crate::gather::{Layer, SAME_SURFACE_TOLERANCE_PX};

    /// Red, green and blue of eight sources from their interleaved RGB, 24 values in a, b, c.
    #[inline(always)]
    unsafe fn deinterleave(a: __m256, b: __m256, c: __m256) -> [__m256; 3] {
        // Channel k of source j is at 3j + k: blend each channel's values into one vector
        // (their lanes taken from a, b or c), then put them in order.
        let red = _mm256_blend_ps::<0b0010_0100>(_mm256_blend_ps::<0b1001_0010>(a, b), c);
        let green = _mm256_blend_ps::<0b0100_1001>(_mm256_blend_ps::<0b0010_0100>(a, b), c);
        let blue = _mm256_blend_ps::<0b1001_0010>(_mm256_blend_ps::<0b0100_1001>(a, b), c);
        [
            _mm256_permutevar8x32_ps(red, _mm256_setr_epi32(0, 3, 6, 1, 4, 7, 2, 5)),
            _mm256_permutevar8x32_ps(green, _mm256_setr_epi32(1, 4, 7, 2, 5, 0, 3, 6)),
            _mm256_permutevar8x32_ps(blue, _mm256_setr_epi32(2, 5, 0, 3, 6, 1, 4, 7)),
        ]
    }

    /// The sums of the lanes of a, b, c and d, in that order: three horizontal adds and one of
    /// the halves instead of four sums of eight stored lanes.
    #[inline(always)]
    unsafe fn lane_sums(a: __m256, b: __m256, c: __m256, d: __m256) -> [f32; 4] {
        let pairs = _mm256_hadd_ps(_mm256_hadd_ps(a, b), _mm256_hadd_ps(c, d));
        let halves = _mm_add_ps(
            _mm256_castps256_ps128(pairs),
            _mm256_extractf128_ps::<1>(pairs),
        );
        let mut out = [0.0f32; 4];
        _mm_storeu_ps(out.as_mut_ptr(), halves);
        out
    }

    /// The row's sources, loaded: CoC, 1 / kernel area, mass, the two norms (in the sources'
    /// order), red, green, blue.
    struct Sources([__m256; 8]);

    /// Eight sources from `at` on (`at + 8 <= n`).
    #[inline(always)]
    unsafe fn load(span: &Span, at: usize) -> Sources {
        let n = span.coc.len();
        let back = _mm256_loadu_ps(span.back_reversed.as_ptr().add(n - at - 8));
        let [red, green, blue] = deinterleave(
            _mm256_loadu_ps(span.rgb.as_ptr().add(3 * at)),
            _mm256_loadu_ps(span.rgb.as_ptr().add(3 * at + 8)),
            _mm256_loadu_ps(span.rgb.as_ptr().add(3 * at + 16)),
        );
        Sources([
            _mm256_loadu_ps(span.coc.as_ptr().add(at)),
            _mm256_loadu_ps(span.inverse_area.as_ptr().add(at)),
            _mm256_loadu_ps(span.mass.as_ptr().add(at)),
            _mm256_loadu_ps(span.front.as_ptr().add(at)),
            _mm256_permutevar8x32_ps(back, _mm256_setr_epi32(7, 6, 5, 4, 3, 2, 1, 0)),
            red,
            green,
            blue,
        ])
    }

    /// The last `n - at < 8` sources, the other lanes 0 (so of weight 0). Masked lanes are not
    /// read, so the pointers may pass the slices' ends (hence the wrapping arithmetic).
    #[inline(always)]
    unsafe fn load_rest(span: &Span, at: usize) -> Sources {
        let rest = (span.coc.len() - at) as i32;
        let lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        let below = |count: i32| _mm256_cmpgt_epi32(_mm256_set1_epi32(count), lane);
        let load = |values: &[f32], from: usize, count: i32| {
            _mm256_maskload_ps(values.as_ptr().wrapping_add(from), below(count))
        };
        // The back norms of these sources are the first `rest` of back_reversed, last first.
        let back = load(span.back_reversed, 0, rest);
        let back_order = _mm256_and_si256(
            _mm256_sub_epi32(_mm256_set1_epi32(rest - 1), lane),
            _mm256_set1_epi32(7),
        );
        let [red, green, blue] = deinterleave(
            load(span.rgb, 3 * at, 3 * rest),
            load(span.rgb, 3 * at + 8, 3 * rest - 8),
            load(span.rgb, 3 * at + 16, 3 * rest - 16),
        );
        Sources([
            load(span.coc, at, rest),
            load(span.inverse_area, at, rest),
            load(span.mass, at, rest),
            load(span.front, at, rest),
            _mm256_permutevar8x32_ps(back, back_order),
            red,
            green,
            blue,
        ])
    }

    /// The twelve running sums, [group][red, green, blue, weight], eight lanes each. Used inside
    /// functions compiled for AVX2 and inlined there.
    #[derive(Clone, Copy)]
    pub(crate) struct Sums([[__m256; 4]; 3]);

    impl Default for Sums {
        fn default() -> Self {
            // SAFETY: all bits zero is 0.0 in every lane.
            Sums(unsafe { std::mem::zeroed() })
        }
    }

    impl super::RowSums for Sums {
        /// SAFETY: the CPU must have AVX2.
        #[inline(always)]
        unsafe fn add<const SLOPED: bool>(&mut self, span: &Span, centre: &Centre) -> usize {
            add_span::<SLOPED>(span, centre, &mut self.0)
        }

        /// SAFETY: the CPU must have AVX2.
        #[inline(always)]
        unsafe fn finish(self, layers: &mut [Layer; 3]) {
            for (layer, [red, green, blue, weight]) in layers.iter_mut().zip(self.0) {
                let [red, green, blue, weight] = lane_sums(red, green, blue, weight);
                layer.merge(&Layer {
                    colour: [red, green, blue],
                    weight,
                });
            }
        }
    }

    #[inline(always)]
    unsafe fn add_span<const SLOPED: bool>(
        span: &Span,
        centre: &Centre,
        sums: &mut [[__m256; 4]; 3],
    ) -> usize {
        let n = span.coc.len();
        assert!(
            span.inverse_area.len() == n
                && span.mass.len() == n
                && span.rgb.len() == 3 * n
                && span.front.len() == n
                && span.back_reversed.len() == n
        );
        let zero = _mm256_setzero_ps();
        let one = _mm256_set1_ps(1.0);
        let half = _mm256_set1_ps(0.5);
        let sign = _mm256_set1_ps(-0.0);
        let tolerance = _mm256_set1_ps(SAME_SURFACE_TOLERANCE_PX);
        let radius_per_coc = _mm256_set1_ps(centre.radius_per_coc);
        let centre_radius = _mm256_set1_ps(centre.radius);
        let centre_inverse_area = _mm256_set1_ps(centre.inverse_area);
        let slope_x = _mm256_set1_ps(centre.slope_x);
        let lane_offsets = _mm256_setr_ps(0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0);
        for at in (0..n).step_by(8) {
            let sources = if at + 8 <= n {
                load(span, at)
            } else {
                load_rest(span, at)
            };
            let [coc, inverse_area, mass, front, back, red, green, blue] = sources.0;
            let expected = if SLOPED {
                let dx = _mm256_add_ps(_mm256_set1_ps(centre.dx0 + at as f32), lane_offsets);
                _mm256_add_ps(_mm256_set1_ps(centre.expected), _mm256_mul_ps(slope_x, dx))
            } else {
                _mm256_set1_ps(centre.expected)
            };
            let near = _mm256_cmp_ps::<_CMP_LT_OQ>(coc, _mm256_sub_ps(expected, tolerance));
            let behind = _mm256_cmp_ps::<_CMP_GT_OQ>(coc, _mm256_add_ps(expected, tolerance));
            let source_radius = _mm256_mul_ps(_mm256_andnot_ps(sign, coc), radius_per_coc);
            let rho = _mm256_blendv_ps(back, front, _mm256_cmp_ps::<_CMP_LT_OQ>(coc, zero));
            // Seen through the gaps of the centre's surface, the wider kernel's weight.
            let radius = _mm256_blendv_ps(
                source_radius,
                _mm256_max_ps(centre_radius, source_radius),
                behind,
            );
            let area = _mm256_blendv_ps(
                inverse_area,
                _mm256_min_ps(centre_inverse_area, inverse_area),
                behind,
            );
            let excess = _mm256_sub_ps(_mm256_add_ps(radius, half), rho);
            let coverage = _mm256_min_ps(_mm256_max_ps(excess, zero), one);
            let weight = _mm256_mul_ps(_mm256_mul_ps(coverage, area), mass);
            let weights = [
                _mm256_and_ps(near, weight),
                _mm256_andnot_ps(_mm256_or_ps(near, behind), weight),
                _mm256_and_ps(behind, weight),
            ];
            for (group, w) in sums.iter_mut().zip(weights) {
                group[0] = _mm256_add_ps(group[0], _mm256_mul_ps(w, red));
                group[1] = _mm256_add_ps(group[1], _mm256_mul_ps(w, green));
                group[2] = _mm256_add_ps(group[2], _mm256_mul_ps(w, blue));
                group[3] = _mm256_add_ps(group[3], w);
            }
        }
        n
    }
}

#[cfg(target_arch = "x86_64")]
pub(crate) use avx512::Sums as Avx512Sums;

/// The same sums sixteen sources at a time, in AVX-512's vectors and masks.
#[cfg(target_arch = "x86_64")]
mod avx512 {
    use std::arch::x86_64::*;

    use super::{Centre, Span};
    use crate::gather::{Layer, SAME_SURFACE_TOLERANCE_PX};

    /// Lane indices 0..16 into the pair (a, b) of `_mm512_permutex2var_ps`: 0..16 is a, 16..32 b.
    #[inline(always)]
    unsafe fn indices(values: [i32; 16]) -> __m512i {
        _mm512_loadu_si512(values.as_ptr().cast())
    }

    /// Red, green and blue of sixteen sources from their interleaved RGB, 48 values in a, b, c:
    /// each channel's first values picked from a and b, the rest then from c.
    #[inline(always)]
    unsafe fn deinterleave(a: __m512, b: __m512, c: __m512) -> [__m512; 3] {
        let channel = |k: i32| {
            // Source j's value is at 3j + k: in a or b while that is below 32.
            let from_ab: [i32; 16] = std::array::from_fn(|j| (3 * j as i32 + k).min(31));
            let with_c: [i32; 16] = std::array::from_fn(|j| {
                let at = 3 * j as i32 + k;
                if at < 32 {
                    j as i32
                } else {
                    16 + at - 32
                }
            });
            _mm512_permutex2var_ps(
                _mm512_permutex2var_ps(a, indices(from_ab), b),
                indices(with_c),
                c,
            )
        };
        [channel(0), channel(1), channel(2)]
    }

    /// Lanes 0..count set.
    #[inline(always)]
    fn first(count: isize) -> __mmask16 {
        match count {
            ..=0 => 0,
            16.. => 0xffff,
            _ => (1u16 << count) - 1,
        }
    }

    /// Sixteen sources from `at` on, those from `n` on (past the span's end) 0: CoC, 1 / kernel
    /// area, mass, the two norms (in the sources' order), red, green, blue. Masked lanes are not
    /// read, so the pointers may pass the slices' ends (hence the wrapping arithmetic).
    #[inline(always)]
    unsafe fn load(span: &Span, at: usize) -> [__m512; 8] {
        let n = span.coc.len();
        let rest = (n - at).min(16) as isize;
        let load = |values: &[f32], from: usize, count: isize| {
            _mm512_maskz_loadu_ps(first(count), values.as_ptr().wrapping_add(from))
        };
        // The back norms of these sources, last first, end at back_reversed[n - at].
        let back = load(span.back_reversed, n - at - rest as usize, rest);
        let lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        let back_order = _mm512_and_si512(
            _mm512_sub_epi32(_mm512_set1_epi32(rest as i32 - 1), lane),
            _mm512_set1_epi32(15),
        );
        let [red, green, blue] = deinterleave(
            load(span.rgb, 3 * at, 3 * rest),
            load(span.rgb, 3 * at + 16, 3 * rest - 16),
            load(span.rgb, 3 * at + 32, 3 * rest - 32),
        );
        [
            load(span.coc, at, rest),
            load(span.inverse_area, at, rest),
            load(span.mass, at, rest),
            load(span.front, at, rest),
            _mm512_permutexvar_ps(back_order, back),
            red,
            green,
            blue,
        ]
    }

    /// The twelve running sums, [group][red, green, blue, weight], sixteen lanes each.
    #[derive(Clone, Copy)]
    pub(crate) struct Sums([[__m512; 4]; 3]);

    impl Default for Sums {
        fn default() -> Self {
            // SAFETY: all bits zero is 0.0 in every lane.
            Sums(unsafe { std::mem::zeroed() })
        }
    }

    impl super::RowSums for Sums {
        /// SAFETY: the CPU must have AVX-512F.
        #[inline(always)]
        unsafe fn add<const SLOPED: bool>(&mut self, span: &Span, centre: &Centre) -> usize {
            add_span::<SLOPED>(span, centre, &mut self.0)
        }

        /// SAFETY: the CPU must have AVX-512F.
        #[inline(always)]
        unsafe fn finish(self, layers: &mut [Layer; 3]) {
            for (layer, [red, green, blue, weight]) in layers.iter_mut().zip(self.0) {
                layer.merge(&Layer {
                    colour: [
                        _mm512_reduce_add_ps(red),
                        _mm512_reduce_add_ps(green),
                        _mm512_reduce_add_ps(blue),
                    ],
                    weight: _mm512_reduce_add_ps(weight),
                });
            }
        }
    }

    #[inline(always)]
    unsafe fn add_span<const SLOPED: bool>(
        span: &Span,
        centre: &Centre,
        sums: &mut [[__m512; 4]; 3],
    ) -> usize {
        let n = span.coc.len();
        assert!(
            span.inverse_area.len() == n
                && span.mass.len() == n
                && span.rgb.len() == 3 * n
                && span.front.len() == n
                && span.back_reversed.len() == n
        );
        let zero = _mm512_setzero_ps();
        let one = _mm512_set1_ps(1.0);
        let half = _mm512_set1_ps(0.5);
        let tolerance = _mm512_set1_ps(SAME_SURFACE_TOLERANCE_PX);
        let radius_per_coc = _mm512_set1_ps(centre.radius_per_coc);
        let centre_radius = _mm512_set1_ps(centre.radius);
        let centre_inverse_area = _mm512_set1_ps(centre.inverse_area);
        let slope_x = _mm512_set1_ps(centre.slope_x);
        let lane_offsets = _mm512_setr_ps(
            0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0,
        );
        for at in (0..n).step_by(16) {
            let [coc, inverse_area, mass, front, back, red, green, blue] = load(span, at);
            let expected = if SLOPED {
                let dx = _mm512_add_ps(_mm512_set1_ps(centre.dx0 + at as f32), lane_offsets);
                _mm512_add_ps(_mm512_set1_ps(centre.expected), _mm512_mul_ps(slope_x, dx))
            } else {
                _mm512_set1_ps(centre.expected)
            };
            let near = _mm512_cmp_ps_mask::<_CMP_LT_OQ>(coc, _mm512_sub_ps(expected, tolerance));
            let behind = _mm512_cmp_ps_mask::<_CMP_GT_OQ>(coc, _mm512_add_ps(expected, tolerance));
            let source_radius = _mm512_mul_ps(_mm512_abs_ps(coc), radius_per_coc);
            let rho =
                _mm512_mask_blend_ps(_mm512_cmp_ps_mask::<_CMP_LT_OQ>(coc, zero), back, front);
            // Seen through the gaps of the centre's surface, the wider kernel's weight.
            let radius = _mm512_mask_max_ps(source_radius, behind, centre_radius, source_radius);
            let area = _mm512_mask_min_ps(inverse_area, behind, centre_inverse_area, inverse_area);
            let excess = _mm512_sub_ps(_mm512_add_ps(radius, half), rho);
            let coverage = _mm512_min_ps(_mm512_max_ps(excess, zero), one);
            let weight = _mm512_mul_ps(_mm512_mul_ps(coverage, area), mass);
            let groups = [near, !(near | behind), behind];
            for (group, k) in sums.iter_mut().zip(groups) {
                group[0] = _mm512_mask3_fmadd_ps(weight, red, group[0], k);
                group[1] = _mm512_mask3_fmadd_ps(weight, green, group[1], k);
                group[2] = _mm512_mask3_fmadd_ps(weight, blue, group[2], k);
                group[3] = _mm512_mask_add_ps(group[3], k, group[3], weight);
            }
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gather::SAME_SURFACE_TOLERANCE_PX;

    /// The scalar gather's sum of one source, written out from docs/model.md 5.
    fn scalar(span: &Span, centre: &Centre, rows: &mut [Layer; 3], k: usize) {
        let c = span.coc[k];
        let expected = centre.expected + centre.slope_x * (centre.dx0 + k as f32);
        let (near, behind) = (
            c < expected - SAME_SURFACE_TOLERANCE_PX,
            c > expected + SAME_SURFACE_TOLERANCE_PX,
        );
        let source_radius = c.abs() * centre.radius_per_coc;
        let rho = if c < 0.0 {
            span.front[k]
        } else {
            span.back_reversed[span.coc.len() - 1 - k]
        };
        let (radius, area) = if behind {
            (
                centre.radius.max(source_radius),
                centre.inverse_area.min(span.inverse_area[k]),
            )
        } else {
            (source_radius, span.inverse_area[k])
        };
        let weight = (radius + 0.5 - rho).clamp(0.0, 1.0) * area * span.mass[k];
        let group = if near {
            0
        } else if behind {
            2
        } else {
            1
        };
        rows[group].add(&span.rgb[3 * k..3 * k + 3], weight);
    }

    type AddRows = fn(&[(Span, Centre)], &mut [Layer; 3]);

    /// Every vector version this CPU runs, compiled as the gather's are.
    fn implementations<const SLOPED: bool>() -> Vec<AddRows> {
        let mut found: Vec<AddRows> = Vec::new();
        #[cfg(target_arch = "x86_64")]
        {
            #[target_feature(enable = "avx2")]
            unsafe fn avx2<const SLOPED: bool>(rows: &[(Span, Centre)], layers: &mut [Layer; 3]) {
                add_rows::<Avx2Sums, SLOPED>(rows, layers)
            }
            #[target_feature(enable = "avx2,avx512f")]
            unsafe fn avx512<const SLOPED: bool>(rows: &[(Span, Centre)], layers: &mut [Layer; 3]) {
                add_rows::<Avx512Sums, SLOPED>(rows, layers)
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: checked just above.
                found.push(|rows, layers| unsafe { avx2::<SLOPED>(rows, layers) });
            }
            if std::arch::is_x86_feature_detected!("avx512f") {
                // SAFETY: checked just above.
                found.push(|rows, layers| unsafe { avx512::<SLOPED>(rows, layers) });
            }
        }
        found
    }

    /// All the rows' sources in one set of sums, as a gather adds its rows.
    #[inline(always)]
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
    unsafe fn add_rows<V: RowSums, const SLOPED: bool>(
        rows: &[(Span, Centre)],
        layers: &mut [Layer; 3],
    ) {
        let mut sums = V::default();
        for (span, centre) in rows {
            assert_eq!(sums.add::<SLOPED>(span, centre), span.coc.len());
        }
        sums.finish(layers);
    }

    #[test]
    fn eight_at_a_time_over_rows_sums_what_one_at_a_time_does() {
        // A deterministic jumble of CoCs on both sides of a sloped surface, norms and masses,
        // in rows of whole chunks of eight and not.
        for n in [1, 7, 8, 13, 43] {
            row_sums_match(n);
        }
    }

    fn row_sums_match(n: usize) {
        let wave = |k: usize, a: f32, b: f32| a + b * ((k as f32 * 0.37).sin() + 1.0);
        let inverse_area: Vec<f32> = (0..n).map(|k| wave(k, 0.001, 0.02)).collect();
        let mass: Vec<f32> = (0..n).map(|k| wave(k * 3, 0.0, 0.5)).collect();
        let rgb: Vec<f32> = (0..3 * n).map(|k| wave(k * 5, 0.0, 2.0)).collect();
        let front: Vec<f32> = (0..n).map(|k| wave(k * 11, 0.0, 10.0)).collect();
        let back_reversed: Vec<f32> = (0..n).map(|k| wave(k * 13, 0.0, 10.0)).collect();
        for slope_x in [0.0, 0.8] {
            let centre = Centre {
                dx0: -21.0,
                expected: 3.0,
                slope_x,
                radius_per_coc: 0.5,
                radius: 4.0,
                inverse_area: 0.01,
            };
            // Every third source on the centre's surface, the others nearer or farther.
            let coc: Vec<f32> = (0..n)
                .map(|k| match k % 3 {
                    0 => centre.expected + slope_x * (centre.dx0 + k as f32) + 0.5,
                    _ => wave(k * 7, -30.0, 35.0),
                })
                .collect();
            let span = Span {
                coc: &coc,
                inverse_area: &inverse_area,
                mass: &mass,
                rgb: &rgb,
                front: &front,
                back_reversed: &back_reversed,
            };
            // The row seen from a second centre too: one gather's sums run on over its rows.
            let other = Centre {
                dx0: -3.0,
                expected: -6.0,
                ..centre
            };
            let rows = [(span, centre), (span, other)];
            let mut expected = [Layer::default(); 3];
            for (span, centre) in &rows {
                for k in 0..n {
                    scalar(span, centre, &mut expected, k);
                }
            }
            // The long row holds sources of every group.
            assert!(n < 43 || expected.iter().all(|layer| layer.weight > 0.0));
            let implementations = if slope_x == 0.0 {
                implementations::<false>()
            } else {
                implementations::<true>()
            };
            for add in implementations {
                let mut lanes = [Layer::default(); 3];
                add(&rows, &mut lanes);
                for (got, want) in lanes.iter().zip(&expected) {
                    for (g, w) in got
                        .colour
                        .iter()
                        .chain([&got.weight])
                        .zip(want.colour.iter().chain([&want.weight]))
                    {
                        assert!((g - w).abs() <= 1e-5 * w.abs().max(1.0), "{g} vs {w}");
                    }
                }
            }
        }
    }
}
