"""Vi-Fi/ViTag data: synthetic generation, the dfv4p4 layout, loading, windows."""

from utt.data.generator import GeneratedDataset, GeneratorConfig, generate
from utt.data.loader import SequenceData, area_dirs, group_areas, load_dataset, load_sequence
from utt.data.splits import AreaData, WindowConfig, build_areas, load_area
from utt.data.windows import EncodedWindows, Moments, Normalizer, WindowSet, make_windows

__all__ = [
    "AreaData",
    "EncodedWindows",
    "GeneratedDataset",
    "GeneratorConfig",
    "Moments",
    "Normalizer",
    "SequenceData",
    "WindowConfig",
    "WindowSet",
    "area_dirs",
    "build_areas",
    "generate",
    "group_areas",
    "load_area",
    "load_dataset",
    "load_sequence",
    "make_windows",
]
