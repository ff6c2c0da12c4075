"""``ndtwin adapter mqtt``, ``ndtwin simulate campus`` and ``ndtwin replay ...``.

``adapter mqtt`` runs the adapter as its own process over the same stores as
``ndtwin serve`` (start several with distinct ``--client-id`` to split the load through
the shared subscription). ``simulate campus`` and the replays are publishers: they need
a broker and default to the one ``ndtwin serve`` embeds (127.0.0.1:1884), so ``make run``
plus ``ndtwin simulate campus`` works as is; they publish with QoS 1, waiting until the
broker acknowledged everything before they exit.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
import time
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from adapters.mqtt.config import ConfigError, load_config, parse_broker_url
from adapters.mqtt.topics import SignalType, TopicScheme

__all__ = ["publish_all", "register"]

#: The broker ``ndtwin serve`` embeds by default (MqttConfig.embedded_port).
DEFAULT_BROKER = "mqtt://127.0.0.1:1884"


def register(subparsers: Any) -> None:
    """Add the ``adapter``, ``simulate`` and ``replay`` commands."""
    adapter = subparsers.add_parser("adapter", help="run a device adapter on its own")
    adapters = adapter.add_subparsers(dest="adapter", metavar="ADAPTER")
    mqtt = adapters.add_parser("mqtt", help="the MQTT device adapter")
    mqtt.add_argument(
        "--mqtt",
        default=None,
        help="broker: mqtt://host:port or 'embedded' (default: from config, else embedded)",
    )
    mqtt.add_argument("--store", default="sqlite", help="sqlite or a postgresql:// URL")
    mqtt.add_argument("--graph", default="embedded", help="embedded or a SPARQL endpoint")
    mqtt.add_argument("--data-dir", default=".ndtwin", type=Path)
    mqtt.add_argument(
        "--models",
        action="append",
        type=Path,
        default=None,
        help="SDF model folder (repeatable; default: models/sdf)",
    )
    mqtt.add_argument("--validation", default="compiled", choices=("shacl", "compiled"))
    mqtt.add_argument(
        "--config",
        type=Path,
        default=None,
        help="TOML file whose [adapters.mqtt] table holds the options",
    )
    mqtt.add_argument("--client-id", default=None, help="stable MQTT client id")
    mqtt.add_argument(
        "--tenant", action="append", default=None, help="create this tenant if missing (repeatable)"
    )
    mqtt.add_argument(
        "--print-schema", action="store_true", help="print the record JSON Schema and exit"
    )
    mqtt.set_defaults(handler=_run_adapter)

    simulate = subparsers.add_parser("simulate", help="publish simulated device data")
    kinds = simulate.add_subparsers(dest="simulation", metavar="SIMULATION")
    campus = kinds.add_parser("campus", help="phones walking on a campus floor")
    campus.add_argument("--devices", type=int, default=20)
    campus.add_argument("--duration", type=float, default=60.0, help="seconds")
    campus.add_argument("--rate", type=float, default=1.0, help="scans per device per second")
    campus.add_argument("--mqtt", default=DEFAULT_BROKER)
    campus.add_argument("--tenant", default="demo")
    campus.add_argument("--seed", type=int, default=1)
    campus.add_argument("--bad-fraction", type=float, default=0.0)
    campus.add_argument("--signals", default="cell,wifi,ble,env,loc")
    campus.add_argument("--prefix", default="dt/v1", help="topic prefix")
    campus.set_defaults(handler=_run_campus)

    replay = subparsers.add_parser("replay", help="publish a real data set as device records")
    sets = replay.add_subparsers(dest="dataset", metavar="DATASET")
    cork = sets.add_parser("5g-cork", help="5G/LTE drive-test traces (Cork)")
    cork.add_argument("path", type=Path, help="5G-production-dataset.zip or its folder")
    cork.add_argument("--sessions", type=int, default=None, help="first N sessions")
    cork.add_argument("--rows", type=int, default=None, help="first N rows per session")
    occupancy = sets.add_parser("occupancy", help="office CO2/occupancy series (UCI)")
    occupancy.add_argument("path", type=Path, help="a datatest/datatraining file or folder")
    occupancy.add_argument("--rows", type=int, default=None)
    for parser in (cork, occupancy):
        parser.add_argument("--mqtt", default=DEFAULT_BROKER)
        parser.add_argument("--tenant", default="demo")
        parser.add_argument(
            "--rate",
            type=float,
            default=0.0,
            help="records per second (0: as fast as the broker takes them)",
        )
        parser.add_argument("--prefix", default="dt/v1", help="topic prefix")
    cork.set_defaults(handler=_run_cork)
    occupancy.set_defaults(handler=_run_occupancy)


# -- publishing ------------------------------------------------------------------------


def publish_all(
    url: str,
    client_id: str,
    messages: Iterable[tuple[str, bytes, bool]],
    rate: float = 0.0,
    inflight: int = 100,
) -> tuple[int, int]:
    """Publish (topic, payload, retain) with QoS 1; returns (published, acknowledged)."""
    from adapters.mqtt.client import open_link

    link = open_link(parse_broker_url(url), client_id, status_topic=None, inflight=inflight)
    infos = []
    started = time.monotonic()
    try:
        for count, (topic, payload, retain) in enumerate(messages, start=1):
            infos.append(link.publish(topic, payload, qos=1, retain=retain))
            if rate > 0:
                ahead = count / rate - (time.monotonic() - started)
                if ahead > 0:
                    time.sleep(ahead)
        acked = link.wait_published(infos, timeout=120)
    finally:
        link.close(clean=False)
    return len(infos), acked


def _run_campus(args: argparse.Namespace) -> int:
    from adapters.mqtt.campus import Campus

    try:
        signals = tuple(SignalType(s.strip()) for s in args.signals.split(",") if s.strip())
        topics = TopicScheme(args.prefix)
        parse_broker_url(args.mqtt)
    except (ValueError, ConfigError) as exc:
        print(f"ndtwin: error: {exc}", file=sys.stderr)
        return 2
    campus = Campus(
        args.devices, args.tenant, seed=args.seed, bad_fraction=args.bad_fraction, topics=topics
    )
    period = 1.0 / args.rate if args.rate > 0 else 1.0
    stats = {"ticks": 0, "bad": 0}

    def messages() -> Iterable[tuple[str, bytes, bool]]:
        for birth in campus.births():
            yield birth.topic, birth.payload, True
        start = time.time()
        next_tick = start
        while time.time() - start < args.duration:
            now = time.time()
            for emission in campus.tick(now, period, signals):
                stats["bad"] += emission.bad
                yield emission.topic, emission.payload, False
            stats["ticks"] += 1
            next_tick += period
            delay = next_tick - time.time()
            if delay > 0:
                time.sleep(delay)
        for death in campus.deaths():
            yield death.topic, death.payload, True

    published, acked = publish_all(args.mqtt, f"ndtwin-sim-{args.seed}", messages())
    print(
        json.dumps(
            {
                "devices": args.devices,
                "sensors": len(campus.rooms),
                "cells": len(campus.cells),
                "accessPoints": len(campus.aps),
                "beacons": len(campus.beacons),
                "ticks": stats["ticks"],
                "published": published,
                "acknowledged": acked,
                "bad": stats["bad"],
            }
        )
    )
    return 0 if acked == published else 1


def _replay(args: argparse.Namespace, records: Iterable[Any], client_id: str) -> int:
    topics = TopicScheme(args.prefix)
    count = {"records": 0}

    def messages() -> Iterable[tuple[str, bytes, bool]]:
        import orjson

        for item in records:
            count["records"] += 1
            yield (
                topics.telemetry(args.tenant, item.device, item.signal),
                orjson.dumps(item.record),
                False,
            )

    try:
        published, acked = publish_all(args.mqtt, client_id, messages(), rate=args.rate)
    except FileNotFoundError as exc:
        print(f"ndtwin: error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps({"published": published, "acknowledged": acked}))
    return 0 if acked == published else 1


def _run_cork(args: argparse.Namespace) -> int:
    from adapters.mqtt.replay import cork_records

    return _replay(args, cork_records(args.path, args.sessions, args.rows), "ndtwin-replay-cork")


def _run_occupancy(args: argparse.Namespace) -> int:
    from adapters.mqtt.replay import occupancy_records

    return _replay(args, occupancy_records(args.path, args.rows), "ndtwin-replay-occupancy")


# -- the adapter process ---------------------------------------------------------------


def _run_adapter(args: argparse.Namespace) -> int:
    from server.core.bootstrap import build_core

    options: dict[str, Any] = {}
    if args.config is not None:
        with args.config.open("rb") as handle:
            options = dict(tomllib.load(handle).get("adapters", {}).get("mqtt", {}))
    if args.client_id:
        options["client_id"] = args.client_id
    try:
        config = load_config(options, args.mqtt)
    except ConfigError as exc:
        print(f"ndtwin: error: {exc}", file=sys.stderr)
        return 2
    core = build_core(
        args.store, args.graph, args.data_dir, args.models, validation=args.validation
    )
    if args.print_schema:
        from adapters.mqtt.schema import record_schema

        assert core.catalog is not None
        print(json.dumps(record_schema(core.catalog), indent=2))
        return 0
    core.open()
    try:
        for tenant in args.tenant or []:
            if core.store.get_tenant(tenant) is None:
                _, key = core.tenants.create(tenant)
                print(f"created tenant {tenant} (API key {key})", file=sys.stderr)
        return asyncio.run(_serve(core, config))
    finally:
        core.close()


async def _serve(core: Any, config: Any) -> int:
    from adapters.mqtt.adapter import MqttAdapter

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    adapter = MqttAdapter(core, config)
    async with adapter:
        print(
            f"ndtwin adapter mqtt: consuming from {config.broker} as {config.client_id}",
            file=sys.stderr,
            flush=True,
        )
        await stop.wait()
    stats = adapter.controller.stats
    summary = {
        "committed": stats.committed_items,
        "transactions": stats.transactions,
        "conflicts": core.batch.conflicts,
        "commitSeconds": round(stats.commit_seconds, 2),
    }
    print(f"ndtwin adapter mqtt: stopped {json.dumps(summary)}", file=sys.stderr, flush=True)
    return 0
