"""utt.data.imu: quaternion helpers and the physics of the clean signals."""

from __future__ import annotations

import numpy as np

from utt.data.areas import make_areas
from utt.data.imu import GRAVITY, MagneticField, imu_signals, quat_multiply, quat_to_matrix
from utt.data.motion import IMU_RATE_HZ, simulate_walk

AREA = make_areas(3, 0)[1]


def test_quaternions_by_hand() -> None:
    half = np.sqrt(0.5)
    qz90 = np.array([half, 0.0, 0.0, half])
    np.testing.assert_allclose(quat_to_matrix(qz90) @ [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(quat_multiply(qz90, qz90), [0.0, 0.0, 0.0, 1.0], atol=1e-12)


def test_imu_clean_signals_obey_physics() -> None:
    rng = np.random.default_rng(5)
    walk = simulate_walk(AREA, 20.0, rng)
    clean, measured = imu_signals(walk, AREA, MagneticField.draw(AREA, rng), rng)
    np.testing.assert_allclose(np.linalg.norm(clean["GRAV"], axis=1), GRAVITY)
    np.testing.assert_allclose(clean["ACCEL"], clean["LINEAR"] + clean["GRAV"])
    assert (clean["QUAT"][:, 0] >= 0).all()
    # Yaw rate shows up in the gyroscope: its norm tracks |d heading / dt|.
    yaw = np.abs(np.gradient(walk.heading, 1 / IMU_RATE_HZ))
    assert np.corrcoef(np.linalg.norm(clean["GYRO"], axis=1), yaw)[0, 1] > 0.5
    noise = measured["ACCEL"] - clean["ACCEL"]
    assert 0.01 < noise.std() < 0.1
