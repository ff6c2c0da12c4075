"""Settings of the evaluation, with the ``quick`` (CI) and ``full`` presets."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

from utt.data.generator import GeneratorConfig
from utt.data.splits import WindowConfig
from utt.nets.config import NetConfig
from utt.nets.fusors import FUSOR_NAMES
from utt.reuse import ReuseMode

__all__ = ["FULL", "QUICK", "EvalConfig", "preset"]


@dataclass(frozen=True)
class EvalConfig:
    """Everything one evaluation run does.

    Attributes:
        generator: synthetic data to generate when no dataset is given.
        areas: number of local areas (``None``: one per scene).
        base_rounds: federated rounds for each base (modality) twin.
        sweep_rounds: rounds for each fusor's unified model.
        rounds: rounds for function-specific UTT models; the centralized and direct
            baselines get the same number of passes over the data (``rounds`` epochs).
        sweep_max_batches: mini-batches per client and round for the fusor sweep
            (``None``: full local epochs); keeps the quick run within its budget.
        specific_functions: function names that get a function-specific model
            (``None``: all); the merge and the split always do.
        strategies: server strategies compared on the merge.
        reuse: how function-specific UTT models (and the strategy comparison) reuse the
            base twins: ``"frozen"`` source encoders with latents computed once per area,
            ``"finetune"`` of the whole warm-started network, or ``"auto"`` (frozen for the
            merge only; :func:`utt.reuse.uses_frozen_encoders`).
        drift_correction: SCAFFOLD controls in the frozen runs.
        lr_decay: local learning-rate factor per round in the frozen runs.
        keep_optimizer: each area keeps its Adam state between rounds in the frozen runs.
    """

    name: str = "quick"
    generator: GeneratorConfig = field(
        default_factory=lambda: GeneratorConfig(
            areas=3, sequences_per_area=10, duration_s=30.0, write_raw=False
        )
    )
    areas: int | None = None
    window: WindowConfig = field(
        default_factory=lambda: WindowConfig(length=20, stride=10, eval_stride=10)
    )
    net: NetConfig = field(
        default_factory=lambda: NetConfig(window=20, d_model=32, layers=1, heads=2)
    )
    fusors: tuple[str, ...] = FUSOR_NAMES
    default_fusor: str = "gating"
    base_rounds: int = 5
    sweep_rounds: int = 2
    rounds: int = 3
    sweep_max_batches: int | None = 5
    specific_functions: tuple[str, ...] | None = ()
    local_epochs: int = 1
    lr: float = 2e-3
    batch_size: int = 32
    strategies: tuple[str, ...] = ("fedavg", "fedadam", "fedyogi")
    adaptive_eta: float = 3e-3
    seed: int = 0
    threads: int | str = "auto"
    reuse: ReuseMode = "auto"
    drift_correction: bool = False
    lr_decay: float = 0.9
    keep_optimizer: bool = True

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, written with the results."""
        return asdict(self)


QUICK = EvalConfig()

FULL = EvalConfig(
    name="full",
    generator=GeneratorConfig(areas=5, sequences_per_area=8, duration_s=40.0, write_raw=False),
    window=WindowConfig(length=30, stride=10, eval_stride=15),
    net=NetConfig(window=30, d_model=64, layers=2, heads=4),
    base_rounds=10,
    sweep_rounds=8,
    rounds=12,
    sweep_max_batches=None,
    specific_functions=None,
)


def preset(name: str, **overrides: Any) -> EvalConfig:
    """``quick`` or ``full``, with fields replaced by ``overrides``."""
    base = {"quick": QUICK, "full": FULL}.get(name)
    if base is None:
        raise ValueError(f"unknown preset {name!r}; expected quick or full")
    return replace(base, **overrides)
