"""Open a `TwinStore` from a URL.

- ``sqlite:///abs/path/file.db`` (also ``sqlite:////abs/...``) or ``sqlite:relative/file.db``
  (relative to the data directory) - the embedded store;
  ``?synchronous=full`` asks for an fsync per commit (see `SqliteTwinStore`).
- ``postgresql://user@host:port/db`` (or ``postgres://``) - the scale-out store;
  ``?pool_max=N`` sets the pool size, other query parameters go to libpq.
- None or ``""`` - ``<data_dir>/ndtwin.db``, the embedded default.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from server.core.stores.base import TwinStore
from server.core.stores.postgres import PostgresTwinStore
from server.core.stores.sqlite import SqliteTwinStore

__all__ = ["DEFAULT_FILE", "create_store", "open_store"]

DEFAULT_FILE = "ndtwin.db"
"""File name of the embedded store inside the data directory."""


def create_store(url: str | None = None, *, data_dir: str | Path | None = None) -> TwinStore:
    """Build (but do not open) the store a URL names; raise `ValueError` on a bad URL."""
    if not url:
        if data_dir is None:
            raise ValueError("either a store URL or a data directory is needed")
        return SqliteTwinStore(Path(data_dir) / DEFAULT_FILE)
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "sqlite":
        options = dict(parse_qsl(parts.query))
        raw = unquote(parts.netloc + parts.path)
        if raw.startswith("//"):
            # ``sqlite:////abs/file.db`` (SQLAlchemy's spelling) is the same absolute path.
            raw = "/" + raw.lstrip("/")
        if not raw:
            raise ValueError(f"no database file in {url!r}")
        path = Path(raw)
        if not path.is_absolute() and data_dir is not None:
            path = Path(data_dir) / path
        return SqliteTwinStore(path, synchronous=options.get("synchronous", "normal"))
    if scheme in ("postgresql", "postgres"):
        query = dict(parse_qsl(parts.query))
        pool_max = int(query.pop("pool_max", "8"))
        conninfo = urlunsplit(
            ("postgresql", parts.netloc, parts.path, urlencode(query), parts.fragment)
        )
        return PostgresTwinStore(conninfo, max_size=pool_max)
    raise ValueError(f"unsupported store URL scheme {parts.scheme!r} in {url!r}")


def open_store(url: str | None = None, *, data_dir: str | Path | None = None) -> TwinStore:
    """`create_store`, then open it (schema created or migrated)."""
    store = create_store(url, data_dir=data_dir)
    store.open()
    return store
