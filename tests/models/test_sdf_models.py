"""ndtwin's own SDF models (``models/sdf``): strict schema, resolution, and the facts they hold.

The models are RFC 9880 documents; the strict schema is the validation flavour of RFC 9880
Appendix B. Ranges asserted below are the reporting ranges of 3GPP TS 36.133, 38.133, 25.133
and 45.008, widened where Android or netmonster accept more (see the model descriptions).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from server.modeling import pointers
from server.modeling.registry import ModelRegistry
from server.modeling.resolve import resolve_registry

ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(__file__).parents[2].parent / "shared"
MODELS = ROOT / "models" / "sdf"
SCHEMA = SHARED / "schemas" / "sdf" / "sdf-validation.jso.json"
NS_BASE = "https://w3id.org/ndtwin/models/"

EXPECTED_FILES = {
    "ble",
    "cellular",
    "common",
    "device",
    "environment",
    "observation",
    "phone",
    "utt",
    "wifi",
}
MODEL_FILES = sorted(MODELS.glob("*.sdf.json"))

# SenML unit names (RFC 8428 registry and RFC 8798 secondary units) that the models use; any
# other unit must be a URI (RFC 9880 §6.1: recognised by its colon).
SENML_UNITS = {
    "%",
    "%RH",
    "1/min",
    "B",
    "Cel",
    "Hz",
    "MHz",
    "Pa",
    "count",
    "dB",
    "dBm",
    "lat",
    "lon",
    "lx",
    "m",
    "m/s2",
    "ppm",
    "s",
}
NAME_CAMEL = re.compile(r"^[a-z][A-Za-z0-9]*$")
NAME_PASCAL = re.compile(r"^[A-Z][A-Za-z0-9]*$")
# Patterns end up in SHACL sh:pattern (XPath regex) too: allow only syntax both dialects read
# the same way, i.e. no backslash classes such as \d (XPath \d also matches non-ASCII digits).
PORTABLE_PATTERN = re.compile(r"^\^[\[\]{}()0-9A-Za-z:,|+*?\-]*\$$")


def _load(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _walk(node: Any, at: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every JSON object in ``node`` with its JSON pointer."""
    if isinstance(node, dict):
        yield at, node
        for key, value in node.items():
            yield from _walk(value, at + pointers.join(key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, f"{at}/{i}")


@pytest.fixture(scope="module")
def raw() -> dict[str, dict[str, Any]]:
    return {p.name.removesuffix(".sdf.json"): _load(p) for p in MODEL_FILES}


@pytest.fixture(scope="module")
def registry() -> ModelRegistry:
    return ModelRegistry.from_paths([MODELS])


@pytest.fixture(scope="module")
def resolved(registry: ModelRegistry) -> dict[str, dict[str, Any]]:
    docs, errors = resolve_registry(registry)
    assert errors == []
    return {d.source.stem: d.body for d in docs}


def _prop(body: dict[str, Any], obj: str, name: str) -> dict[str, Any]:
    node = body["sdfObject"][obj]["sdfProperty"][name]
    assert isinstance(node, dict)
    return node


# -- 1. strict schema -------------------------------------------------------------------------


def test_every_expected_model_file_exists() -> None:
    assert {p.name.removesuffix(".sdf.json") for p in MODEL_FILES} == EXPECTED_FILES


@pytest.mark.parametrize("path", MODEL_FILES, ids=lambda p: p.name)
def test_model_passes_strict_rfc9880_schema(path: Path) -> None:
    validator = jsonschema.Draft7Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))

    def leaves(error: jsonschema.ValidationError) -> Iterator[str]:
        if error.context:
            for sub in error.context:
                yield from leaves(sub)
        else:
            yield f"/{'/'.join(map(str, error.absolute_path))}: {error.message}"

    problems = [leaf for err in validator.iter_errors(_load(path)) for leaf in leaves(err)]
    assert problems == []


@pytest.mark.parametrize("path", MODEL_FILES, ids=lambda p: p.name)
def test_model_info_and_namespace(path: Path) -> None:
    doc = _load(path)
    stem = path.name.removesuffix(".sdf.json")
    info = doc["info"]
    assert info["title"].startswith("ndtwin ")
    assert re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", info["version"])
    assert info["license"] == "Apache-2.0"
    assert info["copyright"] == "ndtwin developers"
    # The document contributes global names under its own family URI (RFC 9880 §4.1).
    assert doc["defaultNamespace"] == stem
    assert doc["namespace"][stem] == NS_BASE + stem
    for prefix, uri in doc["namespace"].items():
        assert uri == NS_BASE + prefix


