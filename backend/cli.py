"""Command line: `python -m backend <command>`.

run        database (embedded unless DATABASE_URL is set) + migrate + demo data + serve
serve      serve the API and the PWA (uvicorn)
migrate    apply Alembic migrations
seed       load the Daqing demo data (idempotent)
db-url     print the database URL in use (starting the embedded server if needed)
db-stop    stop the embedded server
openapi    print the OpenAPI document (JSON; no database needed)
backup [DIR]
           pg_dump (custom format) of the database and a copy of every uploaded file, into DIR
           (default VAR_DIR/backups/<UTC time>); see docs/operations.md
restore DIR
           put a backup back: into an empty database and the configured storage
check-config
           run the settings checks the app runs at start (APP_ENV=production's too) and build the app,
           without connecting to anything; exit 2 with the reasons when it would refuse to start
rekey-children
           re-encrypt children's names and birth dates with the first key of CHILD_DATA_KEYS
open311-client add "<name>" | revoke <id> | list
           Open311 api keys (a new key is printed once)
import     institutions|rooms|population FILE --crs wgs84|gcj02|bd09 [--dry-run] [--report OUT]
export     institutions|rooms|population FILE.xlsx|FILE.csv [--crs …]
create-admin --email … --phone … [--force]
           the first city admin of a real deployment (password from ADMIN_PASSWORD, a prompt, or generated)
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import shutil
import sys

from backend.core.config import ConfigError, Settings
from backend.core.pgserver import dev_database_url, stop_embedded

log = logging.getLogger("backend.cli")

COMMANDS = (
    "run",
    "serve",
    "migrate",
    "seed",
    "db-url",
    "db-stop",
    "open311-client",
    "openapi",
    "rekey-children",
    "check-config",
    "backup",
    "restore",
    "import",
    "export",
    "create-admin",
)


def database_url(settings: Settings) -> str:
    return settings.database_url or dev_database_url(settings.var_dir)


def prepare_metrics_dir(settings: Settings) -> None:
    """Every worker writes its metrics samples into one fresh directory and a scrape sums them
    (prometheus-client's multiprocess mode, docs/observability.md). Set before anything imports
    backend.core.metrics (the storage is chosen when the first metric is made); emptied so an earlier
    run's samples are not summed in (one directory per port: servers sharing VAR_DIR keep apart)."""
    directory = settings.var_dir / "metrics" / str(settings.port)  # two servers sharing var/ keep apart
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True, exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)


def cmd_migrate(settings: Settings) -> str:
    """Apply the migrations (as MIGRATE_DATABASE_URL's owner role when set, which then grants
    DATABASE_URL's role what the app needs); return the URL the app uses."""
    from backend.core.migrate import grant_app_privileges, role_of, upgrade

    url = database_url(settings)
    owner_url = settings.migrate_database_url
    upgrade(owner_url or url)
    log.info("migrations applied")
    if owner_url is not None and role_of(owner_url) != role_of(url):
        asyncio.run(grant_app_privileges(owner_url, role_of(url)))
        log.info("privileges of the app's role %s brought up to date", role_of(url))
    return url


def cmd_seed(settings: Settings, url: str | None = None) -> None:
    from backend.demo.seed import seed

    counts = asyncio.run(seed(url or database_url(settings), settings))
    log.info("demo data loaded: %s", ", ".join(f"{k}={v}" for k, v in counts.items()))


def cmd_serve(settings: Settings, url: str | None = None) -> None:
    import uvicorn

    from backend.core.config import listen_mismatch

    if (mismatch := listen_mismatch(settings)) is not None:
        log.warning("%s", mismatch)
    # Worker processes build the app from the environment: hand them the resolved URL.
    os.environ["DATABASE_URL"] = url or database_url(settings)
    from backend.core.logs import uvicorn_log_config

    uvicorn.run(
        "backend.asgi:app",
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        loop="uvloop",
        http="httptools",
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=",".join(settings.trusted_proxies) or None,
        log_level=settings.log_level.lower(),
        log_config=uvicorn_log_config(settings.log_level, settings.log_format),
        access_log=settings.log_level == "DEBUG",
        server_header=False,
        # A worker busy importing the app on a loaded machine answers the supervisor's ping late; at
        # uvicorn's default (5 s) it is killed and restarted over and over (seen with WORKERS=2 on 2 cores).
        timeout_worker_healthcheck=30,
        ws_max_size=settings.ws_max_message_bytes,
        ws_ping_interval=20.0,
        ws_ping_timeout=20.0,
    )


