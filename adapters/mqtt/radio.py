"""Radio propagation for the campus simulator: path loss, shadowing and fading.

Received power is ``tx - PL(d) - S - F`` with the log-distance path loss
``PL(d) = PL(d0) + 10 n log10(d / d0)``, log-normal shadowing ``S`` that changes slowly
along a walk (a Gauss-Markov process with a decorrelation distance, Gudmundson's
model) and Rayleigh fast fading ``F`` (the power of a unit complex Gaussian, in dB).
Metrics are then put on the reporting grid of the technology (3GPP TS 36.133 §9.1,
TS 38.133 §10.1; notes §3).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

__all__ = ["Link", "PathLoss", "clip", "rayleigh_db"]

#: Thermal noise density at 290 K, dBm/Hz.
NOISE_DBM_HZ = -174.0


def clip(value: float, low: float, high: float, step: float = 1.0) -> float:
    """Round to the reporting step and keep within the reporting range."""
    return min(high, max(low, round(value / step) * step))


def rayleigh_db(rng: random.Random) -> float:
    """Fast-fading gain in dB of a Rayleigh channel with unit mean power."""
    power = rng.gauss(0, math.sqrt(0.5)) ** 2 + rng.gauss(0, math.sqrt(0.5)) ** 2
    return 10 * math.log10(max(power, 1e-6))


@dataclass(frozen=True, slots=True)
class PathLoss:
    """Log-distance path loss: ``pl0`` dB at ``d0`` metres and exponent ``n``."""

    pl0: float
    n: float
    d0: float = 1.0
    shadowing_db: float = 4.0
    decorrelation_m: float = 10.0

    def loss(self, distance: float) -> float:
        return self.pl0 + 10 * self.n * math.log10(max(distance, self.d0) / self.d0)


#: Indoor Wi-Fi at 2.4/5 GHz (ITU-R P.1238-like exponent), BLE at 2.4 GHz with body
#: loss, and outdoor-to-indoor macro cells (COST-231-like slope plus wall loss).
WIFI_LOSS = PathLoss(pl0=40.0, n=3.0, shadowing_db=4.0)
BLE_LOSS = PathLoss(pl0=45.0, n=2.5, shadowing_db=5.0, decorrelation_m=5.0)
CELL_LOSS = PathLoss(pl0=38.0, n=3.5, shadowing_db=6.0, decorrelation_m=50.0)


@dataclass(slots=True)
class Link:
    """One transmitter-receiver pair with its own shadowing state."""

    model: PathLoss
    rng: random.Random
    shadow: float = field(default=0.0)
    _walked: float = 0.0

    def __post_init__(self) -> None:
        self.shadow = self.rng.gauss(0, self.model.shadowing_db)

    def gain(self, distance: float, moved: float) -> float:
        """Total loss in dB after the receiver moved ``moved`` metres since last time."""
        # Gudmundson: correlation exp(-moved / decorrelation) between successive samples.
        rho = math.exp(-moved / self.model.decorrelation_m) if moved > 0 else 1.0
        innovation = math.sqrt(max(0.0, 1 - rho * rho)) * self.model.shadowing_db
        self.shadow = rho * self.shadow + self.rng.gauss(0, 1) * innovation
        return self.model.loss(distance) + self.shadow - rayleigh_db(self.rng)