# -- 2. resolution ----------------------------------------------------------------------------


def test_registry_loads_every_file(registry: ModelRegistry) -> None:
    assert registry.load_errors == []
    assert len(registry.documents) == len(EXPECTED_FILES)


def test_every_model_resolves_and_no_sdfref_remains(registry: ModelRegistry) -> None:
    docs, errors = resolve_registry(registry)
    assert [str(e) for e in errors] == []
    assert {d.source.stem for d in docs} == EXPECTED_FILES
    leftovers = [
        (d.source.stem, at) for d in docs for at, node in _walk(d.body) if "sdfRef" in node
    ]
    assert leftovers == []


def test_sdfref_is_used_within_and_across_documents(raw: dict[str, dict[str, Any]]) -> None:
    refs = [
        (stem, node["sdfRef"])
        for stem, doc in raw.items()
        for _, node in _walk(doc)
        if "sdfRef" in node
    ]
    local = [r for r in refs if r[1].startswith("#")]
    cross = [r for r in refs if not r[1].startswith("#")]
    assert len(local) >= 10
    # Every family except common reaches into another file.
    assert {stem for stem, _ in cross} == EXPECTED_FILES - {"common"}
    assert {ref.partition(":")[0] for _, ref in cross} == {
        "common",
        "device",
        "cellular",
        "wifi",
        "ble",
    }


def _cross_refs(
    raw: dict[str, dict[str, Any]],
) -> Iterator[tuple[str, str, str, str, dict[str, Any]]]:
    """(file, pointer, target file, target pointer, patch) of every cross-document sdfRef."""
    for stem, doc in raw.items():
        for at, node in _walk(doc):
            ref = node.get("sdfRef")
            if isinstance(ref, str) and not ref.startswith("#"):
                prefix, _, fragment = ref.partition(":")
                target_stem = doc["namespace"][prefix].removeprefix(NS_BASE)
                yield stem, at, target_stem, fragment[1:], node


def test_each_cross_file_ref_brings_in_the_other_files_content(
    raw: dict[str, dict[str, Any]], resolved: dict[str, dict[str, Any]]
) -> None:
    checked = 0
    for stem, at, target_stem, target_ptr, patch in _cross_refs(raw):
        assert target_stem != stem
        node = pointers.lookup(resolved[stem], at)
        target = pointers.lookup(resolved[target_stem], target_ptr)
        # The target contributes qualities the referring definition does not write itself ...
        inherited = set(target) - set(patch)
        assert inherited, (stem, at)
        # sdfRequired is left out: how its names are re-based in a copy is the resolver's call.
        for key in inherited - {"sdfRequired"}:
            assert node[key] == target[key], (stem, at, key)
        # ... and what the referring definition writes wins (RFC 7396 merge).
        for key, value in patch.items():
            if key not in {"sdfRef", "sdfRequired"} and not isinstance(value, dict):
                assert node[key] == value, (stem, at, key)
        checked += 1
    assert checked >= 40


def test_phone_thing_contains_device_and_radio_objects(resolved: dict[str, dict[str, Any]]) -> None:
    phone = resolved["phone"]["sdfThing"]["Phone"]
    assert set(phone["sdfObject"]) == {"device", "wifiConnection", "wifiScan", "bleScan"}
    device = phone["sdfObject"]["device"]
    end_device = resolved["device"]["sdfObject"]["EndDevice"]
    assert set(device["sdfProperty"]) == set(end_device["sdfProperty"])
    assert set(device["sdfEvent"]) == {"cameOnline", "wentOffline"}
    assert set(device["sdfAction"]) == {"requestScan"}
    # The phone narrows the device class by patch; the choice list stays.
    device_class = device["sdfProperty"]["deviceClass"]
    assert device_class["const"] == "phone"
    assert "phone" in device_class["enum"]
    assert "const" not in end_device["sdfProperty"]["deviceClass"]
    # The location came two files deep: phone -> device -> common.
    assert device["sdfProperty"]["location"]["properties"]["lat"]["unit"] == "lat"

    scan = phone["sdfObject"]["wifiScan"]
    assert (scan["minItems"], scan["maxItems"]) == (0, 64)
    assert (
        scan["sdfProperty"]["bssid"]["pattern"]
        == (resolved["common"]["sdfData"]["macAddress"]["pattern"])
    )
    assert "txPower" in phone["sdfObject"]["bleScan"]["sdfProperty"]

    modem = phone["sdfThing"]["cellularModem"]
    assert set(modem["sdfObject"]) == {
        "servingLte",
        "servingNr",
        "servingWcdma",
        "servingGsm",
        "lteNeighbours",
        "nrNeighbours",
    }
    assert modem["sdfObject"]["servingNr"]["sdfProperty"]["ssRsrp"]["unit"] == "dBm"
    assert modem["sdfObject"]["servingGsm"]["sdfProperty"]["bsic"]["maximum"] == 63
    assert modem["sdfObject"]["lteNeighbours"]["maxItems"] == 32
    assert "minItems" not in modem["sdfObject"]["servingLte"]
    handover = modem["sdfEvent"]["handover"]["sdfOutputData"]
    assert handover["properties"]["source"]["properties"]["rat"]["enum"] == [
        "gsm",
        "wcdma",
        "lte",
        "nr",
    ]