def check_config(settings: Settings) -> str:
    """What the app checks at start, without starting it: the settings (``Settings.from_env``, already
    run by ``main``) and building the app (the child-data keys, the storage backend, the VAPID key)."""
    from backend.app import create_app

    create_app(settings, database_url=settings.database_url or "postgresql+asyncpg://nobody@127.0.0.1:1/none")
    return (
        f"configuration ok: APP_ENV={settings.env}, PUBLIC_BASE_URL={settings.public_base_url}, "
        f"STORAGE_BACKEND={settings.storage_backend}, SMS_BACKEND={settings.sms_backend}, WORKERS={settings.workers}"
    )


def openapi_document(settings: Settings) -> str:
    """The OpenAPI document as JSON (stable key order), built without a database: the PWA's TypeScript
    types are generated from it (make api-types)."""
    import json

    from backend.app import create_app

    app = create_app(settings, database_url="postgresql+asyncpg://nobody@127.0.0.1:1/none")
    return json.dumps(app.openapi_schema.to_schema(), ensure_ascii=False, indent=1, sort_keys=True)


WITH_ARGUMENTS = ("open311-client", "backup", "restore", "import", "export", "create-admin")


# long: the commands, their arguments and their dispatch, in one readable table
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m backend", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "command",
        choices=COMMANDS,
    )
    parser.add_argument("arguments", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.arguments and args.command not in WITH_ARGUMENTS:
        parser.error(f"{args.command} takes no arguments")
    if (args.command == "backup" and len(args.arguments) > 1) or (
        args.command == "restore" and len(args.arguments) != 1
    ):
        parser.error("usage: backup [DIR] | restore DIR")
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from exc
    from backend.core.logs import configure_basic

    configure_basic(settings.log_level, settings.log_format)
    if args.command in ("serve", "run"):
        prepare_metrics_dir(settings)
    if args.command == "db-stop":
        print("stopped" if stop_embedded(settings.var_dir / "pg") else "not running")
    elif args.command == "open311-client":
        from backend.complaints.open311 import clients_command

        raise SystemExit(clients_command(settings, database_url(settings), args.arguments))
    elif args.command in ("import", "export", "create-admin"):
        from backend.imports import cli as imports_cli

        command = {
            "import": imports_cli.import_command,
            "export": imports_cli.export_command,
            "create-admin": imports_cli.create_admin_command,
        }[args.command]
        raise SystemExit(command(settings, database_url(settings), args.arguments))
    elif args.command == "rekey-children":
        from backend.families.rekey import run as rekey

        print(f"re-encrypted {asyncio.run(rekey(settings, database_url(settings)))} children's records")
    elif args.command == "openapi":
        print(openapi_document(settings))
    elif args.command in ("backup", "restore"):
        from pathlib import Path

        from backend.core.backup import BackupError, backup, restore

        try:
            if args.command == "backup":
                where = backup(settings, database_url(settings), Path(args.arguments[0]) if args.arguments else None)
                print(f"backup written to {where}")
            else:
                counts = restore(settings, database_url(settings), Path(args.arguments[0]))
                print(f"restored the database and {counts['objects']} stored objects")
        except BackupError as exc:
            print(f"{args.command} failed: {exc}", file=sys.stderr)
            raise SystemExit(1) from exc
    elif args.command == "check-config":
        try:
            print(check_config(settings))
        except Exception as exc:  # what would stop the app at start, said in one line
            print(f"configuration error: {exc}", file=sys.stderr)
            raise SystemExit(2) from exc
    elif args.command == "db-url":
        print(database_url(settings))
    elif args.command == "migrate":
        cmd_migrate(settings)
    elif args.command == "seed":
        if settings.is_production:
            print("refusing to load demo data in production", file=sys.stderr)
            raise SystemExit(2)
        cmd_seed(settings)
    elif args.command == "serve":
        cmd_serve(settings)
    elif args.command == "run":
        url = cmd_migrate(settings)
        if settings.seed_demo:
            cmd_seed(settings, url)
        log.info(
            "serving on http://%s:%d for %s (API docs at /schema, OpenAPI at /schema/openapi.json)",
            settings.host,
            settings.port,
            settings.public_base_url,
        )
        cmd_serve(settings, url)
