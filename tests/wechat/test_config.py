"""WeChat settings: optional, both credentials together, https bases in production, template mapping."""

from __future__ import annotations

import pytest

from backend.core.config import ConfigError, Settings, _wechat_from_env

WECHAT_VARS = (
    "WECHAT_APP_ID",
    "WECHAT_APP_SECRET",
    "WECHAT_API_BASE",
    "WECHAT_OAUTH_BASE",
    "WECHAT_TEMPLATES",
    "APP_ENV",
)


@pytest.fixture
def env(monkeypatch, tmp_path):
    for name in WECHAT_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("VAR_DIR", str(tmp_path / "var"))
    return monkeypatch


def test_off_by_default_with_official_bases(env):
    wechat = Settings.from_env().wechat
    assert not wechat.enabled
    assert (wechat.api_base, wechat.oauth_base) == ("https://api.weixin.qq.com", "https://open.weixin.qq.com")


def test_id_and_secret_go_together(env):
    env.setenv("WECHAT_APP_ID", "wx0123456789abcdef")
    with pytest.raises(ConfigError, match="WECHAT_APP_ID and WECHAT_APP_SECRET"):
        Settings.from_env()
    env.setenv("WECHAT_APP_SECRET", "s" * 32)
    assert Settings.from_env().wechat.enabled
    assert "s" * 32 not in repr(Settings.from_env())


def test_templates_map_keywords_to_fields(env):
    env.setenv("WECHAT_TEMPLATES", "bookings=TPL1:thing1/title,time2/time; notices=TPL2:thing1/title")
    wechat = Settings.from_env().wechat
    assert wechat.template("bookings").template_id == "TPL1"  # type: ignore[union-attr]
    assert wechat.template("bookings").fields == (("thing1", "title"), ("time2", "time"))  # type: ignore[union-attr]
    assert wechat.template("enrolment") is None
    for bad in ("weather=TPL:thing1/title", "bookings=TPL", "bookings=:thing1/title", "bookings=TPL:thing1"):
        env.setenv("WECHAT_TEMPLATES", bad)
        with pytest.raises(ConfigError, match="WECHAT_TEMPLATES"):
            Settings.from_env()


def test_production_needs_https_bases(env):
    env.setenv("WECHAT_API_BASE", "http://127.0.0.1:9")
    assert _wechat_from_env("development").api_base == "http://127.0.0.1:9"  # a local server, in tests
    with pytest.raises(ConfigError, match="WECHAT_API_BASE must be an https"):
        _wechat_from_env("production")
    env.setenv("WECHAT_OAUTH_BASE", "ftp://x")
    with pytest.raises(ConfigError, match="WECHAT_OAUTH_BASE must be an http"):
        _wechat_from_env("development")
