"""Settings, read once from environment variables.

Every variable is listed in docs/configuration.md. Development defaults are safe to use on a
laptop; ``APP_ENV=production`` refuses to start with any of them where a default would be unsafe.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from backend.core.childkeys import ChildDataKeyError, parse_child_data_keys
from backend.core.notify_settings import NotifyConfigError, NotifySettings

REPO_ROOT = Path(__file__).resolve().parents[2]

Environment = Literal["development", "test", "production"]


class ConfigError(RuntimeError):
    """The environment describes a configuration the app refuses to run with."""


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip()


def _env_int(name: str, default: int) -> int:
    raw = _env(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from exc


def _env_float(name: str, default: float) -> float:
    raw = _env(name)
    if raw is None:
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from exc


def _env_bool(name: str, default: bool) -> bool:
    raw = _env(name)
    if raw is None:
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def _env_list(name: str, default: list[str]) -> list[str]:
    raw = _env(name)
    if raw is None:
        return list(default)
    return [item.strip().rstrip("/") for item in raw.split(",") if item.strip()]


def to_async_url(url: str) -> str:
    """Accept ``postgres://``/``postgresql://`` URLs and point SQLAlchemy at asyncpg."""
    for prefix in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    raise ConfigError(f"database URL must start with postgresql://, got {url.split(':', 1)[0]}://")


def _storage_backend(raw: str | None) -> Literal["local", "s3"]:
    if raw not in ("local", "s3"):
        raise ConfigError(f"STORAGE_BACKEND must be 'local' or 's3', got {raw!r}")
    return raw  # type: ignore[return-value]


def _s3_endpoint(raw: str | None, secure: bool | None) -> tuple[str, bool]:
    """S3_ENDPOINT as ``host[:port]``; a URL is accepted and its scheme gives S3_SECURE's default."""
    endpoint, default_secure = (raw or "").strip().rstrip("/"), True
    if "://" in endpoint:
        parts = urlsplit(endpoint)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
            raise ConfigError(f"S3_ENDPOINT must be host[:port] or http(s)://host[:port], got {raw!r}")
        endpoint, default_secure = parts.netloc, parts.scheme == "https"
        if secure is not None and secure != default_secure:
            raise ConfigError("S3_SECURE contradicts the scheme of S3_ENDPOINT")
    return endpoint, default_secure if secure is None else secure


def _s3_public_endpoint(raw: str | None, secure: bool) -> str:
    """S3_PUBLIC_ENDPOINT as ``http(s)://host[:port]`` ('' if unset); a bare ``host[:port]`` takes S3_SECURE's scheme."""
    if not raw:
        return ""
    url = raw.rstrip("/") if "://" in raw else f"{'https' if secure else 'http'}://{raw.rstrip('/')}"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path or parts.query or "@" in parts.netloc:
        raise ConfigError(f"S3_PUBLIC_ENDPOINT must be host[:port] or http(s)://host[:port], got {raw!r}")
    return url


def listen_origins(host: str, port: int) -> list[str]:
    """The origins a browser on this machine uses to reach a server listening on ``host:port``."""
    if host in ("127.0.0.1", "localhost", "0.0.0.0", "::", "::1", "*"):  # noqa: S104 - names, not a bind
        return [f"http://127.0.0.1:{port}", f"http://localhost:{port}"]
    return [f"http://{f'[{host}]' if ':' in host else host}:{port}"]


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower() if parts.scheme and parts.netloc else url


def _public_urls(env: str, host: str, port: int) -> tuple[str, tuple[str, ...]]:
    """PUBLIC_BASE_URL (default: where the server listens) and ALLOWED_ORIGINS (default: the public
    origin, and in development and tests also the addresses the server listens on)."""
    local = listen_origins(host, port)
    public_base_url = (_env("PUBLIC_BASE_URL", local[0]) or "").rstrip("/")
    if urlsplit(public_base_url).scheme not in ("http", "https") or not urlsplit(public_base_url).netloc:
        raise ConfigError(f"PUBLIC_BASE_URL must be an http(s)://host[:port] URL, got {public_base_url!r}")
    default = [origin_of(public_base_url)] + ([] if env == "production" else local)
    return public_base_url, tuple(_env_list("ALLOWED_ORIGINS", sorted(set(default))))