# -- 3. content -------------------------------------------------------------------------------


def _range(node: dict[str, Any]) -> tuple[Any, Any, Any]:
    return node["minimum"], node["maximum"], node.get("unit")


def test_lte_cell_identity_and_signal_ranges(resolved: dict[str, dict[str, Any]]) -> None:
    cellular = resolved["cellular"]
    assert _range(_prop(cellular, "LteCell", "rsrp")) == (-140, -44, "dBm")
    assert _range(_prop(cellular, "LteCell", "rsrq")) == (-34, 3, "dB")
    assert _range(_prop(cellular, "LteCell", "rssi")) == (-113, -51, "dBm")
    assert _range(_prop(cellular, "LteCell", "snr")) == (-23, 40, "dB")
    assert _range(_prop(cellular, "LteCell", "cqi")) == (0, 15, None)
    assert _range(_prop(cellular, "LteCell", "timingAdvance")) == (0, 1282, None)
    assert _range(_prop(cellular, "LteCell", "eci")) == (1, 268435454, None)
    assert _range(_prop(cellular, "LteCell", "tac")) == (1, 65534, None)
    assert _range(_prop(cellular, "LteCell", "pci")) == (0, 503, None)
    assert _range(_prop(cellular, "LteCell", "earfcn")) == (0, 262143, None)
    mcc = _prop(cellular, "LteCell", "mcc")
    assert re.search(mcc["pattern"], "262") and not re.search(mcc["pattern"], "26")


def test_nr_cell_has_ss_and_csi_variants(resolved: dict[str, dict[str, Any]]) -> None:
    cellular = resolved["cellular"]
    for kind in ("ss", "csi"):
        assert _range(_prop(cellular, "NrCell", f"{kind}Rsrp")) == (-156, -31, "dBm")
        assert _range(_prop(cellular, "NrCell", f"{kind}Rsrq")) == (-43, 20, "dB")
        assert _range(_prop(cellular, "NrCell", f"{kind}Sinr")) == (-23, 40, "dB")
    assert _prop(cellular, "NrCell", "ssRsrq")["multipleOf"] == 0.5
    assert _range(_prop(cellular, "NrCell", "nci")) == (1, 2**36 - 1, None)
    assert _range(_prop(cellular, "NrCell", "tac")) == (1, 2**24 - 2, None)
    assert _range(_prop(cellular, "NrCell", "pci")) == (0, 1007, None)
    assert _range(_prop(cellular, "NrCell", "nrArfcn")) == (0, 3279165, None)


def test_wcdma_and_gsm_cells(resolved: dict[str, dict[str, Any]]) -> None:
    cellular = resolved["cellular"]
    assert _range(_prop(cellular, "WcdmaCell", "rscp")) == (-120, -24, "dBm")
    assert _range(_prop(cellular, "WcdmaCell", "ecNo")) == (-24, 1, "dB")
    assert _range(_prop(cellular, "WcdmaCell", "psc")) == (0, 511, None)
    assert _range(_prop(cellular, "WcdmaCell", "uarfcn")) == (0, 16383, None)
    assert _range(_prop(cellular, "WcdmaCell", "ci")) == (1, 2**28 - 1, None)
    assert _range(_prop(cellular, "GsmCell", "rssi")) == (-113, -40, "dBm")
    assert _range(_prop(cellular, "GsmCell", "bsic")) == (0, 63, None)
    assert _range(_prop(cellular, "GsmCell", "arfcn")) == (0, 1023, None)
    assert _range(_prop(cellular, "GsmCell", "timingAdvance")) == (0, 219, None)
    assert _range(_prop(cellular, "GsmCell", "lac")) == (1, 65534, None)


