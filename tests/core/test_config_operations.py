"""Settings of operations (issue 19 §4): log format, who may read /metrics, compression."""

from __future__ import annotations

import pytest

from backend.core.config import ConfigError, Settings
from tests.conftest import TEST_VAPID_PEM
from tests.core.test_config import CHILD_DATA_KEYS, SMS_ENV, clean_env  # noqa: F401  (the fixture)

OPERATIONS = ("LOG_FORMAT", "METRICS_ALLOW", "METRICS_TOKEN", "COMPRESSION")


@pytest.fixture
def env(clean_env):  # noqa: F811
    for name in OPERATIONS:
        clean_env.delenv(name, raising=False)
    return clean_env


@pytest.fixture
def production(env):
    env.setenv("APP_ENV", "production")
    env.setenv("DATABASE_URL", "postgresql://app:pw@db:5432/daqing")
    env.setenv("SECRET_KEY", "k" * 40)
    env.setenv("PUBLIC_BASE_URL", "https://tuoyu.daqing.example")
    env.setenv("ALLOWED_ORIGINS", "https://tuoyu.daqing.example")
    for name, value in SMS_ENV.items():  # a real gateway: production refuses the log sender
        env.setenv(name, value)
    env.setenv("ID_HASH_KEY", "h" * 40)
    env.setenv("CHILD_DATA_KEYS", CHILD_DATA_KEYS)
    env.setenv("VAPID_PRIVATE_KEY", TEST_VAPID_PEM.replace("\n", "\\n"))
    return env


def test_development_defaults(env) -> None:
    settings = Settings.from_env()
    assert settings.log_format == "text"
    assert settings.metrics_allow == ("127.0.0.1/32", "::1/128")
    assert settings.metrics_token == ""
    assert settings.compression is True


def test_production_logs_json_by_default_and_may_choose(production) -> None:
    assert Settings.from_env().log_format == "json"
    production.setenv("LOG_FORMAT", "text")
    assert Settings.from_env().log_format == "text"


@pytest.mark.parametrize(
    ("name", "value"),
    [("LOG_FORMAT", "xml"), ("METRICS_ALLOW", "10.0.0.300"), ("METRICS_ALLOW", "everyone"), ("COMPRESSION", "maybe")],
)
def test_bad_values_are_refused(env, name: str, value: str) -> None:
    env.setenv(name, value)
    with pytest.raises(ConfigError, match=name):
        Settings.from_env()


def test_metrics_networks_are_normalised(env) -> None:
    env.setenv("METRICS_ALLOW", "10.1.2.3, 192.168.0.0/16,2001:db8::1")
    assert Settings.from_env().metrics_allow == ("10.1.2.3/32", "192.168.0.0/16", "2001:db8::1/128")


@pytest.mark.parametrize("open_to_all", ["0.0.0.0/0", "::/0", "10.0.0.0/8,0.0.0.0/0"])
def test_production_refuses_metrics_open_to_everyone(production, open_to_all: str) -> None:
    production.setenv("METRICS_ALLOW", open_to_all)
    with pytest.raises(ConfigError, match="METRICS_ALLOW"):
        Settings.from_env()


def test_production_refuses_a_short_metrics_token(production) -> None:
    production.setenv("METRICS_TOKEN", "short")
    with pytest.raises(ConfigError, match="METRICS_TOKEN"):
        Settings.from_env()
    production.setenv("METRICS_TOKEN", "t" * 32)
    assert Settings.from_env().metrics_token == "t" * 32
    production.setenv("METRICS_ALLOW", "10.0.0.0/8")
    assert Settings.from_env().metrics_allow == ("10.0.0.0/8",)
