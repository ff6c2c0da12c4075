"""utt.data.raw: the raw phone streams round-trip through their CSV files."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from utt.data.generator import GeneratedDataset
from utt.data.layout import IMU19_ORDER
from utt.data.raw import read_raw, write_raw


def test_written_streams_read_back(dataset: GeneratedDataset, tmp_path: Path) -> None:
    phones = read_raw(dataset.sequences[0].path)
    assert [p.subject for p in phones] == list(range(len(phones)))
    write_raw(tmp_path, phones)
    again = read_raw(tmp_path)
    for p, q in zip(phones, again, strict=True):
        assert (p.phone, p.subject, p.mac, p.clock_offset_ms) == (
            q.phone,
            q.subject,
            q.mac,
            q.clock_offset_ms,
        )
        for kind, width in IMU19_ORDER:
            np.testing.assert_array_equal(p.imu[kind][0], q.imu[kind][0])
            assert q.imu[kind][1].shape[1] == width
            np.testing.assert_allclose(p.imu[kind][1], q.imu[kind][1], rtol=1e-5)
        np.testing.assert_array_equal(p.ftm.ts_ms, q.ftm.ts_ms)
        np.testing.assert_array_equal(p.ftm.dist_mm, q.ftm.dist_mm)


def test_phone_clocks_are_offset_from_the_camera(dataset: GeneratedDataset) -> None:
    offsets = [p.clock_offset_ms for s in dataset.sequences for p in read_raw(s.path)]
    assert all(-520 <= o <= 520 for o in offsets)
    assert len(set(offsets)) == len(offsets)
