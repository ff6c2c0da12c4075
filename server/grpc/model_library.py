"""The models a tenant can use: the server's SDF models plus the tenant's registered ones.

Built-in models are the ``*.sdf.json`` files of the configured model directories (each
model is named by its file's stem, e.g. ``models/cellular``); every tenant sees them.
``RegisterModel`` adds a valid SDF document for one tenant only. Registered models are
kept **in memory**, per server process, at most `ModelLibrary.max_per_tenant` per tenant:
they serve ListModels/GetModel/ValidateModel (their definitions resolve for later
documents of the same tenant) but do not yet drive twin validation, which uses the
server's models only.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from server.core import errors
from server.modeling.compilers import wot
from server.modeling.issues import Issue
from server.modeling.registry import SDF_SUFFIX, ModelRegistry, SdfDocument
from server.modeling.resolve import ResolutionError, ResolvedDocument, Resolver
from server.modeling.targets import TARGETS, TargetUnavailableError
from server.modeling.validate import validate_data, validate_paths

__all__ = [
    "VIEWS",
    "CompilerUnavailable",
    "LibraryModel",
    "ModelConflict",
    "ModelIdInvalid",
    "ModelLibrary",
    "ModelNotFound",
    "ModelSourceInvalid",
]

log = logging.getLogger(__name__)

#: View name -> (compiler target or None for the source, media type of its files).
VIEWS: dict[str, tuple[str | None, str]] = {
    "sdf": (None, "application/sdf+json"),
    "shacl": ("shacl", "text/turtle"),
    "wot-tm": ("wot-tm", "application/tm+json"),
    "ditto": ("ditto", "application/json"),
    "jsonschema": ("jsonschema", "application/schema+json"),
}
_MODEL_ID = re.compile(r"[a-z][a-z0-9-]{0,62}")


class ModelNotFound(errors.NotFound):
    """No such model for this caller."""

    code = "models:model.notfound"

    def __init__(self, model_id: str) -> None:
        self.value = model_id
        super().__init__(
            f"The model '{model_id}' could not be found or requester had "
            "insufficient permissions to access it."
        )


class ModelConflict(errors.Conflict):
    """A model with this id already exists for the caller."""

    code = "models:model.conflict"

    def __init__(self, model_id: str) -> None:
        self.value = model_id
        super().__init__(f"The model '{model_id}' already exists.")


class ModelIdInvalid(errors.BadRequest):
    """A model id is not ``[a-z][a-z0-9-]{0,62}``."""

    code = "models:id.invalid"

    def __init__(self, model_id: str) -> None:
        self.value = model_id
        super().__init__(
            f"Model ID '{model_id}' is not valid!",
            description="A model ID is 1-63 characters of a-z, 0-9 and '-', starting a-z.",
        )


class ModelSourceInvalid(errors.BadRequest):
    """The SDF document of a request is not JSON."""

    code = "models:source.invalid"


class CompilerUnavailable(errors.NdtError):
    """The compiler of a view is not part of this server build."""

    code = "models:compiler.unavailable"
    status = 501
    grpc_code = "UNIMPLEMENTED"
    default_message = "This representation of models is not available."


@dataclass
class LibraryModel:
    """One SDF document of the library, as written and resolved."""

    model_id: str
    text: str
    document: SdfDocument
    resolved: ResolvedDocument
    built_in: bool
    _compiled: dict[str, list[tuple[str, str, str]]] = field(default_factory=dict)

    @property
    def info(self) -> dict[str, Any]:
        info = self.document.data.get("info")
        return info if isinstance(info, dict) else {}

    @property
    def definitions(self) -> list[str]:
        """The Thing Model URLs of its top-level groupings (what ``definition`` names)."""
        return [wot.tm_url(self.resolved, p) for p in wot.grouping_pointers(self.resolved)]


def parse_source(content: str | None, document: dict[str, Any] | None) -> tuple[Any, str]:
    """The SDF document of a request and its text."""
    if document is not None:
        return document, json.dumps(document, indent=2, ensure_ascii=False)
    try:
        return json.loads(content or ""), content or ""
    except (json.JSONDecodeError, RecursionError) as exc:
        raise ModelSourceInvalid(f"The model content is not JSON: {exc}") from exc


class ModelLibrary:
    """Built-in models from directories plus per-tenant registered models."""

    max_per_tenant = 100

    def __init__(
        self, directories: Sequence[Path] = (), documents: Sequence[ResolvedDocument] | None = None
    ) -> None:
        """Serve ``documents`` (e.g. the core's catalog) or else the valid models found in
        ``directories``; each is named by the stem of its file."""
        self._lock = threading.Lock()
        self._builtin: dict[str, LibraryModel] = {}
        self._tenants: dict[str, dict[str, LibraryModel]] = {}
        if documents is None:
            report = validate_paths(list(directories)) if directories else None
            if report is not None:
                for issue in report.issues:
                    if issue.is_error:
                        log.warning("model not served: %s", issue.render())
            documents = report.resolved if report is not None else []
        for resolved in documents:
            path = resolved.source.path
            model_id = path.name.removesuffix(SDF_SUFFIX)
            try:
                text = path.read_text(encoding="utf-8")
            except OSError:
                text = json.dumps(resolved.source.data, indent=2, ensure_ascii=False)
            self._builtin.setdefault(
                model_id, LibraryModel(model_id, text, resolved.source, resolved, True)
            )

    # -- reading ----------------------------------------------------------------------
    def models(self, tenant: str) -> list[LibraryModel]:
        """Every model the tenant can use, by id."""
        with self._lock:
            mine = dict(self._tenants.get(tenant, {}))
        merged = {**mine, **self._builtin}
        return [merged[k] for k in sorted(merged)]

    def get(self, tenant: str, model_id: str) -> LibraryModel:
        model = self._builtin.get(model_id)
        if model is None:
            with self._lock:
                model = self._tenants.get(tenant, {}).get(model_id)
        if model is None:
            raise ModelNotFound(model_id)
        return model

    def _registry(self, tenant: str) -> ModelRegistry:
        docs = [m.document for m in self.models(tenant)]
        return ModelRegistry(documents=docs)

    # -- validating and registering ---------------------------------------------------
    def validate(self, tenant: str, data: Any, file: str = "<request>.sdf.json") -> list[Issue]:
        """Every issue of ``data``; references may name any model the tenant can use."""
        return validate_data(data, file, self._registry(tenant))

    def register(self, tenant: str, model_id: str, data: Any, text: str) -> LibraryModel:
        """Validate and add a model for ``tenant``; invalid documents are refused."""
        if not isinstance(model_id, str) or _MODEL_ID.fullmatch(model_id) is None:
            raise ModelIdInvalid(str(model_id))
        file = f"{model_id}{SDF_SUFFIX}"
        issues = self.validate(tenant, data, file)
        failing = [i for i in issues if i.is_error]
        if failing:
            raise errors.PayloadValidationError(
                [
                    errors.ValidationDetail(file, i.pointer or "/", i.rule, None, i.message)
                    for i in failing
                ],
                "The SDF document is not valid; nothing was registered.",
            )
        registry = self._registry(tenant)
        document = SdfDocument(Path(file), data)
        registry.add(document)
        try:
            resolved = Resolver(registry).resolve_document(document)
        except ResolutionError as exc:  # validation resolves too; kept for safety
            raise errors.PayloadValidationError(
                [errors.ValidationDetail(file, exc.pointer or "/", exc.rule, None, exc.message)]
            ) from exc
        model = LibraryModel(model_id, text, document, resolved, False)
        with self._lock:
            mine = self._tenants.setdefault(tenant, {})
            if model_id in self._builtin or model_id in mine:
                raise ModelConflict(model_id)
            if len(mine) >= self.max_per_tenant:
                raise errors.BadRequest(
                    f"A tenant may register at most {self.max_per_tenant} models."
                )
            mine[model_id] = model
        return model

    def forget(self, tenants: Iterable[str]) -> None:
        """Drop the registered models of deleted tenants."""
        with self._lock:
            for tenant in tenants:
                self._tenants.pop(tenant, None)

    # -- representations --------------------------------------------------------------
    def files(self, model: LibraryModel, view: str) -> list[tuple[str, str, str]]:
        """``(path, media type, content)`` of a view (see `VIEWS`)."""
        target, media_type = VIEWS[view]
        if target is None:
            return [(model.document.path.name, media_type, model.text)]
        cached = model._compiled.get(view)
        if cached is not None:
            return cached
        try:
            produced = TARGETS[target](model.resolved)
        except TargetUnavailableError as exc:
            raise CompilerUnavailable(
                f"The '{target}' compiler is not available on this server: {exc}"
            ) from exc
        files = [
            (name, media_type, content.decode("utf-8") if isinstance(content, bytes) else content)
            for name, content in sorted(produced.items())
        ]
        model._compiled[view] = files
        return files
