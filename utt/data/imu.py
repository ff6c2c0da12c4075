"""Smartphone IMU signals for a walker: the five 3-axis streams and the orientation.

Simulated at 100 Hz in the phone frame. The phone is held in front with a fixed, randomly
drawn mounting rotation near a common hand-held pose; its orientation is the walker's heading
composed with that mounting (notes §1.5).
Values are typical smartphone MEMS figures, not taken from the papers:

* LINEAR: vertical +/-1-3 m/s^2 at the step frequency, a smaller forward surge and lateral
  sway, plus the horizontal acceleration of the walk. ACCEL = LINEAR + GRAV.
* GYRO: yaw rate of the heading plus body sway; white noise and a bias random walk.
* MAG: a ~50 uT Earth field (60 degree inclination) rotated into the phone frame, with a
  spatially varying disturbance (strong indoors).
* QUAT: phone-to-world orientation as (w, x, y, z) with w >= 0, as Android reports it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from utt.data.areas import AreaConditions
from utt.data.motion import IMU_RATE_HZ, Walk

__all__ = ["GRAVITY", "MagneticField", "imu_signals", "quat_multiply", "quat_to_matrix"]

GRAVITY = 9.81
_EARTH_UT = 50.0
_INCLINATION = np.radians(60.0)


def quat_multiply(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamilton product of quaternions ``(..., 4)`` in (w, x, y, z) order."""
    w1, x1, y1, z1 = np.moveaxis(a, -1, 0)
    w2, x2, y2, z2 = np.moveaxis(b, -1, 0)
    return np.stack(
        [
            w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2,
            w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2,
            w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2,
            w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2,
        ],
        axis=-1,
    )


def quat_to_matrix(q: np.ndarray) -> np.ndarray:
    """Rotation matrices ``(..., 3, 3)`` of unit quaternions ``(..., 4)``."""
    w, x, y, z = np.moveaxis(q, -1, 0)
    return np.stack(
        [
            np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)], -1),
            np.stack([2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)], -1),
            np.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], -1),
        ],
        axis=-2,
    )


@dataclass(frozen=True)
class MagneticField:
    """Earth field plus a smooth, position-dependent disturbance for one area."""

    north: float
    amplitude: float
    phases: tuple[float, ...]

    @classmethod
    def draw(cls, area: AreaConditions, rng: np.random.Generator) -> MagneticField:
        """A field for ``area``: random north direction and disturbance phases."""
        return cls(
            north=float(rng.uniform(-np.pi, np.pi)),
            amplitude=area.mag_disturbance_ut,
            phases=tuple(float(p) for p in rng.uniform(0, 2 * np.pi, 5)),
        )

    def at(self, pos: np.ndarray) -> np.ndarray:
        """World-frame field ``(n, 3)`` in uT at ground positions ``(n, 2)``."""
        x, y = pos[:, 0], pos[:, 1]
        p = self.phases
        horiz = _EARTH_UT * np.cos(_INCLINATION)
        down = _EARTH_UT * np.sin(_INCLINATION)
        base = np.array([horiz * np.cos(self.north), horiz * np.sin(self.north), -down])
        dist = self.amplitude * np.stack(
            [
                np.sin(0.7 * x + p[0]) * np.cos(0.5 * y + p[1]),
                np.cos(0.6 * x + p[2]) * np.sin(0.8 * y + p[3]),
                np.sin(0.5 * (x + y) + p[4]),
            ],
            axis=1,
        )
        return base + dist


def _axis_angle(axis: int, angle: float) -> np.ndarray:
    q = np.zeros(4)
    q[0] = np.cos(angle / 2)
    q[1 + axis] = np.sin(angle / 2)
    return q


