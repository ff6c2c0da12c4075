"""Wi-Fi scans: Android ``ScanResult`` fields per access point (notes §2).

Access points are keyed by BSSID (``wifi:{12 hex digits}``). Android's enums are
normalised on input: ``channelWidth`` 0..5 becomes MHz, ``wifiStandard`` 0..8 becomes
the model's names, ``level`` is the RSSI (-127 is Android's invalid marker).
"""

from __future__ import annotations

import re
from typing import Any

from adapters.mqtt.levels import Grader
from adapters.mqtt.processors.base import (
    FieldSpec,
    Processor,
    compile_table,
    entries,
    extract,
    required_of,
    table_schema,
)
from adapters.mqtt.records import Curated, Envelope, Issue, Reading
from adapters.mqtt.topics import SignalType
from server.core.catalog import ModelCatalog

__all__ = ["WIFI", "WifiProcessor", "normalise_mac"]

_MAC_RE = re.compile(r"[0-9a-fA-F]{2}([:-]?)[0-9a-fA-F]{2}(\1[0-9a-fA-F]{2}){4}")
#: Android ScanResult.channelWidth codes (CHANNEL_WIDTH_20MHZ = 0 ... 320MHZ = 5).
_WIDTHS = {0: 20, 1: 40, 2: 80, 3: 160, 4: 160, 5: 320}
#: Android ScanResult.getWifiStandard() codes.
_STANDARDS = {
    0: "unknown",
    1: "legacy",
    4: "802.11n",
    5: "802.11ac",
    6: "802.11ax",
    7: "802.11ad",
    8: "802.11be",
}
_SECURITY = (
    ("SAE", "wpa3Sae"),
    ("OWE", "owe"),
    ("EAP-SUITE-B", "wpa3Enterprise"),
    ("WPA2-EAP", "wpa2Enterprise"),
    ("RSN-EAP", "wpa2Enterprise"),
    ("WPA2-PSK", "wpa2Psk"),
    ("RSN-PSK", "wpa2Psk"),
    ("WPA-PSK", "wpaPsk"),
    ("WEP", "wep"),
    ("WPS", "wps"),
)


def normalise_mac(value: Any) -> str:
    """``aa:bb:cc:dd:ee:ff`` from colon, dash or bare hexadecimal notation."""
    if not isinstance(value, str) or _MAC_RE.fullmatch(value.strip()) is None:
        raise ValueError(value)
    digits = re.sub(r"[:-]", "", value.strip()).lower()
    return ":".join(digits[i : i + 2] for i in range(0, 12, 2))


def _width(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool) and value in _WIDTHS:
        return _WIDTHS[value]
    return value


def _standard(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return _STANDARDS[value]
    return value


def security_of(capabilities: str) -> list[str]:
    """Security schemes named in an Android capabilities string, in a fixed order."""
    found: list[str] = []
    for token, name in _SECURITY:
        if token in capabilities and name not in found:
            found.append(name)
    if not found and "[ESS]" in capabilities:
        found.append("open")
    return found


WIFI: tuple[FieldSpec, ...] = (
    FieldSpec("bssid", convert=normalise_mac),
    FieldSpec("ssid"),
    FieldSpec("frequency", aliases=("freq",)),
    FieldSpec("channel"),
    FieldSpec("channelWidth", convert=_width),
    FieldSpec("centerFreq0", aliases=("centerFreq0Mhz",)),
    FieldSpec("centerFreq1"),
    FieldSpec("wifiStandard", aliases=("standard",), convert=_standard),
    FieldSpec("capabilities"),
    FieldSpec("ftmResponder", aliases=("is80211mcResponder",)),
    FieldSpec("passpoint", aliases=("isPasspointNetwork",)),
    FieldSpec("rssi", aliases=("level",), markers=(-127,), obs="rssi", identity=False),
)


class WifiProcessor(Processor):
    """The ``wifi`` processor."""

    signal = SignalType.WIFI
    member = "wifi"

    def __init__(self, catalog: ModelCatalog, grader: Grader | None = None) -> None:
        super().__init__(catalog, grader)
        self._table = compile_table(catalog, "WifiAccessPoint", WIFI)
        self._required = required_of(catalog, "WifiAccessPoint")
        self._distance = compile_table(
            catalog, "Observation", (FieldSpec("distance"), FieldSpec("distanceStd"))
        )

    def parse_body(self, payload: Any, envelope: Envelope, curated: Curated) -> None:
        for path, entry in entries(payload, self.member, curated):
            values = extract(entry, self._table, path, curated.issues)
            missing = [n for n in self._required if values.get(n) is None]
            if missing:
                curated.issues.append(
                    Issue(
                        path,
                        None,
                        "access point not identifiable: "
                        f"WifiAccessPoint requires {', '.join(missing)};"
                        " entry dropped",
                    )
                )
                continue
            identity = {k: v for k, v in values.items() if k != "rssi" and v is not None}
            if "capabilities" in identity:
                identity["security"] = security_of(identity["capabilities"])
            metrics: dict[str, Any] = {"rssi": values.get("rssi")}
            # Fine timing measurement (IEEE 802.11mc) ranging, when the phone did it.
            metrics.update(extract(entry, self._distance, path, curated.issues))
            level, quality = self.grader.grade("wifi", values)
            key = "wifi:" + identity["bssid"].replace(":", "")
            curated.readings.append(
                Reading(
                    key,
                    "wifiAccessPoint",
                    "WifiAccessPoint",
                    identity,
                    metrics,
                    level,
                    quality,
                    {"rssi": values.get("rssi")},
                )
            )

    @classmethod
    def schema_defs(cls, catalog: ModelCatalog) -> dict[str, Any]:
        schema = table_schema(catalog, "WifiAccessPoint", WIFI, required=("bssid",))
        schema["properties"]["channelWidth"] = {
            "description": "MHz, or Android's ScanResult code 0..5.",
            "enum": [0, 1, 2, 3, 4, 5, 20, 40, 80, 160, 320, None],
        }
        schema["properties"]["wifiStandard"]["anyOf"].append(
            {"enum": sorted(_STANDARDS), "description": "Android getWifiStandard() code."}
        )
        for name in ("distance", "distanceStd"):
            schema["properties"][name] = {"type": ["number", "null"], "minimum": 0, "x-unit": "m"}
        return {"wifi": schema}
