"""Twin commands: the one implementation every face (REST, gRPC, MQTT, conformance) calls.

Each write follows Ditto's "decide, then apply": read the stored record, check the
preconditions, compute the new document with the pure functions of
:mod:`server.core.twins.document`, validate it against its model, then hand one
:class:`WriteBatch` (twin, event, history points, outbox entry) to the store, which
commits it atomically with an expected revision. A concurrent writer makes the commit
fail with a revision mismatch; the command is then decided again on fresh state
(optimistic concurrency), unless the client pinned a revision itself.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from server.core import errors
from server.core.context import Caller
from server.core.ids import PolicyId, ThingId
from server.core.preconditions import Preconditions, thing_etag, value_etag
from server.core.rql.parser import parse_filter, parse_options
from server.core.stores.base import TwinStore
from server.core.stores.records import (
    ChangeEvent,
    EventAction,
    SearchPage,
    TwinRecord,
    utc_now,
)
from server.core.twins import document as docs
from server.core.twins.fields import ROOTS, FieldSelectionError, FieldSelector
from server.core.twins.paths import Area, InvalidPath, ResourcePath
from server.core.validation.base import TwinValidator
from server.core.writes import WRITE_ATTEMPTS, WritePlan, pause_after_conflict, record_view

__all__ = ["TwinService", "WriteResult"]

_RETRIES = WRITE_ATTEMPTS

_NOT_FOUND: dict[Area, type[errors._ThingPartNotFound]] = {
    Area.DEFINITION: errors.DefinitionNotFound,
    Area.ATTRIBUTES: errors.AttributeNotFound,
    Area.FEATURES: errors.FeaturesNotFound,
    Area.FEATURE: errors.FeatureNotFound,
    Area.FEATURE_DEFINITION: errors.FeatureDefinitionNotFound,
    Area.PROPERTIES: errors.FeaturePropertyNotFound,
    Area.DESIRED: errors.FeatureDesiredPropertyNotFound,
}


@dataclass(frozen=True, slots=True)
class WriteResult:
    """What a write did: whether it created the addressed resource, and the new state."""

    created: bool
    record: TwinRecord | None
    value: Any
    etag: str | None
    event: ChangeEvent | None


def _parse_path(thing_id: str, path: str) -> ResourcePath:
    try:
        return ResourcePath.parse(path)
    except InvalidPath as exc:
        if exc.kind == "feature id":
            raise errors.FeatureIdInvalid(path) from exc
        raise errors.JsonPointerInvalid(path) from exc


def _thing(tid: ThingId, body: dict[str, Any], policy_id: str) -> dict[str, Any]:
    """A full thing from a PUT body: id first, the implicit policy id when none is given."""
    rest = {k: v for k, v in body.items() if k not in ("thingId", "policyId")}
    return {"thingId": tid, "policyId": body.get("policyId", policy_id), **rest}


def _check_policy_id(rpath: ResourcePath, body: Any) -> None:
    """A ``policyId`` written must be a namespaced id (Ditto ``policies:id.invalid``)."""
    if rpath.area is Area.POLICY_ID:
        if not isinstance(body, str):
            raise errors.JsonFormatInvalid("'policyId' must be a string.")
        value: Any = body
    elif rpath.area is Area.THING and isinstance(body, dict):
        value = body.get("policyId")
    else:
        return
    if isinstance(value, str):
        PolicyId(value)


def _document_error(exc: docs.DocumentError) -> errors.NdtError:
    return errors.JsonFormatInvalid(f"{exc} (at '{exc.path}')")


class TwinService:
    """Create, read, replace, merge, delete, list and search twins of one store."""

    def __init__(
        self,
        store: TwinStore,
        validator: TwinValidator,
        on_commit: Callable[[list[ChangeEvent]], None] | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._store = store
        self._validator = validator
        self._on_commit = on_commit
        self._clock = clock

    # -- reads ----------------------------------------------------------------------
    def get_record(self, caller: Caller, thing_id: str) -> TwinRecord:
        tid = ThingId(thing_id)
        record = self._store.get_twin(caller.tenant, tid)
        if record is None:
            raise errors.ThingNotFound(tid)
        return record

    def retrieve(
        self,
        caller: Caller,
        thing_id: str,
        path: str = "/",
        fields: str | None = None,
        pre: Preconditions | None = None,
        at_revision: int | None = None,
        at_time: datetime | None = None,
    ) -> tuple[Any, str]:
        """The value at ``path`` (with ``fields`` applied) and its entity tag."""
        tid = ThingId(thing_id)
        rpath = _parse_path(tid, path)
        selector = self._selector(fields, sub_resource=rpath.area is not Area.THING)
        if at_revision is not None:
            record = self._store.get_twin_at_revision(caller.tenant, tid, at_revision)
            if record is None:
                raise errors.RevisionNotFound(tid, f"revision {at_revision}")
        elif at_time is not None:
            record = self._store.get_twin_as_of(caller.tenant, tid, at_time)
            if record is None:
                raise errors.ThingNotFound(tid)
        else:
            record = self.get_record(caller, tid)
        value = self._read(record, rpath)
        etag = thing_etag(record.revision) if rpath.area is Area.THING else value_etag(value)
        if pre is not None:
            pre.check_read(etag)
            pre.check_condition(record_view(record))
        if selector is not None and isinstance(value, dict):
            source = record_view(record) if rpath.area is Area.THING else value
            value = selector.apply(source)
        return value, etag

    def get_many(
        self, caller: Caller, thing_ids: Sequence[str], fields: str | None = None
    ) -> list[dict[str, Any]]:
        """Things in the order asked; missing ones are silently left out (Ditto)."""
        ids = [ThingId(t) for t in thing_ids]
        selector = self._selector(fields)
        out = []
        for record in self._store.get_twins(caller.tenant, ids):
            out.append(selector.apply(record_view(record)) if selector else dict(record.doc))
        return out

    def search(
        self,
        caller: Caller,
        filter: str | None = None,
        options: str | None = None,
        fields: str | None = None,
        namespaces: Sequence[str] | None = None,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of Ditto search results and the cursor of the next."""
        node = parse_filter(filter) if filter else None
        opts = parse_options(options) if options else None
        selector = self._selector(fields)
        size = opts.size if opts and opts.size else 25
        page: SearchPage = self._store.search(
            caller.tenant,
            node,
            sort=opts.sort if opts else (),
            size=size,
            cursor=opts.cursor if opts else None,
            namespaces=namespaces,
        )
        items = [selector.apply(record_view(r)) if selector else dict(r.doc) for r in page.items]
        return items, page.cursor

    def count(
        self, caller: Caller, filter: str | None = None, namespaces: Sequence[str] | None = None
    ) -> int:
        node = parse_filter(filter) if filter else None
        return self._store.count(caller.tenant, node, namespaces=namespaces)

    # -- writes ---------------------------------------------------------------------
    def create(self, caller: Caller, doc: Any, namespace: str = "") -> WriteResult:
        """``POST /things``: a new thing with a generated id ``<namespace>:<uuid>``."""
        if not isinstance(doc, dict):
            raise errors.JsonFormatInvalid("The body of a new thing must be a JSON object.")
        if "thingId" in doc:
            raise errors.IdNotSettable()
        thing_id = ThingId(f"{namespace}:{uuid.uuid4()}")
        return self.put(caller, thing_id, "/", doc, Preconditions(if_none_match=("*",)))

    def put(
        self, caller: Caller, thing_id: str, path: str, value: Any, pre: Preconditions | None = None
    ) -> WriteResult:
        """Replace (or create) the resource at ``path``; Ditto PUT semantics."""
        tid = ThingId(thing_id)
        rpath = _parse_path(tid, path)
        if rpath.area is Area.THING:
            if not isinstance(value, dict):
                raise errors.JsonFormatInvalid("A thing must be a JSON object.")
            if "thingId" in value and value["thingId"] != tid:
                raise errors.IdNotSettable()
        # A malformed body is a 400 whatever the preconditions say (Ditto checks the
        # request before its conditions), so check its shape before reading any state.
        _check_policy_id(rpath, value)
        try:
            docs.check_value(
                rpath,
                {k: v for k, v in value.items() if k != "thingId"}
                if rpath.area is Area.THING
                else value,
            )
        except docs.DocumentError as exc:
            raise _document_error(exc) from exc

        def decide(current: dict[str, Any] | None) -> tuple[dict[str, Any], bool, EventAction]:
            if current is None:
                if rpath.area is not Area.THING:
                    base: dict[str, Any] = {"thingId": tid, "policyId": tid}
                    new, _ = docs.put_at(base, rpath, value)
                    return new, True, "created"
                new = _thing(tid, value, tid)
                docs.check_document(new)
                return new, True, "created"
            if rpath.area is Area.THING:
                new = _thing(tid, value, current.get("policyId", tid))
                docs.check_document(new)
                return new, False, "modified"
            new, created = docs.put_at(current, rpath, value)
            return new, created, "created" if created else "modified"

        return self._write(caller, tid, rpath, pre, decide, value)

    def merge(
        self, caller: Caller, thing_id: str, path: str, patch: Any, pre: Preconditions | None = None
    ) -> WriteResult:
        """Apply an RFC 7396 merge patch at ``path``; creates the thing if absent (Ditto)."""
        tid = ThingId(thing_id)
        rpath = _parse_path(tid, path)
        if rpath.area is Area.THING:
            if not isinstance(patch, dict):
                raise errors.JsonFormatInvalid("A merge patch of a thing must be a JSON object.")
            if "thingId" in patch and patch["thingId"] != tid:
                raise errors.IdNotSettable()
        # As for PUT, a malformed patch is a 400 before any precondition: what the patch
        # leaves once its nulls (deletions, RFC 7396 §2) are dropped must fit the resource.
        _check_policy_id(rpath, patch)
        if patch is not None:
            try:
                docs.check_value(rpath, docs.strip_nulls(patch))
            except docs.DocumentError as exc:
                raise _document_error(exc) from exc

        def decide(current: dict[str, Any] | None) -> tuple[dict[str, Any], bool, EventAction]:
            base = current if current is not None else {"thingId": tid, "policyId": tid}
            new = docs.merge_at(base, rpath, patch)
            new["thingId"] = tid
            new.setdefault("policyId", tid)
            return new, current is None, "created" if current is None else "merged"

        return self._write(caller, tid, rpath, pre, decide, patch)

    def delete(
        self, caller: Caller, thing_id: str, path: str = "/", pre: Preconditions | None = None
    ) -> WriteResult:
        """Delete the thing (path ``/``) or a part of it."""
        tid = ThingId(thing_id)
        rpath = _parse_path(tid, path)

        def decide(
            current: dict[str, Any] | None,
        ) -> tuple[dict[str, Any] | None, bool, EventAction]:
            if current is None:
                raise errors.ThingNotFound(tid)
            if rpath.area is Area.THING:
                return None, False, "deleted"
            return docs.delete_at(current, rpath), False, "deleted"

        return self._write(caller, tid, rpath, pre, decide, None)

    # -- the write pipeline ---------------------------------------------------------
    def _write(
        self,
        caller: Caller,
        tid: ThingId,
        rpath: ResourcePath,
        pre: Preconditions | None,
        decide: Callable[[dict[str, Any] | None], tuple[dict[str, Any] | None, bool, EventAction]],
        value: Any,
    ) -> WriteResult:
        for attempt in range(_RETRIES):
            current = self._store.get_twin(caller.tenant, tid)
            if pre is not None and not pre.empty:
                self._check_write_preconditions(current, rpath, pre)
            try:
                new_doc, created, action = decide(dict(current.doc) if current else None)
            except docs.NotFound as exc:
                raise self._not_found(tid, exc.path) from exc
            except docs.DocumentError as exc:
                raise _document_error(exc) from exc
            except InvalidPath as exc:
                raise errors.JsonPointerInvalid(str(rpath)) from exc
            plan = WritePlan(caller.tenant, self._clock(), self._validator)
            path = "/" if rpath.area is Area.THING else str(rpath)
            record: TwinRecord | None
            if new_doc is None:
                assert current is not None
                plan.delete_twin(current, self._store.relationships_touching(caller.tenant, tid))
                record = None
            else:
                record = plan.put_twin(current, new_doc, path, action, value)
                if record is None:
                    # Nothing changed: no event, no new revision.
                    etag = thing_etag(current.revision) if current else None
                    return WriteResult(
                        False, current, self._value(current, rpath, value), etag, None
                    )
            try:
                committed = self._store.commit(caller.tenant, plan.batch)
            except errors.RevisionMismatch:
                if (pre is not None and not pre.empty) or attempt == _RETRIES - 1:
                    raise
                pause_after_conflict(attempt)
                continue
            if self._on_commit is not None:
                self._on_commit(committed)
            etag = thing_etag(record.revision) if record else None
            return WriteResult(
                created,
                record,
                self._value(record, rpath, value),
                etag,
                committed[0] if committed else None,
            )
        raise AssertionError("unreachable")

    @staticmethod
    def _value(record: TwinRecord | None, rpath: ResourcePath, fallback: Any) -> Any:
        if record is None:
            return None
        if rpath.area is Area.THING:
            return dict(record.doc)
        try:
            return docs.read_at(record.doc, rpath)
        except docs.NotFound:
            return fallback

    def _check_write_preconditions(
        self, current: TwinRecord | None, rpath: ResourcePath, pre: Preconditions
    ) -> None:
        if current is None:
            pre.check_write(None)
            if pre.condition is not None:
                pre.check_condition(None)
            return
        thing_tag = thing_etag(current.revision)
        if rpath.area is Area.THING:
            tag: str | None = thing_tag
        else:
            try:
                tag = value_etag(docs.read_at(current.doc, rpath))
            except docs.NotFound:
                tag = None
        # A thing's "rev:n" also guards writes to its parts (when the part exists).
        pre.check_write(tag, thing_tag if tag is not None else None)
        pre.check_condition(record_view(current))

    # -- helpers --------------------------------------------------------------------
    def _read(self, record: TwinRecord, rpath: ResourcePath) -> Any:
        if rpath.area is Area.THING:
            return dict(record.doc)
        try:
            return docs.read_at(record.doc, rpath)
        except docs.NotFound as exc:
            raise self._not_found(record.thing_id, exc.path) from exc

    @staticmethod
    def _not_found(tid: str, rpath: ResourcePath) -> errors.NdtError:
        if rpath.area in (Area.THING, Area.THING_ID):
            return errors.ThingNotFound(tid)
        if rpath.area is Area.POLICY_ID:
            return errors.PolicyNotFound(tid)
        if rpath.area in (Area.PROPERTIES, Area.DESIRED) and not rpath.tokens:
            cls = (
                errors.FeaturePropertiesNotFound
                if rpath.area is Area.PROPERTIES
                else errors.FeatureDesiredPropertiesNotFound
            )
            return cls(tid, rpath.feature)
        if rpath.area is Area.ATTRIBUTES and not rpath.tokens:
            return errors.AttributesNotFound(tid)
        detail = "/".join(rpath.tokens) or rpath.feature
        return _NOT_FOUND[rpath.area](tid, detail)

    @staticmethod
    def _selector(fields: str | None, sub_resource: bool = False) -> FieldSelector | None:
        """Parse ``fields``; below the thing's root any key may be selected."""
        if not fields:
            return None
        try:
            return FieldSelector.parse(fields, roots=None if sub_resource else ROOTS)
        except FieldSelectionError as exc:
            raise errors.FieldSelectionInvalid(str(exc)) from exc
