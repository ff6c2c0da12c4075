"""UTT performance: training throughput, federated round overhead, UTT/centralized time.

Three measurements, each with its baseline taken in the same run:

1. Training windows/s of the merge model at window 30, batch 32 (d=64, two Transformer
   layers; the notes' anchor on these machines is ~635 windows/s for a 206k-parameter
   merge model with two threads), at one and two torch threads, plus inference windows/s.
2. Overhead of one federated round per transport (in-process and torch.distributed gloo
   with three client processes on loopback): clients that do no work, so the round time is
   the transport itself, for the merge model's parameter count; bytes per round.
3. UTT/centralized wall-time ratio at equal NMSE on generated areas: centralized training
   of the merge for E epochs and UTT (warm-started from the base twins, FedAvg) for up to
   2E rounds over each transport; both are timed to the validation NMSE both reached (the
   worse of their two best values). Wall time is measured; the runs also report the time
   with clients in parallel (slowest client + server). A third UTT run starts from scratch
   instead of from the base twins, to show what reusing existing twins is worth.

    .venv/bin/python bench/utt.py [--quick] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, this folder leads sys.path and this very file would shadow the ``utt``
# package: put the repository first instead.
sys.path[:] = [str(ROOT)] + [
    p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent
]
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402

from utt.baselines import fit_centralized  # noqa: E402
from utt.data.generator import GeneratorConfig, generate  # noqa: E402
from utt.data.splits import WindowConfig, build_areas  # noqa: E402
from utt.data.windows import EncodedWindows, Normalizer  # noqa: E402
from utt.evaluation.runner import equal_nmse  # noqa: E402
from utt.federated.client import AreaClient, AreaClientFactory, Client, ModelSpec  # noqa: E402
from utt.federated.fit import federated_normalizer  # noqa: E402
from utt.federated.messages import Reply  # noqa: E402
from utt.federated.strategies import FedAvg  # noqa: E402
from utt.federated.transport import GlooTransport, InProcessTransport, Transport  # noqa: E402
from utt.functions import MERGE, Function  # noqa: E402
from utt.metrics import ErrorSums  # noqa: E402
from utt.nets.config import NetConfig  # noqa: E402
from utt.nets.model import TwinNet, warm_start  # noqa: E402
from utt.training import TrainConfig, loss  # noqa: E402

ANCHOR_WINDOWS_PER_S = 635.0
BENCH_NET = NetConfig(window=30, d_model=64, layers=2, heads=4)


def _batch(n: int, window: int) -> EncodedWindows:
    g = torch.Generator().manual_seed(0)
    sizes = {"vision": 5, "wireless": 2, "sensory": 9}
    x = {m: torch.randn(n, window, k, generator=g) for m, k in sizes.items()}
    return EncodedWindows(x, {m: torch.ones(n, window, dtype=torch.bool) for m in sizes})


def throughput(threads: int, seconds: float) -> dict[str, float]:
    """Training and inference windows/s of the merge model."""
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = TwinNet(BENCH_NET, [MERGE], "gating")
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    batch = _batch(32, BENCH_NET.window)
    for _ in range(3):  # warm-up: first calls allocate and import lazily
        value = loss(model(batch.x, batch.mask), batch, [MERGE])
        opt.zero_grad()
        value.backward()
        opt.step()
    steps, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        value = loss(model(batch.x, batch.mask), batch, [MERGE])
        opt.zero_grad()
        value.backward()
        opt.step()
        steps += 1
    train_s = time.perf_counter() - started
    model.eval()
    big = _batch(256, BENCH_NET.window)
    n, started = 0, time.perf_counter()
    with torch.no_grad():
        while time.perf_counter() - started < seconds / 2:
            model(big.x, big.mask)
            n += 256
    infer_s = time.perf_counter() - started
    return {
        "threads": threads,
        "params": sum(p.numel() for p in model.parameters()),
        "train_windows_per_s": steps * 32 / train_s,
        "infer_windows_per_s": n / infer_s,
    }


class NullClient(Client):
    """Returns the model it got: a round then costs only the transport."""

    def __init__(self, index: int) -> None:
        torch.manual_seed(0)
        self._template = TwinNet(BENCH_NET, [MERGE], "gating").state_dict()

    def template(self) -> dict[str, torch.Tensor]:
        return self._template

    def fit(self, state: dict[str, torch.Tensor], config: dict[str, Any]) -> Reply:
        return Reply(1, {"loss": 0.0, "seconds": 0.0}, state)

    def evaluate(self, state: dict[str, torch.Tensor], config: dict[str, Any]) -> Reply:
        return Reply(1, payload={"merge|wireless": ErrorSums(1.0, 1.0, 1)})


def round_overhead(transport: Transport, rounds: int) -> dict[str, float]:
    """Mean wall time and bytes of one fit+evaluate round with idle clients."""
    start = NullClient(0).template()
    FedAvg().run(transport, start, 1)  # warm-up: connections, first pickles
    history = FedAvg().run(transport, start, rounds)
    done = history.rounds[1:]
    return {
        "ms_per_round": 1000 * sum(r.seconds for r in done) / len(done),
        "bytes_per_round": sum(r.bytes_down + r.bytes_up for r in done) / len(done),
        "params": sum(v.numel() for v in start.values()),
    }


def utt_vs_centralized(quick: bool, workdir: Path) -> dict[str, Any]:
    """Time to the centralized validation NMSE, for UTT over each transport."""
    gen = GeneratorConfig(
        areas=3, sequences_per_area=8 if quick else 12, duration_s=30.0, write_raw=False, seed=1
    )
    root = workdir / "data"
    generate(root, gen)
    window = WindowConfig(length=20, stride=10, eval_stride=10)
    net = NetConfig(window=20, d_model=32, layers=1, heads=2)
    epochs = 4 if quick else 8
    areas = build_areas(root, window=window)
    normalizer = Normalizer.from_moments(a.moments() for a in areas)
    cfg = TrainConfig(epochs=1, lr=2e-3)
    torch.set_num_threads(1)

    # The existing twins UTT starts from: their training is not part of the new twin's cost.
    base: dict[str, torch.Tensor] = {}
    for m in ("vision", "sensory", "wireless"):
        spec_m = ModelSpec(net, (Function("identity", (m,), (m,)),), None)
        clients = [AreaClient(a, spec_m, normalizer, cfg) for a in areas]
        torch.manual_seed(0)
        base.update(
            FedAvg({"epochs": 1})
            .run(InProcessTransport(clients), spec_m.build().state_dict(), 3)
            .best_state
        )

    spec = ModelSpec(net, (MERGE,), "gating")
    central = fit_centralized(areas, spec, normalizer, epochs, cfg)
    target = min(central.val_curve)
    torch.manual_seed(0)
    cold = spec.build().state_dict()
    torch.manual_seed(0)
    model = spec.build()
    warm_start(model, base)
    out: dict[str, Any] = {
        "centralized": {
            "epochs": epochs,
            "wall_s": central.wall_s,
            "best_val_nmse": target,
            "bytes": central.bytes,
        },
        "windows": sum(len(a.train) for a in areas),
    }
    for kind in ("inproc", "inproc-cold", "gloo"):
        started = time.perf_counter()
        transport: Transport
        if kind.startswith("inproc"):
            transport = InProcessTransport([AreaClient(a, spec, None, cfg) for a in areas])
        else:
            factory = AreaClientFactory(root, spec, None, window, cfg)
            transport = GlooTransport(factory, len(areas))
        setup_s = time.perf_counter() - started
        with transport:
            federated_normalizer(transport)
            start = cold if kind == "inproc-cold" else model.state_dict()
            history = FedAvg({"epochs": 1}).run(transport, start, 2 * epochs, stop_at=target)
        out[kind] = {
            **equal_nmse(central, history),
            "best_val_nmse": history.best_val,
            "rounds": len(history.rounds) - 1,
            "process_start_s": setup_s,
            "bytes": history.bytes_total,
        }
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="shorter measurements")
    p.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = p.parse_args(argv)
    seconds = 4.0 if args.quick else 10.0
    report: dict[str, Any] = {"load_avg_1min": os.getloadavg()[0], "cpus": os.cpu_count()}

    report["throughput"] = [throughput(t, seconds) for t in (1, 2)]
    print("1. merge model, window 30, batch 32 (anchor: ~635 train windows/s, 2 threads)")
    for r in report["throughput"]:
        print(
            f"   {r['threads']} thread(s): {r['params']:,} params, "
            f"{r['train_windows_per_s']:.0f} train windows/s "
            f"({r['train_windows_per_s'] / ANCHOR_WINDOWS_PER_S:.2f}x anchor), "
            f"{r['infer_windows_per_s']:.0f} inference windows/s"
        )

    torch.set_num_threads(1)
    rounds = 5 if args.quick else 10
    report["round_overhead"] = {}
    inproc = InProcessTransport([NullClient(i) for i in range(3)])
    report["round_overhead"]["inproc"] = round_overhead(inproc, rounds)
    with GlooTransport(NullClient, 3, timeout_s=120) as gloo:
        report["round_overhead"]["gloo"] = round_overhead(gloo, rounds)
    print("2. one federated round (fit + evaluate), 3 idle clients, merge model")
    for kind, r in report["round_overhead"].items():
        print(
            f"   {kind:6s}: {r['ms_per_round']:.1f} ms/round, "
            f"{r['bytes_per_round'] / 1e6:.2f} MB/round ({r['params']:,} params)"
        )

    with tempfile.TemporaryDirectory() as tmp:
        report["utt_vs_centralized"] = utt_vs_centralized(args.quick, Path(tmp))
    u = report["utt_vs_centralized"]
    c = u["centralized"]
    print(
        f"3. merge to the centralized validation NMSE ({c['best_val_nmse']:.3f} after "
        f"{c['epochs']} epochs, {c['wall_s']:.1f} s, {u['windows']} training windows)"
    )
    for kind in ("inproc", "inproc-cold", "gloo"):
        r = u[kind]
        status = (
            "matched it"
            if r["utt_matched_centralized"]
            else (f"best {r['best_val_nmse']:.3f} in {r['rounds']} rounds")
        )
        print(
            f"   UTT {kind:11s}: {status}; to NMSE {r['equal_nmse']:.3f}: UTT "
            f"{r['utt_s_to_equal']:.1f} s vs centralized {r['centralized_s_to_equal']:.1f} s "
            f"-> {r['ratio_wall']:.2f}x measured, {r['ratio_critical']:.2f}x with clients in "
            f"parallel; {r['bytes'] / 1e6:.1f} MB sent vs {c['bytes'] / 1e6:.1f} MB raw upload"
        )
    print(
        f"   (paper: 0.88x; 1-min load average at start {report['load_avg_1min']:.1f} "
        f"on {report['cpus']} CPUs)"
    )
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
