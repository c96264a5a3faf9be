//! Aperture shapes and the discrete kernel they make: the norm rho(offset) whose unit ball is
//! the aperture, the anti-aliased coverage of a kernel of radius R, and its exact area K(R).

use std::f64::consts::PI;

use crate::error::DofError;

/// Most blades a diaphragm may have; beyond this a polygon is a circle to the eye.
pub const MAX_BLADES: u32 = 32;

/// The aperture as a point light shows it behind the focus plane (in front of it the shape is
/// point-reflected, see `KernelTable::rho`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Aperture {
    /// 0 for a circle, else the number of diaphragm blades (>= 3).
    pub blades: u32,
    /// Angle of one polygon vertex, radians, counter-clockwise from +x as seen on screen.
    pub rotation_rad: f64,
    /// 0: straight blades (a polygon); 1: fully rounded blades (a circle).
    pub curvature: f64,
}

impl Aperture {
    pub const CIRCLE: Aperture = Aperture {
        blades: 0,
        rotation_rad: 0.0,
        curvature: 0.0,
    };

    pub fn new(blades: u32, rotation_rad: f64, curvature: f64) -> Result<Self, DofError> {
        if blades != 0 && !(3..=MAX_BLADES).contains(&blades) {
            return Err(DofError::Blades {
                blades,
                max: MAX_BLADES,
            });
        }
        if !(0.0..=1.0).contains(&curvature) {
            return Err(DofError::Curvature(curvature));
        }
        if !rotation_rad.is_finite() {
            return Err(DofError::NotFinite {
                what: "blade rotation",
                value: rotation_rad,
            });
        }
        Ok(Self {
            blades,
            rotation_rad,
            curvature,
        })
    }

    /// The aperture norm of an image offset (x right, y down): the radius of the smallest kernel
    /// whose boundary passes through the offset. A polygon has circumradius 1 in this norm, so an
    /// n-bladed kernel of radius R is inscribed in the circle of radius R.
    pub fn norm(&self, x: f64, y: f64) -> f64 {
        let euclidean = x.hypot(y);
        if self.blades == 0 || euclidean == 0.0 {
            return euclidean;
        }
        let sector = 2.0 * PI / f64::from(self.blades);
        let angle = (-y).atan2(x) - self.rotation_rad;
        let within_sector = angle.rem_euclid(sector);
        let polygon = euclidean * (within_sector - sector / 2.0).cos() / (sector / 2.0).cos();
        (1.0 - self.curvature) * polygon + self.curvature * euclidean
    }
}

/// Anti-aliased coverage of a kernel of radius `radius` at aperture norm `rho`: 1 inside,
/// 0 outside, linear across the one-pixel band around the boundary.
#[inline]
pub fn coverage(radius: f32, rho: f32) -> f32 {
    (radius + 0.5 - rho).clamp(0.0, 1.0)
}

/// Aperture norms of every offset in a square window, and the sorted norms that give the exact
/// discrete kernel area K(R) = sum over all offsets of coverage(R, rho).
#[derive(Debug, Clone)]
pub struct KernelTable {
    half_width: usize,
    /// rho of offset (dx, dy) at index (dy + h) * (2h + 1) + (dx + h).
    rho: Vec<f32>,
    sorted_rho: Vec<f64>,
    /// prefix_sum[k] = sum of the k smallest norms.
    prefix_sum: Vec<f64>,
    /// bucket_start[k] = how many norms are below k / NORM_BUCKETS_PER_PX: each search of
    /// `sorted_rho` looks in one bucket, not the whole table (it is called for every pixel).
    bucket_start: Vec<usize>,
}

/// Buckets per pixel of norm: a power of two, so a norm's bucket is computed exactly.
const NORM_BUCKETS_PER_PX: f64 = 16.0;

