"""Networks: per-modality encoders and decoders, the eight fusors, the twin network."""

from utt.nets.config import NetConfig
from utt.nets.decoders import ModalityDecoder
from utt.nets.encoders import ModalityEncoder
from utt.nets.fusors import FUSOR_NAMES, Fusor, make_fusor
from utt.nets.model import TwinNet, warm_start

__all__ = [
    "FUSOR_NAMES",
    "Fusor",
    "ModalityDecoder",
    "ModalityEncoder",
    "NetConfig",
    "TwinNet",
    "make_fusor",
    "warm_start",
]
