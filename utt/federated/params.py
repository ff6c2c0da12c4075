"""Model parameters as one flat vector, for the wire, and their size in bytes."""

from __future__ import annotations

from collections.abc import Mapping

import torch

__all__ = ["flatten", "payload_bytes", "unflatten"]


def flatten(state: Mapping[str, torch.Tensor]) -> torch.Tensor:
    """Floating-point entries of ``state``, in order, as one float32 vector."""
    parts = [
        v.detach().reshape(-1).to(torch.float32) for v in state.values() if v.is_floating_point()
    ]
    return torch.cat(parts) if parts else torch.zeros(0)


def unflatten(
    vector: torch.Tensor, template: Mapping[str, torch.Tensor]
) -> dict[str, torch.Tensor]:
    """Inverse of :func:`flatten`, shaped like ``template`` (non-float entries copied)."""
    need = sum(v.numel() for v in template.values() if v.is_floating_point())
    if need != vector.numel():
        raise ValueError(f"vector has {vector.numel()} values, template needs {need}")
    out = {}
    offset = 0
    for k, v in template.items():
        if v.is_floating_point():
            n = v.numel()
            out[k] = vector[offset : offset + n].reshape(v.shape).to(v.dtype).clone()
            offset += n
        else:
            out[k] = v.clone()
    return out


def payload_bytes(state: Mapping[str, torch.Tensor] | None) -> int:
    """Bytes of the float32 vector :func:`flatten` makes of ``state``."""
    if state is None:
        return 0
    return 4 * sum(v.numel() for v in state.values() if v.is_floating_point())