def _random_mounting(rng: np.random.Generator) -> np.ndarray:
    """Phone-to-body rotation of a phone held in front: top forward, screen tilted up.

    Body frame: x forward, y left, z up. The phone's y axis (its top) points forward, it
    is pitched 40-50 degrees towards the walker (reading the screen while walking), with up
    to 5 degrees of roll and yaw.
    """
    top_forward = _axis_angle(2, -np.pi / 2)  # phone y -> body x
    tilt = _axis_angle(1, -np.radians(rng.uniform(40.0, 50.0)))
    roll = _axis_angle(0, np.radians(rng.uniform(-5.0, 5.0)))
    yaw = _axis_angle(2, np.radians(rng.uniform(-5.0, 5.0)))
    q = quat_multiply(yaw, quat_multiply(tilt, quat_multiply(roll, top_forward)))
    return q / np.linalg.norm(q)


def imu_signals(
    walk: Walk,
    area: AreaConditions,
    field: MagneticField,
    rng: np.random.Generator,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Return ``(clean, measured)`` dicts keyed by IMU19 field name, each ``(n, 3|4)``.

    The clean signals are the ground truth an inertial-data generator is scored against;
    the measured ones carry white noise, constant accelerometer and magnetometer biases and
    a gyroscope bias random walk.
    """
    n = len(walk.t)
    dt = 1.0 / IMU_RATE_HZ
    psi = walk.heading
    fwd = np.stack([np.cos(psi), np.sin(psi), np.zeros(n)], axis=1)
    left = np.stack([-np.sin(psi), np.cos(psi), np.zeros(n)], axis=1)
    up = np.array([0.0, 0.0, 1.0])
    s = np.clip(walk.speed / 1.2, 0.0, 1.3)[:, None]
    ph = walk.phase[:, None]
    vel = walk.speed[:, None] * fwd
    horiz = np.gradient(vel, dt, axis=0)
    amp = walk.step_amp
    linear_w = (
        horiz
        + amp * s * np.sin(ph) * up
        + 0.3 * amp * s * np.cos(ph) * fwd
        + 0.15 * amp * s * np.sin(ph / 2) * left
    )
    yaw_rate = np.gradient(psi, dt)
    gyro_w = yaw_rate[:, None] * up + 0.1 * s * np.cos(ph / 2) * fwd
    mag_w = field.at(walk.pos)

    mount = _random_mounting(rng)
    q_yaw = np.stack([np.cos(psi / 2), np.zeros(n), np.zeros(n), np.sin(psi / 2)], axis=1)
    quat = quat_multiply(q_yaw, np.broadcast_to(mount, (n, 4)))
    rot = quat_to_matrix(quat)  # phone -> world

    def to_phone(v: np.ndarray) -> np.ndarray:
        return np.einsum("nji,nj->ni", rot, v)

    grav = to_phone(np.broadcast_to(GRAVITY * up, (n, 3)))
    linear = to_phone(linear_w)
    quat = np.where(quat[:, :1] < 0, -quat, quat)
    clean = {
        "ACCEL": linear + grav,
        "GYRO": to_phone(gyro_w),
        "MAG": to_phone(mag_w),
        "GRAV": grav,
        "LINEAR": linear,
        "QUAT": quat,
    }
    sa, sg = area.accel_sigma, area.gyro_sigma
    gyro_bias = rng.normal(0.0, 0.005, 3) + np.cumsum(
        rng.normal(0.0, 0.0005 * np.sqrt(dt), (n, 3)), axis=0
    )
    noisy_q = clean["QUAT"] + rng.normal(0.0, 0.002, (n, 4))
    noisy_q /= np.linalg.norm(noisy_q, axis=1, keepdims=True)
    measured = {
        "ACCEL": clean["ACCEL"] + rng.normal(0.0, 0.05, 3) + rng.normal(0.0, sa, (n, 3)),
        "GYRO": clean["GYRO"] + gyro_bias + rng.normal(0.0, sg, (n, 3)),
        "MAG": clean["MAG"] + rng.normal(0.0, 1.0, 3) + rng.normal(0.0, 0.5, (n, 3)),
        "GRAV": clean["GRAV"] + rng.normal(0.0, 0.01, (n, 3)),
        "LINEAR": clean["LINEAR"] + rng.normal(0.0, sa, (n, 3)),
        "QUAT": noisy_q,
    }
    return clean, measured