def listen_mismatch(settings: Settings) -> str | None:
    """One line saying how an explicit PUBLIC_BASE_URL or ALLOWED_ORIGINS disagrees with where the server
    listens (None when they agree). A public URL on another host is a proxy in front: not a mismatch."""
    public = urlsplit(settings.public_base_url)
    local = {urlsplit(o).netloc for o in listen_origins(settings.host, settings.port)}
    hostname = (public.hostname or "").lower()
    if hostname in ("127.0.0.1", "localhost", "::1", settings.host.lower()) and public.netloc.lower() not in local:
        return (
            f"PUBLIC_BASE_URL {settings.public_base_url} does not match where this server listens "
            f"({settings.host}:{settings.port}): photo links, the CSP and the WebSocket origin check follow "
            "PUBLIC_BASE_URL; unset it to follow HOST/PORT"
        )
    if origin_of(settings.public_base_url) not in settings.allowed_origins:
        return (
            f"ALLOWED_ORIGINS does not list PUBLIC_BASE_URL's origin {origin_of(settings.public_base_url)}: "
            "the PWA's WebSocket will be refused (403)"
        )
    return None


def _log_format(raw: str | None) -> Literal["text", "json"]:
    if raw not in ("text", "json"):
        raise ConfigError(f"LOG_FORMAT must be 'text' or 'json', got {raw!r}")
    return raw  # type: ignore[return-value]


def _metrics_allow(items: list[str]) -> tuple[str, ...]:
    """METRICS_ALLOW: addresses or networks (CIDR) allowed to read /metrics without the token."""
    import ipaddress

    networks = []
    for item in items:
        try:
            networks.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError as exc:
            raise ConfigError(f"METRICS_ALLOW must list IP addresses or networks, got {item!r}") from exc
    return tuple(networks)


def _operations_problems() -> list[str]:
    """Production refuses /metrics open to the world, and a guessable METRICS_TOKEN."""
    problems = []
    allow = _metrics_allow(_env_list("METRICS_ALLOW", []))
    if any(net.endswith("/0") for net in allow):
        problems.append("METRICS_ALLOW must not open /metrics to every address (list the scrapers)")
    token = _env("METRICS_TOKEN")
    if token is not None and len(token) < 32:
        problems.append("METRICS_TOKEN must be at least 32 random characters")
    return problems


def _load_or_create_secret(var_dir: Path) -> str:
    """Development only: one random key per checkout, kept in ./var/secret_key (git-ignored)."""
    path = var_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key + "\n")
    return key


def _load_or_create_vapid(var_dir: Path) -> str:
    """Development only: a VAPID (EC P-256) key pair generated once into ./var/vapid_private.pem."""
    path = var_dir / "vapid_private.pem"
    if path.exists():
        return path.read_text()
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    var_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(pem)
    return pem


# ------------------------------------------------------------------------------------------ WeChat
WECHAT_EVENT_KINDS = ("enrolment", "bookings", "notices", "complaints")


@dataclass(frozen=True, slots=True)
class WeChatTemplate:
    """One subscription-message template: its id in the WeChat console, and which template keyword
    (``thing1``, ``time2``...) carries which field the app sends (``title``, ``status``, ``time``...)."""

    template_id: str
    fields: tuple[tuple[str, str], ...]  # (keyword, app field)


@dataclass(frozen=True, slots=True)
class WeChatSettings:
    app_id: str = ""  # '' = WeChat switched off (routes answer 404 wechat_not_enabled)
    app_secret: str = field(default="", repr=False)
    api_base: str = "https://api.weixin.qq.com"
    oauth_base: str = "https://open.weixin.qq.com"
    # Event kind -> template (WECHAT_TEMPLATES, see docs/wechat.md).
    templates: tuple[tuple[str, WeChatTemplate], ...] = ()
    # Refresh the access_token / jsapi_ticket this many seconds before WeChat's expiry.
    refresh_margin_s: int = 600
    timeout_s: float = 10.0

    @property
    def enabled(self) -> bool:
        return bool(self.app_id)

    def template(self, kind: str) -> WeChatTemplate | None:
        return dict(self.templates).get(kind)


