"""The one error tree of ndtwin: every failure the core reports is an `NdtError`.

Each class pins a Ditto error code (ditto-api notes §1.5), the HTTP status, the gRPC
canonical code name and a default description, so a face only renders: the REST face
writes ``{"status","error","message","description","href"}`` and the gRPC face a
``google.rpc.Status`` whose ``ErrorInfo.reason`` is `NdtError.reason`.

Tree::

    NdtError
    ├── BadRequest (400, INVALID_ARGUMENT)
    │   ├── IdInvalid: ThingIdInvalid, PolicyIdInvalid, TenantIdInvalid, FeatureIdInvalid,
    │   │              RelationshipIdInvalid, NamespaceInvalid
    │   ├── JsonKeyInvalid, JsonPointerInvalid, JsonFormatInvalid
    │   ├── IdNotSettable, FieldSelectionInvalid, ConditionInvalid, ThingNotCreatable
    │   ├── RqlExpressionInvalid, SearchOptionInvalid, SearchNamespacesInvalid
    │   └── PayloadValidationError (with ValidationDetail list)
    ├── AuthenticationFailed (401, UNAUTHENTICATED)
    ├── NotFound (404, NOT_FOUND)
    │   ├── ThingNotFound, PolicyNotFound, DefinitionNotFound
    │   ├── AttributesNotFound, AttributeNotFound
    │   ├── FeaturesNotFound, FeatureNotFound, FeatureDefinitionNotFound
    │   ├── FeaturePropertiesNotFound, FeaturePropertyNotFound,
    │   │   FeatureDesiredPropertiesNotFound, FeatureDesiredPropertyNotFound
    │   ├── RevisionNotFound, TenantNotFound, RelationshipNotFound
    ├── Conflict (409, ALREADY_EXISTS): ThingConflict, TenantConflict, RelationshipConflict
    ├── PreconditionFailed (412, FAILED_PRECONDITION) ─ RevisionMismatch
    ├── ConditionFailed (412, FAILED_PRECONDITION)
    ├── PreconditionNotModified (304, FAILED_PRECONDITION)
    ├── ThingTooLarge (413, INVALID_ARGUMENT)
    ├── StoreUnavailable (503, UNAVAILABLE)
    └── InternalError (500, INTERNAL)

Messages are worded so that "does not exist" and "not permitted" read alike (Ditto's
rule that a missing READ permission looks like a missing entity).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar

__all__ = [
    "AttributeNotFound",
    "AttributesNotFound",
    "AuthenticationFailed",
    "BadRequest",
    "ConditionFailed",
    "ConditionInvalid",
    "Conflict",
    "DefinitionNotFound",
    "FeatureDefinitionNotFound",
    "FeatureDesiredPropertiesNotFound",
    "FeatureDesiredPropertyNotFound",
    "FeatureIdInvalid",
    "FeatureNotFound",
    "FeaturePropertiesNotFound",
    "FeaturePropertyNotFound",
    "FeaturesNotFound",
    "FieldSelectionInvalid",
    "IdInvalid",
    "IdNotSettable",
    "InternalError",
    "JsonFormatInvalid",
    "JsonKeyInvalid",
    "JsonPointerInvalid",
    "NamespaceInvalid",
    "NdtError",
    "NotFound",
    "PayloadValidationError",
    "PolicyIdInvalid",
    "PolicyNotFound",
    "PreconditionFailed",
    "PreconditionNotModified",
    "RelationshipConflict",
    "RelationshipIdInvalid",
    "RelationshipNotFound",
    "RevisionMismatch",
    "RevisionNotFound",
    "RqlExpressionInvalid",
    "SearchNamespacesInvalid",
    "SearchOptionInvalid",
    "StoreUnavailable",
    "TenantConflict",
    "TenantIdInvalid",
    "TenantNotFound",
    "ThingConflict",
    "ThingIdInvalid",
    "ThingNotCreatable",
    "ThingNotFound",
    "ThingTooLarge",
    "ValidationDetail",
    "reason_for",
]

_REASON_SPLIT = re.compile(r"[^A-Za-z0-9]+")


def reason_for(code: str) -> str:
    """Derive the UPPER_SNAKE ``ErrorInfo.reason`` from a Ditto code.

    ``things:thing.notfound`` becomes ``THINGS_THING_NOTFOUND``; the prefix is kept so
    that reasons stay unique across prefixes (AIP-193 asks for a unique, stable reason).
    """
    return _REASON_SPLIT.sub("_", code).strip("_").upper()


class NdtError(Exception):
    """Base of every error the core raises.

    Parameters
    ----------
    message:
        A one-line, human readable statement of what went wrong; defaults per class.
    description:
        What the client can do about it; defaults per class.
    href:
        A link to documentation, if any.
    """

    code: ClassVar[str] = "internal.error"
    status: ClassVar[int] = 500
    grpc_code: ClassVar[str] = "INTERNAL"
    default_message: ClassVar[str] = "An unexpected error occurred."
    default_description: ClassVar[str | None] = None
    default_href: ClassVar[str | None] = None

    def __init__(
        self,
        message: str | None = None,
        *,
        description: str | None = None,
        href: str | None = None,
    ) -> None:
        self.message = message if message is not None else self.default_message
        self.description = description if description is not None else self.default_description
        self.href = href if href is not None else self.default_href
        super().__init__(self.message)

    @property
    def reason(self) -> str:
        """The UPPER_SNAKE reason for ``google.rpc.ErrorInfo`` (see `reason_for`)."""
        return reason_for(self.code)

    def to_dict(self) -> dict[str, Any]:
        """The Ditto error JSON object (ditto-api notes §1.5), without absent fields."""
        out: dict[str, Any] = {"status": self.status, "error": self.code, "message": self.message}
        if self.description is not None:
            out["description"] = self.description
        if self.href is not None:
            out["href"] = self.href
        return out

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, {self.message!r})"


# --- 400 ---------------------------------------------------------------------------------


class BadRequest(NdtError):
    """The request is malformed; retrying it unchanged fails again."""

    code = "bad.request"
    status = 400
    grpc_code = "INVALID_ARGUMENT"
    default_message = "The request is invalid."


class IdInvalid(BadRequest):
    """Base of the invalid-identifier errors; carries the offending value."""

    code = "id.invalid"
    _what: ClassVar[str] = "ID"

    def __init__(self, value: str, *, description: str | None = None) -> None:
        self.value = value
        super().__init__(f"{self._what} '{value}' is not valid!", description=description)


class ThingIdInvalid(IdInvalid):
    """A thing id breaks Ditto's ``namespace:name`` rules."""

    code = "things:id.invalid"
    _what = "Thing ID"
    default_description = (
        "It must conform to the namespaced entity ID notation (see Ditto documentation)."
    )
    default_href = "https://www.eclipse.dev/ditto/basic-namespaces-and-names.html#namespaced-id"


