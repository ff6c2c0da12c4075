"""The catalogue of validation rules: id, severity and what each one checks.

``docs/models.md`` lists the same table; a test keeps the two in step. Strict
schema findings form one family, ``schema-<keyword>``, named after the JSON
Schema keyword that failed (``schema-additional-properties``, ``schema-type``).
"""

from __future__ import annotations

from dataclasses import dataclass

from server.modeling.issues import ERROR, WARNING, Severity

__all__ = ["RULES", "SCHEMA_FAMILY", "Rule", "rule"]


@dataclass(frozen=True, slots=True)
class Rule:
    """One check: its id, its severity, what it finds and the text it follows."""

    id: str
    severity: Severity
    summary: str
    source: str


SCHEMA_FAMILY = "schema-*"

RULES: dict[str, Rule] = {
    r.id: r
    for r in (
        Rule(
            "file-unreadable",
            ERROR,
            "the file cannot be read or is not UTF-8 text",
            "RFC 8259 §8.1",
        ),
        Rule("json-syntax", ERROR, "the file is not JSON (line and column given)", "RFC 8259"),
        Rule(
            "document-not-object", ERROR, "the top-level JSON value is not an object", "RFC 9880 §3"
        ),
        Rule(
            "nesting-depth",
            ERROR,
            "the document (or its resolved form) nests deeper than ndtwin checks",
            "ndtwin",
        ),
        Rule(
            "no-models",
            ERROR,
            "a directory given on the command line holds no *.sdf.json file",
            "ndtwin",
        ),
        Rule(
            SCHEMA_FAMILY,
            ERROR,
            "the strict validation schema rejects the member; the suffix "
            "is the failing JSON Schema keyword",
            "RFC 9880 Appendix B",
        ),
        Rule("info-missing", WARNING, "the document has no info block", "RFC 9880 §3.1"),
        Rule(
            "namespace-default",
            ERROR,
            "defaultNamespace names no entry of the namespace map",
            "RFC 9880 §3.2",
        ),
        Rule(
            "namespace-uri",
            WARNING,
            "a namespace URI is not absolute or has a '#', so its global names are no URIs",
            "RFC 3986 §4.3",
        ),
        Rule(
            "sdfref-syntax",
            ERROR,
            "an sdfRef is neither '#/pointer' nor 'prefix:#/pointer'",
            "RFC 9880 §4.3",
        ),
        Rule(
            "sdfref-namespace",
            ERROR,
            "an sdfRef prefix is not in the namespace map",
            "RFC 9880 §4.3",
        ),
        Rule(
            "sdfref-unresolved",
            ERROR,
            "an sdfRef names no definition in this document or in "
            "the loaded documents of its namespace",
            "RFC 9880 §4.4",
        ),
        Rule(
            "sdfref-cycle",
            ERROR,
            "following sdfRef leads back to a definition being resolved",
            "RFC 9880 §4.4",
        ),
        Rule(
            "sdfrequired-namespace",
            ERROR,
            "an sdfRequired prefix is not in the namespace map",
            "RFC 9880 §4.5",
        ),
        Rule(
            "sdfrequired-unresolved",
            ERROR,
            "an sdfRequired pointer or bare name selects no affordance or grouping",
            "RFC 9880 §4.5",
        ),
        Rule(
            "enum-with-choice",
            ERROR,
            "enum and sdfChoice in the same definition",
            "RFC 9880 §4.7.2",
        ),
        Rule(
            "enum-type",
            ERROR,
            "enum (text strings only) with a type other than string",
            "RFC 9880 §4.7",
        ),
        Rule(
            "range-empty",
            ERROR,
            "minimum/maximum/exclusiveMinimum/exclusiveMaximum admit no value",
            "RFC 9880 Appendix C.1",
        ),
        Rule("length-range", ERROR, "minLength is greater than maxLength", "RFC 9880 Appendix C.2"),
        Rule("items-range", ERROR, "minItems is greater than maxItems", "RFC 9880 Appendix C.4"),
        Rule(
            "multipleof-invalid", ERROR, "multipleOf is not greater than 0", "RFC 9880 Appendix C.1"
        ),
        Rule(
            "pattern-invalid",
            ERROR,
            "pattern does not compile as a regular expression",
            "RFC 9880 Appendix C.2",
        ),
        Rule(
            "default-invalid",
            ERROR,
            "default violates the definition's own type, range, length, pattern, const or enum",
            "RFC 9880 §4.7",
        ),
        Rule(
            "const-invalid",
            ERROR,
            "const violates the definition's own type, range, length, pattern or enum",
            "RFC 9880 §4.7",
        ),
        Rule(
            "sdftype-type",
            ERROR,
            "sdfType paired with an inconsistent type (unix-time needs "
            "number or integer, byte-string needs string); a warning when type is missing",
            "RFC 9880 §4.7.1",
        ),
        Rule(
            "unit-urn",
            ERROR,
            "unit written as urn:ietf:params:unit:..., which is reserved for translators",
            "RFC 9880 §4.7",
        ),
    )
}


def rule(rule_id: str) -> Rule:
    """The catalogue entry of ``rule_id`` (``schema-*`` ids map to the family)."""
    if rule_id.startswith("schema-"):
        return RULES[SCHEMA_FAMILY]
    return RULES[rule_id]
