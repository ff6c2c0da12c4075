"""Progress reporting and cooperative cancellation for long runs.

Every long-running ``utt`` call takes an optional progress callback and cancellation token,
so a caller (the CLI, or a service exposing operations) can show progress and stop a run.
:class:`ProgressPrinter` is the callback the CLI uses: a one-line bar on a terminal, one line
per step otherwise.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

__all__ = [
    "CancelToken",
    "OperationCancelled",
    "ProgressCallback",
    "ProgressEvent",
    "ProgressPrinter",
]


@dataclass(frozen=True)
class ProgressEvent:
    """``done`` of ``total`` units of ``stage`` finished; ``message`` says which."""

    stage: str
    done: int
    total: int
    message: str = ""

    @property
    def fraction(self) -> float:
        """Share of the stage done, in [0, 1]."""
        return 1.0 if self.total <= 0 else min(1.0, self.done / self.total)


ProgressCallback = Callable[[ProgressEvent], None]


class OperationCancelled(Exception):
    """Raised inside a run once its :class:`CancelToken` was cancelled."""


class CancelToken:
    """A thread-safe flag a caller sets to stop a run at its next checkpoint."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        """Ask the run to stop."""
        self._event.set()

    @property
    def cancelled(self) -> bool:
        """Whether :meth:`cancel` was called."""
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        """Raise :class:`OperationCancelled` when cancelled; runs call this between steps."""
        if self._event.is_set():
            raise OperationCancelled("operation cancelled")


class ProgressPrinter:
    """A progress callback that draws a bar per stage on ``stream`` (stderr by default)."""

    def __init__(self, stream: TextIO | None = None, width: int = 24) -> None:
        self._stream = stream if stream is not None else sys.stderr
        self._width = width
        self._tty = bool(getattr(self._stream, "isatty", lambda: False)())
        self._stage = ""
        self._started = time.perf_counter()

    def __call__(self, event: ProgressEvent) -> None:
        if event.stage != self._stage:
            if self._tty and self._stage:
                self._stream.write("\n")
            self._stage = event.stage
            self._started = time.perf_counter()
        filled = round(event.fraction * self._width)
        bar = "#" * filled + "." * (self._width - filled)
        elapsed = time.perf_counter() - self._started
        line = (
            f"{event.stage:<28} [{bar}] {event.done}/{event.total} {elapsed:6.1f}s {event.message}"
        )
        if self._tty:
            self._stream.write("\r" + line[:160].ljust(160))
            if event.done >= event.total:
                self._stream.write("\n")
                self._stage = ""
        else:
            self._stream.write(line + "\n")
        self._stream.flush()