impl KernelTable {
    /// A table that serves every kernel of radius up to `max_radius`.
    pub fn new(aperture: &Aperture, max_radius: f32) -> Self {
        // rho >= the Chebyshev norm, so no offset beyond this width has nonzero coverage.
        let half_width = (f64::from(max_radius) + 0.5).ceil().max(1.0) as usize;
        let side = 2 * half_width + 1;
        let h = half_width as f64;
        let mut rho64 = Vec::with_capacity(side * side);
        for row in 0..side {
            for col in 0..side {
                rho64.push(aperture.norm(col as f64 - h, row as f64 - h));
            }
        }
        let rho = rho64.iter().map(|&r| r as f32).collect();
        let mut sorted_rho = rho64;
        sorted_rho.sort_by(f64::total_cmp);
        let mut prefix_sum = Vec::with_capacity(sorted_rho.len() + 1);
        let mut running = 0.0;
        prefix_sum.push(running);
        for &r in &sorted_rho {
            running += r;
            prefix_sum.push(running);
        }
        let buckets =
            (sorted_rho.last().copied().unwrap_or(0.0) * NORM_BUCKETS_PER_PX) as usize + 2;
        let bucket_start = (0..=buckets)
            .map(|k| sorted_rho.partition_point(|&rho| rho < k as f64 / NORM_BUCKETS_PER_PX))
            .collect();
        Self {
            half_width,
            rho,
            sorted_rho,
            prefix_sum,
            bucket_start,
        }
    }

    /// How many norms hold `below(rho)`, a test true of every norm under `threshold` and of
    /// none above it (`rho <= threshold` or `rho < threshold`).
    fn count_below(&self, threshold: f64, below: impl Fn(f64) -> bool) -> usize {
        if threshold < 0.0 {
            return 0;
        }
        // Norms in lower buckets hold the test, those in higher ones do not.
        let bucket = (threshold * NORM_BUCKETS_PER_PX) as usize;
        let Some(&end) = self.bucket_start.get(bucket.saturating_add(1)) else {
            return self.sorted_rho.len();
        };
        let start = self.bucket_start[bucket];
        start + self.sorted_rho[start..end].partition_point(|&rho| below(rho))
    }

    pub fn half_width(&self) -> usize {
        self.half_width
    }

    /// Aperture norm of the image offset (dx, dy), |dx|, |dy| <= half_width.
    #[inline]
    pub fn rho(&self, dx: isize, dy: isize) -> f32 {
        let h = self.half_width as isize;
        let side = 2 * h + 1;
        self.rho[((dy + h) * side + dx + h) as usize]
    }

    /// The norms of row dy (|dy| <= half_width): rho(dx, dy) at index dx + half_width.
    #[inline]
    pub fn row(&self, dy: isize) -> &[f32] {
        let side = 2 * self.half_width + 1;
        let start = (dy + self.half_width as isize) as usize * side;
        &self.rho[start..start + side]
    }