class PolicyIdInvalid(IdInvalid):
    """A policy id breaks Ditto's ``namespace:name`` rules."""

    code = "policies:id.invalid"
    _what = "Policy ID"
    default_description = ThingIdInvalid.default_description
    default_href = ThingIdInvalid.default_href


class NamespaceInvalid(IdInvalid):
    """A namespace breaks Ditto's namespace rules."""

    code = "namespace.invalid"
    _what = "Namespace"
    default_description = "A namespace is empty or dot/dash separated segments [a-zA-Z]\\w*."


class TenantIdInvalid(IdInvalid):
    """A tenant name is not lowercase ``[a-z][a-z0-9-]{0,62}``."""

    code = "tenants:id.invalid"
    _what = "Tenant ID"
    default_description = "A tenant ID is 1-63 characters of a-z, 0-9 and '-', starting a-z."


class FeatureIdInvalid(IdInvalid):
    """A feature id is empty, ``*``, or holds ``/`` or control characters."""

    code = "things:feature.id.invalid"
    _what = "Feature ID"
    default_description = (
        "A feature ID is non-empty, not '*', and holds no '/' nor characters in "
        "\\x00-\\x1F or \\x7F-\\xFF."
    )


class RelationshipIdInvalid(IdInvalid):
    """A relationship id is empty, too long, or holds ``/`` or control characters."""

    code = "relationships:id.invalid"
    _what = "Relationship ID"
    default_description = (
        "A relationship ID is 1-256 characters with no '/' nor characters in "
        "\\x00-\\x1F or \\x7F-\\xFF."
    )


