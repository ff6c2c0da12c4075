"""torch.distributed transport with the gloo backend: each local twin is its own process.

Rank 0 is the server; rank ``i + 1`` is client ``i``. Each instruction is one lock-step
exchange (notes §2.2)::

    server  broadcast_object_list([kind, config, has_model, counters]) -> every client
    server  broadcast(model as one float32 vector)      -> every client (fit, evaluate)
    client  gather_object(reply without model or error, counters)     -> server
    client  gather(trained model as one float32 vector) -> server (fit only)

Floating-point parameters travel as the vector; the few non-float entries of a state dict
(counters) ride along in the pickled messages.

On one machine :class:`GlooTransport` spawns the clients itself and meets them through a
TCP store on a free loopback port. Across machines, ``torchrun`` starts one process per
node and :mod:`utt.federated.node` calls :meth:`GlooTransport.attached` on rank 0 and
:func:`serve` elsewhere (see ``docs/utt.md``). Collectives are lock-step: a client that
dies fails the run after ``timeout_s`` with :class:`TransportError`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from utt.federated.client import Client
from utt.federated.messages import Instruction, Reply
from utt.federated.params import flatten, unflatten
from utt.federated.transport.base import Transport, TransportError, message_bytes

__all__ = ["ClientFactory", "GlooTransport", "serve"]

ClientFactory = Callable[[int], Client]
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _loopback_interface(host: str) -> None:
    # gloo picks its network interface from the hostname; on loopback runs pin it to lo so
    # a machine whose hostname resolves elsewhere still connects (notes §2.2).
    if host in _LOOPBACK:
        os.environ.setdefault("GLOO_SOCKET_IFNAME", "lo")


def _counters(state: dict[str, torch.Tensor] | None) -> dict[str, torch.Tensor]:
    return {} if state is None else {k: v for k, v in state.items() if not v.is_floating_point()}


def serve(client: Client) -> None:
    """Answer the server's instructions until it says stop (runs on ranks > 0)."""
    template = client.template()
    size = flatten(template).numel()
    while True:
        box: list[Any] = [None]
        dist.broadcast_object_list(box, src=0)
        kind, config, has_state, counters = box[0]
        if kind == "stop":
            return
        state = None
        if has_state:
            flat = torch.empty(size)
            dist.broadcast(flat, src=0)
            state = {**unflatten(flat, template), **counters}
        reply: Reply | None = None
        error = None
        try:
            reply = client.handle(Instruction(kind, config, state))
        except Exception as exc:  # reported to the server instead of hanging the group
            error = f"{type(exc).__name__}: {exc}"
        meta = None if reply is None else reply.without_state()
        dist.gather_object((meta, error, _counters(reply.state if reply else None)), None, dst=0)
        if kind == "fit":
            out = reply.state if reply is not None and reply.state is not None else None
            dist.gather(flatten(out) if out is not None else torch.zeros(size), None, dst=0)


def _client_process(
    index: int,
    world_size: int,
    host: str,
    port: int,
    factory: ClientFactory,
    timeout_s: float,
    threads: int,
) -> None:
    _loopback_interface(host)
    torch.set_num_threads(threads)
    timeout = timedelta(seconds=timeout_s)
    store = dist.TCPStore(host, port, world_size, is_master=False, timeout=timeout)
    dist.init_process_group(
        "gloo", store=store, rank=index + 1, world_size=world_size, timeout=timeout
    )
    try:
        serve(factory(index))
    finally:
        dist.destroy_process_group()


