//! Criterion benchmarks of the pure-Rust core: `cargo bench -p dofcore-core`.
//! A 384 x 384 crop of the benchmark scene's lens (85 mm, f/1.8, focus 2 m, 1500 px frame):
//! a ground plane from far to 0.7 m with a subject at the focus distance.

use criterion::{criterion_group, criterion_main, Criterion};
use dofcore_core::{
    render_linear, render_pyramid, Aperture, Image, KernelTable, Lens, DEFAULT_MIN_RADIUS,
};

const SIZE: usize = 384;
const FRAME: usize = 1500;

/// A `size`-square window of the benchmark lens's 1500 px frame, from row `first_row` down.
fn scene(size: usize, first_row: usize) -> (Vec<f32>, Vec<f32>) {
    let frame_px = FRAME as f64;
    let lens = Lens::new(0.085 / 1.8, frame_px * 85.0 / 36.0, 2.0).expect("valid lens");
    let mut rgb = Vec::with_capacity(size * size * 3);
    let mut depth = Vec::with_capacity(size * size);
    let centre = (size as f64 / 2.0, size as f64 / 3.0);
    for y in 0..size {
        for x in 0..size {
            // The ground from far (row 0 of the frame) to 0.7 m (its last row).
            let row = (y + first_row) as f64 / frame_px;
            let ground = 0.7 / row.max(1e-3);
            let (dx, dy) = (x as f64 - centre.0, y as f64 - centre.1);
            let subject = dx * dx / 0.5 + dy * dy < (0.23 * size as f64).powi(2);
            depth.push(if subject { 2.0 } else { ground } as f32);
            let hash = (x.wrapping_mul(73_856_093) ^ y.wrapping_mul(19_349_663)) % 1000;
            let light = if hash == 0 { 8.0 } else { 0.0 };
            rgb.extend_from_slice(&[
                light + (hash % 7) as f32 / 7.0,
                0.4,
                (hash % 5) as f32 / 5.0,
            ]);
        }
    }
    let coc = lens.coc_map(&depth, size).expect("positive depth");
    (rgb, coc)
}

fn bench_gather(c: &mut Criterion) {
    // Rows 900..1284 of the frame: the ground from 1.6 m to 1.0 m, blur up to ~70 px.
    let (rgb, coc) = scene(SIZE, 900);
    let image = Image {
        rgb: &rgb,
        width: SIZE,
        height: SIZE,
    };
    let hexagon = Aperture::new(6, 0.0, 0.2).expect("valid aperture");
    let mut group = c.benchmark_group("gather 384x384");
    group.sample_size(10);
    for threads in [1, 2] {
        group.bench_function(format!("circle, {threads} thread(s)"), |b| {
            b.iter(|| render_linear(image, &coc, &Aperture::CIRCLE, threads).expect("renders"))
        });
    }
    group.bench_function("hexagon, 2 threads", |b| {
        b.iter(|| render_linear(image, &coc, &hexagon, 2).expect("renders"))
    });
    group.finish();

    // The whole 1500 x 1500 frame, as the Python benchmark renders it (blur up to ~155 px).
    let (rgb, coc) = scene(FRAME, 0);
    let frame = Image {
        rgb: &rgb,
        width: FRAME,
        height: FRAME,
    };
    let mut group = c.benchmark_group("gather 1500x1500");
    group.sample_size(10);
    group.bench_function("circle, 2 threads", |b| {
        b.iter(|| render_linear(frame, &coc, &Aperture::CIRCLE, 2).expect("renders"))
    });
    group.finish();

    // The fast level (docs/model.md 8) on the same frame.
    let mut group = c.benchmark_group("fast level 1500x1500");
    group.sample_size(10);
    for threads in [1, 2] {
        group.bench_function(format!("circle, {threads} thread(s)"), |b| {
            b.iter(|| {
                render_pyramid(frame, &coc, &Aperture::CIRCLE, threads, DEFAULT_MIN_RADIUS)
                    .expect("renders")
            })
        });
    }
    group.finish();
    c.bench_function("kernel table, radius 80", |b| {
        b.iter(|| KernelTable::new(&Aperture::CIRCLE, 80.0))
    });
}

criterion_group!(benches, bench_gather);
criterion_main!(benches);