class JsonKeyInvalid(BadRequest):
    """A JSON object key is empty or holds ``/`` or control characters."""

    code = "json.key.invalid"
    default_description = (
        "JSON keys must be non-empty and must not contain '/' nor characters in "
        "\\x00-\\x1F or \\x7F-\\xFF."
    )

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(f"JSON key '{key}' is not valid!")


class JsonPointerInvalid(BadRequest):
    """A JSON pointer holds an empty segment (``//``) or an invalid key."""

    code = "json.pointer.invalid"
    default_description = (
        "Segments of a JSON pointer are non-empty keys without control characters; "
        "a double slash is not allowed."
    )

    def __init__(self, pointer: str) -> None:
        self.pointer = pointer
        super().__init__(f"JSON pointer '{pointer}' is not valid!")


class JsonFormatInvalid(BadRequest):
    """A payload is not JSON, or not the JSON shape the resource needs."""

    code = "json.format.invalid"
    default_message = "The JSON payload is not valid."
    default_description = "Check that the payload is well-formed JSON of the expected shape."


class IdNotSettable(BadRequest):
    """A body names a thing id that differs from the one in the path (or on POST)."""

    code = "things:id.notsettable"
    default_message = "The Thing ID in the request body is not settable."
    default_description = "Leave 'thingId' out of the body or make it equal the resource path."


class FieldSelectionInvalid(BadRequest):
    """A ``fields`` selector names an unknown root or is malformed."""

    code = "things:field.selection.invalid"
    default_message = "The field selector is not valid."
    default_description = (
        "Select thing fields (thingId, policyId, definition, attributes, features) or "
        "_namespace, _revision, _created, _modified, _metadata, _policy, _context."
    )


class ConditionInvalid(BadRequest):
    """A ``condition`` header/parameter is not valid RQL."""

    code = "things:condition.invalid"
    default_message = "The condition is not a valid RQL expression."
    default_description = "Use the RQL filter syntax for 'condition'."


class ThingNotCreatable(BadRequest):
    """A thing cannot be created, e.g. because its policy is missing."""

    code = "things:thing.notcreatable"
    default_message = "The Thing could not be created."


class RqlExpressionInvalid(BadRequest):
    """An RQL filter or option failed to parse; ``position`` is the 0-based offset."""

    code = "rql.expression.invalid"
    default_description = "Check the RQL syntax (see Ditto's RQL documentation)."
    default_href = "https://www.eclipse.dev/ditto/basic-rql.html"

    def __init__(self, message: str, *, expression: str = "", position: int | None = None) -> None:
        self.expression = expression
        self.position = position
        where = f" at position {position}" if position is not None else ""
        super().__init__(f"Invalid RQL expression{where}: {message}")


class SearchOptionInvalid(BadRequest):
    """A search ``option`` (size, sort, cursor) is invalid or inconsistent."""

    code = "thing-search:search.option.invalid"
    default_message = "The search option is not valid."
    default_description = (
        "size is 1..200; a cursor is only valid with the filter and sort that produced it."
    )


class SearchNamespacesInvalid(BadRequest):
    """A ``namespaces`` search parameter names an invalid namespace."""

    code = "thing-search:search.namespaces.invalid"
    default_message = "The namespaces parameter is not valid."


@dataclass(frozen=True, slots=True)
class ValidationDetail:
    """One SHACL (or JSON Schema) violation: where, which constraint, what value, why."""

    focus_node: str
    path: str | None
    constraint: str
    value: Any
    message: str

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping of the detail."""
        return {
            "focusNode": self.focus_node,
            "path": self.path,
            "constraint": self.constraint,
            "value": self.value,
            "message": self.message,
        }


class PayloadValidationError(BadRequest):
    """A write does not conform to the shapes of its model; lists every violation."""

    code = "wot:payload.validation.error"
    default_message = "The provided payload did not conform to the model's shapes."
    default_description = "Fix every listed violation and retry."

    def __init__(
        self,
        details: list[ValidationDetail] | tuple[ValidationDetail, ...],
        message: str | None = None,
        *,
        description: str | None = None,
    ) -> None:
        self.details = tuple(details)
        super().__init__(message, description=description)

    def to_dict(self) -> dict[str, Any]:
        """Ditto's error JSON plus ``validationDetails`` (one entry per violation)."""
        out = super().to_dict()
        out["validationDetails"] = [d.to_dict() for d in self.details]
        return out


