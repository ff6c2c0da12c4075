"""utt.progress: the cancel token and the printer."""

from __future__ import annotations

import io

import pytest

from utt.progress import CancelToken, OperationCancelled, ProgressEvent, ProgressPrinter


def test_cancel_token_raises_only_after_cancel() -> None:
    token = CancelToken()
    token.raise_if_cancelled()
    token.cancel()
    assert token.cancelled
    with pytest.raises(OperationCancelled):
        token.raise_if_cancelled()


def test_fraction_is_clamped() -> None:
    assert ProgressEvent("x", 3, 2).fraction == 1.0
    assert ProgressEvent("x", 0, 0).fraction == 1.0
    assert ProgressEvent("x", 1, 4).fraction == 0.25


def test_printer_writes_one_line_per_event_when_not_a_terminal() -> None:
    out = io.StringIO()
    printer = ProgressPrinter(out, width=4)
    printer(ProgressEvent("train", 1, 2, "loss 0.5"))
    printer(ProgressEvent("train", 2, 2, "loss 0.25"))
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    assert "[##..] 1/2" in lines[0] and "loss 0.5" in lines[0]
    assert "[####] 2/2" in lines[1]
