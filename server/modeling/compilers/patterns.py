"""Regular expressions the SHACL and JSON Schema compilers can both enforce.

SDF ``pattern`` is an ECMA-262 regular expression without flags, unanchored
(RFC 9880 §4.7.1, inherited from JSON Schema). SHACL ``sh:pattern`` is an
XPath regular expression (SHACL §4.4.3, XPath F&O 3.1 §5.6.1), and the two
validators ndtwin runs (pyshacl and python-jsonschema) both evaluate patterns
with Python's ``re``. ``translate`` rewrites an ECMA-262 pattern into the
subset of syntax that all three dialects read the same way:

* ``\\d \\w \\s`` (and their negations) become explicit ASCII / ECMA-262
  character classes, because XPath and Python give them Unicode meanings;
* ``.`` becomes ``[^\\n\\r\\u2028\\u2029]`` (ECMA-262 §22.2.2.8: the dot stops at
  line terminators; XPath and Python stop at fewer);
* ``(?:...)`` becomes ``(...)``, lazy quantifiers lose their ``?`` (neither
  changes *whether* a string matches, only which match is reported);
* ``\\xHH``, ``\\uHHHH``, ``\\cX``, ``\\f``, ``\\v`` and identity escapes
  become the characters they denote; a ``{`` or ``]`` that is not syntax is
  escaped (ECMA-262 Annex B reads them as literals, Python reads ``{,n}`` as a
  quantifier).

What has no XPath form is refused with ``UnsupportedPattern``: lookaround,
back-references, named groups, ``\\b``/``\\B``, empty classes and classes that
mix a negated escape with other members. The compilers then drop the
constraint and record a warning, in both targets, so they keep deciding alike.

One difference is shared by both Python validators and left alone: ``$``
also matches before a final newline in Python (XPath and ECMA-262 do not).

``FORMATS`` holds the regular expressions ndtwin enforces for SDF ``format``
values (RFC 9880 §4.7.1 lists them); they are written in the same subset.
"""

from __future__ import annotations

import re

__all__ = ["FORMATS", "UnsupportedPattern", "escape", "translate"]

_DIGIT = "0-9"
_WORD = "A-Za-z0-9_"
# ECMA-262 §22.2.2.9 WhiteSpace and LineTerminator code points.
_SPACE = "\\t\\n\u000b\u000c\\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_CLASS_ESCAPES = {"d": _DIGIT, "w": _WORD, "s": _SPACE}
_DOT = "[^\\n\\r\u2028\u2029]"
# Characters an XPath regular expression may escape (XSD 1.1 Part 2 §G.4.2.3).
_XPATH_ESCAPABLE = set("\\|.?*+(){}-[]^$")
_CONTROL_ESCAPES = {"f": "\u000c", "v": "\u000b", "n": "\n", "r": "\r", "t": "\t"}
_QUANTIFIER = re.compile(r"\{[0-9]+(,[0-9]*)?\}")
_HEX2 = re.compile(r"[0-9A-Fa-f]{2}")
_HEX4 = re.compile(r"[0-9A-Fa-f]{4}")

#: SDF ``format`` → an anchored regular expression (syntax only; RFC 3339 §5.6,
#: RFC 3986 §3 and §4.1 with its character repertoire, RFC 9562 §4 for uuid).
FORMATS: dict[str, str] = {
    "date-time": (
        r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[Tt]"
        r"([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?"
        r"([Zz]|[+\-]([01][0-9]|2[0-3]):[0-5][0-9])$"
    ),
    "date": r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$",
    "time": (
        r"^([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?"
        r"([Zz]|[+\-]([01][0-9]|2[0-3]):[0-5][0-9])$"
    ),
    "uri": r"^[A-Za-z][A-Za-z0-9+.\-]*:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*$",
    "uri-reference": r"^[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*$",
    "uuid": (
        r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-"
        r"[0-9A-Fa-f]{12}$"
    ),
}


class UnsupportedPattern(ValueError):
    """An ECMA-262 construct with no equivalent in XPath regular expressions."""


def translate(pattern: str) -> str:
    """Rewrite an ECMA-262 pattern (no flags) for XPath, ECMA-262 and Python alike.

    Raises ``UnsupportedPattern`` for constructs listed in the module docstring
    and for patterns ECMA-262 itself rejects.
    """
    out = _Translator(pattern).run()
    try:
        re.compile(out)
    except re.error as exc:
        raise UnsupportedPattern(f"not a valid regular expression ({exc})") from exc
    return out


def escape(text: str) -> str:
    """``text`` as a pattern matching exactly itself, in the same common subset."""
    return "".join(_literal(char) for char in text)


def _literal(char: str, in_class: bool = False) -> str:
    """One character as it must be written (escaped where it is syntax)."""
    if char in "\n\r\t":
        return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}[char]
    if in_class:
        return "\\" + char if char in "\\]-[^" else char
    if char in _XPATH_ESCAPABLE and char != "-":
        return "\\" + char
    return char