def test_every_cell_has_identity_status_and_handover(resolved: dict[str, dict[str, Any]]) -> None:
    cellular = resolved["cellular"]
    identity = {
        "LteCell": ("eci", "tac", "pci", "earfcn"),
        "NrCell": ("nci", "tac", "pci", "nrArfcn"),
        "WcdmaCell": ("ci", "lac", "psc", "uarfcn"),
        "GsmCell": ("cid", "lac", "bsic", "arfcn"),
    }
    for name, fields in identity.items():
        obj = cellular["sdfObject"][name]
        for field in (*fields, "mcc", "mnc", "connectionStatus", "level"):
            assert field in obj["sdfProperty"], (name, field)
        assert obj["sdfProperty"]["connectionStatus"]["sdfChoice"]["primary"]["const"] == "primary"
        event = obj["sdfEvent"]["handover"]
        assert event["sdfOutputData"]["required"] == ["time", "source", "target"]


def test_measured_values_are_read_only(resolved: dict[str, dict[str, Any]]) -> None:
    radio_units = {"dBm", "dB"}
    seen = 0
    for stem, body in resolved.items():
        for at, node in _walk(body):
            if "/sdfProperty/" in at and node.get("unit") in radio_units and "readable" in node:
                assert node["writable"] is False, (stem, at)
                seen += 1
    assert seen >= 30
    device = resolved["device"]["sdfObject"]["EndDevice"]["sdfProperty"]
    assert device["batteryLevel"]["writable"] is False
    assert device["reportingInterval"]["writable"] is True  # a setting, defaulted by the resolver


def test_observation_holds_level_and_first_last_seen(resolved: dict[str, dict[str, Any]]) -> None:
    obs = resolved["observation"]["sdfObject"]["Observation"]
    level = obs["sdfProperty"]["level"]
    assert (level["type"], level["minimum"], level["maximum"]) == ("integer", 0, 4)
    assert level["nullable"] is False
    assert level["label"] == resolved["common"]["sdfData"]["signalLevel"]["label"]
    for name in ("rssi", "rsrp", "rsrq", "sinr", "firstSeen", "lastSeen"):
        assert name in obs["sdfProperty"]
    assert obs["sdfProperty"]["lastSeen"]["sdfType"] == "unix-time"
    assert set(obs["sdfProperty"]["quality"]["sdfChoice"]) == {"excellent", "good", "fair", "poor"}
    # The cellular connection status came in from the cellular file.
    assert "neighbour" in obs["sdfProperty"]["connectionStatus"]["sdfChoice"]


def test_wifi_ble_and_environment(resolved: dict[str, dict[str, Any]]) -> None:
    ap = resolved["wifi"]["sdfObject"]["WifiAccessPoint"]["sdfProperty"]
    pattern = ap["bssid"]["pattern"]
    assert re.search(pattern, "a4:2b:b0:11:22:ff")
    assert not re.search(pattern, "a4-2b-b0-11-22-ff")
    assert not re.search(pattern, "a4:2b:b0:11:22:ff:00")
    assert ap["frequency"]["unit"] == "MHz"
    widths = sorted(alt["const"] for alt in ap["channelWidth"]["sdfChoice"].values())
    assert widths == [20, 40, 80, 160, 320]
    standards = {alt["const"] for alt in ap["wifiStandard"]["sdfChoice"].values()}
    assert {"802.11n", "802.11ac", "802.11ax", "802.11be"} <= standards
    assert "wpa3Sae" in ap["security"]["items"]["enum"]

    beacon = resolved["ble"]["sdfObject"]["BleBeacon"]["sdfProperty"]
    assert _range(beacon["txPower"]) == (-127, 126, "dBm")
    assert beacon["txPower"]["nullable"] is True
    assert re.search(beacon["address"]["pattern"], "C0:FF:EE:00:11:22")
    assert beacon["manufacturerData"]["sdfType"] == "byte-string"

    env = resolved["environment"]["sdfObject"]["EnvironmentSensor"]["sdfProperty"]
    assert env["co2"]["unit"] == "ppm"
    assert env["temperature"]["unit"] == "Cel"
    assert _range(env["humidity"]) == (0, 100, "%RH")
    assert env["illuminance"]["unit"] == "lx"
    assert env["pm25"]["unit"].startswith("http://qudt.org/")
    assert env["motion"]["type"] == "boolean"
    assert env["occupancy"]["enum"] == ["occupied", "vacant", "unknown"]


