"""Server settings: defaults < TOML file < NDTWIN_* environment < command-line flags."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.settings import Settings, SettingsError


def test_defaults() -> None:
    settings = Settings.load(env={})
    assert (settings.host, settings.port, settings.grpc_port) == ("127.0.0.1", 8080, 50051)
    assert settings.data_dir == Path(".ndtwin")
    assert (settings.store, settings.graph, settings.mqtt) == ("sqlite", "embedded", "embedded")
    assert settings.operator_key is None
    assert settings.max_body_bytes == 100 * 1024
    assert settings.embedded_defaults


def test_precedence_file_env_flags(tmp_path: Path) -> None:
    config = tmp_path / "ndtwin.toml"
    config.write_text(
        'port = 9000\ngrpc-port = 9001\nhost = "0.0.0.0"\n'
        'store = "postgresql://postgres@127.0.0.1/test"\n'
        '[adapters.mqtt]\ntopic = "ndtwin/#"\n',
        encoding="utf-8",
    )
    env = {
        "NDTWIN_PORT": "9100",
        "NDTWIN_OPERATOR_KEY": "op",
        "NDTWIN_MQTT": "off",
        "NDTWIN_MODELS": f"{tmp_path}/a:{tmp_path}/b",
    }
    settings = Settings.load({"port": 9200, "graph": None}, env=env, config_file=config)
    assert settings.port == 9200  # flag beats env beats file
    assert settings.grpc_port == 9001  # file only
    assert settings.host == "0.0.0.0"
    assert settings.operator_key == "op"
    assert settings.mqtt == "off"
    assert settings.graph == "embedded"  # a flag given as None is "not given"
    assert settings.models == (tmp_path / "a", tmp_path / "b")
    assert settings.adapters == {"mqtt": {"topic": "ndtwin/#"}}
    assert not settings.embedded_defaults


def test_config_file_from_the_environment(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text("port = 1234\n", encoding="utf-8")
    assert Settings.load(env={"NDTWIN_CONFIG": str(config)}).port == 1234


@pytest.mark.parametrize(
    ("flags", "fragment"),
    [
        ({"port": 70000}, "port"),
        ({"store": "mysql://x"}, "store"),
        ({"graph": "ftp://x"}, "graph"),
        ({"mqtt": "amqp://x"}, "mqtt"),
        ({"max_body_bytes": 0}, "max_body_bytes"),
    ],
)
def test_invalid_values_name_the_setting(flags: dict, fragment: str) -> None:
    with pytest.raises(SettingsError, match=fragment):
        Settings.load(flags, env={})


def test_unknown_or_broken_config_files(tmp_path: Path) -> None:
    unknown = tmp_path / "u.toml"
    unknown.write_text("prot = 1\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="unknown setting 'prot'"):
        Settings.load(env={}, config_file=unknown)
    broken = tmp_path / "b.toml"
    broken.write_text("port = \n", encoding="utf-8")
    with pytest.raises(SettingsError, match="not valid TOML"):
        Settings.load(env={}, config_file=broken)
    with pytest.raises(SettingsError, match="cannot read"):
        Settings.load(env={}, config_file=tmp_path / "missing.toml")
