"""Resource names of the AIP-style API (AIP-122) and their check against the caller.

Names are ``tenants/{tenant}``, ``tenants/{tenant}/twins/{thing_id}``,
``tenants/{tenant}/relationships/{relationship}``, ``tenants/{tenant}/graph`` and
``models/{model}``. A thing id is Ditto's ``namespace:name`` and holds no ``/``, so a
name splits on ``/`` without escaping. A malformed name is INVALID_ARGUMENT; a well-formed
name whose tenant is not the caller's is NOT_FOUND, worded exactly as a missing resource
(the tenant always comes from the credential, issue 5).
"""

from __future__ import annotations

from server.core import errors
from server.core.context import Caller
from server.core.ids import RelationshipId, ThingId

__all__ = [
    "ResourceNameInvalid",
    "graph_name",
    "model_name",
    "parse_graph_name",
    "parse_model_name",
    "parse_parent",
    "parse_relationship_name",
    "parse_tenant_name",
    "parse_twin_name",
    "relationship_name",
    "tenant_name",
    "twin_name",
]


class ResourceNameInvalid(errors.BadRequest):
    """A resource name does not follow its pattern (AIP-122)."""

    code = "resource.name.invalid"
    default_description = (
        "Resource names are tenants/{tenant}, tenants/{tenant}/twins/{thing_id}, "
        "tenants/{tenant}/relationships/{relationship}, tenants/{tenant}/graph and "
        "models/{model}."
    )

    def __init__(self, field: str, value: str, pattern: str) -> None:
        self.field = field
        self.value = value
        super().__init__(f"The {field} '{value}' is not a resource name of the form '{pattern}'.")


def tenant_name(tenant: str) -> str:
    return f"tenants/{tenant}"


def twin_name(tenant: str, thing_id: str) -> str:
    return f"tenants/{tenant}/twins/{thing_id}"


def relationship_name(tenant: str, relationship_id: str) -> str:
    return f"tenants/{tenant}/relationships/{relationship_id}"


def graph_name(tenant: str) -> str:
    return f"tenants/{tenant}/graph"


def model_name(model_id: str) -> str:
    return f"models/{model_id}"


def _split(value: str, field: str, pattern: str, collection: str | None) -> list[str]:
    parts = value.split("/") if isinstance(value, str) else []
    size = 2 if collection is None else 4
    if (
        len(parts) != size
        or parts[0] != "tenants"
        or not all(parts)
        or (collection is not None and parts[2] != collection)
    ):
        raise ResourceNameInvalid(field, value, pattern)
    return parts


def parse_tenant_name(value: str, field: str = "name") -> str:
    """The tenant of ``tenants/{tenant}``; not checked against any caller."""
    return _split(value, field, "tenants/{tenant}", None)[1]


def parse_parent(value: str, caller: Caller, field: str = "parent") -> str:
    """Check ``tenants/{tenant}`` is the caller's tenant; returns the tenant."""
    tenant = parse_tenant_name(value, field)
    if tenant != caller.tenant:
        raise errors.TenantNotFound(tenant)
    return tenant


def parse_twin_name(value: str, caller: Caller, field: str = "name") -> ThingId:
    """The thing id of ``tenants/{tenant}/twins/{thing_id}`` of the caller's tenant."""
    parts = _split(value, field, "tenants/{tenant}/twins/{thing_id}", "twins")
    thing_id = ThingId(parts[3])
    if parts[1] != caller.tenant:
        raise errors.ThingNotFound(thing_id)
    return thing_id


def parse_relationship_name(value: str, caller: Caller, field: str = "name") -> RelationshipId:
    """The id of ``tenants/{tenant}/relationships/{relationship}`` of the caller's tenant."""
    parts = _split(value, field, "tenants/{tenant}/relationships/{relationship}", "relationships")
    rid = RelationshipId(parts[3])
    if parts[1] != caller.tenant:
        raise errors.RelationshipNotFound(rid)
    return rid


def parse_graph_name(value: str, caller: Caller, field: str = "name") -> str:
    """The tenant of ``tenants/{tenant}/graph``, which must be the caller's."""
    parts = value.split("/") if isinstance(value, str) else []
    if len(parts) != 3 or parts[0] != "tenants" or not parts[1] or parts[2] != "graph":
        raise ResourceNameInvalid(field, value, "tenants/{tenant}/graph")
    if parts[1] != caller.tenant:
        raise errors.TenantNotFound(parts[1])
    return parts[1]


def parse_model_name(value: str, field: str = "name") -> str:
    """The model id of ``models/{model}``."""
    parts = value.split("/") if isinstance(value, str) else []
    if len(parts) != 2 or parts[0] != "models" or not parts[1]:
        raise ResourceNameInvalid(field, value, "models/{model}")
    return parts[1]