# --- 401 ---------------------------------------------------------------------------------


class AuthenticationFailed(NdtError):
    """Credentials are missing or do not match a tenant."""

    code = "gateway:authentication.failed"
    status = 401
    grpc_code = "UNAUTHENTICATED"
    default_message = "Authentication failed."
    default_description = "Provide a valid API key for the tenant."


# --- 404 ---------------------------------------------------------------------------------


class NotFound(NdtError):
    """Base of "could not be found or requester had insufficient permissions"."""

    code = "not.found"
    status = 404
    grpc_code = "NOT_FOUND"
    default_message = "The resource could not be found."
    default_description = "Check the identifier and that you are permitted to read it."


class ThingNotFound(NotFound):
    """No such thing, or not readable by the requester."""

    code = "things:thing.notfound"

    def __init__(self, thing_id: str) -> None:
        self.thing_id = thing_id
        super().__init__(
            f"The Thing with ID '{thing_id}' could not be found or requester had "
            "insufficient permissions to access it."
        )


class PolicyNotFound(NotFound):
    """No such policy."""

    code = "policies:policy.notfound"

    def __init__(self, policy_id: str) -> None:
        self.policy_id = policy_id
        super().__init__(
            f"The Policy with ID '{policy_id}' could not be found or requester had "
            "insufficient permissions to access it."
        )


class _ThingPartNotFound(NotFound):
    """A part of an existing thing is absent; subclasses name the part."""

    _part: ClassVar[str] = "part"

    def __init__(self, thing_id: str, detail: str | None = None) -> None:
        self.thing_id = thing_id
        self.detail = detail
        what = f"The {self._part}" + (f" '{detail}'" if detail else "")
        super().__init__(
            f"{what} of the Thing with ID '{thing_id}' could not be found or requester "
            "had insufficient permissions to access it."
        )


class DefinitionNotFound(_ThingPartNotFound):
    """The thing has no definition."""

    code = "things:definition.notfound"
    _part = "definition"


class AttributesNotFound(_ThingPartNotFound):
    """The thing has no attributes object."""

    code = "things:attributes.notfound"
    _part = "attributes"


class AttributeNotFound(_ThingPartNotFound):
    """No attribute at the pointer (``detail`` is the pointer)."""

    code = "things:attribute.notfound"
    _part = "attribute"


class FeaturesNotFound(_ThingPartNotFound):
    """The thing has no features object."""

    code = "things:features.notfound"
    _part = "features"


class FeatureNotFound(_ThingPartNotFound):
    """No feature with that id (``detail`` is the feature id)."""

    code = "things:feature.notfound"
    _part = "feature"


class FeatureDefinitionNotFound(_ThingPartNotFound):
    """The feature has no definition (``detail`` is the feature id)."""

    code = "things:feature.definition.notfound"
    _part = "definition of the feature"


class FeaturePropertiesNotFound(_ThingPartNotFound):
    """The feature has no properties (``detail`` is the feature id)."""

    code = "things:feature.properties.notfound"
    _part = "properties of the feature"


class FeaturePropertyNotFound(_ThingPartNotFound):
    """No property at the pointer (``detail`` is ``feature/pointer``)."""

    code = "things:feature.property.notfound"
    _part = "property"


class FeatureDesiredPropertiesNotFound(_ThingPartNotFound):
    """The feature has no desired properties (``detail`` is the feature id)."""

    code = "things:feature.desiredproperties.notfound"
    _part = "desired properties of the feature"


class FeatureDesiredPropertyNotFound(_ThingPartNotFound):
    """No desired property at the pointer (``detail`` is ``feature/pointer``)."""

    code = "things:feature.desiredproperty.notfound"
    _part = "desired property"


class RevisionNotFound(NotFound):
    """A historical revision or time has no retained state of the thing."""

    code = "things:thing.historical.notfound"

    def __init__(self, thing_id: str, at: str) -> None:
        self.thing_id = thing_id
        self.at = at
        super().__init__(
            f"The Thing with ID '{thing_id}' has no retained state at {at}, or requester "
            "had insufficient permissions to access it."
        )


