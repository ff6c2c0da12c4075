"""utt.data.camera: pinhole projection, visibility and occlusion, by hand."""

from __future__ import annotations

import numpy as np

from utt.data.areas import make_areas
from utt.data.camera import CX, CY, FX, FY, observe_boxes, project_boxes

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
