"""Pedestrian motion on the ground plane in front of the camera.

World frame: X to the right of the camera, Y along its optical axis, Z up; the camera sits
at the origin. Headings are angles from +X, counter-clockwise. Motion follows the notes
(utt.md §1.5): speed 1.0-1.5 m/s, heading an Ornstein-Uhlenbeck process around a target
heading (sigma ~0.3 rad/sqrt(s)), pauses, turns back into the area at its edge, step
frequency 1.7-2.0 Hz, and a "same path" mode where walkers follow a leader (ViTag's hard
case).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from utt.data.areas import AreaConditions

__all__ = ["IMU_RATE_HZ", "Walk", "simulate_group", "simulate_walk"]

IMU_RATE_HZ = 100
_DT = 1.0 / IMU_RATE_HZ
_REVERSION = 0.8  # 1/s: how fast the heading follows its target
# s: the turn rate is itself smoothed: people turn smoothly, and the gyroscope then sees
# turns that last about a second rather than white noise.
_TURN_LAG = 1.0
_LAG = 0.5  # s: speed changes are smoothed with this time constant
_Y_MIN = 1.0


@dataclass(frozen=True)
class Walk:
    """One walker sampled at ``IMU_RATE_HZ`` on the true (camera) clock.

    Attributes:
        t: sample times, s.
        pos: ground position ``(n, 2)`` as (X, Y), m.
        heading: heading angle, rad (unwrapped).
        speed: ground speed, m/s.
        phase: step phase, rad (advances only while walking).
        step_amp: vertical acceleration amplitude of a step, m/s^2.
        height_m: body height, m.
        step_hz: step frequency while walking at the walker's own speed, Hz.
    """

    t: np.ndarray
    pos: np.ndarray
    heading: np.ndarray
    speed: np.ndarray
    phase: np.ndarray
    step_amp: float
    height_m: float
    step_hz: float

    def shifted(self, delay_s: float, lateral_m: float, rng: np.random.Generator) -> Walk:
        """A follower on the same path, ``delay_s`` behind and ``lateral_m`` to the left."""
        k = round(delay_s / _DT)
        n = len(self.t)
        idx = np.clip(np.arange(n) - k, 0, n - 1)
        hd = self.heading[idx]
        left = np.stack([-np.sin(hd), np.cos(hd)], axis=1)
        step_hz = float(rng.uniform(1.7, 2.0))
        return Walk(
            t=self.t,
            pos=self.pos[idx] + lateral_m * left,
            heading=hd,
            speed=self.speed[idx],
            phase=self.phase[idx] * (step_hz / self.step_hz) + rng.uniform(0, 2 * np.pi),
            step_amp=float(rng.uniform(1.0, 3.0)),
            height_m=float(rng.uniform(1.6, 1.9)),
            step_hz=step_hz,
        )


def simulate_walk(area: AreaConditions, duration_s: float, rng: np.random.Generator) -> Walk:
    """Simulate one walker for ``duration_s`` seconds in ``area``."""
    n = round(duration_s * IMU_RATE_HZ)
    y_max = area.max_depth_m + 1.0
    x_max = area.half_width_m
    out = np.empty((n, 5))  # x, y, heading, speed, phase
    x = float(rng.uniform(-0.6 * x_max, 0.6 * x_max))
    y = float(rng.uniform(2.0, y_max - 1.0))
    h = float(rng.uniform(-math.pi, math.pi))
    target = h
    v_walk = float(rng.uniform(*area.speed_mps))
    v = v_walk
    step_hz = float(rng.uniform(1.7, 2.0))
    ph = float(rng.uniform(0, 2 * math.pi))
    pause_left = 0.0
    margin = 2.0  # start turning early: a smooth turn needs a few metres
    # Draw every random number up front: the loop then runs on plain floats (fast, and the
    # stream of draws does not depend on which branches were taken).
    # The OU noise drives the turn rate; scaled by 1/lag the heading still diffuses at
    # about heading_sigma rad/sqrt(s) over times longer than the lag.
    noise = (rng.standard_normal(n) * area.heading_sigma / _TURN_LAG * math.sqrt(_DT)).tolist()
    omega = 0.0
    events = rng.random((n, 2)).tolist()
    goals = rng.uniform(-0.5, 0.5, (n, 2)).tolist()
    turns = rng.normal(0.0, 1.0, n).tolist()
    pauses = rng.uniform(1.0, 4.0, n).tolist()
    for i in range(n):
        # Turn back towards a random inner point at the area's edge; re-aim at random times.
        if x < -x_max + margin or x > x_max - margin or y < _Y_MIN + margin or y > y_max - margin:
            gx = goals[i][0] * x_max
            gy = 2.0 + (goals[i][1] + 0.5) * (y_max - 4.0)
            target = math.atan2(gy - y, gx - x)
        elif events[i][0] < _DT / 8.0:
            target = h + turns[i]
        err = (target - h + math.pi) % (2 * math.pi) - math.pi
        omega += (_REVERSION * err - omega) * _DT / _TURN_LAG + noise[i]
        h += omega * _DT
        if pause_left > 0:
            pause_left -= _DT
            v_goal = 0.0
        else:
            v_goal = v_walk
            if events[i][1] < area.pause_rate_hz * _DT:
                pause_left = pauses[i]
        v += (v_goal - v) * _DT / _LAG
        x += v * _DT * math.cos(h)
        y += v * _DT * math.sin(h)
        # Walking speed scales the step rate; a standing walker does not step.
        ph += 2 * math.pi * step_hz * (v / v_walk) * _DT
        out[i] = (x, y, h, v, ph)
    return Walk(
        t=np.arange(n) * _DT,
        pos=out[:, :2].copy(),
        heading=out[:, 2].copy(),
        speed=out[:, 3].copy(),
        phase=out[:, 4].copy(),
        step_amp=float(rng.uniform(1.0, 3.0)),
        height_m=float(rng.uniform(1.6, 1.9)),
        step_hz=step_hz,
    )


def simulate_group(
    area: AreaConditions, count: int, duration_s: float, rng: np.random.Generator
) -> list[Walk]:
    """Simulate ``count`` walkers; with the area's probability they share one path."""
    if count == 0:
        return []
    if rng.random() < area.crowded_prob:
        lead = simulate_walk(area, duration_s, rng)
        walks = [lead]
        for j in range(1, count):
            walks.append(lead.shifted(rng.uniform(1.0, 3.0) * j, rng.uniform(-0.8, 0.8), rng))
        return walks
    return [simulate_walk(area, duration_s, rng) for _ in range(count)]