def test_utt_task_twins(resolved: dict[str, dict[str, Any]]) -> None:
    utt = resolved["utt"]
    modality = {"TrajectoryTwin": "vision", "PositionTwin": "wireless", "TrackingTwin": "sensory"}
    for name, expected in modality.items():
        twin = utt["sdfObject"][name]
        assert twin["sdfProperty"]["modality"]["const"] == expected
        artifact = twin["sdfProperty"]["modelArtifact"]
        assert set(artifact["required"]) == {"uri", "sha256", "framework", "createdAt"}
        assert artifact["properties"]["metrics"]["properties"]["nmse"]["minimum"] == 0
        train = twin["sdfAction"]["train"]
        assert train["sdfOutputData"]["properties"]["sha256"] == artifact["properties"]["sha256"]
    sha = utt["sdfData"]["sha256"]["pattern"]
    digest = hashlib.sha256(b"model").hexdigest()
    assert re.search(sha, digest)
    assert not re.search(sha, digest.upper())
    assert not re.search(sha, digest[:-1])

    box = _prop(utt, "TrajectoryTwin", "boundingBox")
    assert set(box["properties"]) == {"col", "row", "depth", "width", "height"}
    position = utt["sdfObject"]["PositionTwin"]["sdfProperty"]
    assert position["ftmRange"]["unit"] == "m"
    # utt -> wifi -> common: the FTM responder is identified like any access point.
    bssid = resolved["wifi"]["sdfObject"]["WifiAccessPoint"]["sdfProperty"]["bssid"]
    assert position["accessPoint"]["pattern"] == bssid["pattern"]
    tracking = utt["sdfObject"]["TrackingTwin"]["sdfProperty"]
    for stream in ("accelerometer", "gyroscope", "magnetometer", "gravity", "linearAcceleration"):
        assert set(tracking[stream]["properties"]) == {"x", "y", "z"}
    assert tracking["accelerometer"]["properties"]["x"]["unit"] == "m/s2"
    assert set(tracking["orientation"]["properties"]) == {"w", "x", "y", "z"}


# -- SDF features the toolchain must meet -----------------------------------------------------


def test_sdfchoice_is_used_and_never_beside_enum(
    raw: dict[str, dict[str, Any]], resolved: dict[str, dict[str, Any]]
) -> None:
    choices = 0
    for docs in (raw, resolved):
        for stem, body in docs.items():
            for at, node in _walk(body):
                if "sdfChoice" in node and isinstance(node["sdfChoice"], dict):
                    # RFC 9880 §6.3: enum and sdfChoice are mutually exclusive.
                    assert "enum" not in node, (stem, at)
                    choices += 1
                enum = node.get("enum")
                if isinstance(enum, list):
                    assert all(isinstance(v, str) for v in enum), (stem, at)
    assert choices >= 10


def test_events_actions_and_things_exist(resolved: dict[str, dict[str, Any]]) -> None:
    events = {
        (s, at)
        for s, b in resolved.items()
        for at, n in _walk(b)
        if at.rsplit("/", 2)[-2:-1] == ["sdfEvent"] and "sdfOutputData" in n
    }
    actions = {
        (s, at)
        for s, b in resolved.items()
        for at, n in _walk(b)
        if at.rsplit("/", 2)[-2:-1] == ["sdfAction"]
    }
    assert ("device", "/sdfObject/EndDevice/sdfEvent/wentOffline") in events
    assert ("cellular", "/sdfObject/NrCell/sdfEvent/handover") in events
    assert ("device", "/sdfObject/EndDevice/sdfAction/requestScan") in actions
    assert ("utt", "/sdfObject/PositionTwin/sdfAction/train") in actions
    assert "sdfThing" in resolved["phone"]["sdfThing"]["Phone"]


