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
from utt.reuse import (
    CONTROL_PREFIX,
    encoder_state,
    freeze_encoders,
    initial_controls,
    is_frozen,
    trainable_state,
    with_latents,
)
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
        frozen: source modalities whose encoders are reused frozen (:mod:`utt.reuse`):
            their weights arrive once with ``configure`` (``config["encoders"]``), the
            area then encodes its windows once, and ``fit``/``evaluate`` carry and return
            only the other parameters.
        drift_correction: SCAFFOLD-style control variates (Karimireddy et al. 2020) against
            client drift on non-IID areas: the global model travels with the global
            control ``c`` (entries ``control.<parameter>``), every local gradient is
            corrected by ``c - c_i``, and the reply carries the area's new control
            ``c_i``, its mean gradient over the round. Averaging the replies (FedAvg)
            gives the next ``c``. Doubles the trainable payload each way.
    """

    def __init__(
        self,
        area: AreaData,
        spec: ModelSpec,
        normalizer: Normalizer | None = None,
        train_config: TrainConfig | None = None,
        functions: Sequence[Function] | None = None,
        frozen: Sequence[str] = (),
        drift_correction: bool = False,
    ) -> None:
        self.area = area
        self.spec = spec
        self.model = spec.build()
        self.frozen = tuple(frozen)
        freeze_encoders(self.model, self.frozen)
        self._encoders_ready = not self.frozen
        self._optimizer: torch.optim.Optimizer | None = None
        self.drift_correction = drift_correction
        self._control: dict[str, torch.Tensor] | None = None
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
        if not self._encoders_ready:
            raise RuntimeError("frozen encoders not received yet (configure with encoders)")
        if split not in self._encoded:
            data = self.normalizer.encode(self.area.split(split))
            if self.frozen and len(data):
                data = with_latents(self.model, data, self.frozen)
            self._encoded[split] = data
        return self._encoded[split]

    def template(self) -> dict[str, torch.Tensor]:
        state = trainable_state(self.model.state_dict(), self.frozen)
        if self.drift_correction:
            state.update(initial_controls(self.model))
        return state

    def _load(self, state: dict[str, torch.Tensor]) -> None:
        state = {k: v for k, v in state.items() if not k.startswith(CONTROL_PREFIX)}
        if not self.frozen:
            self.model.load_state_dict(state)
            return
        # Only the trainable part travels; the frozen encoders stay as configured.
        missing, unexpected = self.model.load_state_dict(state, strict=False)
        wrong = unexpected + [k for k in missing if not is_frozen(k, self.frozen)]
        if wrong:
            raise ValueError(f"state does not match the trainable parameters: {wrong[:5]}")

    def fit(self, state: dict[str, torch.Tensor], config: dict[str, Any]) -> Reply:
        self._load(state)
        base = self.train_config
        rnd = int(config.get("round", 0))
        cfg = TrainConfig(
            epochs=int(config.get("epochs", base.epochs)),
            batch_size=int(config.get("batch_size", base.batch_size)),
            # Optional decay per round: with a constant rate FedAvg on non-IID areas keeps
            # circling a biased point instead of settling.
            lr=float(config.get("lr", base.lr))
            * float(config.get("lr_decay", 1.0)) ** max(rnd - 1, 0),
            clip=base.clip,
            # A different shuffle per round and per area, still fixed by the seed.
            seed=base.seed + 1000 * rnd + self.area.index,
            max_batches=config.get("max_batches", base.max_batches),
        )
        started = time.perf_counter()
        opt = None
        if config.get("keep_optimizer", False):
            # Stateful local Adam: its moments carry over between rounds (the parameters
            # are overwritten in place by each round's global model), so a round does not
            # restart with the large, sign-like first steps of a fresh Adam.
            if self._optimizer is None:
                params = [p for p in self.model.parameters() if p.requires_grad]
                self._optimizer = torch.optim.Adam(params, lr=cfg.lr)
            for group in self._optimizer.param_groups:
                group["lr"] = cfg.lr
            opt = self._optimizer
        correction: dict[str, torch.Tensor] | None = None
        mean_grad: dict[str, torch.Tensor] | None = None
        if self.drift_correction:
            n = len(CONTROL_PREFIX)
            c = {k[n:]: v for k, v in state.items() if k.startswith(CONTROL_PREFIX)}
            own = self._control or {k: torch.zeros_like(v) for k, v in c.items()}
            correction = {k: c[k] - own[k] for k in c}
            mean_grad = {}
        stats = train(
            self.model,
            self.data("train"),
            cfg,
            self.functions,
            optimizer=opt,
            correction=correction,
            mean_grad=mean_grad,
        )
        # The trained entries; with drift correction, the new control instead of zeros.
        trained = trainable_state(self.model.state_dict(), self.frozen)
        reply_state = {k: v.detach().clone() for k, v in trained.items()}
        if mean_grad is not None:
            self._control = mean_grad
            reply_state.update({CONTROL_PREFIX + k: v.clone() for k, v in mean_grad.items()})
        # FedAvg weighs a client by the size of its local dataset (McMahan et al. 2017).
        return Reply(
            num_examples=len(self.area.train),
            metrics={"loss": stats.loss, "seconds": time.perf_counter() - started},
            state=reply_state,
        )

    def evaluate(self, state: dict[str, torch.Tensor], config: dict[str, Any]) -> Reply:
        self._load(state)
        split = str(config.get("split", "val"))
        data = self.data(split)
        sums = evaluate(self.model, data, self.functions)
        return Reply(num_examples=len(data), payload=sums)

    def moments(self) -> Reply:
        return Reply(num_examples=len(self.area.train), payload=self.area.moments())

    def configure(self, config: dict[str, Any]) -> Reply:
        if "normalizer" in config:
            self.set_normalizer(Normalizer.from_dict(config["normalizer"]))
        if "encoders" in config:
            return self._receive_encoders(config["encoders"])
        return Reply(len(self.area.train))

    def _receive_encoders(self, state: dict[str, torch.Tensor]) -> Reply:
        """Install the frozen encoders and encode every local window once (timed)."""
        expected = set(encoder_state(self.model.state_dict(), self.frozen))
        if set(state) != expected:
            raise ValueError("encoder state does not match the frozen encoders")
        started = time.perf_counter()
        self.model.load_state_dict(state, strict=False)
        self._encoders_ready = True
        self._encoded.clear()
        for split in ("train", "val", "test"):
            self.data(split)
        return Reply(len(self.area.train), {"seconds": time.perf_counter() - started})


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
    frozen: tuple[str, ...] = ()
    drift_correction: bool = False

    def __call__(self, index: int) -> AreaClient:
        area = load_area(self.root, index, _modalities(self.spec), self.window, self.areas)
        return AreaClient(
            area,
            self.spec,
            self.normalizer,
            self.train_config,
            self.functions,
            self.frozen,
            self.drift_correction,
        )


def _modalities(spec: ModelSpec) -> tuple[str, ...]:
    used = {m for f in spec.functions for m in (*f.sources, *f.targets)}
    return tuple(m for m in MODALITY_NAMES if m in used)
