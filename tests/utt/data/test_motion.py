"""utt.data.motion: walkers stay in their area at walking speed; followers trail."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from utt.data.areas import make_areas
from utt.data.motion import IMU_RATE_HZ, simulate_group, simulate_walk

AREA = make_areas(3, 0)[1]


def test_walk_stays_near_its_area_at_walking_speed() -> None:
    walk = simulate_walk(AREA, 60.0, np.random.default_rng(1))
    assert len(walk.t) == 60 * IMU_RATE_HZ
    # Walkers turn back at the edge; a smooth turn overshoots by a metre or two.
    assert abs(walk.pos[:, 0]).max() < AREA.half_width_m + 2.5
    assert walk.pos[:, 1].max() < AREA.max_depth_m + 3.5
    moving = walk.speed[walk.speed > 0.5]
    assert AREA.speed_mps[0] - 0.05 <= np.median(moving) <= AREA.speed_mps[1] + 0.05


def test_same_path_followers_trail_the_leader() -> None:
    area = replace(AREA, crowded_prob=1.0)
    walks = simulate_group(area, 3, 30.0, np.random.default_rng(2))
    lead, follower = walks[0], walks[1]
    assert np.linalg.norm(follower.pos[-1] - lead.pos, axis=1).min() < 1.0