def test_sdfrequired_forms_are_used_and_resolve(
    raw: dict[str, dict[str, Any]], resolved: dict[str, dict[str, Any]]
) -> None:
    entries = [e for doc in raw.values() for _, n in _walk(doc) for e in n.get("sdfRequired", [])]
    assert True in entries
    assert any(isinstance(e, str) and e.startswith("#/") for e in entries)
    assert any(isinstance(e, str) and not set(e) & {":", "#"} for e in entries)

    names = [
        e for body in resolved.values() for _, n in _walk(body) for e in n.get("sdfRequired", [])
    ]
    assert len(names) >= len(entries)
    for name in names:
        uri, _, pointer = name.partition("#")
        stem = uri.removeprefix(NS_BASE)
        node = pointers.lookup(resolved[stem], pointer)
        # Each required name points at a definition with something in it.
        assert isinstance(node, dict) and node, name
    online = resolved["device"]["sdfObject"]["EndDevice"]["sdfProperty"]["online"]
    assert online["sdfRequired"] == [NS_BASE + "device#/sdfObject/EndDevice/sdfProperty/online"]


def test_names_are_ascii_and_cased_for_twins(raw: dict[str, dict[str, Any]]) -> None:
    """Object and thing types are PascalCase; everything that becomes a JSON key is camelCase."""
    camel_groups = ("sdfProperty", "sdfEvent", "sdfAction", "sdfData", "sdfChoice", "properties")
    for stem, doc in raw.items():
        for name in (*doc.get("sdfObject", {}), *doc.get("sdfThing", {})):
            assert NAME_PASCAL.match(name), (stem, name)
        for at, node in _walk(doc):
            for group in camel_groups:
                members = node.get(group)
                for name in members if isinstance(members, dict) else {}:
                    assert NAME_CAMEL.match(name), (stem, at, group, name)
            # Components inside a thing become feature ids of the twin.
            if at.startswith("/sdfThing/"):
                for name in node.get("sdfObject", {}):
                    assert NAME_CAMEL.match(name), (stem, at, name)


def test_units_are_senml_names_or_uris(raw: dict[str, dict[str, Any]]) -> None:
    units = {n["unit"] for doc in raw.values() for _, n in _walk(doc) if "unit" in n}
    assert {u for u in units if ":" not in u} <= SENML_UNITS
    assert {"dBm", "dB", "MHz", "Cel", "%RH", "lx", "ppm"} <= units
    # urn:ietf:params:unit is for translators only (RFC 9880 §6.1).
    assert not any(u.startswith("urn:ietf:params:unit") for u in units)


def test_patterns_are_anchored_and_portable(raw: dict[str, dict[str, Any]]) -> None:
    patterns = {n["pattern"] for doc in raw.values() for _, n in _walk(doc) if "pattern" in n}
    assert len(patterns) >= 5
    for pattern in patterns:
        assert PORTABLE_PATTERN.match(pattern), pattern
        re.compile(pattern)


def test_patterns_hold_as_shacl_constraints(resolved: dict[str, dict[str, Any]]) -> None:
    """The same patterns, run through pyshacl as sh:pattern, accept and reject alike."""
    import pyshacl
    from rdflib import Graph

    samples = {
        "common:#/sdfData/mnc": ("01", "1"),
        "common:#/sdfData/plmn": ("26201", "2620"),
        "common:#/sdfData/macAddress": ("0a:1B:2c:3D:4e:5F", "0a:1B:2c:3D:4e"),
        "utt:#/sdfData/sha256": (hashlib.sha256(b"x").hexdigest(), "00"),
    }
    for ref, (good, bad) in samples.items():
        prefix, _, pointer = ref.partition(":")
        pattern = pointers.lookup(resolved[prefix], pointer[1:])["pattern"]
        shapes = Graph().parse(
            format="turtle",
            data=f"""
            @prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <urn:ex:> .
            ex:S a sh:NodeShape ; sh:targetClass ex:T ;
              sh:property [ sh:path ex:v ; sh:pattern {json.dumps(pattern)} ] .""",
        )
        for value, expected in ((good, True), (bad, False)):
            data = Graph().parse(
                format="turtle",
                data=f"""
                @prefix ex: <urn:ex:> . ex:i a ex:T ; ex:v {json.dumps(value)} .""",
            )
            conforms, _, _ = pyshacl.validate(data, shacl_graph=shapes)
            assert conforms is expected, (ref, value)
