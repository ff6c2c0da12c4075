"""Paths, file names and array schemas of the Vi-Fi/ViTag synchronized layout (dfv4p4).

The layout, as published with ViTag's ``RAN4model_dfv4p4`` release::

    <root>/exps/exp1/start_end_ts16_dfv4p4_{indoor,outdoor}.json
    <root>/seqs/indoor/scene0/<YYYYMMDD_HHMMSS>/RGBh_ts16_dfv4p4_ls.json
    <root>/seqs/outdoor/scene<k>/<YYYYMMDD_HHMMSS>/RGB_ts16_dfv4p4_ls.json
    <root>/seqs/<place>/<scene>/<seq>/sync_ts16_dfv4p4/<ARRAY>_sync_dfv4p4.pkl

Each ``.pkl`` holds one numpy array shaped ``(frame, subject, 1, feature)``, synchronized to
the RGB frames (10 fps); NaN marks a subject that is not seen. Indoor sequences name their
box arrays with an ``H`` suffix (``BBX5H``). Files whose names start with ``ndtwin_`` or sit
under ``raw/`` are this project's additions (ground truth, raw phone streams) and are absent
from the real data.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "ARRAY_WIDTHS",
    "IMU19_ORDER",
    "IMU_SUBSETS",
    "RAW_DIR",
    "SYNC_DIR",
    "TRUTH_FILE",
    "array_path",
    "frame_list_name",
    "is_indoor",
    "sequence_dirs",
    "start_end_path",
]

SYNC_DIR = "sync_ts16_dfv4p4"
RAW_DIR = "raw"
TRUTH_FILE = "ndtwin_truth.npz"

# Field order of IMU19 as the ViTag converter writes it (notes §1.2 warn that the model
# config of the same project uses another order; the converter's is the one in the files).
IMU19_ORDER: tuple[tuple[str, int], ...] = (
    ("ACCEL", 3),
    ("GYRO", 3),
    ("MAG", 3),
    ("GRAV", 3),
    ("LINEAR", 3),
    ("QUAT", 4),
)

# Subset arrays, as concatenations of IMU19 fields.
IMU_SUBSETS: dict[str, tuple[str, ...]] = {
    "IMUagm9": ("ACCEL", "GYRO", "MAG"),
    "IMUlgq10": ("LINEAR", "GRAV", "QUAT"),
    "IMUlgqm13": ("LINEAR", "GRAV", "QUAT", "MAG"),
}

ARRAY_WIDTHS: dict[str, int] = {
    "BBX5": 5,
    "BBXC3": 3,
    "FTM": 2,
    "FTM_li": 2,
    "RSSI": 1,
    "RSSI_li": 1,
    "IMU19": 19,
    "IMUagm9": 9,
    "IMUlgq10": 10,
    "IMUlgqm13": 13,
}


def is_indoor(seq_dir: Path) -> bool:
    """True for sequences under ``seqs/indoor``."""
    return seq_dir.parent.parent.name == "indoor"


def frame_list_name(indoor: bool) -> str:
    """Name of the RGB timestamp list of a sequence."""
    return "RGBh_ts16_dfv4p4_ls.json" if indoor else "RGB_ts16_dfv4p4_ls.json"


def array_path(seq_dir: Path, array: str) -> Path:
    """Path of ``array`` in a sequence; box arrays take the ``H`` suffix indoors."""
    if is_indoor(seq_dir) and array.startswith(("BBX5", "BBXC3")):
        head, sep, tail = array.partition("_")
        array = f"{head}H{sep}{tail}"
    return seq_dir / SYNC_DIR / f"{array}_sync_dfv4p4.pkl"


def start_end_path(root: Path, indoor: bool) -> Path:
    """The per-experiment JSON of synchronized start/end timestamps."""
    place = "indoor" if indoor else "outdoor"
    return root / "exps" / "exp1" / f"start_end_ts16_dfv4p4_{place}.json"


def sequence_dirs(root: Path) -> list[Path]:
    """All sequence folders under ``root/seqs`` that hold a synchronized folder, sorted."""
    return sorted(p.parent for p in (root / "seqs").glob(f"*/*/*/{SYNC_DIR}") if p.is_dir())
