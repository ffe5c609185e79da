import stat

import pytest

from backend.core.config import ConfigError, Settings, to_async_url

CHILD_DATA_KEYS = "1:" + "A" * 43 + "="  # one 32-byte key (base64), as production requires
# A complete SMS gateway configuration (production refuses the development sender, ``log``).
SMS_ENV = {
    "SMS_BACKEND": "tencent",
    "SMS_SECRET_ID": "AKIDtest",
    "SMS_SECRET_KEY": "test-secret-key",
    "SMS_SDK_APP_ID": "1400000000",
    "SMS_SIGN_NAME": "大庆托育",
    "SMS_TEMPLATE_SIGN_IN": "100001",
    "SMS_TEMPLATE_URGENT": "100002",
}


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for name in (
        "APP_ENV",
        "DATABASE_URL",
        "SECRET_KEY",
        "ALLOWED_ORIGINS",
        "PUBLIC_BASE_URL",
        *SMS_ENV,
        "SMS_ENDPOINT",
        "SEED_DEMO",
        "PORT",
        "HOST",
        "MIGRATE_DATABASE_URL",
        "VAPID_PRIVATE_KEY",
        "PUSH_ENDPOINT_ALLOWLIST",
        "ID_HASH_KEY",
        "CHILD_DATA_KEYS",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("VAR_DIR", str(tmp_path / "var"))
    return monkeypatch


def production(env, **overrides: str) -> None:
    """Set a complete production configuration (as a .env file would hold it), with ``overrides``."""
    from tests.conftest import TEST_VAPID_PEM

    for name, value in {
        "APP_ENV": "production",
        "DATABASE_URL": "postgresql://app:pw@db:5432/daqing",
        "SECRET_KEY": "k" * 40,
        "PUBLIC_BASE_URL": "https://tuoyu.daqing.example",
        "ALLOWED_ORIGINS": "https://tuoyu.daqing.example",
        **SMS_ENV,
        "VAPID_PRIVATE_KEY": TEST_VAPID_PEM,
        "ID_HASH_KEY": "h" * 40,
        "CHILD_DATA_KEYS": CHILD_DATA_KEYS,
        **overrides,
    }.items():
        env.setenv(name, value)


def test_development_defaults_generate_and_keep_a_secret(clean_env, tmp_path):
    first = Settings.from_env()
    assert first.env == "development"
    assert first.database_url is None  # embedded
    key_file = tmp_path / "var" / "secret_key"
    assert key_file.exists()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(first.secret_key) == 64
    assert Settings.from_env().secret_key == first.secret_key  # kept across restarts
    vapid = tmp_path / "var" / "vapid_private.pem"
    assert stat.S_IMODE(vapid.stat().st_mode) == 0o600
    assert first.vapid_private_key.startswith("-----BEGIN PRIVATE KEY-----")
    assert Settings.from_env().vapid_private_key == first.vapid_private_key
    assert "http://127.0.0.1:8000" in first.allowed_origins
    assert first.seed_demo is True


def test_production_refuses_unsafe_defaults(clean_env):
    clean_env.setenv("APP_ENV", "production")
    with pytest.raises(ConfigError) as err:
        Settings.from_env()
    message = str(err.value)
    for name in (
        "DATABASE_URL",
        "SECRET_KEY",
        "PUBLIC_BASE_URL",
        "SMS_BACKEND",
        "VAPID_PRIVATE_KEY",
        "ID_HASH_KEY",
        "CHILD_DATA_KEYS",
    ):
        assert name in message


def test_production_accepts_a_complete_configuration(clean_env):
    from tests.conftest import TEST_VAPID_PEM

    production(clean_env, VAPID_PRIVATE_KEY=TEST_VAPID_PEM.replace("\n", "\\n"))  # one-line form, as in .env files
    settings = Settings.from_env()
    assert settings.vapid_private_key == TEST_VAPID_PEM
    assert settings.database_url == "postgresql+asyncpg://app:pw@db:5432/daqing"
    assert settings.cookie_secure is True
    assert settings.seed_demo is False


def test_bad_values_are_reported(clean_env):
    clean_env.setenv("PORT", "eighty")
    with pytest.raises(ConfigError, match="PORT"):
        Settings.from_env()


def test_database_urls_are_normalised_to_asyncpg():
    assert to_async_url("postgres://u@h/db") == "postgresql+asyncpg://u@h/db"
    assert to_async_url("postgresql://u@h/db") == "postgresql+asyncpg://u@h/db"
    with pytest.raises(ConfigError):
        to_async_url("mysql://u@h/db")


STORAGE_VARIABLES = (
    "STORAGE_BACKEND",
    "S3_ENDPOINT",
    "S3_ACCESS_KEY",
    "S3_SECRET_KEY",
    "S3_BUCKET",
    "S3_REGION",
    "S3_SECURE",
    "S3_PUBLIC_ENDPOINT",
    "UPLOAD_MAX_BYTES",
    "UPLOAD_MAX_PIXELS",
    "UPLOAD_MAX_PER_HOUR",
)


def test_storage_defaults_to_local_files(clean_env):
    for name in STORAGE_VARIABLES:
        clean_env.delenv(name, raising=False)
    settings = Settings.from_env()
    assert settings.storage_backend == "local"
    assert (settings.upload_max_bytes, settings.upload_max_pixels, settings.upload_max_per_hour) == (
        8 * 1024 * 1024,
        50_000_000,
        60,
    )
    assert settings.max_body_bytes == 1_048_576  # JSON bodies stay small; the upload route has its own limit


def test_s3_storage_settings(clean_env):
    for name in STORAGE_VARIABLES:
        clean_env.delenv(name, raising=False)
    clean_env.setenv("STORAGE_BACKEND", "s3")
    with pytest.raises(ConfigError, match="S3_ENDPOINT, S3_ACCESS_KEY, S3_SECRET_KEY"):
        Settings.from_env()
    clean_env.setenv("S3_ENDPOINT", "http://minio:9000")
    clean_env.setenv("S3_ACCESS_KEY", "daqing-app")
    clean_env.setenv("S3_SECRET_KEY", "a-long-secret-value")
    clean_env.setenv("S3_BUCKET", "tuoyu")
    settings = Settings.from_env()
    assert (settings.s3_endpoint, settings.s3_secure, settings.s3_bucket, settings.s3_region) == (
        "minio:9000",
        False,
        "tuoyu",
        "us-east-1",
    )
    assert "a-long-secret-value" not in repr(settings)
    clean_env.setenv("S3_SECURE", "true")
    with pytest.raises(ConfigError, match="contradicts"):
        Settings.from_env()
    clean_env.setenv("S3_ENDPOINT", "minio.internal:9000")
    assert Settings.from_env().s3_secure is True
    clean_env.setenv("STORAGE_BACKEND", "ftp")
    with pytest.raises(ConfigError, match="STORAGE_BACKEND"):
        Settings.from_env()


def test_production_refuses_minio_default_credentials(clean_env):
    production(
        clean_env,
        STORAGE_BACKEND="s3",
        S3_ENDPOINT="minio:9000",
        S3_ACCESS_KEY="minioadmin",
        S3_SECRET_KEY="minioadmin",
    )
    with pytest.raises(ConfigError, match="S3_SECRET_KEY"):
        Settings.from_env()
    clean_env.setenv("S3_SECRET_KEY", "a-proper-long-random-secret")
    assert Settings.from_env().storage_backend == "s3"


def test_s3_public_endpoint(clean_env):
    for name in STORAGE_VARIABLES:
        clean_env.delenv(name, raising=False)
    assert Settings.from_env().s3_public_endpoint == ""
    for raw, secure, expected in (
        ("https://files.daqing.example/", None, "https://files.daqing.example"),
        ("http://localhost:9000", None, "http://localhost:9000"),
        ("files.daqing.example", None, "https://files.daqing.example"),  # S3_SECURE's scheme (default true)
        ("files.daqing.example:9000", "false", "http://files.daqing.example:9000"),
    ):
        clean_env.setenv("S3_PUBLIC_ENDPOINT", raw)
        if secure is None:
            clean_env.delenv("S3_SECURE", raising=False)
        else:
            clean_env.setenv("S3_SECURE", secure)
        assert Settings.from_env().s3_public_endpoint == expected
    clean_env.delenv("S3_SECURE", raising=False)
    for bad in ("ftp://files", "https://files.daqing.example/minio", "https://user:pw@files", "https://"):
        clean_env.setenv("S3_PUBLIC_ENDPOINT", bad)
        with pytest.raises(ConfigError, match="S3_PUBLIC_ENDPOINT"):
            Settings.from_env()


def test_production_wants_an_https_public_endpoint(clean_env):
    production(
        clean_env,
        STORAGE_BACKEND="s3",
        S3_ENDPOINT="http://minio:9000",
        S3_ACCESS_KEY="daqing-app",
        S3_SECRET_KEY="a-proper-long-random-secret",
        S3_PUBLIC_ENDPOINT="http://files.daqing.example",
    )
    with pytest.raises(ConfigError, match="S3_PUBLIC_ENDPOINT"):
        Settings.from_env()
    clean_env.setenv("S3_PUBLIC_ENDPOINT", "https://files.daqing.example")
    settings = Settings.from_env()
    assert (settings.s3_endpoint, settings.s3_secure) == ("minio:9000", False)  # inside, plain http is fine
    assert settings.s3_public_endpoint == "https://files.daqing.example"


def test_production_wants_an_id_hash_key_of_its_own(clean_env):
    production(clean_env)
    for bad in ("short", "k" * 40):  # too short; the same as SECRET_KEY
        clean_env.setenv("ID_HASH_KEY", bad)
        with pytest.raises(ConfigError, match="ID_HASH_KEY"):
            Settings.from_env()
    clean_env.setenv("ID_HASH_KEY", "h" * 40)
    assert Settings.from_env().id_hash_key == "h" * 40


def test_public_url_and_origins_follow_host_and_port(clean_env):
    from backend.core.config import listen_mismatch

    clean_env.setenv("PORT", "8101")
    settings = Settings.from_env()
    assert settings.public_base_url == "http://127.0.0.1:8101"
    assert settings.allowed_origins == ("http://127.0.0.1:8101", "http://localhost:8101")
    assert listen_mismatch(settings) is None
    clean_env.setenv("HOST", "192.168.5.20")
    settings = Settings.from_env()
    assert settings.public_base_url == "http://192.168.5.20:8101"
    assert settings.allowed_origins == ("http://192.168.5.20:8101",)
    clean_env.setenv("PUBLIC_BASE_URL", "https://tuoyu.daqing.example/")  # behind a proxy: not a mismatch
    settings = Settings.from_env()
    assert settings.public_base_url == "https://tuoyu.daqing.example"
    assert "https://tuoyu.daqing.example" in settings.allowed_origins
    assert listen_mismatch(settings) is None
    clean_env.setenv("HOST", "127.0.0.1")
    clean_env.setenv("PUBLIC_BASE_URL", "http://127.0.0.1:8000")
    assert "does not match where this server listens (127.0.0.1:8101)" in (listen_mismatch(Settings.from_env()) or "")
    clean_env.setenv("PUBLIC_BASE_URL", "http://127.0.0.1:8101")
    clean_env.setenv("ALLOWED_ORIGINS", "http://localhost:8101")
    assert "ALLOWED_ORIGINS does not list" in (listen_mismatch(Settings.from_env()) or "")
    clean_env.setenv("PUBLIC_BASE_URL", "tuoyu.daqing.example")
    with pytest.raises(ConfigError, match="PUBLIC_BASE_URL"):
        Settings.from_env()


def test_production_origins_default_to_the_public_url_alone(clean_env):
    clean_env.setenv("APP_ENV", "production")
    clean_env.setenv("PUBLIC_BASE_URL", "https://tuoyu.daqing.example")
    with pytest.raises(ConfigError) as err:
        Settings.from_env()
    assert "ALLOWED_ORIGINS" not in str(err.value)  # derived: https only


def test_production_refuses_the_log_sender_and_an_incomplete_gateway(clean_env):
    production(clean_env)
    assert Settings.from_env().sms_backend == "tencent"
    clean_env.setenv("SMS_BACKEND", "log")
    with pytest.raises(ConfigError, match="SMS_BACKEND must be tencent or aliyun"):
        Settings.from_env()
    clean_env.setenv("SMS_BACKEND", "aliyun")
    assert Settings.from_env().notify.sms_region == "cn-hangzhou"
    clean_env.setenv("SMS_ENDPOINT", "http://sms-proxy.internal:8080")  # plain http across a network
    with pytest.raises(ConfigError, match="SMS_ENDPOINT"):
        Settings.from_env()
    clean_env.setenv("SMS_ENDPOINT", "http://127.0.0.1:8241")  # plain http on this machine only (a sidecar)
    assert Settings.from_env().notify.sms_endpoint == "http://127.0.0.1:8241"
    clean_env.delenv("SMS_ENDPOINT")
    clean_env.delenv("SMS_TEMPLATE_URGENT")
    with pytest.raises(ConfigError, match="SMS_TEMPLATE_URGENT"):
        Settings.from_env()
    clean_env.setenv("SMS_BACKEND", "carrier-pigeon")
    with pytest.raises(ConfigError, match="SMS_BACKEND"):
        Settings.from_env()


def test_notification_settings(clean_env):
    for name in ("SMS_FALLBACK_AFTER", "NOTIFY_QUIET_HOURS", "SMS_MAX_QPS"):
        clean_env.delenv(name, raising=False)
    notify = Settings.from_env().notify
    assert (notify.sms_backend, notify.sms_fallback_after_s) == ("log", 600.0)
    assert [t.isoformat() for t in notify.quiet_hours] == ["22:00:00", "07:00:00"]
    clean_env.setenv("NOTIFY_QUIET_HOURS", "off")
    clean_env.setenv("SMS_FALLBACK_AFTER", "1.5")
    notify = Settings.from_env().notify
    assert notify.quiet_hours is None and notify.sms_fallback_after_s == 1.5
    for name, bad in (("NOTIFY_QUIET_HOURS", "late"), ("SMS_FALLBACK_AFTER", "soon"), ("SMS_MAX_QPS", "0")):
        clean_env.setenv(name, bad)
        with pytest.raises(ConfigError, match=name):
            Settings.from_env()
        clean_env.delenv(name)
