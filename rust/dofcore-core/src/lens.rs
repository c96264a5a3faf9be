//! Thin-lens circle of confusion, in the framing-preserving convention of docs/model.md.

use rayon::prelude::*;

use crate::error::DofError;
use crate::gather::{first_where, VALUES_PER_TASK};

/// A thin lens as it images one photo.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Lens {
    /// Aperture diameter A = F / N, metres.
    pub aperture_m: f64,
    /// The photo's focal length in pixels: converts angles to pixels.
    pub focal_px: f64,
    /// Focus distance s, metres (planar depth).
    pub focus_m: f64,
}

impl Lens {
    pub fn new(aperture_m: f64, focal_px: f64, focus_m: f64) -> Result<Self, DofError> {
        for (what, value) in [
            ("aperture diameter", aperture_m),
            ("focal length in pixels", focal_px),
            ("focus distance", focus_m),
        ] {
            if !(value.is_finite() && value > 0.0) {
                return Err(DofError::NotPositive { what, value });
            }
        }
        Ok(Self {
            aperture_m,
            focal_px,
            focus_m,
        })
    }

    /// Signed blur diameter in pixels of a point at planar depth `depth_m`:
    /// c = A * f_px * (1/s - 1/z), negative in front of the focus plane, positive behind.
    ///
    /// Computed in f64 in exactly this order so the numpy reference reproduces it bit for bit.
    pub fn circle_of_confusion(&self, depth_m: f64) -> f64 {
        self.aperture_m * self.focal_px * (1.0 / self.focus_m - 1.0 / depth_m)
    }

    /// The CoC map of a depth map (row-major, `width` x `height`), on every core of the pool.
    pub fn coc_map(&self, depth: &[f32], width: usize) -> Result<Vec<f32>, DofError> {
        if let Some(index) = first_where(depth, |z| !(z.is_finite() && z > 0.0)) {
            return Err(DofError::BadDepth {
                x: index % width.max(1),
                y: index / width.max(1),
                value: depth[index],
            });
        }
        Ok(depth
            .par_iter()
            .with_min_len(VALUES_PER_TASK)
            .map(|&z| self.circle_of_confusion(f64::from(z)) as f32)
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // 85 mm at f/1.8 on a 1500 px wide full-frame-equivalent photo, focused at 2 m.
    fn portrait_lens() -> Lens {
        let focal_m = 0.085;
        let focal_px = 1500.0 * 85.0 / 36.0;
        Lens::new(focal_m / 1.8, focal_px, 2.0).unwrap()
    }

    #[test]
    fn in_focus_plane_is_sharp() {
        assert_eq!(portrait_lens().circle_of_confusion(2.0), 0.0);
    }

    #[test]
    fn sign_is_negative_in_front_and_positive_behind() {
        let lens = portrait_lens();
        assert!(lens.circle_of_confusion(1.0) < 0.0);
        assert!(lens.circle_of_confusion(5.0) > 0.0);
    }

    #[test]
    fn background_at_infinity_blurs_to_aperture_times_focal_over_focus() {
        let lens = portrait_lens();
        let expected = lens.aperture_m * lens.focal_px / lens.focus_m;
        let far = lens.circle_of_confusion(1e12);
        assert!((far - expected).abs() < 1e-6, "{far} vs {expected}");
    }

    #[test]
    fn textbook_sensor_formula_is_larger_by_s_over_s_minus_f() {
        // Textbook: c = A F / (s - F) * |z - s| / z on a sensor of pitch 36 mm / W.
        let lens = portrait_lens();
        let (focal_m, z, s) = (0.085, 5.0, lens.focus_m);
        let pitch_m = 0.036 / 1500.0;
        let textbook_px = lens.aperture_m * focal_m / (s - focal_m) * (z - s).abs() / z / pitch_m;
        let ratio = textbook_px / lens.circle_of_confusion(z).abs();
        assert!((ratio - s / (s - focal_m)).abs() < 1e-9, "ratio {ratio}");
    }

    #[test]
    fn bad_depth_names_the_pixel() {
        let err = portrait_lens()
            .coc_map(&[1.0, 2.0, 0.0, 1.0], 2)
            .unwrap_err();
        assert_eq!(
            err,
            DofError::BadDepth {
                x: 0,
                y: 1,
                value: 0.0
            }
        );
    }

    #[test]
    fn of_many_bad_depths_the_first_is_named() {
        let width = 1000;
        let mut depth = vec![1.0f32; 300 * width];
        depth[150 * width + 7] = f32::NAN;
        depth[290 * width] = -1.0;
        let err = portrait_lens().coc_map(&depth, width).unwrap_err();
        assert!(
            matches!(err, DofError::BadDepth { x: 7, y: 150, value } if value.is_nan()),
            "{err:?}"
        );
    }

    #[test]
    fn lens_rejects_non_positive_parameters() {
        assert!(Lens::new(0.0, 100.0, 2.0).is_err());
        assert!(Lens::new(0.01, f64::NAN, 2.0).is_err());
        assert!(Lens::new(0.01, 100.0, -1.0).is_err());
    }
}
