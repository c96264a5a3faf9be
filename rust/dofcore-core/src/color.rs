//! The pipeline's per-pixel colour steps on every core (docs/model.md 1 and 4): the photo's sRGB
//! codes to linear light, back, and each pixel's brightest channel. python/dofcore/color.py
//! defines them; these give the same values, bit for bit, from the tables it computes.

use rayon::prelude::*;

use crate::error::DofError;

/// Values per parallel task: large enough that handing them out costs nothing.
const CHUNK: usize = 1 << 14;

/// Linear light of each code: `table[code]`, where `T` is an unsigned integer type and `table`
/// holds one value per code of it (a table of that length needs no pass over the codes to check).
pub fn decode<T: Copy + Into<usize> + Sync>(
    table: &[f32],
    codes: &[T],
) -> Result<Vec<f32>, DofError> {
    let code_count = 1usize << (8 * std::mem::size_of::<T>());
    let Some(table) = table.get(..code_count) else {
        return Err(DofError::Internal(format!(
            "a decoding table of {} entries for {code_count} codes",
            table.len()
        )));
    };
    let mut out = vec![0.0f32; codes.len()];
    out.par_chunks_mut(CHUNK)
        .zip(codes.par_chunks(CHUNK))
        .for_each(|(out, codes)| {
            for (value, &code) in out.iter_mut().zip(codes) {
                *value = table[code.into()];
            }
        });
    Ok(out)
}

/// The code of each linear value: how many of `thresholds` it reaches, where `thresholds[j]`
/// is the least value whose code is above j (ascending). Values below 0 are code 0, above 1
/// the top code; NaN is an error.
pub fn encode<T: Send + TryFrom<usize>>(
    linear: &[f32],
    thresholds: &[f32],
) -> Result<Vec<T>, DofError> {
    if thresholds.is_empty()
        || T::try_from(thresholds.len()).is_err()
        || thresholds.windows(2).any(|pair| {
            pair[0]
                .partial_cmp(&pair[1])
                .is_none_or(|order| order.is_gt())
        })
        || !(thresholds[0] > 0.0 && thresholds[thresholds.len() - 1] <= 1.0)
    {
        return Err(DofError::Internal(
            "encoding thresholds must ascend within (0, 1], one per code above 0".into(),
        ));
    }
    if linear.par_iter().any(|v| v.is_nan()) {
        return Err(DofError::NotFinite {
            what: "linear light to encode",
            value: f64::NAN,
        });
    }
    let buckets = Buckets::new(thresholds);
    let out = linear
        .par_iter()
        .with_min_len(CHUNK)
        .map(|&v| match T::try_from(buckets.code(v)) {
            Ok(code) => code,
            Err(_) => unreachable!("a code is at most thresholds.len(), checked above"),
        })
        .collect();
    Ok(out)
}

/// The thresholds indexed by the high bits of a float's representation (which orders
/// non-negative floats as their values): a value's code is the count of thresholds below its
/// bucket plus those of its bucket it reaches, a few at most.
struct Buckets {
    /// The thresholds, then `most` infinities: a bucket's run of `most` is always in bounds.
    thresholds: Vec<f32>,
    /// below[b]: how many thresholds lie below bucket b's first value.
    below: Vec<u32>,
    /// The most thresholds in one bucket.
    most: usize,
}

impl Buckets {
    const SHIFT: u32 = 16;
    /// Up to this many thresholds per bucket (8-bit codes: 1) are counted without a search.
    const MOST_WITHOUT_SEARCH: usize = 4;

    fn bucket(value: f32) -> usize {
        (value.to_bits() >> Self::SHIFT) as usize
    }

    fn new(thresholds: &[f32]) -> Self {
        let count = Self::bucket(1.0) + 2;
        let mut below = vec![0u32; count];
        let mut j = 0;
        for (b, entry) in below.iter_mut().enumerate() {
            while j < thresholds.len() && Self::bucket(thresholds[j]) < b {
                j += 1;
            }
            *entry = j as u32;
        }
        let most = below
            .windows(2)
            .map(|pair| (pair[1] - pair[0]) as usize)
            .max()
            .unwrap_or(0);
        let mut padded = thresholds.to_vec();
        padded.resize(thresholds.len() + most, f32::INFINITY);
        Self {
            thresholds: padded,
            below,
            most,
        }
    }

