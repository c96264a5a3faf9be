"""A tiny, randomly initialised Depth Pro of the real architecture, for tests: built here,
saved with save_pretrained, and loaded by the same code path that loads Apple's weights."""

from __future__ import annotations

from pathlib import Path

import torch
from transformers import DepthProConfig, DepthProForDepthEstimation

# Its field-of-view head is pinned to this angle, so the focal length it implies is known.
FOV_DEG = 55.0
# Its depth head is scaled so that canonical inverse depth is about this mean and spread
# (metres^-1): random weights alone give depths from millimetres to kilometres, and which
# depends on how the installed transformers initialises them.
INVERSE_DEPTH_MEAN, INVERSE_DEPTH_SPREAD = 0.5, 0.2


def tiny_config() -> DepthProConfig:
    dinov2 = dict(model_type="dinov2", hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                  intermediate_size=64, patch_size=8, image_size=32)
    return DepthProConfig(
        patch_size=32, fusion_hidden_size=16, intermediate_hook_ids=[1, 0],
        intermediate_feature_dims=[16, 16], scaled_images_ratios=[0.5, 1.0],
        scaled_images_overlap_ratios=[0.0, 0.5], scaled_images_feature_dims=[32, 16],
        use_fov_model=True, image_model_config=dict(dinov2), patch_model_config=dict(dinov2),
        fov_model_config=dict(dinov2),
    )


def save_tiny_depth_pro(folder: Path) -> Path:
    torch.manual_seed(0)
    model = DepthProForDepthEstimation(tiny_config())
    last = model.fov_model.head.layers[-1]
    with torch.no_grad():
        last.weight.zero_()
        last.bias.fill_(FOV_DEG)
        _pin_inverse_depth(model)
    model.save_pretrained(folder)
    return folder


def _pin_inverse_depth(model: DepthProForDepthEstimation) -> None:
    """Rescale the depth head's last convolution from its output on a random probe image."""
    *_, last, _ = model.head.layers  # the final 1x1 convolution, before the closing ReLU
    outputs = []
    hook = last.register_forward_hook(lambda module, inputs, output: outputs.append(output))
    size = round(model.config.patch_size / min(model.config.scaled_images_ratios))
    model.eval()(pixel_values=torch.rand(1, 3, size, size) * 2 - 1)
    hook.remove()
    mean, std = outputs[0].mean(), outputs[0].std()
    scale = INVERSE_DEPTH_SPREAD / std
    last.weight.mul_(scale)
    last.bias.copy_((last.bias - mean) * scale + INVERSE_DEPTH_MEAN)
