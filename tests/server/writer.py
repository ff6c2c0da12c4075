"""Holding an embedded store's writer from another thread, as a concurrent write would."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from server.core.stores.base import TwinStore
from server.core.stores.sqlite import SqliteTwinStore


@contextmanager
def writer_held(store: TwinStore) -> Iterator[None]:
    """Another thread sits inside a SQLite write transaction until the block ends."""
    assert isinstance(store, SqliteTwinStore)
    inside, release = threading.Event(), threading.Event()

    def hold() -> None:
        with store._transaction():
            inside.set()
            release.wait(10)

    holder = threading.Thread(target=hold, name="writer-holder")
    holder.start()
    try:
        assert inside.wait(5), "the holder never got the writer"
        yield
    finally:
        release.set()
        holder.join(5)