    fn code(&self, value: f32) -> usize {
        // Into [0, 1], -0.0 made 0.0: every threshold is above 0 and at most 1.
        let value = f32::from_bits(value.clamp(0.0, 1.0).to_bits() & 0x7fff_ffff);
        let b = Self::bucket(value);
        let first = self.below[b] as usize;
        if self.most <= Self::MOST_WITHOUT_SEARCH {
            // A threshold past the value's bucket is above the value: counting the bucket's
            // run of `most` without a branch counts exactly those of its own it reaches.
            let run = &self.thresholds[first..first + self.most];
            first + run.iter().map(|&t| usize::from(t <= value)).sum::<usize>()
        } else {
            let end = self.below[b + 1] as usize;
            first + self.thresholds[first..end].partition_point(|&t| t <= value)
        }
    }
}

/// The largest of each pixel's three channels (interleaved RGB).
pub fn brightest_channel(rgb: &[f32]) -> Vec<f32> {
    let mut out = vec![0.0f32; rgb.len() / 3];
    out.par_chunks_mut(CHUNK)
        .zip(rgb.par_chunks(3 * CHUNK))
        .for_each(|(out, rgb)| {
            for (value, pixel) in out.iter_mut().zip(rgb.chunks_exact(3)) {
                *value = pixel[0].max(pixel[1]).max(pixel[2]);
            }
        });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_counts_the_thresholds_it_reaches() {
        // Uneven thresholds: several in one bucket, buckets without any, one at exactly 1; few
        // enough per bucket to be counted, and (2000) so many that they are searched.
        for count in [300, 2000] {
            codes_count_thresholds(count);
        }
    }

    fn codes_count_thresholds(count: usize) {
        let thresholds: Vec<f32> = (1..=count)
            .map(|j| (j as f32 / count as f32).powf(2.4))
            .collect();
        let buckets = Buckets::new(&thresholds);
        assert_eq!(
            buckets.most <= Buckets::MOST_WITHOUT_SEARCH,
            count == 300,
            "{}",
            buckets.most
        );
        let mut values: Vec<f32> = (0..20_000).map(|k| k as f32 / 19_999.0).collect();
        values.extend(thresholds.iter().flat_map(|&t| {
            [
                t,
                f32::from_bits(t.to_bits() - 1),
                f32::from_bits(t.to_bits() + 1),
            ]
        }));
        values.extend([
            -1.0,
            -0.0,
            0.0,
            1e-30,
            2.0,
            f32::INFINITY,
            f32::NEG_INFINITY,
        ]);
        for v in values {
            let expected = thresholds.iter().filter(|&&t| t <= v).count();
            assert_eq!(buckets.code(v), expected, "{v}");
        }
        let codes: Vec<u16> = encode(&[0.5, 2.0, -3.0], &thresholds).unwrap();
        assert_eq!(codes, [buckets.code(0.5) as u16, count as u16, 0]);
    }

    #[test]
    fn bad_tables_and_values_are_errors() {
        let ascending = [0.25f32, 0.5, 1.0];
        assert!(encode::<u8>(&[f32::NAN], &ascending).is_err());
        assert!(encode::<u8>(&[0.5], &[0.5, 0.25, 1.0]).is_err());
        assert!(encode::<u8>(&[0.5], &[0.0, 0.5]).is_err());
        assert!(encode::<u8>(&[0.5], &vec![0.5; 300]).is_err());
        assert!(decode::<u8>(&[0.0; 255], &[200]).is_err());
        let table: Vec<f32> = (0..256).map(|code| code as f32 / 255.0).collect();
        assert_eq!(decode::<u8>(&table, &[255, 0]).unwrap(), [1.0, 0.0]);
    }

    #[test]
    fn the_brightest_channel_of_each_pixel() {
        assert_eq!(
            brightest_channel(&[0.1, 0.3, 0.2, 5.0, 0.0, 1.0]),
            [0.3, 5.0]
        );
    }
}