def _wechat_templates(raw: str | None) -> tuple[tuple[str, WeChatTemplate], ...]:
    """``kind=TEMPLATE_ID:thing1/title,time2/time;kind=...`` (one entry per event kind)."""
    out = []
    for entry in (raw or "").split(";"):
        if not entry.strip():
            continue
        kind, sep, rest = entry.strip().partition("=")
        template_id, _, mapping = rest.partition(":")
        pairs = [p.strip().split("/", 1) for p in mapping.split(",") if p.strip()]
        if (
            not sep
            or kind.strip() not in WECHAT_EVENT_KINDS
            or not template_id.strip()
            or not pairs
            or any(len(p) != 2 or not p[0] or not p[1] for p in pairs)
        ):
            raise ConfigError(
                "WECHAT_TEMPLATES must read kind=TEMPLATE_ID:keyword/field,...;... with kinds from "
                f"{', '.join(WECHAT_EVENT_KINDS)}, got {entry.strip()!r}"
            )
        fields = tuple((k.strip(), f.strip()) for k, f in pairs)
        out.append((kind.strip(), WeChatTemplate(template_id.strip(), fields)))
    return tuple(out)


def _wechat_from_env(env: str) -> WeChatSettings:
    app_id, secret = _env("WECHAT_APP_ID") or "", _env("WECHAT_APP_SECRET") or ""
    api_base = (_env("WECHAT_API_BASE", "https://api.weixin.qq.com") or "").rstrip("/")
    oauth_base = (_env("WECHAT_OAUTH_BASE", "https://open.weixin.qq.com") or "").rstrip("/")
    problems = []
    if bool(app_id) != bool(secret):
        problems.append("WECHAT_APP_ID and WECHAT_APP_SECRET must be set together")
    for name, url in (("WECHAT_API_BASE", api_base), ("WECHAT_OAUTH_BASE", oauth_base)):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            problems.append(f"{name} must be an http(s) URL")
        elif env == "production" and parts.scheme != "https":
            problems.append(f"{name} must be an https:// URL in production")
    if problems:
        raise ConfigError("WeChat settings: " + "; ".join(problems))
    return WeChatSettings(
        app_id=app_id,
        app_secret=secret,
        api_base=api_base,
        oauth_base=oauth_base,
        templates=_wechat_templates(_env("WECHAT_TEMPLATES")),
        refresh_margin_s=_env_int("WECHAT_REFRESH_MARGIN_S", 600),
        timeout_s=_env_float("WECHAT_TIMEOUT_S", 10.0),
    )


# ------------------------------------------------------------------------------------- end WeChat


def _notify_settings(env: str) -> NotifySettings:
    try:
        return NotifySettings.from_env(env)
    except NotifyConfigError as exc:
        raise ConfigError(str(exc)) from exc


def _production_problems(
    database_url: str | None, secret_key: str | None, public_base_url: str, allowed_origins: list[str]
) -> list[str]:
    """What production refuses to start with (every problem, not only the first)."""
    problems = []
    if database_url is None:
        problems.append("DATABASE_URL must be set (the embedded database is for development)")
    if secret_key is None or len(secret_key) < 32:
        problems.append("SECRET_KEY must be set to at least 32 random characters")
    if urlsplit(public_base_url).scheme != "https":
        problems.append("PUBLIC_BASE_URL must be an https:// URL")
    if any(o.startswith("http://") for o in allowed_origins):
        problems.append("ALLOWED_ORIGINS must list https:// origins only")
    if _env("VAPID_PRIVATE_KEY") is None:
        problems.append("VAPID_PRIVATE_KEY must be set (a PEM EC P-256 key for Web Push)")
    id_hash_key = _env("ID_HASH_KEY")
    if id_hash_key is None or len(id_hash_key) < 32 or id_hash_key == secret_key:
        problems.append("ID_HASH_KEY must be set to at least 32 random characters, distinct from SECRET_KEY")
    if _env("CHILD_DATA_KEYS") is None:
        problems.append("CHILD_DATA_KEYS must be set (AES-256 keys of children's data, 'id:base64,...')")
    if _env("PUSH_ENDPOINT_ALLOWLIST") is not None:
        problems.append("PUSH_ENDPOINT_ALLOWLIST is for tests only")
    if _env("SMS_BACKEND") in (None, "log"):
        problems.append("SMS_BACKEND must be tencent or aliyun ('log' writes sign-in codes to the log)")
    if _env("STORAGE_BACKEND") == "s3" and _env("S3_SECRET_KEY") in ("minioadmin", "minio123"):
        problems.append("S3_SECRET_KEY must not be MinIO's well-known default")
    return problems + _operations_problems()


