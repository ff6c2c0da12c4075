"""Synchronize raw phone streams to the camera's RGB frames.

Vi-Fi anchors everything to the RGB frame timestamps: each phone's clock is corrected by its
calibrated offset, then every stream is snapped to the nearest sample (IMU, ``FTM``,
``RSSI``) or linearly interpolated between bursts (``FTM_li``, ``RSSI_li``). A frame with no
sample close enough is NaN.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from utt.data.layout import IMU19_ORDER, IMU_SUBSETS
from utt.data.raw import PhoneStreams

__all__ = ["FTM_GAP_S", "IMU_TOLERANCE_S", "interpolate", "nearest", "synchronize"]

IMU_TOLERANCE_S = 0.05
# FTM bursts arrive at ~3 Hz; one missing burst leaves a 0.67 s gap that interpolation
# still bridges, two in a row do not.
FTM_GAP_S = 0.9


def nearest(frame_t: np.ndarray, t: np.ndarray, values: np.ndarray, tol: float) -> np.ndarray:
    """Sample nearest each frame time, NaN when none lies within ``tol`` seconds."""
    out = np.full((len(frame_t), values.shape[1]), np.nan)
    if len(t) == 0:
        return out
    order = np.argsort(t, kind="stable")
    t, values = t[order], values[order]
    right = np.clip(np.searchsorted(t, frame_t), 1, len(t) - 1) if len(t) > 1 else None
    if right is None:
        idx = np.zeros(len(frame_t), dtype=int)
    else:
        left = right - 1
        idx = np.where(np.abs(t[left] - frame_t) <= np.abs(t[right] - frame_t), left, right)
    ok = np.abs(t[idx] - frame_t) <= tol
    out[ok] = values[idx[ok]]
    return out


def interpolate(
    frame_t: np.ndarray, t: np.ndarray, values: np.ndarray, max_gap: float
) -> np.ndarray:
    """Linear interpolation between the samples around each frame; NaN across long gaps."""
    out = np.full((len(frame_t), values.shape[1]), np.nan)
    if len(t) < 2:
        return out
    order = np.argsort(t, kind="stable")
    t, values = t[order], values[order]
    right = np.searchsorted(t, frame_t, side="left")
    exact = (right < len(t)) & (t[np.minimum(right, len(t) - 1)] == frame_t)
    inside = (right > 0) & (right < len(t))
    r = np.clip(right, 1, len(t) - 1)
    left = r - 1
    gap = t[r] - t[left]
    ok = inside & (gap <= max_gap)
    w = np.where(gap > 0, (frame_t - t[left]) / np.where(gap > 0, gap, 1.0), 0.0)[:, None]
    out[ok] = (values[left] * (1 - w) + values[r] * w)[ok]
    out[exact] = values[np.minimum(right, len(t) - 1)][exact]
    return out


def synchronize(frame_ts: np.ndarray, phones: Sequence[PhoneStreams]) -> dict[str, np.ndarray]:
    """Phone arrays ``(frame, subject, 1, feature)`` for the frames at ``frame_ts`` (s).

    Subjects are ordered by ``PhoneStreams.subject``. Returns ``IMU19`` and its subsets,
    ``FTM``, ``FTM_li`` (``[range_m, std_m]``), ``RSSI`` and ``RSSI_li``.
    """
    phones = sorted(phones, key=lambda p: p.subject)
    per: dict[str, list[np.ndarray]] = {
        k: [] for k in ("IMU19", "FTM", "FTM_li", "RSSI", "RSSI_li")
    }
    for p in phones:
        offset_s = p.clock_offset_ms / 1000.0
        fields = []
        for kind, _ in IMU19_ORDER:
            ts, vals = p.imu[kind]
            fields.append(nearest(frame_ts, ts / 1000.0 - offset_s, vals, IMU_TOLERANCE_S))
        per["IMU19"].append(np.concatenate(fields, axis=1))
        log = p.ftm
        ok = log.status == 0
        t = log.ts_ms[ok] / 1000.0 - offset_s
        ftm = np.column_stack([log.dist_mm[ok], log.std_mm[ok]]) / 1000.0
        rssi = log.rssi[ok][:, None]
        per["FTM"].append(nearest(frame_ts, t, ftm, FTM_GAP_S / 2))
        per["FTM_li"].append(interpolate(frame_ts, t, ftm, FTM_GAP_S))
        per["RSSI"].append(nearest(frame_ts, t, rssi, FTM_GAP_S / 2))
        per["RSSI_li"].append(interpolate(frame_ts, t, rssi, FTM_GAP_S))
    arrays = {k: np.stack(v, axis=1)[:, :, None, :] for k, v in per.items()}
    starts = {}
    pos = 0
    for kind, width in IMU19_ORDER:
        starts[kind] = (pos, pos + width)
        pos += width
    for name, kinds in IMU_SUBSETS.items():
        arrays[name] = np.concatenate(
            [arrays["IMU19"][..., slice(*starts[k])] for k in kinds], axis=-1
        )
    return arrays
