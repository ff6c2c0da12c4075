"""One node of a federated UTT job on several machines, started by ``torchrun``.

Rank 0 is the server; rank ``r > 0`` is the local twin of area ``r - 1``, which reads only its
own sequences. ``torchrun`` sets ``RANK``, ``WORLD_SIZE``, ``MASTER_ADDR`` and
``MASTER_PORT``; every node runs the same command (one process per node)::

    torchrun --nnodes 4 --nproc-per-node 1 --node-rank R \\
        --rdzv-backend c10d --rdzv-endpoint SERVER:29400 \\
        -m utt.federated.node --data /data/vifi --function merge:vision+sensory->wireless \\
        --rounds 10 --out /srv/twins

On one machine, ``torchrun --standalone --nproc-per-node 4 -m utt.federated.node ...`` runs
the same job on loopback. A client machine that holds only its own area's data passes
``--local-area``. The server prints a JSON summary and writes the new twin's artifact.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import timedelta
from pathlib import Path

import torch.distributed as dist

from utt.artifacts import save_model
from utt.data.splits import WindowConfig
from utt.federated.client import AreaClientFactory, ModelSpec
from utt.federated.fit import federated_normalizer, fit_federated
from utt.federated.strategies import make_strategy
from utt.federated.transport.gloo import GlooTransport, serve
from utt.functions import Function
from utt.metrics import total
from utt.nets.config import NetConfig
from utt.runtime import configure
from utt.training import TrainConfig

__all__ = ["main", "parser"]


def parser() -> argparse.ArgumentParser:
    """Command-line options of a node."""
    p = argparse.ArgumentParser(prog="python -m utt.federated.node")
    p.add_argument("--data", type=Path, required=True, help="dataset root (dfv4p4 layout)")
    p.add_argument("--function", required=True, help="e.g. merge:vision+sensory->wireless")
    p.add_argument("--fusor", default="gating")
    p.add_argument("--strategy", default="fedavg")
    p.add_argument("--rounds", type=int, default=10)
    p.add_argument("--epochs", type=int, default=1, help="local epochs per round")
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--window", type=int, default=30)
    p.add_argument("--d-model", type=int, default=64)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--areas", type=int, default=None, help="areas under --data (default: scenes)")
    p.add_argument("--local-area", action="store_true", help="all of --data is this node's area")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--timeout", type=float, default=600.0, help="seconds a peer may lag")
    p.add_argument("--out", type=Path, default=Path("."), help="server: artifact folder")
    return p


def main(argv: list[str] | None = None) -> int:
    """Run this node's part of the job; 0 on success."""
    args = parser().parse_args(argv)
    configure(1, args.seed)
    dist.init_process_group("gloo", init_method="env://", timeout=timedelta(seconds=args.timeout))
    rank, world = dist.get_rank(), dist.get_world_size()
    window = WindowConfig(length=args.window)
    net = NetConfig(args.window, args.d_model, args.layers, args.heads)
    function = Function.parse(args.function)
    spec = ModelSpec(net, (function,), None if function.kind == "identity" else args.fusor)
    train_cfg = TrainConfig(args.epochs, lr=args.lr, seed=args.seed)
    try:
        if rank > 0:
            factory = AreaClientFactory(
                args.data, spec, None, window, train_cfg, 1 if args.local_area else args.areas
            )
            serve(factory(0 if args.local_area else rank - 1))
            return 0
        transport = GlooTransport.attached(world - 1)
        try:
            normalizer = federated_normalizer(transport)
            strategy = make_strategy(args.strategy, {"epochs": args.epochs, "lr": args.lr})
            fit = fit_federated(transport, strategy, spec.build().state_dict(), args.rounds)
            test = strategy.evaluate(transport, fit.state, "test")
        finally:
            transport.close()
        stem = args.function.replace(":", "_").replace("->", "_to_").replace("+", "-")
        artifact = save_model(
            args.out / f"{stem}.pt", spec, fit.state, normalizer, {"function": args.function}
        )
        summary = {
            "function": args.function,
            "clients": world - 1,
            "val_curve": fit.history.val_curve,
            "test_nmse": total(test).nmse,
            "bytes": fit.history.bytes_total,
            "wall_s": fit.wall_s,
            "artifact": str(artifact.path),
            "sha256": artifact.sha256,
            "pid": os.getpid(),
        }
        print(json.dumps(summary), file=sys.stdout, flush=True)
        return 0
    finally:
        dist.destroy_process_group()


if __name__ == "__main__":
    raise SystemExit(main())