def _refuse_production(problems: list[str]) -> None:
    if problems:
        raise ConfigError("refusing to start in production: " + "; ".join(problems))


def _child_data_keys(raw: str) -> str:
    """CHILD_DATA_KEYS as given, once it parses (core/childkeys.py)."""
    if raw:
        try:
            parse_child_data_keys(raw)
        except ChildDataKeyError as exc:
            raise ConfigError(str(exc)) from exc
    return raw


def _storage_from_env(env: str) -> dict[str, Any]:
    """The storage settings (``Settings`` keywords): local files, or an S3 server with all it needs."""
    storage_backend = _storage_backend(_env("STORAGE_BACKEND", "local"))
    s3_endpoint, s3_secure = _s3_endpoint(
        _env("S3_ENDPOINT"), _env_bool("S3_SECURE", True) if _env("S3_SECURE") is not None else None
    )
    s3_access_key, s3_secret_key = _env("S3_ACCESS_KEY") or "", _env("S3_SECRET_KEY") or ""
    s3_public_endpoint = _s3_public_endpoint(_env("S3_PUBLIC_ENDPOINT"), s3_secure)
    if env == "production" and s3_public_endpoint.startswith("http://"):
        _refuse_production(["S3_PUBLIC_ENDPOINT must be https (browsers load it)"])
    if storage_backend == "s3":
        missing = [
            name
            for name, value in (
                ("S3_ENDPOINT", s3_endpoint),
                ("S3_ACCESS_KEY", s3_access_key),
                ("S3_SECRET_KEY", s3_secret_key),
            )
            if not value
        ]
        if missing:
            raise ConfigError("STORAGE_BACKEND=s3 needs " + ", ".join(missing))
    return {
        "storage_backend": storage_backend,
        "s3_endpoint": s3_endpoint,
        "s3_access_key": s3_access_key,
        "s3_secret_key": s3_secret_key,
        "s3_bucket": _env("S3_BUCKET", "daqing-uploads") or "daqing-uploads",
        "s3_region": _env("S3_REGION", "us-east-1") or "us-east-1",
        "s3_secure": s3_secure,
        "s3_public_endpoint": s3_public_endpoint,
    }


