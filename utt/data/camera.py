"""The RGB-D camera: pinhole projection of walkers to ``BBX5`` boxes, depth noise, occlusion.

Intrinsics are those of the ZED HD720 camera Vi-Fi used (notes §1.2). A box is
``[col, row, depth, width, height]``: centre pixel, median depth of the box in metres, and
size in pixels. Height follows h = fy * H / z for a person of height H at depth z, width is
about 0.4 h, with 2-5 % jitter. Stereo depth noise grows with the square of the depth,
sigma_z = z^2 * sigma_d / (fx * B) with baseline B = 0.12 m and disparity noise
sigma_d = 0.25 px, plus a few background-pixel outliers (notes §1.5).
"""

from __future__ import annotations

import math

import numpy as np

from utt.data.areas import AreaConditions

__all__ = [
    "CX",
    "CY",
    "FX",
    "FY",
    "IMAGE_SIZE",
    "MIN_DEPTH_M",
    "observe_boxes",
    "project_boxes",
]

FX, FY, CX, CY = 528.37, 527.93, 638.93, 359.28
IMAGE_SIZE = (1280, 720)
MIN_DEPTH_M = 1.5
_HALF_FOV = math.radians(50.0)
_BASELINE_M = 0.12
_DISPARITY_SIGMA_PX = 0.25


def project_boxes(
    pos: np.ndarray, heights: np.ndarray, camera_height_m: float, max_depth_m: float
) -> np.ndarray:
    """Noise-free boxes ``(T, P, 5)`` for ground positions ``(T, P, 2)``; NaN out of view.

    A walker is in view when its depth lies in [1.5 m, max depth] and its bearing inside the
    100-degree horizontal field of view.
    """
    x, z = pos[..., 0], pos[..., 1]
    hgt = np.broadcast_to(heights, x.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = FY * hgt / z
        col = FX * x / z + CX
        # The box centre is at half the body height; image rows grow downwards.
        row = FY * (camera_height_m - hgt / 2) / z + CY
    boxes = np.stack([col, row, z, 0.4 * h, h], axis=-1)
    inside = (
        (z >= MIN_DEPTH_M)
        & (z <= max_depth_m)
        & (np.abs(np.arctan2(x, z)) <= _HALF_FOV)
        & (col >= 0)
        & (col < IMAGE_SIZE[0])
    )
    boxes[~inside] = np.nan
    return boxes


def _occluded(boxes: np.ndarray) -> np.ndarray:
    """``(T, P)`` flags: another, nearer box covers more than half of this box's width."""
    col, z, w = boxes[..., 0], boxes[..., 2], boxes[..., 3]
    left, right = col - w / 2, col + w / 2
    overlap = np.minimum(right[:, :, None], right[:, None, :]) - np.maximum(
        left[:, :, None], left[:, None, :]
    )
    nearer = z[:, None, :] < z[:, :, None] - 0.3
    with np.errstate(invalid="ignore"):
        covered = (overlap > 0.5 * w[:, :, None]) & nearer
    flags: np.ndarray = np.asarray(covered, dtype=bool)
    return np.asarray(flags.any(axis=2))


def observe_boxes(clean: np.ndarray, area: AreaConditions, rng: np.random.Generator) -> np.ndarray:
    """Measured boxes: jitter, depth noise and outliers; NaN when out of view or occluded."""
    obs = clean.copy()
    shape = clean.shape[:2]
    w, h, z = clean[..., 3], clean[..., 4], clean[..., 2]
    jitter = rng.uniform(0.02, 0.05)
    obs[..., 0] += rng.normal(0.0, 1.0, shape) * jitter * w
    obs[..., 1] += rng.normal(0.0, 1.0, shape) * jitter * h
    scale = 1.0 + rng.normal(0.0, jitter, shape)
    obs[..., 3] = w * scale
    obs[..., 4] = h * scale
    sigma_z = z**2 * _DISPARITY_SIGMA_PX / (FX * _BASELINE_M)
    obs[..., 2] = z + rng.normal(0.0, 1.0, shape) * sigma_z
    # The median depth of a box sometimes lands on background pixels behind the person.
    outlier = rng.random(shape) < area.depth_outlier_p
    obs[..., 2] = np.where(outlier, z + rng.uniform(1.0, 6.0, shape), obs[..., 2])
    obs[_occluded(clean)] = np.nan
    return obs
