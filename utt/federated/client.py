"""Local-area twins as federated clients: they train and evaluate on data they keep."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from utt.data.splits import AreaData, WindowConfig, load_area
from utt.data.windows import EncodedWindows, Normalizer
from utt.federated.messages import Instruction, Reply
from utt.functions import Function
from utt.modalities import MODALITY_NAMES
from utt.nets.config import NetConfig
from utt.nets.model import TwinNet
from utt.training import TrainConfig, evaluate, train

__all__ = ["AreaClient", "AreaClientFactory", "Client", "ModelSpec"]


class Client(ABC):
    """A federated client; transports call :meth:`handle`."""

    def handle(self, ins: Instruction) -> Reply:
        """Dispatch ``ins`` to :meth:`fit`, :meth:`evaluate` or :meth:`moments`."""
        if ins.kind == "fit":
            if ins.state is None:
                raise ValueError("fit needs a model")
            return self.fit(ins.state, ins.config)
        if ins.kind == "evaluate":
            if ins.state is None:
                raise ValueError("evaluate needs a model")
            return self.evaluate(ins.state, ins.config)
        if ins.kind == "moments":
            return self.moments()
        if ins.kind == "configure":
            return self.configure(ins.config)
        raise ValueError(f"unknown instruction {ins.kind!r}")

    @abstractmethod
    def template(self) -> dict[str, torch.Tensor]:
        """A state dict of the client's model, to unpack received parameters into."""

    @abstractmethod
    def fit(self, state: dict[str, torch.Tensor], config: dict[str, Any]) -> Reply:
        """Train from ``state`` on local data; reply with the new model and example count."""

    @abstractmethod
    def evaluate(self, state: dict[str, torch.Tensor], config: dict[str, Any]) -> Reply:
        """Error sums of ``state`` on the local split ``config["split"]``."""

    def moments(self) -> Reply:
        """Per-feature statistics of the local training data."""
        raise NotImplementedError

    def configure(self, config: dict[str, Any]) -> Reply:
        """Apply server-wide settings; by default there are none to apply."""
        return Reply(0)


@dataclass(frozen=True)
class ModelSpec:
    """Everything needed to build the same network on every node."""

    net: NetConfig
    functions: tuple[Function, ...]
    fusor: str | None

    def build(self) -> TwinNet:
        """A freshly initialised network (weights seeded by the caller)."""
        return TwinNet(self.net, self.functions, self.fusor)


class AreaClient(Client):
    """One local-area twin training a shared model on its own windows.

    Parameters:
        area: the windows the twin holds.
        spec: the network to train.
        normalizer: global normalization (from :meth:`moments` of every area); may be
            given later with :meth:`set_normalizer`.
        train_config: local training; ``fit`` config entries ``epochs``, ``lr``,
            ``batch_size`` and ``round`` override it per round.
        functions: the functions to train and evaluate (default: all of the model's).
    """

    def __init__(
        self,
        area: AreaData,
        spec: ModelSpec,
        normalizer: Normalizer | None = None,
        train_config: TrainConfig | None = None,
        functions: Sequence[Function] | None = None,
    ) -> None:
        self.area = area
        self.spec = spec
        self.model = spec.build()
        self.train_config = train_config or TrainConfig()
        self.functions = tuple(functions or spec.functions)
        self._encoded: dict[str, EncodedWindows] = {}
        self.normalizer = normalizer

    def set_normalizer(self, normalizer: Normalizer) -> None:
        """Use ``normalizer`` from now on."""
        self.normalizer = normalizer
        self._encoded.clear()

    def data(self, split: str) -> EncodedWindows:
        """The local ``split``, normalized (cached)."""
        if self.normalizer is None:
            raise RuntimeError("set a normalizer first")
        if split not in self._encoded:
            self._encoded[split] = self.normalizer.encode(self.area.split(split))
        return self._encoded[split]

    def template(self) -> dict[str, torch.Tensor]:
        return self.model.state_dict()

    def fit(self, state: dict[str, torch.Tensor], config: dict[str, Any]) -> Reply:
        self.model.load_state_dict(state)
        base = self.train_config
        rnd = int(config.get("round", 0))
        cfg = TrainConfig(
            epochs=int(config.get("epochs", base.epochs)),
            batch_size=int(config.get("batch_size", base.batch_size)),
            lr=float(config.get("lr", base.lr)),
            clip=base.clip,
            # A different shuffle per round and per area, still fixed by the seed.
            seed=base.seed + 1000 * rnd + self.area.index,
            max_batches=config.get("max_batches", base.max_batches),
        )
        started = time.perf_counter()
        stats = train(self.model, self.data("train"), cfg, self.functions)
        # FedAvg weighs a client by the size of its local dataset (McMahan et al. 2017).
        return Reply(
            num_examples=len(self.area.train),
            metrics={"loss": stats.loss, "seconds": time.perf_counter() - started},
            state={k: v.detach().clone() for k, v in self.model.state_dict().items()},
        )

    def evaluate(self, state: dict[str, torch.Tensor], config: dict[str, Any]) -> Reply:
        self.model.load_state_dict(state)
        split = str(config.get("split", "val"))
        data = self.data(split)
        sums = evaluate(self.model, data, self.functions)
        return Reply(num_examples=len(data), payload=sums)

    def moments(self) -> Reply:
        return Reply(num_examples=len(self.area.train), payload=self.area.moments())

    def configure(self, config: dict[str, Any]) -> Reply:
        if "normalizer" in config:
            self.set_normalizer(Normalizer.from_dict(config["normalizer"]))
        return Reply(len(self.area.train))


@dataclass(frozen=True)
class AreaClientFactory:
    """Builds :class:`AreaClient` ``i`` from files, inside whatever process calls it.

    Picklable, so the gloo transport can ship it to client processes; each process then
    reads only its own area's sequences (:func:`utt.data.splits.load_area`).
    """

    root: Path
    spec: ModelSpec
    normalizer: Normalizer | None
    window: WindowConfig
    train_config: TrainConfig
    areas: int | None = None
    functions: tuple[Function, ...] | None = None

    def __call__(self, index: int) -> AreaClient:
        area = load_area(self.root, index, _modalities(self.spec), self.window, self.areas)
        return AreaClient(area, self.spec, self.normalizer, self.train_config, self.functions)


def _modalities(spec: ModelSpec) -> tuple[str, ...]:
    used = {m for f in spec.functions for m in (*f.sources, *f.targets)}
    return tuple(m for m in MODALITY_NAMES if m in used)
