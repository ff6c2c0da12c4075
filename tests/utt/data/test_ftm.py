"""utt.data.ftm: true range and the FTM error model."""

from __future__ import annotations

import numpy as np

from utt.data.areas import make_areas
from utt.data.ftm import PHONE_HEIGHT_M, simulate_ftm, true_range
from utt.data.motion import IMU_RATE_HZ, simulate_walk

AREA = make_areas(3, 0)[1]


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
