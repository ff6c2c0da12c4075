"""UTT performance: training throughput, federated round overhead, UTT/centralized time.

Three measurements, each with its baseline taken in the same run:

1. Training windows/s of the merge model at window 30, batch 32 (d=64, two Transformer
   layers; the notes' anchor on these machines is ~635 windows/s for a 206k-parameter
   merge model with two threads), at one and two torch threads, plus inference windows/s.
2. Overhead of one federated round per transport (in-process and torch.distributed gloo
   with three client processes on loopback): clients that do no work, so the round time is
   the transport itself, for the merge model's parameter count; bytes per round.
3. UTT/centralized wall-time ratio at equal NMSE, for the merge and for the split, on
   generated areas (3 areas, non-IID). Centralized trains the fused network from scratch
   on the pooled windows for E epochs; its best validation NMSE is the target. UTT starts
   from base twins trained beforehand (their time is printed, not counted) and runs up
   to 2E rounds, stopping at the target: ``reuse`` (source encoders frozen, latents
   computed once per area and counted in round 0, local Adam kept, lr x0.9 per round:
   the defaults of ``ops.merge``), ``finetune`` (the whole warm-started network, plain
   FedAvg) and, for the merge, ``reuse`` over gloo processes. Both runs are timed to
   the worse of their two best validation NMSEs; the output says whether UTT reached
   centralized's own best (equal or better NMSE). Wall time is measured with clients
   in sequence; the time with clients in parallel (slowest client + server) is computed
   from the same run. For the in-process runs the ratio of CPU seconds (one torch
   thread) is printed too: it does not move with the machine's load the way wall time
   does. Test NMSEs are printed for information only (nothing is selected on them).

    .venv/bin/python -m bench.utt [--quick] [--ratio-only] [--json OUT]
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
from utt.data.windows import (  # noqa: E402
    EncodedWindows,
    Normalizer,
    WindowSet,
)
from utt.evaluation.runner import equal_nmse  # noqa: E402
from utt.federated.client import AreaClient, AreaClientFactory, Client, ModelSpec  # noqa: E402
from utt.federated.fit import federated_normalizer, reuse_start  # noqa: E402
from utt.federated.messages import Reply  # noqa: E402
from utt.federated.strategies import FedAvg  # noqa: E402
from utt.federated.strategy import History  # noqa: E402
from utt.federated.transport import GlooTransport, InProcessTransport, Transport  # noqa: E402
from utt.functions import MERGE, SPLIT, Function  # noqa: E402
from utt.metrics import ErrorSums, total  # noqa: E402
from utt.nets.config import NetConfig  # noqa: E402
from utt.nets.model import TwinNet, warm_start  # noqa: E402
from utt.ops import OperationConfig  # noqa: E402
from utt.training import (  # noqa: E402
    TrainConfig,
    evaluate,
    loss,
)

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


def _test_nmse_central(
    areas: list[Any], normalizer: Normalizer, spec: ModelSpec, fit: Any
) -> float:
    model = spec.build()
    model.load_state_dict(fit.states["model"])
    test = normalizer.encode(WindowSet.concat([a.test for a in areas]))
    return total(evaluate(model, test, spec.functions)).nmse


def _utt_run(
    kind: str,
    spec: ModelSpec,
    warm: TwinNet,
    areas: list[Any],
    root: Path,
    window: WindowConfig,
    cfg: TrainConfig,
    rounds: int,
    target: float,
) -> tuple[History, float, float]:
    """One UTT run to ``target``: (history, test NMSE, transport start-up seconds).

    ``reuse``: the sources' encoders frozen, latents computed once per area (counted in
    round 0), with the reuse settings of :class:`utt.ops.OperationConfig` (local Adam kept
    between rounds, lr x0.9 per round, drift correction off by default).
    ``finetune``: the previous default, the whole warm-started network trained by plain
    FedAvg with a fresh Adam each round.
    """
    reuse = kind.startswith("reuse")
    frozen = spec.functions[0].sources if reuse else ()
    defaults = OperationConfig()  # the settings ops.merge uses
    drift = reuse and defaults.drift_correction
    fit_config: dict[str, Any] = {"epochs": 1}
    if reuse:
        fit_config.update(lr_decay=defaults.lr_decay, keep_optimizer=defaults.keep_optimizer)
    started = time.perf_counter()
    transport: Transport
    if kind.endswith("gloo"):
        factory = AreaClientFactory(root, spec, None, window, cfg, None, None, frozen, drift)
        transport = GlooTransport(factory, len(areas))
    else:
        transport = InProcessTransport(
            [AreaClient(a, spec, None, cfg, None, frozen, drift) for a in areas]
        )
    setup_s = time.perf_counter() - started
    with transport:
        federated_normalizer(transport)
        start, setup = reuse_start(warm, frozen, drift)
        strategy = FedAvg(fit_config)
        history = strategy.run(transport, start, rounds, stop_at=target, setup=setup)
        test = total(strategy.evaluate(transport, history.best_state, "test")).nmse
    return history, test, setup_s


def utt_vs_centralized(quick: bool, workdir: Path) -> dict[str, Any]:
    """Merge and split: UTT's time to the centralized validation NMSE, and the ratio.

    Centralized trains the fused network from scratch on the pooled windows for E epochs;
    its best validation NMSE is the target. Each UTT run starts from the base twins and
    stops at the first round that reaches the target (or after 2E rounds). Times compare
    at the worse of the two best validation NMSEs (:func:`equal_nmse`): when UTT reached
    the target that is centralized's own best, i.e. equal or better NMSE.
    """
    gen = GeneratorConfig(
        areas=3, sequences_per_area=8 if quick else 12, duration_s=30.0, write_raw=False, seed=1
    )
    root = workdir / "data"
    generate(root, gen)
    window = WindowConfig(length=20, stride=10, eval_stride=10)
    net = NetConfig(window=20, d_model=32, layers=1, heads=2)
    epochs = 4 if quick else 8
    base_rounds = 5 if quick else 10
    areas = build_areas(root, window=window)
    normalizer = Normalizer.from_moments(a.moments() for a in areas)
    cfg = TrainConfig(epochs=1, lr=2e-3)
    torch.set_num_threads(1)

    # The existing twins UTT starts from, one per modality. Their training is not part of
    # the new twin's cost (an operation takes twins that already exist); it is reported.
    started = time.perf_counter()
    base: dict[str, torch.Tensor] = {}
    for m in ("vision", "sensory", "wireless"):
        spec_m = ModelSpec(net, (Function("identity", (m,), (m,)),), None)
        clients = [AreaClient(a, spec_m, normalizer, cfg) for a in areas]
        torch.manual_seed(0)
        base.update(
            FedAvg({"epochs": 1})
            .run(InProcessTransport(clients), spec_m.build().state_dict(), base_rounds)
            .best_state
        )
    out: dict[str, Any] = {
        "windows": sum(len(a.train) for a in areas),
        "base_twins": {"rounds": base_rounds, "wall_s": time.perf_counter() - started},
    }
    kinds = ("reuse", "finetune", "reuse-gloo") if not quick else ("reuse", "finetune")
    for op, f in (("merge", MERGE), ("split", SPLIT)):
        spec = ModelSpec(net, (f,), "gating")
        central = fit_centralized(areas, spec, normalizer, epochs, cfg)
        target = min(central.val_curve)
        res: dict[str, Any] = {
            "function": f.name,
            "centralized": {
                "epochs": epochs,
                "wall_s": central.wall_s,
                "best_val_nmse": target,
                "test_nmse": _test_nmse_central(areas, normalizer, spec, central),
                "bytes": central.bytes,
            },
        }
        for kind in kinds:
            if kind == "reuse-gloo" and op != "merge":
                continue
            torch.manual_seed(0)
            warm = spec.build()
            warm_start(warm, base)
            history, test, setup_s = _utt_run(
                kind, spec, warm, areas, root, window, cfg, 2 * epochs, target
            )
            res[kind] = {
                **equal_nmse(central, history),
                "best_val_nmse": history.best_val,
                "test_nmse": test,
                "rounds": len(history.rounds) - 1,
                "round0_s": history.rounds[0].seconds,
                "process_start_s": setup_s,
                "bytes": history.bytes_total,
            }
        out[op] = res
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="shorter measurements")
    p.add_argument("--json", type=Path, default=None, help="also write the figures here")
    p.add_argument(
        "--ratio-only", action="store_true", help="only the UTT/centralized measurement (3.)"
    )
    args = p.parse_args(argv)
    seconds = 4.0 if args.quick else 10.0
    report: dict[str, Any] = {"load_avg_1min": os.getloadavg()[0], "cpus": os.cpu_count()}

    if not args.ratio_only:
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
    b = u["base_twins"]
    print(
        f"3. UTT vs centralized at equal NMSE ({u['windows']} training windows, 3 areas; "
        f"base twins: {b['rounds']} rounds each, {b['wall_s']:.1f} s, not counted)"
    )
    for op in ("merge", "split"):
        c = u[op]["centralized"]
        print(
            f"   {op}: centralized {c['epochs']} epochs, {c['wall_s']:.1f} s, best val NMSE "
            f"{c['best_val_nmse']:.3f}, test {c['test_nmse']:.3f}"
        )
        for kind in ("reuse", "finetune", "reuse-gloo"):
            r = u[op].get(kind)
            if r is None:
                continue
            status = "equal or better NMSE" if r["utt_matched_centralized"] else "NOT matched"
            print(
                f"     UTT {kind:10s}: best val {r['best_val_nmse']:.3f} ({status}), test "
                f"{r['test_nmse']:.3f}, {r['rounds']} rounds; to NMSE {r['equal_nmse']:.3f}: "
                f"{r['utt_s_to_equal']:.1f} s vs {r['centralized_s_to_equal']:.1f} s -> "
                f"UTT/centralized {r['ratio_wall']:.2f}x measured, "
                f"{r['ratio_critical']:.2f}x with clients in parallel"
                + ("" if kind.endswith("gloo") else f", {r['ratio_cpu']:.2f}x in CPU time")
                + " "
                f"(round 0 incl. encoding {r['round0_s']:.2f} s; {r['bytes'] / 1e6:.1f} MB "
                f"vs {c['bytes'] / 1e6:.1f} MB raw upload)"
            )
    print(
        f"   (paper: 0.88x; 1-min load average at start {report['load_avg_1min']:.1f}, "
        f"at end {os.getloadavg()[0]:.1f}, on {report['cpus']} CPUs)"
    )
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