    /// Exact kernel area K(R): offsets fully inside count 1, those in the boundary band count
    /// their coverage R + 0.5 - rho. Piecewise linear in R, so two searches suffice, each in one
    /// bucket of the sorted norms.
    pub fn area(&self, radius: f32) -> f64 {
        let r = f64::from(radius);
        let full = self.count_below(r - 0.5, |rho| rho <= r - 0.5);
        let partial_end = self.count_below(r + 0.5, |rho| rho < r + 0.5);
        let band = (partial_end - full) as f64;
        let band_rho = self.prefix_sum[partial_end] - self.prefix_sum[full];
        full as f64 + (r + 0.5) * band - band_rho
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brute_force_area(aperture: &Aperture, radius: f32) -> f64 {
        let h = (radius + 2.0).ceil() as i64;
        let mut area = 0.0;
        for y in -h..=h {
            for x in -h..=h {
                let rho = aperture.norm(x as f64, y as f64);
                area += (f64::from(radius) + 0.5 - rho).clamp(0.0, 1.0);
            }
        }
        area
    }

    #[test]
    fn circle_norm_is_euclidean() {
        assert_eq!(Aperture::CIRCLE.norm(3.0, 4.0), 5.0);
    }

    #[test]
    fn polygon_vertex_on_unit_circle_and_edge_midpoint_at_apothem() {
        let hexagon = Aperture::new(6, 0.0, 0.0).unwrap();
        assert!((hexagon.norm(1.0, 0.0) - 1.0).abs() < 1e-12);
        let apothem = (PI / 6.0).cos();
        let mid_angle = PI / 6.0;
        let (x, y) = (apothem * mid_angle.cos(), -apothem * mid_angle.sin());
        assert!((hexagon.norm(x, y) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn rotation_turns_the_polygon_counter_clockwise_on_screen() {
        let quarter_turn = Aperture::new(5, PI / 2.0, 0.0).unwrap();
        // With the vertex rotated to +y on screen (up), the point straight up is a vertex.
        assert!((quarter_turn.norm(0.0, -1.0) - 1.0).abs() < 1e-12);
        assert!(quarter_turn.norm(0.0, 1.0) > 1.0);
    }

    #[test]
    fn full_curvature_is_a_circle() {
        let rounded = Aperture::new(5, 0.3, 1.0).unwrap();
        assert!((rounded.norm(2.0, -7.0) - 2.0f64.hypot(7.0)).abs() < 1e-12);
    }

    #[test]
    fn a_bucketed_search_counts_the_norms_as_a_search_of_the_whole_table() {
        for aperture in [Aperture::CIRCLE, Aperture::new(5, 0.3, 0.2).unwrap()] {
            let table = KernelTable::new(&aperture, 12.0);
            // Every norm itself, its neighbours in f64, the buckets' edges and beyond the table.
            let thresholds = table
                .sorted_rho
                .iter()
                .flat_map(|&rho| [rho, rho.next_down(), rho.next_up()])
                .chain((0..300).map(|k| f64::from(k) / NORM_BUCKETS_PER_PX))
                .chain([-0.5, -1e-300, 1e6, f64::INFINITY, f64::NAN]);
            for t in thresholds {
                let whole =
                    |below: &dyn Fn(f64) -> bool| table.sorted_rho.partition_point(|&r| below(r));
                assert_eq!(
                    table.count_below(t, |r| r <= t),
                    whole(&|r| r <= t),
                    "<= {t}"
                );
                assert_eq!(table.count_below(t, |r| r < t), whole(&|r| r < t), "< {t}");
            }
        }
    }

    #[test]
    fn kernel_area_matches_brute_force_for_every_shape() {
        let shapes = [
            Aperture::CIRCLE,
            Aperture::new(3, 0.2, 0.0).unwrap(),
            Aperture::new(6, 0.0, 0.5).unwrap(),
            Aperture::new(9, 1.0, 0.1).unwrap(),
        ];
        for aperture in shapes {
            let table = KernelTable::new(&aperture, 20.0);
            for radius in [0.0f32, 0.3, 0.5, 0.77, 1.0, 2.5, 7.25, 19.9] {
                let exact = brute_force_area(&aperture, radius);
                let fast = table.area(radius);
                assert!(
                    (exact - fast).abs() < 1e-9,
                    "{aperture:?} r={radius}: {exact} vs {fast}"
                );
            }
        }
    }

    #[test]
    fn kernel_area_approaches_the_disc_area() {
        let table = KernelTable::new(&Aperture::CIRCLE, 60.0);
        let area = table.area(50.0);
        let disc = PI * 50.0 * 50.0;
        assert!((area / disc - 1.0).abs() < 1e-3, "{area} vs {disc}");
    }

    #[test]
    fn sub_pixel_kernels_cover_only_their_own_pixel() {
        let table = KernelTable::new(&Aperture::CIRCLE, 4.0);
        assert_eq!(coverage(0.5, table.rho(1, 0)), 0.0);
        assert_eq!(coverage(0.5, table.rho(0, 0)), 1.0);
        assert_eq!(table.area(0.5), 1.0);
    }

    #[test]
    fn bad_shapes_are_refused() {
        assert!(Aperture::new(2, 0.0, 0.0).is_err());
        assert!(Aperture::new(MAX_BLADES + 1, 0.0, 0.0).is_err());
        assert!(Aperture::new(6, 0.0, 1.5).is_err());
        assert!(Aperture::new(6, f64::INFINITY, 0.0).is_err());
    }
}
