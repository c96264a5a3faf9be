"""Time Depth Pro at its full architecture: `python benches/depth_pro_speed.py [--device cuda]`.

Random weights cost the same as Apple's, so this needs no download: the model (the
apple/DepthPro-hf architecture, ViT-L Dinov2 encoders at 1536 x 1536) is built here, saved with
save_pretrained and loaded by the same code that loads the real weights.
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np
import torch
from transformers import DepthProConfig, DepthProForDepthEstimation

from dofcore.depth import estimate_depth, load_model


def apple_architecture() -> DepthProConfig:
    vit_large = dict(model_type="dinov2", hidden_size=1024, num_hidden_layers=24, num_attention_heads=16,
                     mlp_ratio=4, patch_size=16, image_size=384, layerscale_value=1.0, layer_norm_eps=1e-6)
    return DepthProConfig(
        fusion_hidden_size=256, patch_size=384, intermediate_hook_ids=[11, 5],
        intermediate_feature_dims=[256, 256], scaled_images_ratios=[0.25, 0.5, 1],
        scaled_images_overlap_ratios=[0.0, 0.5, 0.25], scaled_images_feature_dims=[1024, 1024, 512],
        use_fov_model=True, num_fov_head_layers=2, image_model_config=dict(vit_large),
        patch_model_config=dict(vit_large), fov_model_config=dict(vit_large),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--width", type=int, default=1500)
    parser.add_argument("--height", type=int, default=1000)
    args = parser.parse_args()

    torch.manual_seed(0)
    model = DepthProForDepthEstimation(apple_architecture())
    parameters = sum(p.numel() for p in model.parameters())
    photo = np.random.default_rng(0).integers(0, 256, (args.height, args.width, 3), dtype=np.uint8)
    with tempfile.TemporaryDirectory() as folder:
        model.save_pretrained(folder)
        del model
        start = time.perf_counter()
        load_model("transformers", folder, args.device)
        load_s = time.perf_counter() - start
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            # A known focal length: the random field-of-view head gives no real angle.
            estimate_depth(photo, weights=folder, device=args.device, focal_px=1200.0)
            if args.device.startswith("cuda"):
                torch.cuda.synchronize()
            times.append(time.perf_counter() - start)
    device = torch.cuda.get_device_name() if args.device.startswith("cuda") else f"cpu, {torch.get_num_threads()} threads"
    print(f"Depth Pro, {parameters / 1e6:.0f} M parameters, {args.width}x{args.height} photo, {device}: "
          f"load {load_s:.1f} s, inference " + ", ".join(f"{t:.3g} s" for t in times))


if __name__ == "__main__":
    main()