class GlooTransport(Transport):
    """Clients in separate processes, reached through torch.distributed collectives.

    Parameters:
        factory: picklable callable building client ``i`` inside its own process (so each
            process loads only its own area's data).
        num_clients: how many client processes to start.
        host: address of the rendezvous store (loopback by default).
        timeout_s: how long a collective may wait for a slow or dead peer.
        threads_per_client: torch threads in each client process.
    """

    def __init__(
        self,
        factory: ClientFactory,
        num_clients: int,
        *,
        host: str = "127.0.0.1",
        timeout_s: float = 300.0,
        threads_per_client: int = 1,
    ) -> None:
        super().__init__()
        if num_clients < 1:
            raise ValueError("need at least one client")
        if dist.is_initialized():
            # torch.distributed keeps one default group per process: one gloo run at a time.
            raise TransportError("a torch.distributed group is already active in this process")
        self._k = num_clients
        self._owned = True
        self._closed = False
        _loopback_interface(host)
        timeout = timedelta(seconds=timeout_s)
        world = num_clients + 1
        try:
            # Port 0: the store binds a free port itself, so parallel runs never collide.
            store = dist.TCPStore(
                host, 0, world, is_master=True, timeout=timeout, wait_for_workers=False
            )
            self._context: Any = mp.start_processes(
                _client_process,
                args=(world, host, store.port, factory, timeout_s, threads_per_client),
                nprocs=num_clients,
                join=False,
                start_method="spawn",
            )
            dist.init_process_group("gloo", store=store, rank=0, world_size=world, timeout=timeout)
        except Exception as exc:
            raise TransportError(f"could not start {num_clients} gloo clients: {exc}") from exc

    @classmethod
    def attached(cls, num_clients: int) -> GlooTransport:
        """Use a process group someone else initialised (rank 0 under ``torchrun``)."""
        if not dist.is_initialized() or dist.get_rank() != 0:
            raise TransportError("attach needs an initialised process group on rank 0")
        if dist.get_world_size() != num_clients + 1:
            raise TransportError(
                f"world size {dist.get_world_size()} does not match {num_clients} clients + 1"
            )
        self = cls.__new__(cls)
        Transport.__init__(self)
        self._k, self._owned, self._closed, self._context = num_clients, False, False, None
        return self

    @property
    def num_clients(self) -> int:
        return self._k

    def send(self, ins: Instruction) -> list[Reply]:
        if self._closed:
            raise TransportError("transport is closed")
        header = (ins.kind, ins.config, ins.state is not None, _counters(ins.state))
        try:
            dist.broadcast_object_list([header], src=0)
            flat = None
            if ins.state is not None:
                flat = flatten(ins.state)
                dist.broadcast(flat, src=0)
            gathered: list[Any] = [None] * (self._k + 1)
            dist.gather_object(None, gathered, dst=0)
            vectors: list[torch.Tensor] = []
            if ins.returns_state:
                if flat is None:
                    raise TransportError("fit needs a model")
                vectors = [torch.empty_like(flat) for _ in range(self._k + 1)]
                dist.gather(torch.zeros_like(flat), vectors, dst=0)
        except TransportError:
            raise
        except Exception as exc:  # gloo raises RuntimeError subclasses on peer failure
            raise TransportError(f"gloo exchange failed: {exc}") from exc
        model_bytes = 0 if flat is None else flat.numel() * flat.element_size()
        self.traffic.add(down=self._k * (message_bytes(header) + model_bytes))
        replies = []
        for i, (meta, error, counters) in enumerate(gathered[1:]):
            if error is not None:
                raise TransportError(f"client {i} failed: {error}")
            state = None
            if ins.returns_state and ins.state is not None:
                state = {**unflatten(vectors[i + 1], ins.state), **counters}
            self.traffic.add(
                up=message_bytes((meta, error, counters)) + (model_bytes if state else 0)
            )
            replies.append(Reply(meta.num_examples, meta.metrics, state, meta.payload))
        return replies

    def close(self) -> None:
        """Tell clients to stop, wait for their processes, leave the group."""
        if self._closed:
            return
        self._closed = True
        if not self._owned:
            dist.broadcast_object_list([("stop", {}, False, {})], src=0)
            return
        try:
            dist.broadcast_object_list([("stop", {}, False, {})], src=0)
            while not self._context.join(timeout=30):
                pass
        finally:
            if dist.is_initialized():
                dist.destroy_process_group()
