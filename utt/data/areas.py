"""Conditions of the K local areas the generator simulates (deliberately non-IID).

Each local area stands for one camera spot of Vi-Fi: area 0 is the indoor room
(``indoor/scene0``), areas 1.. are outdoor spots (``outdoor/scene<k>``). Parameters are drawn
per area from the ranges in the project notes (utt.md §1.5), so areas differ in depth range,
crowding, FTM device offsets and blocking, and magnetic disturbance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["AreaConditions", "make_areas"]


@dataclass(frozen=True)
class AreaConditions:
    """Physical conditions of one local area; all lengths in metres, times in seconds."""

    index: int
    scene: str
    indoor: bool
    max_depth_m: float
    camera_height_m: float
    half_width_m: float
    n_phones: tuple[int, int]
    n_others: tuple[int, int]
    speed_mps: tuple[float, float]
    pause_rate_hz: float
    crowded_prob: float
    heading_sigma: float
    depth_outlier_p: float
    ftm_offset_m: tuple[float, float]
    ftm_large_offset_p: float
    ftm_los_sigma_m: float
    ftm_nlos_bias_m: tuple[float, float]
    ftm_outlier_p: float
    ftm_missing_p: float
    mag_disturbance_ut: float
    accel_sigma: float
    gyro_sigma: float

    @property
    def place(self) -> str:
        """``indoor`` or ``outdoor``."""
        return "indoor" if self.indoor else "outdoor"


def make_areas(k: int, seed: int) -> tuple[AreaConditions, ...]:
    """Draw ``k`` area conditions deterministically from ``seed``.

    Area 0 is indoor when ``k > 1``: short depth, more phones, strong magnetic disturbance,
    as in Vi-Fi's indoor room; the others are outdoor spots with longer depth ranges,
    passers-by and differing FTM hardware.
    """
    if k < 1:
        raise ValueError("need at least one area")
    rng = np.random.default_rng([seed, 0xA4EA])
    areas = []
    for i in range(k):
        indoor = k > 1 and i == 0
        u = rng.uniform
        # Per-scene max depth 11.4-18 m outdoors (notes §1.2); the room is smaller.
        max_depth = float(u(7.0, 9.0) if indoor else u(11.4, 18.0))
        lo = float(u(0.2, 0.8))
        areas.append(
            AreaConditions(
                index=i,
                scene=f"indoor/scene{i}" if indoor else f"outdoor/scene{i if k > 1 else 1}",
                indoor=indoor,
                max_depth_m=max_depth,
                camera_height_m=float(u(1.3, 1.8)),
                half_width_m=0.6 * max_depth,
                n_phones=(3, 5) if indoor else (2, 3),
                n_others=(0, 0) if indoor else (0, 3),
                speed_mps=(1.0, 1.5) if not indoor else (0.8, 1.2),
                pause_rate_hz=float(u(1 / 40, 1 / 15)),
                crowded_prob=float(u(0.1, 0.5)),
                heading_sigma=float(u(0.2, 0.4)),
                depth_outlier_p=float(u(0.01, 0.04)),
                ftm_offset_m=(lo, float(u(lo + 0.3, 1.5))),
                ftm_large_offset_p=float(u(0.0, 0.15)),
                ftm_los_sigma_m=float(u(0.1, 0.3)),
                ftm_nlos_bias_m=(0.5, float(u(1.5, 3.0))),
                ftm_outlier_p=float(u(0.01, 0.03)),
                ftm_missing_p=float(u(0.02, 0.10)),
                mag_disturbance_ut=float(u(5.0, 10.0) if indoor else u(0.5, 2.0)),
                accel_sigma=float(u(0.02, 0.05)),
                gyro_sigma=float(u(0.005, 0.01)),
            )
        )
    return tuple(areas)