class TenantNotFound(NotFound):
    """No such tenant."""

    code = "tenants:tenant.notfound"

    def __init__(self, tenant: str) -> None:
        self.tenant = tenant
        super().__init__(f"The tenant '{tenant}' could not be found.")


class RelationshipNotFound(NotFound):
    """No such relationship, or not readable by the requester."""

    code = "relationships:relationship.notfound"

    def __init__(self, relationship_id: str) -> None:
        self.relationship_id = relationship_id
        super().__init__(
            f"The relationship with ID '{relationship_id}' could not be found or requester "
            "had insufficient permissions to access it."
        )


# --- 409 ---------------------------------------------------------------------------------


class Conflict(NdtError):
    """The entity already exists."""

    code = "conflict"
    status = 409
    grpc_code = "ALREADY_EXISTS"
    default_message = "The resource already exists."


class ThingConflict(Conflict):
    """A thing with this id already exists (create-only write)."""

    code = "things:thing.conflict"
    default_description = "Choose another Thing ID, or update the existing Thing."

    def __init__(self, thing_id: str) -> None:
        self.thing_id = thing_id
        super().__init__(f"The Thing with ID '{thing_id}' already exists.")


class TenantConflict(Conflict):
    """A tenant with this name already exists."""

    code = "tenants:tenant.conflict"

    def __init__(self, tenant: str) -> None:
        self.tenant = tenant
        super().__init__(f"The tenant '{tenant}' already exists.")


class RelationshipConflict(Conflict):
    """A relationship with this id already exists (create-only write)."""

    code = "relationships:relationship.conflict"

    def __init__(self, relationship_id: str) -> None:
        self.relationship_id = relationship_id
        super().__init__(f"The relationship with ID '{relationship_id}' already exists.")


# --- 412 / 304 ---------------------------------------------------------------------------


class PreconditionFailed(NdtError):
    """An ``If-Match`` / ``If-None-Match`` precondition does not hold (§1.4)."""

    code = "things:precondition.failed"
    status = 412
    grpc_code = "FAILED_PRECONDITION"
    default_message = "The precondition of the request was not met."
    default_description = "Read the current entity tag and retry with it."


class RevisionMismatch(PreconditionFailed):
    """A store write expected another revision than the stored one; nothing was written.

    ``expected`` 0 means "must not exist"; ``actual`` 0 means "does not exist". Handlers may
    catch this and re-raise `ThingConflict` or `ThingNotFound` as their command requires.
    """

    def __init__(self, kind: str, entity_id: str, expected: int, actual: int) -> None:
        self.kind = kind
        self.entity_id = entity_id
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"The {kind} '{entity_id}' is at revision {actual}, not the expected {expected}."
        )


class ConditionFailed(NdtError):
    """An RQL ``condition`` evaluated to false against the stored thing (§1.4)."""

    code = "things:condition.failed"
    status = 412
    grpc_code = "FAILED_PRECONDITION"
    default_message = "The condition of the request was not met."


class PreconditionNotModified(NdtError):
    """A GET's ``If-None-Match`` matched: the client's copy is current (304)."""

    code = "things:precondition.notmodified"
    status = 304
    grpc_code = "FAILED_PRECONDITION"
    default_message = "The entity was not modified."


# --- 413 / 5xx ---------------------------------------------------------------------------


class ThingTooLarge(NdtError):
    """A thing would exceed the size limit (100 kB in Ditto, §1.1)."""

    code = "things:thing.toolarge"
    status = 413
    grpc_code = "INVALID_ARGUMENT"
    default_description = "Reduce the size of the Thing."

    def __init__(self, thing_id: str, size: int, limit: int) -> None:
        self.thing_id = thing_id
        self.size = size
        self.limit = limit
        super().__init__(
            f"The size of {size} bytes of the Thing with ID '{thing_id}' exceeds the "
            f"limit of {limit} bytes."
        )


class StoreUnavailable(NdtError):
    """The document or graph store could not be reached or failed; retry later."""

    code = "store.unavailable"
    status = 503
    grpc_code = "UNAVAILABLE"
    default_message = "The storage backend is unavailable."


class InternalError(NdtError):
    """A bug or an unexpected state; details are logged, not returned."""
