"""Physical models of the generator: motion, camera, FTM and IMU, by hand."""

from __future__ import annotations

import numpy as np

from utt.data.areas import make_areas
from utt.data.camera import CX, CY, FX, FY, observe_boxes, project_boxes
from utt.data.ftm import PHONE_HEIGHT_M, simulate_ftm, true_range
from utt.data.imu import GRAVITY, MagneticField, imu_signals, quat_multiply, quat_to_matrix
from utt.data.motion import IMU_RATE_HZ, simulate_group, simulate_walk

AREA = make_areas(3, 0)[1]


def test_pinhole_projection_by_hand() -> None:
    pos = np.array([[[1.0, 5.0]]])
    box = project_boxes(pos, np.array([1.8]), camera_height_m=1.5, max_depth_m=15.0)[0, 0]
    h = FY * 1.8 / 5.0
    np.testing.assert_allclose(
        box, [FX * 1.0 / 5.0 + CX, FY * (1.5 - 0.9) / 5.0 + CY, 5.0, 0.4 * h, h]
    )


def test_out_of_view_is_nan() -> None:
    pos = np.array([[[0.0, 1.0], [0.0, 20.0], [10.0, 3.0], [0.0, 8.0]]])
    boxes = project_boxes(pos, np.full(4, 1.7), 1.5, 15.0)[0]
    assert np.isnan(boxes[:3]).all()  # too near, too far, outside the field of view
    assert np.isfinite(boxes[3]).all()


def test_a_nearer_walker_hides_the_one_behind() -> None:
    pos = np.array([[[0.0, 4.0], [0.05, 8.0], [3.0, 8.0]]])
    clean = project_boxes(pos, np.full(3, 1.7), 1.5, 15.0)
    seen = observe_boxes(clean, AREA, np.random.default_rng(0))[0]
    assert np.isfinite(seen[0]).all() and np.isnan(seen[1]).all() and np.isfinite(seen[2]).all()


def test_walk_stays_near_its_area_at_walking_speed() -> None:
    walk = simulate_walk(AREA, 60.0, np.random.default_rng(1))
    assert len(walk.t) == 60 * IMU_RATE_HZ
    # Walkers turn back at the edge; a smooth turn overshoots by a metre or two.
    assert abs(walk.pos[:, 0]).max() < AREA.half_width_m + 2.5
    assert walk.pos[:, 1].max() < AREA.max_depth_m + 3.5
    moving = walk.speed[walk.speed > 0.5]
    assert AREA.speed_mps[0] - 0.05 <= np.median(moving) <= AREA.speed_mps[1] + 0.05


def test_same_path_followers_trail_the_leader() -> None:
    area = make_areas(3, 0)[1].__class__(**{**make_areas(3, 0)[1].__dict__, "crowded_prob": 1.0})
    walks = simulate_group(area, 3, 30.0, np.random.default_rng(2))
    lead, follower = walks[0], walks[1]
    assert np.linalg.norm(follower.pos[-1] - lead.pos, axis=1).min() < 1.0


def test_ftm_true_range_and_bias() -> None:
    pos = np.array([[3.0, 4.0]])
    assert true_range(pos, 1.1 + PHONE_HEIGHT_M)[0] == np.sqrt(25.0 + 1.1**2)
    walk = simulate_walk(AREA, 60.0, np.random.default_rng(3))
    bursts = simulate_ftm(walk, AREA, np.random.default_rng(4), 60.0)
    assert 150 <= len(bursts.t) <= 180  # ~3 Hz with a few bursts missing
    idx = np.round(bursts.t * IMU_RATE_HZ).astype(int)
    err = bursts.range_m - true_range(walk.pos[idx], AREA.camera_height_m)
    assert np.median(err) > 0.1
    assert ((bursts.std_m >= 0.05) & (bursts.std_m <= 0.5)).all()


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
