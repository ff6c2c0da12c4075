"""Wi-Fi fine timing measurement (IEEE 802.11mc round-trip time) ranging to one AP.

The access point stands beside the camera, so the true range is the 3-D distance from the
phone to the camera. Error model from RTT error studies summarised in the notes (§1.5):
bursts at about 3 Hz with +/-50 ms jitter and 2-10 % missing; a per-device offset of
0.2-1.5 m (rarely 4-5 m); line-of-sight noise sigma 0.1-0.3 m; a body-blocking bias of
+0.5-3 m when the walker faces away from the AP; multi-metre outliers with p of 1-3 %;
0.03 m quantisation; reported std 0.05-0.5 m, higher when blocked; RSSI about
-40 - 20 log10(d) +/- 3 dB; about 7 of 8 attempts successful.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from utt.data.areas import AreaConditions
from utt.data.motion import IMU_RATE_HZ, Walk

__all__ = ["FTM_RATE_HZ", "PHONE_HEIGHT_M", "FtmBursts", "simulate_ftm", "true_range"]

FTM_RATE_HZ = 3.0
PHONE_HEIGHT_M = 1.1
_QUANTUM_M = 0.03


@dataclass(frozen=True)
class FtmBursts:
    """FTM results on the true clock: one row per successful burst."""

    t: np.ndarray
    range_m: np.ndarray
    std_m: np.ndarray
    rssi_dbm: np.ndarray
    attempted: np.ndarray
    successful: np.ndarray


def true_range(pos: np.ndarray, camera_height_m: float) -> np.ndarray:
    """3-D distance from a phone at ground position ``pos`` (``(..., 2)``) to the AP."""
    dz = camera_height_m - PHONE_HEIGHT_M
    return np.sqrt(pos[..., 0] ** 2 + pos[..., 1] ** 2 + dz**2)


def simulate_ftm(
    walk: Walk, area: AreaConditions, rng: np.random.Generator, t_end: float
) -> FtmBursts:
    """Simulate one phone's ranging results between 0 and ``t_end`` seconds."""
    n = int(t_end * FTM_RATE_HZ)
    t = np.arange(n) / FTM_RATE_HZ + rng.uniform(-0.05, 0.05, n)
    t = t[(t >= 0) & (t < t_end) & (rng.random(n) >= area.ftm_missing_p)]
    idx = np.clip(np.round(t * IMU_RATE_HZ).astype(int), 0, len(walk.t) - 1)
    pos = walk.pos[idx]
    dist = true_range(pos, area.camera_height_m)
    if rng.random() < area.ftm_large_offset_p:
        offset = rng.uniform(4.0, 5.0)
    else:
        offset = rng.uniform(*area.ftm_offset_m)
    # Facing away: the walking direction points away from the AP, the body blocks the path.
    heading = walk.heading[idx]
    to_ap = -pos / np.linalg.norm(pos, axis=1, keepdims=True)
    facing = np.cos(heading) * to_ap[:, 0] + np.sin(heading) * to_ap[:, 1]
    blocked = np.clip((-facing - 0.3) / 0.7, 0.0, 1.0)
    bias = blocked * rng.uniform(*area.ftm_nlos_bias_m)
    nlos = blocked > 0
    noise = rng.normal(0.0, 1.0, len(t)) * area.ftm_los_sigma_m * np.where(nlos, 2.0, 1.0)
    outlier = (rng.random(len(t)) < area.ftm_outlier_p) * rng.uniform(2.0, 8.0, len(t))
    rng_m = np.round((dist + offset + bias + noise + outlier) / _QUANTUM_M) * _QUANTUM_M
    std = np.where(nlos, rng.uniform(0.2, 0.5, len(t)), rng.uniform(0.05, 0.2, len(t)))
    rssi = -40.0 - 20.0 * np.log10(dist) - 5.0 * blocked + rng.normal(0.0, 3.0, len(t))
    attempted = np.full(len(t), 8)
    successful = np.clip(rng.binomial(8, 0.88, len(t)), 1, 8)
    return FtmBursts(
        t=t,
        range_m=np.maximum(rng_m, 0.0),
        std_m=np.round(std, 3),
        rssi_dbm=np.round(rssi),
        attempted=attempted,
        successful=successful,
    )
