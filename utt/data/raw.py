"""Raw phone streams on the phone's own clock, and their CSV files.

The synchronized arrays are derived from these by :mod:`utt.data.sync`; the generator writes
both, so the synchronization itself can be tested. File formats (ndtwin's, modelled on the
Vi-Fi phone logs; none has a header line)::

    raw/<phone>_imu.csv   ts_ms,TYPE,v1,v2,v3[,v4]   TYPE in ACCEL GYRO MAG GRAV LINEAR QUAT
                          (QUAT rows carry w,x,y,z)
    raw/<phone>_ftm.csv   ts_ms,WiFi-FTM,MAC,distMm,stdMm,nAttempted,nSuccessful,
                          rangingTs,rssi,status   (one line in the file)
    raw/meta.csv          phone,subject,mac,clock_offset_ms

``clock_offset_ms`` is the calibrated offset of the phone clock against the camera clock
(phone minus camera), as Vi-Fi calibrated each phone by hand.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from utt.data.layout import IMU19_ORDER, RAW_DIR

__all__ = ["FtmLog", "PhoneStreams", "read_raw", "write_raw"]


@dataclass(frozen=True)
class FtmLog:
    """FTM results of one phone, phone clock in ms; distances in mm as Android reports."""

    ts_ms: np.ndarray
    dist_mm: np.ndarray
    std_mm: np.ndarray
    attempted: np.ndarray
    successful: np.ndarray
    rssi: np.ndarray
    status: np.ndarray


@dataclass(frozen=True)
class PhoneStreams:
    """Everything one phone recorded, with its calibrated clock offset."""

    phone: str
    subject: int
    mac: str
    clock_offset_ms: float
    imu: dict[str, tuple[np.ndarray, np.ndarray]]
    ftm: FtmLog


def write_raw(seq_dir: Path, phones: list[PhoneStreams]) -> None:
    """Write the phones' streams and ``meta.csv`` under ``seq_dir/raw``."""
    raw = seq_dir / RAW_DIR
    raw.mkdir(parents=True, exist_ok=True)
    with (raw / "meta.csv").open("w", newline="") as f:
        w = csv.writer(f)
        for p in phones:
            w.writerow([p.phone, p.subject, p.mac, f"{p.clock_offset_ms:.3f}"])
    for p in phones:
        with (raw / f"{p.phone}_imu.csv").open("w") as f:
            for kind, width in IMU19_ORDER:
                ts, vals = p.imu[kind]
                cols = ["%d", kind] + ["%.6g"] * width
                data = np.column_stack([ts.astype(np.float64), vals])
                np.savetxt(f, data, fmt=",".join(cols), delimiter=",")
        with (raw / f"{p.phone}_ftm.csv").open("w", newline="") as f:
            w = csv.writer(f)
            log = p.ftm
            for i in range(len(log.ts_ms)):
                w.writerow(
                    [
                        int(log.ts_ms[i]),
                        "WiFi-FTM",
                        p.mac,
                        int(log.dist_mm[i]),
                        int(log.std_mm[i]),
                        int(log.attempted[i]),
                        int(log.successful[i]),
                        int(log.ts_ms[i]),
                        int(log.rssi[i]),
                        int(log.status[i]),
                    ]
                )


def read_raw(seq_dir: Path) -> list[PhoneStreams]:
    """Read the streams :func:`write_raw` wrote, in ``meta.csv`` order."""
    raw = seq_dir / RAW_DIR
    phones = []
    with (raw / "meta.csv").open(newline="") as f:
        meta = list(csv.reader(f))
    for phone, subject, mac, offset in meta:
        rows: dict[str, list[list[float]]] = defaultdict(list)
        with (raw / f"{phone}_imu.csv").open(newline="") as f:
            for rec in csv.reader(f):
                rows[rec[1]].append([float(rec[0]), *map(float, rec[2:])])
        imu = {}
        for kind, _ in IMU19_ORDER:
            arr = np.asarray(rows[kind], dtype=np.float64)
            imu[kind] = (arr[:, 0].astype(np.int64), arr[:, 1:])
        with (raw / f"{phone}_ftm.csv").open(newline="") as f:
            ftm = [r for r in csv.reader(f)]
        cols = np.asarray([[r[0], r[3], r[4], r[5], r[6], r[8], r[9]] for r in ftm], dtype=float)
        cols = cols.reshape(-1, 7)
        log = FtmLog(
            ts_ms=cols[:, 0].astype(np.int64),
            dist_mm=cols[:, 1],
            std_mm=cols[:, 2],
            attempted=cols[:, 3].astype(np.int64),
            successful=cols[:, 4].astype(np.int64),
            rssi=cols[:, 5],
            status=cols[:, 6].astype(np.int64),
        )
        phones.append(PhoneStreams(phone, int(subject), mac, float(offset), imu, log))
    return phones