@dataclass(frozen=True, slots=True)
class Settings:
    env: Environment = "development"
    # None means "start (or attach to) the embedded PostgreSQL under var/pg".
    database_url: str | None = None
    # The owner role that `python -m backend migrate` runs as (None: DATABASE_URL's); it then grants
    # DATABASE_URL's role only what the app needs (backend/core/migrate.py, docs/operations.md).
    migrate_database_url: str | None = field(default=None, repr=False)
    secret_key: str = field(default="", repr=False)
    allowed_origins: tuple[str, ...] = ("http://127.0.0.1:8000", "http://localhost:8000")
    public_base_url: str = "http://127.0.0.1:8000"
    var_dir: Path = REPO_ROOT / "var"
    # The built PWA served at / (None: pwa/dist when built, else the placeholder page).
    pwa_dir: Path | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    db_pool_size: int = 10
    db_max_overflow: int = 10
    db_pool_timeout_s: int = 5
    db_statement_timeout_ms: int = 15_000
    session_ttl_hours: int = 24 * 30
    otp_ttl_seconds: int = 300
    otp_resend_seconds: int = 60
    otp_max_per_phone_per_hour: int = 5
    otp_max_per_client_per_hour: int = 30
    otp_max_attempts: int = 5
    login_max_failures_per_hour: int = 10
    # SMS gateways and the notification pipeline (backend/core/notify_settings.py, docs/notifications.md).
    notify: NotifySettings = field(default_factory=NotifySettings)
    max_body_bytes: int = 1_048_576
    log_level: str = "INFO"
    trusted_proxies: tuple[str, ...] = ()
    seed_demo: bool = True
    # Geocoding of imported rows that have an address but no coordinates (backend/imports/geocode.py):
    # nothing is geocoded unless a key is set. AMAP_SECRET, when set, signs AMap requests (sig).
    amap_key: str = ""
    amap_secret: str = ""
    amap_base_url: str = "https://restapi.amap.com"
    tianditu_key: str = ""
    tianditu_base_url: str = "https://api.tianditu.gov.cn"
    maintenance_interval_s: int = 600
    # Retention (backend/privacy/retention.py; 0 keeps forever): children older than this many months
    # with nothing live are deleted; erased accounts' tombstones after this many days; outbox events
    # (the history of applications and bookings) after this many days.
    child_retention_months: int = 72
    erased_account_retention_days: int = 30
    event_retention_days: int = 730
    offer_expiry_days: int = 3
    booking_cancel_cutoff_minutes: int = 120
    booking_horizon_days: int = 60
    # May institutions that are not filed (备案) with their county health commission take bookings and
    # applications? The city decides; the default is no.
    unfiled_can_take_bookings: bool = False
    filing_review_working_days: int = 15
    # Key of the keyed hash (HMAC-SHA256) of resident ID numbers (blacklist, staff rosters); kept out of
    # the database. '' in development/test: derived from secret_key under its own label.
    id_hash_key: str = field(default="", repr=False)
    # AES-256-GCM keys of children's names and birth dates ("id:base64,..."; the first encrypts, all
    # decrypt; backend/core/crypto.py). '' in development/test: one key derived from secret_key.
    child_data_keys: str = field(default="", repr=False)
    vapid_private_key: str = field(default="", repr=False)  # PEM; generated into var/ in development
    vapid_subject: str = "mailto:tuoyu@daqing.example"
    push_worker: bool = True
    push_poll_interval_s: float = 2.0
    push_lease_s: int = 60
    push_ttl_s: int = 24 * 3600
    push_timeout_s: float = 10.0
    push_max_attempts: int = 10
    push_retry_base_s: float = 5.0
    push_endpoint_allowlist: tuple[str, ...] = ()
    ws_queue_size: int = 256
    ws_heartbeat_s: float = 25.0
    ws_max_message_bytes: int = 4096
    ws_max_per_account: int = 10
    complaint_ack_working_days: int = 1
    complaint_resolve_working_days: int = 15
    complaint_max_per_hour_per_client: int = 10
    complaint_max_per_hour_per_device: int = 5
    complaint_max_per_hour_per_open311_client: int = 600
    # Mother-and-baby room input per account per hour (and five times that per client address).
    room_ratings_max_per_hour: int = 20
    room_suggestions_max_per_hour: int = 10
    # Uploaded files (backend/core/storage.py): ``local`` keeps them under var_dir/uploads.
    storage_backend: Literal["local", "s3"] = "local"
    s3_endpoint: str = ""  # host[:port]
    s3_access_key: str = field(default="", repr=False)
    s3_secret_key: str = field(default="", repr=False)
    s3_bucket: str = "daqing-uploads"
    s3_region: str = "us-east-1"
    s3_secure: bool = True
    s3_public_endpoint: str = ""  # http(s)://host[:port] browsers use for presigned URLs ('': S3_ENDPOINT)
    upload_max_bytes: int = 8 * 1024 * 1024
    upload_max_pixels: int = 50_000_000
    upload_max_per_hour: int = 60
    # --- WeChat (backend/wechat, docs/wechat.md): optional; '' app id switches it off. ---
    wechat: WeChatSettings = field(default_factory=lambda: WeChatSettings())
    # Operations (docs/observability.md): compression of answers (off only for a benchmark's baseline),
    # the log format ('json' in production), and who may read /metrics: these addresses or networks,
    # or anyone presenting METRICS_TOKEN as a bearer token.
    compression: bool = True
    log_format: Literal["text", "json"] = "text"
    metrics_allow: tuple[str, ...] = ("127.0.0.1/32", "::1/128")
    metrics_token: str = field(default="", repr=False)

    @property
    def sms_backend(self) -> str:
        return self.notify.sms_backend

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def cookie_secure(self) -> bool:
        return urlsplit(self.public_base_url).scheme == "https"

    @classmethod
    def from_env(cls) -> Settings:  # long: one keyword per setting, each read from its variable in one place
        """The settings from the environment; in production, every refusal (``_production_problems``) at once."""
        env = _env("APP_ENV", "development")
        if env not in ("development", "test", "production"):
            raise ConfigError(f"APP_ENV must be development, test or production, got {env!r}")
        var_dir = Path(_env("VAR_DIR", str(REPO_ROOT / "var"))).resolve()  # type: ignore[arg-type]
        database_url = _env("DATABASE_URL")
        if database_url is not None:
            database_url = to_async_url(database_url)
        secret_key = _env("SECRET_KEY")
        host, port = _env("HOST", "127.0.0.1") or "127.0.0.1", _env_int("PORT", 8000)
        public_base_url, allowed_origins = _public_urls(env, host, port)

        if env == "production":
            _refuse_production(_production_problems(database_url, secret_key, public_base_url, allowed_origins))
        if secret_key is None:
            secret_key = _load_or_create_secret(var_dir)
        child_data_keys = _child_data_keys(_env("CHILD_DATA_KEYS") or "")
        vapid_private_key = (_env("VAPID_PRIVATE_KEY") or "").replace("\\n", "\n") or _load_or_create_vapid(var_dir)
        storage = _storage_from_env(env)

        return cls(
            env=env,  # type: ignore[arg-type]
            database_url=database_url,
            migrate_database_url=to_async_url(m) if (m := _env("MIGRATE_DATABASE_URL")) else None,
            secret_key=secret_key,
            allowed_origins=allowed_origins,
            public_base_url=public_base_url,
            var_dir=var_dir,
            pwa_dir=Path(pwa_dir).resolve() if (pwa_dir := _env("PWA_DIR")) else None,
            host=host,
            port=port,
            workers=_env_int("WORKERS", 1),
            db_pool_size=_env_int("DB_POOL_SIZE", 10),
            db_max_overflow=_env_int("DB_MAX_OVERFLOW", 10),
            db_pool_timeout_s=_env_int("DB_POOL_TIMEOUT_S", 5),
            db_statement_timeout_ms=_env_int("DB_STATEMENT_TIMEOUT_MS", 15_000),
            session_ttl_hours=_env_int("SESSION_TTL_HOURS", 24 * 30),
            otp_ttl_seconds=_env_int("OTP_TTL_SECONDS", 300),
            otp_resend_seconds=_env_int("OTP_RESEND_SECONDS", 60),
            otp_max_per_phone_per_hour=_env_int("OTP_MAX_PER_PHONE_PER_HOUR", 5),
            otp_max_per_client_per_hour=_env_int("OTP_MAX_PER_CLIENT_PER_HOUR", 30),
            otp_max_attempts=_env_int("OTP_MAX_ATTEMPTS", 5),
            login_max_failures_per_hour=_env_int("LOGIN_MAX_FAILURES_PER_HOUR", 10),
            max_body_bytes=_env_int("MAX_BODY_BYTES", 1_048_576),
            log_level=(_env("LOG_LEVEL", "INFO") or "INFO").upper(),
            trusted_proxies=tuple(_env_list("TRUSTED_PROXIES", [])),
            notify=_notify_settings(env),
            seed_demo=_env_bool("SEED_DEMO", env != "production"),
            amap_key=_env("AMAP_KEY", "") or "",
            amap_secret=_env("AMAP_SECRET", "") or "",
            amap_base_url=_env("AMAP_BASE_URL", "https://restapi.amap.com") or "https://restapi.amap.com",
            tianditu_key=_env("TIANDITU_KEY", "") or "",
            tianditu_base_url=_env("TIANDITU_BASE_URL", "https://api.tianditu.gov.cn") or "https://api.tianditu.gov.cn",
            maintenance_interval_s=_env_int("MAINTENANCE_INTERVAL_S", 600),
            child_retention_months=_env_int("CHILD_RETENTION_MONTHS", 72),
            erased_account_retention_days=_env_int("ERASED_ACCOUNT_RETENTION_DAYS", 30),
            event_retention_days=_env_int("EVENT_RETENTION_DAYS", 730),
            vapid_private_key=vapid_private_key,
            vapid_subject=_env("VAPID_SUBJECT", "mailto:tuoyu@daqing.example") or "",
            push_worker=_env_bool("PUSH_WORKER", True),
            push_poll_interval_s=_env_float("PUSH_POLL_INTERVAL_S", 2.0),
            push_lease_s=_env_int("PUSH_LEASE_S", 60),
            push_ttl_s=_env_int("PUSH_TTL_S", 24 * 3600),
            push_timeout_s=_env_float("PUSH_TIMEOUT_S", 10.0),
            push_max_attempts=_env_int("PUSH_MAX_ATTEMPTS", 10),
            push_retry_base_s=_env_float("PUSH_RETRY_BASE_S", 5.0),
            push_endpoint_allowlist=tuple(_env_list("PUSH_ENDPOINT_ALLOWLIST", [])),
            ws_queue_size=_env_int("WS_QUEUE_SIZE", 256),
            ws_heartbeat_s=_env_float("WS_HEARTBEAT_S", 25.0),
            ws_max_message_bytes=_env_int("WS_MAX_MESSAGE_BYTES", 4096),
            ws_max_per_account=_env_int("WS_MAX_PER_ACCOUNT", 10),
            complaint_ack_working_days=_env_int("COMPLAINT_ACK_WORKING_DAYS", 1),
            complaint_resolve_working_days=_env_int("COMPLAINT_RESOLVE_WORKING_DAYS", 15),
            complaint_max_per_hour_per_client=_env_int("COMPLAINT_MAX_PER_HOUR_PER_CLIENT", 10),
            complaint_max_per_hour_per_device=_env_int("COMPLAINT_MAX_PER_HOUR_PER_DEVICE", 5),
            complaint_max_per_hour_per_open311_client=_env_int("COMPLAINT_MAX_PER_HOUR_PER_OPEN311_CLIENT", 600),
            room_ratings_max_per_hour=_env_int("ROOM_RATINGS_MAX_PER_HOUR", 20),
            room_suggestions_max_per_hour=_env_int("ROOM_SUGGESTIONS_MAX_PER_HOUR", 10),
            offer_expiry_days=_env_int("OFFER_EXPIRY_DAYS", 3),
            booking_cancel_cutoff_minutes=_env_int("BOOKING_CANCEL_CUTOFF_MINUTES", 120),
            booking_horizon_days=_env_int("BOOKING_HORIZON_DAYS", 60),
            unfiled_can_take_bookings=_env_bool("UNFILED_CAN_TAKE_BOOKINGS", False),
            filing_review_working_days=_env_int("FILING_REVIEW_WORKING_DAYS", 15),
            id_hash_key=_env("ID_HASH_KEY") or "",
            child_data_keys=child_data_keys,
            **storage,
            upload_max_bytes=_env_int("UPLOAD_MAX_BYTES", 8 * 1024 * 1024),
            upload_max_pixels=_env_int("UPLOAD_MAX_PIXELS", 50_000_000),
            upload_max_per_hour=_env_int("UPLOAD_MAX_PER_HOUR", 60),
            wechat=_wechat_from_env(env),
            compression=_env_bool("COMPRESSION", True),
            log_format=_log_format(_env("LOG_FORMAT", "json" if env == "production" else "text")),
            metrics_allow=_metrics_allow(_env_list("METRICS_ALLOW", ["127.0.0.1/32", "::1/128"])),
            metrics_token=_env("METRICS_TOKEN") or "",
        )
