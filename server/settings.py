"""Server settings: one validated object built from defaults, a TOML file, env and flags.

Precedence, lowest to highest: built-in defaults, the TOML config file (``--config`` or
``NDTWIN_CONFIG``), ``NDTWIN_*`` environment variables, command-line flags. Every source
uses the same names (``grpc_port`` in TOML, ``NDTWIN_GRPC_PORT`` in the environment,
``--grpc-port`` on the command line; TOML also accepts ``grpc-port``).

Adapters keep their own options in a table of the config file, ``[adapters.<name>]``; the
server hands that table to the adapter untouched (each adapter validates its own config).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

__all__ = ["DEFAULT_MODELS", "ENV_PREFIX", "Settings", "SettingsError"]

ENV_PREFIX = "NDTWIN_"
#: The SDF models shipped with ndtwin (``models/sdf`` of the source tree).
DEFAULT_MODELS = Path(__file__).resolve().parent.parent / "models" / "sdf"

# Environment variables holding lists use the platform's path separator.
_LIST_FIELDS = frozenset({"models"})


class SettingsError(ValueError):
    """A setting is missing, unknown or has an invalid value; the message names it."""


class Settings(BaseModel):
    """Everything ``ndtwin serve`` needs to know."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=0, le=65535)] = 8080
    grpc_port: Annotated[int, Field(ge=0, le=65535)] = 50051
    data_dir: Path = Path(".ndtwin")
    #: ``sqlite`` (a file in ``data_dir``), ``sqlite:<path>`` or a ``postgresql://`` URL.
    store: str = "sqlite"
    #: ``embedded`` (pyoxigraph on disk in ``data_dir``), ``memory``, or the ``http(s)://``
    #: base URL of a SPARQL endpoint.
    graph: str = "embedded"
    #: ``embedded`` broker, an ``mqtt://`` broker URL, or ``off``.
    mqtt: str = "embedded"
    #: Folders of SDF models twins may name as their definition.
    models: tuple[Path, ...] = (DEFAULT_MODELS,)
    #: The key that manages tenants over the API (None: tenants only from the shell).
    operator_key: str | None = None
    #: Largest request body accepted (Ditto's 100 kB thing limit, notes §1.1).
    max_body_bytes: Annotated[int, Field(gt=0)] = 100 * 1024
    #: Idle seconds after which an SSE stream sends a heartbeat (Ditto: 1 s, notes §1.7).
    sse_heartbeat_s: Annotated[float, Field(gt=0)] = 1.0
    #: Seconds a verified credential is remembered (saves a store read per request).
    auth_cache_s: Annotated[float, Field(ge=0)] = 5.0
    #: Create tenant ``demo`` on the first start with the embedded defaults.
    demo_tenant: bool = True
    log_level: str = "info"
    #: Options of adapters, ``[adapters.<name>]`` in the config file.
    adapters: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @field_validator("store")
    @classmethod
    def _check_store(cls, value: str) -> str:
        if value != "sqlite" and not value.startswith(("sqlite:", "postgresql://", "postgres://")):
            raise ValueError("must be 'sqlite', a sqlite: URL or a postgresql:// URL")
        return value

    @field_validator("graph")
    @classmethod
    def _check_graph(cls, value: str) -> str:
        if value not in ("embedded", "memory") and not value.startswith(("http://", "https://")):
            raise ValueError("must be 'embedded', 'memory' or an http(s):// SPARQL endpoint")
        return value

    @field_validator("mqtt")
    @classmethod
    def _check_mqtt(cls, value: str) -> str:
        if value not in ("embedded", "off") and not value.startswith(("mqtt://", "mqtts://")):
            raise ValueError("must be 'embedded', 'off' or an mqtt:// broker URL")
        return value

    @property
    def embedded_defaults(self) -> bool:
        """True when both stores live in ``data_dir`` (the zero-setup first experience)."""
        return self.store == "sqlite" and self.graph == "embedded"

    @classmethod
    def field_names(cls) -> list[str]:
        """Names of the settings, as TOML keys and (upper-cased) env variable suffixes."""
        return list(cls.model_fields)

    @classmethod
    def load(
        cls,
        flags: Mapping[str, Any] | None = None,
        env: Mapping[str, str] | None = None,
        config_file: Path | None = None,
    ) -> Settings:
        """Merge the sources in precedence order and validate the result.

        ``flags`` holds command-line values (None means "not given"); ``env`` defaults to
        ``os.environ``; ``config_file`` defaults to ``NDTWIN_CONFIG`` when set.
        """
        environ = os.environ if env is None else env
        merged: dict[str, Any] = {}
        path = config_file or (
            Path(environ[f"{ENV_PREFIX}CONFIG"]) if environ.get(f"{ENV_PREFIX}CONFIG") else None
        )
        if path is not None:
            merged.update(_read_toml(path))
        merged.update(_from_env(environ))
        merged.update({k: v for k, v in (flags or {}).items() if v is not None})
        try:
            return cls.model_validate(merged)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
            )
            raise SettingsError(f"invalid settings: {problems}") from exc


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            raw = tomllib.load(handle)
    except OSError as exc:
        raise SettingsError(f"cannot read config file {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"config file {path} is not valid TOML: {exc}") from exc
    out: dict[str, Any] = {}
    for key, value in raw.items():
        name = key.replace("-", "_")
        if name not in Settings.model_fields:
            raise SettingsError(f"config file {path}: unknown setting '{key}'")
        out[name] = value
    return out


def _from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in Settings.model_fields:
        if name == "adapters":
            continue
        raw = environ.get(ENV_PREFIX + name.upper())
        if raw is None or raw == "":
            continue
        out[name] = raw.split(os.pathsep) if name in _LIST_FIELDS else raw
    return out