class _Translator:
    """A one-pass scanner over the ECMA-262 pattern (ECMA-262 §22.2.1, Annex B.1.2)."""

    def __init__(self, pattern: str) -> None:
        self.src = pattern
        self.pos = 0
        self.out: list[str] = []
        self.depth = 0

    def run(self) -> str:
        while self.pos < len(self.src):
            self._term()
        if self.depth:
            raise UnsupportedPattern("unbalanced parenthesis")
        return "".join(self.out)

    # -- outside classes ----------------------------------------------------
    def _term(self) -> None:
        char = self.src[self.pos]
        self.pos += 1
        if char == "\\":
            self.out.append(self._escape(in_class=False)[1])
        elif char == "[":
            self.out.append(self._class())
        elif char == "(":
            self._group()
        elif char == ")":
            if not self.depth:
                raise UnsupportedPattern("unbalanced parenthesis")
            self.depth -= 1
            self.out.append(")")
        elif char == ".":
            self.out.append(_DOT)
        elif char in "*+?":
            self.out.append(char)
            self._lazy()
        elif char == "{":
            found = _QUANTIFIER.match(self.src, self.pos - 1)
            if found:
                self.out.append(found.group(0))
                self.pos = found.end()
                self._lazy()
            else:
                self.out.append("\\{")
        elif char in "}]":
            self.out.append("\\" + char)
        elif char in "^$|":
            self.out.append(char)
        else:
            self.out.append(_literal(char))

    def _lazy(self) -> None:
        # A lazy quantifier matches the same strings as the greedy one.
        if self.src.startswith("?", self.pos):
            self.pos += 1

    def _group(self) -> None:
        if self.src.startswith("?:", self.pos):
            self.pos += 2
        elif self.src.startswith("?", self.pos):
            raise UnsupportedPattern("lookaround and named groups have no XPath form")
        self.depth += 1
        self.out.append("(")

    def _escape(self, in_class: bool) -> tuple[str | None, str]:
        """Read an escape: (the one character it denotes or None, its rendering)."""
        if self.pos >= len(self.src):
            raise UnsupportedPattern("pattern ends with a backslash")
        char = self.src[self.pos]
        self.pos += 1
        lower = char.lower()
        if lower in _CLASS_ESCAPES:
            members = _CLASS_ESCAPES[lower]
            if in_class:
                # A negated escape cannot be spliced into a class; ``_class`` decides.
                return None, ("\\" + char) if char.isupper() else members
            return None, (f"[^{members}]" if char.isupper() else f"[{members}]")
        if char in "bB":
            if in_class and char == "b":
                return self._char("\u0008", in_class)
            raise UnsupportedPattern("word boundaries have no XPath form")
        if char.isdigit():
            if char == "0" and not self.src[self.pos : self.pos + 1].isdigit():
                return self._char("\u0000", in_class)
            raise UnsupportedPattern("back-references have no XPath form")
        if char in _CONTROL_ESCAPES:
            return self._char(_CONTROL_ESCAPES[char], in_class)
        if char == "x" and _HEX2.match(self.src, self.pos):
            code = int(self.src[self.pos : self.pos + 2], 16)
            self.pos += 2
            return self._char(chr(code), in_class)
        if char == "u" and _HEX4.match(self.src, self.pos):
            code = int(self.src[self.pos : self.pos + 4], 16)
            self.pos += 4
            if 0xD800 <= code <= 0xDFFF:
                raise UnsupportedPattern("surrogate escapes have no XPath form")
            return self._char(chr(code), in_class)
        follower = self.src[self.pos : self.pos + 1]
        if char == "c" and follower.isascii() and follower.isalpha():
            self.pos += 1
            return self._char(chr(ord(follower) % 32), in_class)
        if char == "k" and follower == "<":
            raise UnsupportedPattern("named back-references have no XPath form")
        # Annex B identity escape: the character itself.
        return self._char(char, in_class)

    @staticmethod
    def _char(char: str, in_class: bool) -> tuple[str | None, str]:
        return char, _literal(char, in_class)

    # -- character classes --------------------------------------------------
    def _class(self) -> str:
        negated = self.src.startswith("^", self.pos)
        if negated:
            self.pos += 1
        items: list[str] = []
        raw_members: list[str] = []
        while True:
            if self.pos >= len(self.src):
                raise UnsupportedPattern("unterminated character class")
            if self.src[self.pos] == "]":
                self.pos += 1
                break
            start = self.pos
            low, text = self._class_atom()
            raw_members.append(self.src[start : self.pos])
            if (
                self.src.startswith("-", self.pos)
                and self.pos + 1 < len(self.src)
                and self.src[self.pos + 1] != "]"
            ):
                self.pos += 1
                high, _ = self._class_atom()
                if low is None or high is None:
                    raise UnsupportedPattern("a range endpoint is a character class escape")
                if ord(low) > ord(high):
                    raise UnsupportedPattern("character range out of order")
                items.append(_literal(low, True) + "-" + _literal(high, True))
            else:
                items.append(text)
        if sorted(raw_members) in (["\\D", "\\d"], ["\\S", "\\s"], ["\\W", "\\w"]):
            # The usual "any character" idiom: a set and its complement.
            return "[^\\s\\S]" if negated else "[\\s\\S]"
        if any(item in ("\\D", "\\S", "\\W") for item in items):
            raise UnsupportedPattern("a negated class escape inside a character class")
        if not items:
            if negated:
                return "[\\s\\S]"
            raise UnsupportedPattern("an empty character class has no XPath form")
        return "[" + ("^" if negated else "") + "".join(items) + "]"

    def _class_atom(self) -> tuple[str | None, str]:
        """One class member: (the character or None for an escape class, its rendering)."""
        char = self.src[self.pos]
        self.pos += 1
        if char != "\\":
            return char, _literal(char, True)
        return self._escape(in_class=True)
