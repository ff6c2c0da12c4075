"""Transports: in-process for tests and single-machine runs, gloo for real processes."""

from utt.federated.transport.base import Traffic, Transport, TransportError
from utt.federated.transport.gloo import GlooTransport, serve
from utt.federated.transport.inproc import InProcessTransport

__all__ = [
    "GlooTransport",
    "InProcessTransport",
    "Traffic",
    "Transport",
    "TransportError",
    "serve",
]
