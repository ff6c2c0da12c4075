"""The three downstream tasks, scored in physical units against the generator's truth.

* Trajectory reconstruction (vision twin): box-centre error in pixels, depth error in
  metres, and ground-position error in metres after back-projecting (col, depth) with the
  camera intrinsics.
* Positioning (wireless twin): absolute error of the FTM range against the true distance
  to the access point, in metres.
* Inertial data generation (sensory twin): RMSE of accelerometer (m/s^2), gyroscope
  (rad/s) and magnetometer (uT) against the noise-free signals.

Each task also scores the raw measurement itself (what the sensor says) and the
predict-the-training-mean baseline, for scale.
"""

from __future__ import annotations

import numpy as np

from utt.data.camera import CX, FX

__all__ = ["score", "score_task"]


def _ground(box: np.ndarray) -> np.ndarray:
    z = box[..., 2]
    x = (box[..., 0] - CX) * z / FX
    return np.stack([x, z], axis=-1)


def score_task(name: str, pred: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """Error metrics of ``pred`` against ``truth`` for modality ``name``.

    Frames where the truth or the prediction is NaN are left out.
    """
    if name == "vision":
        ok = np.isfinite(truth).all(-1) & np.isfinite(pred).all(-1)
        p, t = pred[ok], truth[ok]
        return {
            "centre_px": float(np.linalg.norm(p[:, :2] - t[:, :2], axis=-1).mean()),
            "depth_m": float(np.abs(p[:, 2] - t[:, 2]).mean()),
            "position_m": float(np.linalg.norm(_ground(p) - _ground(t), axis=-1).mean()),
            "frames": int(ok.sum()),
        }
    if name == "wireless":
        r, t = pred[..., 0], truth[..., 0]
        ok = np.isfinite(r) & np.isfinite(t)
        err = r[ok] - t[ok]
        return {
            "range_mae_m": float(np.abs(err).mean()),
            "range_rmse_m": float(np.sqrt((err**2).mean())),
            "frames": int(ok.sum()),
        }
    if name == "sensory":
        ok = np.isfinite(truth).all(-1) & np.isfinite(pred).all(-1)
        p, t = pred[ok], truth[ok]
        out = {}
        for group, cols in (("accel", slice(0, 3)), ("gyro", slice(3, 6)), ("mag", slice(6, 9))):
            out[f"{group}_rmse"] = float(np.sqrt(((p[:, cols] - t[:, cols]) ** 2).mean()))
        out["frames"] = int(ok.sum())
        return out
    raise ValueError(f"no downstream task for {name!r}")


def score(
    name: str, pred: np.ndarray, truth: np.ndarray, measured: np.ndarray, mean: np.ndarray
) -> dict[str, dict[str, float]]:
    """The model, the raw sensor and the training mean, each scored against the truth."""
    return {
        "model": score_task(name, pred, truth),
        "sensor": score_task(name, measured, truth),
        "mean": score_task(name, np.broadcast_to(mean, pred.shape).copy(), truth),
    }
