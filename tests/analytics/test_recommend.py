"""Interface recommendations for known link states, batteries and messages."""

from __future__ import annotations

import pytest

from server.analytics.recommend import Battery, Link, Message, rate_kbps, recommend

CELL = Link("cellular", "cell:lte-00101-1", "rsrp", -95, 3, sinr=12.0)
WEAK_CELL = Link("cellular", "cell:lte-00101-1", "rsrp", -121, 1, sinr=-4.0)
WIFI = Link("wifi", "wifi:02aabbccdd01", "rssi", -55, 4)
BLE_GATEWAY = Link("ble", "ble:02aabbccdd02", "rssi", -68, 3, connectable=True)
BEACON = Link("ble", "ble:02aabbccdd03", "rssi", -60, 4, connectable=False)


def test_strong_wifi_wins_over_cellular_for_a_normal_message() -> None:
    result = recommend({"cellular": CELL, "wifi": WIFI}, Message(200_000, "normal"))
    assert result.recommended == "wifi"
    assert [c.interface for c in result.ranking][:2] == ["wifi", "cellular"]
    wifi = result.ranking[0]
    # -55 dBm reaches VHT MCS 8 (78 Mbit/s PHY, 60 % of it after MAC overhead).
    assert wifi.rate_kbps == pytest.approx(46_800)
    assert wifi.seconds == pytest.approx(0.08 + 200_000 * 8 / 46.8e6, rel=1e-6)
    assert "lowest cost" in result.reasons[0]


def test_a_critical_message_without_wifi_goes_over_cellular() -> None:
    result = recommend({"cellular": CELL, "wifi": None, "ble": None}, Message(1_000, "critical"))
    assert result.recommended == "cellular"
    assert any("no access point heard" in r for c in result.ranking for r in c.reasons)


def test_a_small_message_on_a_low_battery_goes_over_a_ble_gateway() -> None:
    result = recommend(
        {"cellular": CELL, "wifi": None, "ble": BLE_GATEWAY},
        Message(512, "low"),
        Battery(level=12, charging=False),
    )
    assert result.recommended == "ble"
    assert any("battery at 12 %" in r for r in result.reasons)


def test_beacons_that_only_advertise_cannot_carry_data() -> None:
    result = recommend({"ble": BEACON}, Message(100, "normal"))
    assert result.recommended is None or result.recommended != "ble"
    ble = next(c for c in result.ranking if c.interface == "ble")
    assert not ble.feasible and "only advertises" in ble.reasons[0]


def test_wifi_predicted_to_drop_loses_an_urgent_message_to_cellular() -> None:
    fading = Link("wifi", "wifi:02aabbccdd01", "rssi", -72, 2, predicted=-91, predicted_level=0)
    steady = recommend(
        {"cellular": CELL, "wifi": Link("wifi", "w", "rssi", -72, 2)}, Message(50_000, "high")
    )
    assert steady.recommended == "wifi"
    result = recommend({"cellular": CELL, "wifi": fading}, Message(50_000, "high"))
    assert result.recommended == "cellular"
    wifi = next(c for c in result.ranking if c.interface == "wifi")
    assert any("likely to drop" in r for r in wifi.reasons)


def test_a_large_upload_that_misses_every_deadline_takes_the_fastest() -> None:
    result = recommend({"cellular": WEAK_CELL, "ble": BLE_GATEWAY}, Message(50_000_000, "critical"))
    assert result.recommended == "cellular"
    assert "no interface meets the 1 s deadline" in result.reasons[0]
    assert not any(c.feasible for c in result.ranking)


def test_nothing_usable_and_low_urgency_holds_the_message() -> None:
    result = recommend({}, Message(10, "low"))
    assert result.recommended is None
    assert result.reasons[0].startswith("no usable link now")


def test_charging_makes_energy_count_less() -> None:
    # A mid-size message: Wi-Fi is cheaper on energy, cellular similar in time.
    weak_wifi = Link("wifi", "w", "rssi", -81, 1)
    on_battery = recommend({"cellular": CELL, "wifi": weak_wifi}, Message(2_000_000, "normal"))
    charging = recommend(
        {"cellular": CELL, "wifi": weak_wifi},
        Message(2_000_000, "normal"),
        Battery(level=50, charging=True),
    )
    assert on_battery.recommended == "wifi"
    assert charging.ranking[0].cost is not None and on_battery.ranking[0].cost is not None
    assert charging.ranking[0].cost < on_battery.ranking[0].cost


def test_rates_follow_the_tables() -> None:
    assert rate_kbps(Link("wifi", "w", "rssi", -83, 1)) == 0.0
    assert rate_kbps(Link("wifi", "w", "rssi", -82, 1)) == pytest.approx(6500 * 0.6)
    assert rate_kbps(Link("ble", "b", "rssi", -85, 2, connectable=True)) == 100.0
    # Uplink Shannon bound capped at 2 bit/s/Hz: 20 MHz, a quarter of it, is 10 Mbit/s.
    assert rate_kbps(Link("cellular", "c", "rsrp", -80, 4, sinr=30.0)) == pytest.approx(10_000)
    with pytest.raises(ValueError):
        recommend({}, Message(-1, "low"))
